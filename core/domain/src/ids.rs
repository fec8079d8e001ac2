//! Vietnamese identifiers checked by parsing: citizen ID (CCCD), phone, e-mail, address.
//!
//! Everything here is pure and total: a bad input yields an error value, never a panic.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::admin;
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

/// A checked address, in today's units: a province, a ward (commune-level unit), the
/// ward's code when the ward is one of the list, an optional street.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub province: &'static str,
    pub ward: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
}

/// One problem with one part of an address value: `part` is `province`, `district`,
/// `ward`, `ward_code`, `street` or an unexpected key; `limit` is the bound that was
/// exceeded, if any.
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

    fn too_long(part: &str, limit: usize) -> AddressIssue {
        AddressIssue { part: part.to_owned(), code: FieldErrorCode::TooLong, limit: Some(limit) }
    }
}

/// The keys an address value may have.
pub const ADDRESS_KEYS: [&str; 5] = ["province", "district", "ward", "ward_code", "street"];

impl Address {
    /// Checks a JSON address value and returns it in today's units, or every problem with
    /// its parts. A value that is not an object is one `WrongType` issue with an empty
    /// `part`. Strings are trimmed.
    ///
    /// The value is `{"province", "ward", "street"?}` as typed, optionally with
    /// `"ward_code"` (a ward chosen from [`crate::admin::wards_of`]; it wins over the typed
    /// names, which may then be left out) and `"district"` (an address copied from a paper
    /// issued before 1 July 2025). An old province, district and ward are converted to the
    /// current ward; a current province with a ward that is not in the list is kept as
    /// typed (older drafts and clients type the ward).
    pub fn from_value(value: &serde_json::Value) -> Result<Address, Vec<AddressIssue>> {
        let Some(obj) = value.as_object() else {
            return Err(vec![AddressIssue::new("", FieldErrorCode::WrongType)]);
        };
        let mut issues = Vec::new();
        for key in obj.keys() {
            if !ADDRESS_KEYS.contains(&key.as_str()) {
                issues.push(AddressIssue::new(key, FieldErrorCode::UnknownField));
            }
        }
        // A present part that is not a string (or null) is a wrong type, never "missing".
        let wrong_type = |key: &str| matches!(obj.get(key), Some(v) if !v.is_string() && !v.is_null());
        let part = |key: &str| -> Option<String> {
            obj.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
        };
        for key in ADDRESS_KEYS {
            if wrong_type(key) {
                issues.push(AddressIssue::new(key, FieldErrorCode::WrongType));
            }
        }
        let (province_raw, district, ward_raw, code, street) =
            (part("province"), part("district"), part("ward"), part("ward_code"), part("street"));
        for (key, value, limit) in [
            ("ward", &ward_raw, MAX_WARD_CHARS),
            ("district", &district, MAX_WARD_CHARS),
            ("street", &street, MAX_STREET_CHARS),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > limit) {
                issues.push(AddressIssue::too_long(key, limit));
            }
        }
        let chosen = code.as_deref().map(|c| (c, admin::ward_by_code(c)));
        if let Some((_, None)) = chosen {
            issues.push(AddressIssue::new("ward_code", FieldErrorCode::InvalidAddress));
        }
        let province = match (&province_raw, chosen) {
            (_, Some((_, Some(w)))) => {
                let mismatch = province_raw.as_deref().is_some_and(|p| admin::current_province(p) != Some(w.province));
                if mismatch {
                    issues.push(AddressIssue::new("ward_code", FieldErrorCode::InvalidAddress));
                }
                Some(w.province)
            }
            (None, _) => {
                if !wrong_type("province") {
                    issues.push(AddressIssue::new("province", FieldErrorCode::Required));
                }
                None
            }
            (Some(p), _) => {
                let found = admin::current_province(p);
                if found.is_none() {
                    issues.push(AddressIssue::new("province", FieldErrorCode::InvalidAddress));
                }
                found
            }
        };
        if ward_raw.is_none() && !matches!(chosen, Some((_, Some(_)))) && !wrong_type("ward") {
            issues.push(AddressIssue::new("ward", FieldErrorCode::Required));
        }
        if let (Some(p), Some(d)) = (&province_raw, &district)
            && !admin::is_old_district(p, d)
        {
            issues.push(AddressIssue::new("district", FieldErrorCode::InvalidAddress));
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        if let Some((_, Some(w))) = chosen {
            return Ok(Address { province: w.province, ward: w.name.to_owned(), ward_code: Some(w.code), street });
        }
        // Without a chosen ward, the checks above leave a province and a ward.
        let (Some(province), Some(province_raw), Some(ward)) = (province, province_raw, ward_raw) else {
            return Err(vec![AddressIssue::new("", FieldErrorCode::Invalid)]);
        };
        let current = if district.is_none() { admin::find_ward(province, &ward) } else { None };
        if let Some(w) = current {
            return Ok(Address { province, ward: w.name.to_owned(), ward_code: Some(w.code), street });
        }
        match admin::convert_old(&province_raw, district.as_deref(), &ward) {
            Some(c) => Ok(Address {
                province: c.ward.province,
                ward: c.ward.name.to_owned(),
                ward_code: Some(c.ward.code),
                street,
            }),
            // A district was given, so this claims to be an old address: its ward must be one.
            None if district.is_some() => Err(vec![AddressIssue::new("ward", FieldErrorCode::InvalidAddress)]),
            None => Ok(Address { province, ward, ward_code: None, street }),
        }
    }

    /// The address as a form value in today's units (what a normalised dossier stores).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
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
        let hoan_kiem =
            Address {
                province: "Hà Nội", ward: "Phường Hoàn Kiếm".into(), ward_code: Some("00070"), street: None
            };
        assert_eq!(ok, Ok(hoan_kiem.clone()));
        // Chosen from the list by code: the code wins, the names may be left out.
        assert_eq!(Address::from_value(&json!({"ward_code": "00070"})), Ok(hoan_kiem.clone()));
        assert_eq!(
            Address::from_value(&json!({"province": "Hà Nội", "ward_code": "00070", "ward": ""})),
            Ok(hoan_kiem)
        );
        // A ward not in the list is kept as typed (older clients type it).
        let typed = Address::from_value(&json!({"province": "Huế", "ward": "Khu tập thể"})).unwrap();
        assert_eq!((typed.province, typed.ward.as_str(), typed.ward_code), ("Huế", "Khu tập thể", None));
        // An address copied from a pre-2025 paper is converted to today's units.
        let old = json!({"province": "Tỉnh Hà Tây", "district": "Huyện Chương Mỹ", "ward": "Thị trấn Xuân Mai", "street": "Số 2"});
        let old_hanoi =
            json!({"province": "Hà Nội", "district": "Huyện Chương Mỹ", "ward": "Thị trấn Xuân Mai", "street": "Số 2"});
        let now = Address {
            province: "Hà Nội",
            ward: "Xã Xuân Mai".into(),
            ward_code: Some("10045"),
            street: Some("Số 2".into()),
        };
        assert_eq!(Address::from_value(&old_hanoi), Ok(now.clone()));
        assert_eq!(
            now.to_value(),
            json!({"province": "Hà Nội", "ward": "Xã Xuân Mai", "ward_code": "10045", "street": "Số 2"})
        );
        assert!(
            Address::from_value(&old).is_err(),
            "Hà Tây was merged into Hà Nội in 2008, before the data's old units"
        );
        let hg = Address::from_value(
            &json!({"province": "Hà Giang", "ward": "Phường Minh Khai", "district": "Thành phố Hà Giang"}),
        );
        assert_eq!(hg.map(|a| a.province), Ok("Tuyên Quang"));
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
        assert_eq!(
            codes(json!({"ward_code": "99999"})),
            [("ward_code".into(), C::InvalidAddress), ("province".into(), C::Required), ("ward".into(), C::Required)]
        );
        assert_eq!(codes(json!({"province": "Huế", "ward_code": "00070"})), [("ward_code".into(), C::InvalidAddress)]);
        assert_eq!(
            codes(json!({"province": "Hà Nội", "ward_code": 70})),
            [("ward_code".into(), C::WrongType), ("ward".into(), C::Required)]
        );
        assert_eq!(
            codes(json!({"province": "Hà Nội", "district": "Quận 1", "ward": "Phường Bến Nghé"})),
            [("district".into(), C::InvalidAddress)]
        );
        assert_eq!(
            codes(json!({"province": "Hà Nội", "district": "Quận Ba Đình", "ward": "Phường Atlantis"})),
            [("ward".into(), C::InvalidAddress)]
        );
    }
}
