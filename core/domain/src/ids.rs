//! Vietnamese identifiers checked by parsing: citizen ID (CCCD), phone, e-mail, address.
//!
//! Everything here is pure and total: a bad input yields an error value, never a panic.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::form::FieldErrorCode;
use crate::text::fold;

/// The 63 province codes (digits 1-3 of a CCCD) in use before the 2025 merger. Citizen
/// IDs keep the code of the province of birth registration, so these stay valid.
const CCCD_PROVINCE_CODES: [&str; 63] = [
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024", "025",
    "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042", "044", "045", "046", "048",
    "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068", "070", "072", "074", "075",
    "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
];

/// Why a string is not a citizen ID. Carries no part of the input (it is personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a citizen ID has exactly 12 digits")]
    WrongLength,
    #[error("a citizen ID has digits only")]
    NotDigits,
    #[error("unknown province code in citizen ID")]
    UnknownProvince,
}

/// A 12-digit citizen ID (CCCD), stored without spaces.
///
/// Digits 1-3: province of birth registration; digit 4: sex and century (0/1 = 1900s
/// male/female, 2/3 = 2000s, 4/5 = 2100s, 6/7 = 2200s, 8/9 = 1800s); digits 5-6: the last
/// two digits of the birth year; digits 7-12: a random number.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(String);

impl CitizenId {
    /// Parses a CCCD number; spaces (anywhere) are ignored.
    pub fn parse(s: &str) -> Result<CitizenId, IdError> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(IdError::NotDigits);
        }
        if digits.len() != 12 {
            return Err(IdError::WrongLength);
        }
        if !CCCD_PROVINCE_CODES.contains(&&digits[..3]) {
            return Err(IdError::UnknownProvince);
        }
        Ok(CitizenId(digits))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits 1-3: the province code.
    pub fn province_code(&self) -> &str {
        &self.0[..3]
    }

    fn digit(&self, i: usize) -> i32 {
        self.0.as_bytes().get(i).map_or(0, |b| i32::from(b - b'0'))
    }

    /// The year of birth, from the century digit and the two year digits.
    pub fn birth_year(&self) -> i32 {
        let century = match self.digit(3) {
            0 | 1 => 1900,
            2 | 3 => 2000,
            4 | 5 => 2100,
            6 | 7 => 2200,
            _ => 1800,
        };
        century + self.digit(4) * 10 + self.digit(5)
    }

    /// Whether the sex digit says female (odd digit).
    pub fn is_female(&self) -> bool {
        self.digit(3) % 2 == 1
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug hides the middle digits: IDs are personal data and Debug ends up in logs.
impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({}******{})", &self.0[..3], &self.0[9..])
    }
}

impl std::str::FromStr for CitizenId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CitizenId::parse(s)
    }
}

impl Serialize for CitizenId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CitizenId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        CitizenId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Normalises a Vietnamese phone number to `0XXXXXXXXX`, or `None` if it is not one.
///
/// Accepts spaces, dots, dashes and parentheses, and the `+84` / `84` country prefix
/// (with or without the trunk `0` after it). Mobiles are 10 digits starting `03`, `05`,
/// `07`, `08` or `09`; landlines are 11 digits starting `02`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let s = s.trim();
    let (plus, rest) = match s.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    let national = if plus {
        let after = digits.strip_prefix("84")?;
        after.strip_prefix('0').unwrap_or(after).to_owned()
    } else if digits.starts_with("84") && (digits.len() == 11 || digits.len() == 12) {
        digits[2..].to_owned()
    } else if let Some(after) = digits.strip_prefix('0') {
        after.to_owned()
    } else {
        return None;
    };
    let first = national.as_bytes().first().copied()?;
    let ok = match national.len() {
        9 => matches!(first, b'3' | b'5' | b'7' | b'8' | b'9'),
        10 => first == b'2',
        _ => false,
    };
    ok.then(|| format!("0{national}"))
}

/// A pragmatic e-mail check: one `@`; a local part of 1-64 characters from the usual set,
/// without leading, trailing or doubled dots; a domain with at least one dot, labels of
/// 1-63 letters, digits or inner hyphens, and a top-level label of 2+ characters, not all
/// digits; at most 254 characters in all. ASCII only.
pub fn is_valid_email(s: &str) -> bool {
    if s.len() > 254 || !s.is_ascii() {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if domain.contains('@') || local.is_empty() || local.len() > 64 {
        return false;
    }
    let local_ok = local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let labels_ok = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    let tld_ok = labels.last().is_some_and(|t| t.len() >= 2 && !t.chars().all(|c| c.is_ascii_digit()));
    labels_ok && tld_ok
}

/// The 34 province-level units since the July 2025 merger: 6 cities, then 28 provinces.
pub const PROVINCES: &[&str] = &[
    "Hà Nội",
    "Huế",
    "Hải Phòng",
    "Đà Nẵng",
    "Thành phố Hồ Chí Minh",
    "Cần Thơ",
    "Lai Châu",
    "Điện Biên",
    "Sơn La",
    "Lạng Sơn",
    "Quảng Ninh",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Cao Bằng",
    "Tuyên Quang",
    "Lào Cai",
    "Thái Nguyên",
    "Phú Thọ",
    "Bắc Ninh",
    "Hưng Yên",
    "Ninh Bình",
    "Quảng Trị",
    "Quảng Ngãi",
    "Gia Lai",
    "Khánh Hòa",
    "Lâm Đồng",
    "Đắk Lắk",
    "Đồng Nai",
    "Tây Ninh",
    "Vĩnh Long",
    "Đồng Tháp",
    "Cà Mau",
    "An Giang",
];

/// Common other spellings (folded) of a province's name.
const PROVINCE_ALIASES: &[(&str, &str)] = &[
    ("hcm", "Thành phố Hồ Chí Minh"),
    ("tphcm", "Thành phố Hồ Chí Minh"),
    ("sai gon", "Thành phố Hồ Chí Minh"),
    ("saigon", "Thành phố Hồ Chí Minh"),
    ("thua thien hue", "Huế"),
    ("hanoi", "Hà Nội"),
    ("daklak", "Đắk Lắk"),
    ("dak lak", "Đắk Lắk"),
];

/// Removes a leading administrative word ("thành phố", "TP", "tỉnh") from folded text.
fn strip_unit(folded: &str) -> &str {
    for prefix in ["thanh pho ", "tp ", "tinh "] {
        if let Some(rest) = folded.strip_prefix(prefix) {
            return rest;
        }
    }
    folded
}

/// Finds a province-level unit by name, ignoring diacritics, case, punctuation and a
/// leading "Thành phố"/"TP"/"Tỉnh" ("ha noi", "TP. Hồ Chí Minh", "ho chi minh").
pub fn find_province(name: &str) -> Option<&'static str> {
    let folded = fold(name);
    let wanted = strip_unit(&folded);
    if wanted.is_empty() {
        return None;
    }
    PROVINCES
        .iter()
        .copied()
        .find(|p| strip_unit(&fold(p)) == wanted)
        .or_else(|| PROVINCE_ALIASES.iter().find(|(alias, _)| *alias == wanted).map(|(_, p)| *p))
}

/// Longest ward name, in characters.
pub const MAX_WARD_CHARS: usize = 100;
/// Longest street part of an address, in characters.
pub const MAX_STREET_CHARS: usize = 200;

/// A checked address: a known province, a ward (commune-level unit), an optional street.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub province: &'static str,
    pub ward: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
}

/// One problem with one part of an address value: `part` is `province`, `ward`,
/// `street` or an unexpected key; `limit` is the bound that was exceeded, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressIssue {
    pub part: String,
    pub code: FieldErrorCode,
    pub limit: Option<usize>,
}

impl AddressIssue {
    fn new(part: &str, code: FieldErrorCode) -> AddressIssue {
        AddressIssue { part: part.to_owned(), code, limit: None }
    }
}

impl Address {
    /// Checks a JSON address value `{"province", "ward", "street"?}` and returns every
    /// problem with its parts. A value that is not an object is one `WrongType` issue with
    /// an empty `part`. Strings are trimmed.
    pub fn from_value(value: &serde_json::Value) -> Result<Address, Vec<AddressIssue>> {
        let Some(obj) = value.as_object() else {
            return Err(vec![AddressIssue::new("", FieldErrorCode::WrongType)]);
        };
        let mut issues = Vec::new();
        for key in obj.keys() {
            if !matches!(key.as_str(), "province" | "ward" | "street") {
                issues.push(AddressIssue::new(key, FieldErrorCode::UnknownField));
            }
        }
        let part = |key: &str, issues: &mut Vec<AddressIssue>| -> Option<String> {
            match obj.get(key) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => {
                    let t = s.trim();
                    (!t.is_empty()).then(|| t.to_owned())
                }
                Some(_) => {
                    issues.push(AddressIssue::new(key, FieldErrorCode::WrongType));
                    None
                }
            }
        };
        let province_raw = part("province", &mut issues);
        let ward = part("ward", &mut issues);
        let street = part("street", &mut issues);
        let province = match &province_raw {
            None => {
                if !matches!(obj.get("province"), Some(v) if !v.is_string() && !v.is_null()) {
                    issues.push(AddressIssue::new("province", FieldErrorCode::Required));
                }
                None
            }
            Some(p) => {
                let found = find_province(p);
                if found.is_none() {
                    issues.push(AddressIssue::new("province", FieldErrorCode::InvalidAddress));
                }
                found
            }
        };
        match &ward {
            None => {
                if !matches!(obj.get("ward"), Some(v) if !v.is_string() && !v.is_null()) {
                    issues.push(AddressIssue::new("ward", FieldErrorCode::Required));
                }
            }
            Some(w) if w.chars().count() > MAX_WARD_CHARS => issues.push(AddressIssue {
                part: "ward".to_owned(),
                code: FieldErrorCode::TooLong,
                limit: Some(MAX_WARD_CHARS),
            }),
            Some(_) => {}
        }
        if let Some(s) = &street
            && s.chars().count() > MAX_STREET_CHARS
        {
            issues.push(AddressIssue {
                part: "street".to_owned(),
                code: FieldErrorCode::TooLong,
                limit: Some(MAX_STREET_CHARS),
            });
        }
        match (province, ward) {
            (Some(province), Some(ward)) if issues.is_empty() => Ok(Address { province, ward, street }),
            _ => Err(issues),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn citizen_ids() {
        let id = CitizenId::parse("001 099 012345").unwrap();
        assert_eq!(id.as_str(), "001099012345");
        assert_eq!(id.province_code(), "001");
        assert_eq!(id.birth_year(), 1999);
        assert!(!id.is_female());
        assert_eq!(id.to_string(), "001099012345");
        assert!(!format!("{id:?}").contains("099012"));
        let cases = [
            ("079305000001", Ok((2005, true))),
            ("096201000001", Ok((2001, false))),
            ("001800000001", Ok((1800, false))),
            ("001999000001", Ok((1899, true))),
            ("001425000001", Ok((2125, false))),
            ("001767000001", Ok((2267, true))),
            ("00109901234", Err(IdError::WrongLength)),
            ("0010990123456", Err(IdError::WrongLength)),
            ("", Err(IdError::WrongLength)),
            ("00109901234a", Err(IdError::NotDigits)),
            ("００１099012345", Err(IdError::NotDigits)),
            ("003099012345", Err(IdError::UnknownProvince)),
            ("097099012345", Err(IdError::UnknownProvince)),
        ];
        for (input, want) in cases {
            let got = CitizenId::parse(input).map(|id| (id.birth_year(), id.is_female()));
            assert_eq!(got, want, "{input:?}");
        }
        assert_eq!(CCCD_PROVINCE_CODES.len(), 63);
    }

    #[test]
    fn citizen_id_serde() {
        let id: CitizenId = serde_json::from_str("\"001099012345\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"001099012345\"");
        assert!(serde_json::from_str::<CitizenId>("\"123\"").is_err());
        assert!(serde_json::from_str::<CitizenId>("1099012345").is_err());
    }

    #[test]
    fn phones() {
        let cases = [
            ("0912345678", Some("0912345678")),
            ("091 234 5678", Some("0912345678")),
            ("091.234.5678", Some("0912345678")),
            ("091-234-5678", Some("0912345678")),
            ("+84 912 345 678", Some("0912345678")),
            ("+84912345678", Some("0912345678")),
            ("+84 (0) 912 345 678", Some("0912345678")),
            ("84912345678", Some("0912345678")),
            ("0312345678", Some("0312345678")),
            ("0512345678", Some("0512345678")),
            ("0712345678", Some("0712345678")),
            ("0812345678", Some("0812345678")),
            ("02438253536", Some("02438253536")),
            ("+84 24 3825 3536", Some("02438253536")),
            ("842438253536", Some("02438253536")),
            ("0212345678", None),
            ("0412345678", None),
            ("0612345678", None),
            ("091234567", None),
            ("09123456789", None),
            ("+1 912 345 678", None),
            ("912345678", None),
            ("0912a45678", None),
            ("", None),
            ("+", None),
            ("+84", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_phone(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn emails() {
        let good = ["an.nguyen@example.com", "a@b.vn", "x+tag@mail.hanoi.gov.vn", "user_1@sub-domain.example.org"];
        for e in good {
            assert!(is_valid_email(e), "{e}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b.".repeat(130));
        let bad = [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a b@c.com",
            "a@-b.com",
            "a@b-.com",
            "a@b..com",
            "a@b.c",
            "a@b.123",
            "nguyễn@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ];
        for e in bad {
            assert!(!is_valid_email(e), "{e}");
        }
    }

    #[test]
    fn provinces() {
        assert_eq!(PROVINCES.len(), 34);
        let cases = [
            ("ha noi", Some("Hà Nội")),
            ("Hà Nội", Some("Hà Nội")),
            ("TP Hồ Chí Minh", Some("Thành phố Hồ Chí Minh")),
            ("TP. Hồ Chí Minh", Some("Thành phố Hồ Chí Minh")),
            ("ho chi minh", Some("Thành phố Hồ Chí Minh")),
            ("Thành phố Hồ Chí Minh", Some("Thành phố Hồ Chí Minh")),
            ("tphcm", Some("Thành phố Hồ Chí Minh")),
            ("Thành phố Huế", Some("Huế")),
            ("Thừa Thiên Huế", Some("Huế")),
            ("Tỉnh Thanh Hoá", Some("Thanh Hóa")),
            ("KHANH HOA", Some("Khánh Hòa")),
            ("dak lak", Some("Đắk Lắk")),
            ("Hà Giang", None),
            ("", None),
            ("tp", None),
        ];
        for (input, want) in cases {
            assert_eq!(find_province(input), want, "{input:?}");
        }
        for p in PROVINCES {
            assert_eq!(find_province(p), Some(*p));
        }
    }

    #[test]
    fn addresses() {
        let ok = Address::from_value(&json!({"province": "ha noi", "ward": " Phường Hoàn Kiếm "}));
        assert_eq!(ok, Ok(Address { province: "Hà Nội", ward: "Phường Hoàn Kiếm".into(), street: None }));
        let codes = |v: serde_json::Value| -> Vec<(String, FieldErrorCode)> {
            Address::from_value(&v).err().unwrap_or_default().into_iter().map(|i| (i.part, i.code)).collect()
        };
        use FieldErrorCode as C;
        assert_eq!(codes(json!("Hà Nội")), [(String::new(), C::WrongType)]);
        assert_eq!(
            codes(json!({"province": "Atlantis", "ward": ""})),
            [("province".into(), C::InvalidAddress), ("ward".into(), C::Required)]
        );
        assert_eq!(
            codes(json!({"province": 1, "ward": "x", "street": 2, "zip": "1"})),
            [("zip".into(), C::UnknownField), ("province".into(), C::WrongType), ("street".into(), C::WrongType)]
        );
        assert_eq!(
            codes(json!({"province": "Huế", "ward": "x".repeat(101), "street": "y".repeat(201)})),
            [("ward".into(), C::TooLong), ("street".into(), C::TooLong)]
        );
        assert_eq!(codes(json!({"ward": "x"})), [("province".into(), C::Required)]);
    }
}
