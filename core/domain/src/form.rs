//! The declarative, versioned form language (JSON) and its validator.
//!
//! A [`FormDef`] is data (it travels in the catalogue); [`validate`] checks a JSON object
//! of values against it and returns every [`FieldError`] at once. It never panics.

use std::collections::HashSet;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::i18n::{Lang, Text};
use crate::ids::{Address, CitizenId, is_valid_email, normalize_phone};

/// One form definition: a version and its fields, in display order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDef {
    /// Bumped whenever the fields change; drafts remember the version they were filled on.
    pub version: u32,
    pub fields: Vec<FieldDef>,
}

/// One field of a form (or of a repeated group).
///
/// Deserialization is hand-written (below): serde's `deny_unknown_fields` does not work
/// together with `flatten`, and an unknown key in a definition must be an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDef {
    /// Key in the values object: `[a-z][a-z0-9_]*`, unique among its siblings.
    pub key: String,
    /// Label shown to the citizen (Vietnamese, with an optional English form).
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Shown (and validated) only when this condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_when: Option<Condition>,
    #[serde(flatten)]
    pub kind: FieldKind,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The kind-independent part of a [`FieldDef`], for deserialization.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldCommon {
    key: String,
    label: Text,
    #[serde(default)]
    help: Option<Text>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    visible_when: Option<Condition>,
}

const COMMON_KEYS: [&str; 5] = ["key", "label", "help", "required", "visible_when"];

impl<'de> Deserialize<'de> for FieldDef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut rest = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let mut common = serde_json::Map::new();
        for key in COMMON_KEYS {
            if let Some(v) = rest.remove(key) {
                common.insert(key.to_owned(), v);
            }
        }
        let common: FieldCommon =
            serde_json::from_value(serde_json::Value::Object(common)).map_err(D::Error::custom)?;
        let extra_keys: Vec<String> = rest.keys().filter(|k| *k != "type").cloned().collect();
        let kind: FieldKind = serde_json::from_value(serde_json::Value::Object(rest))
            .map_err(|e| D::Error::custom(format!("field {:?}: {e}", common.key)))?;
        // serde ignores extra keys on unit variants of an internally tagged enum.
        let unit = matches!(kind, FieldKind::CitizenId | FieldKind::Phone | FieldKind::Email | FieldKind::Address);
        if let (true, Some(extra)) = (unit, extra_keys.first()) {
            return Err(D::Error::custom(format!("field {:?}: unknown field `{extra}`", common.key)));
        }
        Ok(FieldDef {
            key: common.key,
            label: common.label,
            help: common.help,
            required: common.required,
            visible_when: common.visible_when,
            kind,
        })
    }
}

/// "Show this field only when `field` has a value" (and, with `equals`, that value).
/// `field` names a sibling key (inside a group: a key of the same group item, or of the
/// top level when no sibling has that key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
}

/// What kind of value a field holds, with the kind's own constraints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldKind {
    /// A JSON string. Lengths count Unicode scalar values after trimming.
    Text {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_length: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<Pattern>,
        #[serde(default, skip_serializing_if = "is_false")]
        multiline: bool,
    },
    /// A JSON number (a numeric string is accepted too: phones send "12,5" or "12.5").
    Number {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        #[serde(default, skip_serializing_if = "is_false")]
        integer: bool,
    },
    /// A JSON string `YYYY-MM-DD`.
    Date {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<DateBound>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<DateBound>,
    },
    /// A JSON string equal to one option's value (or, with `multiple`, an array of them).
    Select {
        options: Vec<SelectOption>,
        #[serde(default, skip_serializing_if = "is_false")]
        multiple: bool,
    },
    /// A JSON boolean; `must_be_true` for declarations the citizen must tick.
    Checkbox {
        #[serde(default, skip_serializing_if = "is_false")]
        must_be_true: bool,
    },
    /// A 12-digit CCCD as a JSON string (spaces allowed and ignored).
    CitizenId,
    /// A Vietnamese phone number as a JSON string (spaces, dots, dashes, +84 allowed).
    Phone,
    /// An e-mail address as a JSON string.
    Email,
    /// A JSON object `{"province": "...", "ward": "...", "street": "..."}`.
    Address,
    /// A repeated group: a JSON array of objects, each validated against `fields`.
    Group {
        fields: Vec<FieldDef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_items: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_items: Option<u32>,
    },
    /// An attachment slot tied to one of the procedure's required documents: a JSON array
    /// of attachment ids (strings). `required` means at least one file.
    Attachment {
        document: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_files: Option<u32>,
    },
}

/// A date limit: a fixed date, or relative to today ("today", "today-18y", "today+30d").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DateBound(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectOption {
    pub value: String,
    pub label: Text,
}

/// A regular expression checked when the form definition is parsed (so a bad pattern is
/// an error of the catalogue, not of the citizen). Matches the whole value.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    pub regex: regex_lite::Regex,
}

impl Pattern {
    /// Compiles `source` so that it must match the whole value (it is anchored as
    /// `^(?:source)$`).
    pub fn new(source: &str) -> Result<Pattern, regex_lite::Error> {
        let regex = regex_lite::Regex::new(&format!("^(?:{source})$"))?;
        Ok(Pattern { source: source.to_owned(), regex })
    }

    /// Whether the whole of `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Pattern::new(&source).map_err(|e| serde::de::Error::custom(format!("invalid pattern {source:?}: {e}")))
    }
}

// ---------------------------------------------------------------------------------------
// Date bounds
// ---------------------------------------------------------------------------------------

/// A parsed [`DateBound`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Fixed(NaiveDate),
    /// `today` plus `amount` (negative: minus) `unit`s.
    Relative {
        amount: i64,
        unit: BoundUnit,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoundUnit {
    Day,
    Month,
    Year,
}

/// Largest offset accepted in a relative bound (digits), to keep date arithmetic total.
const MAX_OFFSET_DIGITS: usize = 6;

impl DateBound {
    fn parse(&self) -> Option<Bound> {
        let s = self.0.as_str();
        if let Some(rest) = s.strip_prefix("today") {
            if rest.is_empty() {
                return Some(Bound::Relative { amount: 0, unit: BoundUnit::Day });
            }
            let (sign, rest) = match rest.as_bytes().first()? {
                b'+' => (1, &rest[1..]),
                b'-' => (-1, &rest[1..]),
                _ => return None,
            };
            let unit = match rest.as_bytes().last()? {
                b'd' => BoundUnit::Day,
                b'm' => BoundUnit::Month,
                b'y' => BoundUnit::Year,
                _ => return None,
            };
            let digits = &rest[..rest.len() - 1];
            if digits.is_empty() || digits.len() > MAX_OFFSET_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: i64 = digits.parse().ok()?;
            return Some(Bound::Relative { amount: sign * n, unit });
        }
        parse_iso_date(s).map(Bound::Fixed)
    }

    /// Whether the bound is well formed: `YYYY-MM-DD`, `today`, or `today` followed by
    /// `+`/`-`, a number (at most 6 digits) and `d`, `m` or `y`.
    pub fn is_valid(&self) -> bool {
        self.parse().is_some()
    }

    /// The date this bound stands for on `today`; `None` if malformed or out of range.
    pub fn resolve(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.parse()?.resolve(today)
    }
}

impl Bound {
    fn resolve(self, today: NaiveDate) -> Option<NaiveDate> {
        let months = |m: i64| -> Option<NaiveDate> {
            let n = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
            if m >= 0 { today.checked_add_months(n) } else { today.checked_sub_months(n) }
        };
        match self {
            Bound::Fixed(d) => Some(d),
            Bound::Relative { amount, unit: BoundUnit::Day } => {
                let n = Days::new(amount.unsigned_abs());
                if amount >= 0 { today.checked_add_days(n) } else { today.checked_sub_days(n) }
            }
            Bound::Relative { amount, unit: BoundUnit::Month } => months(amount),
            Bound::Relative { amount, unit: BoundUnit::Year } => months(amount.checked_mul(12)?),
        }
    }
}

/// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day).
fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits_ok = b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !digits_ok {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let month: u32 = s[5..7].parse().ok()?;
    let day: u32 = s[8..].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

// ---------------------------------------------------------------------------------------
// Structural checks of a definition
// ---------------------------------------------------------------------------------------

/// What is wrong with a form definition; `path` is the dotted key path of the field
/// (`members.full_name`).
#[derive(Debug, thiserror::Error)]
pub enum FormDefError {
    #[error("form definition does not parse: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{path}: a key must match [a-z][a-z0-9_]*")]
    BadKey { path: String },
    #[error("{path}: duplicate key among its siblings")]
    DuplicateKey { path: String },
    #[error("{path}: visible_when names {field:?}, which is neither a sibling nor a top-level field")]
    UnknownConditionField { path: String, field: String },
    #[error("{path}: visible_when conditions form a cycle")]
    CyclicCondition { path: String },
    #[error("{path}: a select needs at least one option")]
    NoOptions { path: String },
    #[error("{path}: duplicate option value {value:?}")]
    DuplicateOption { path: String, value: String },
    #[error("{path}: the minimum is greater than the maximum")]
    MinAboveMax { path: String },
    #[error("{path}: invalid date bound {bound:?} (use YYYY-MM-DD, today, today-18y, today+30d)")]
    BadDateBound { path: String, bound: String },
    #[error("{path}: a group needs at least one field")]
    EmptyGroup { path: String },
    #[error("{path}: attachment fields are allowed at the top level only")]
    NestedAttachment { path: String },
    #[error("{path}: an attachment needs a document code")]
    EmptyDocument { path: String },
}

fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn join_def_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

/// The field a condition names: a sibling first, then (inside a group) a top-level field.
/// Returns the field and whether it was found at the top level.
fn condition_target<'a>(key: &str, siblings: &'a [FieldDef], top: &'a [FieldDef]) -> Option<(&'a FieldDef, bool)> {
    siblings
        .iter()
        .find(|f| f.key == key)
        .map(|f| (f, false))
        .or_else(|| top.iter().find(|f| f.key == key).map(|f| (f, true)))
}

impl FormDef {
    /// Parses a JSON form definition and runs [`FormDef::check`] on it.
    pub fn parse(json: &str) -> Result<FormDef, FormDefError> {
        let form: FormDef = serde_json::from_str(json)?;
        form.check()?;
        Ok(form)
    }

    /// Structural checks: keys well formed and unique among siblings; conditions name an
    /// existing sibling (or top-level) field, other than the field itself, without cycles;
    /// selects have options with unique values; every minimum is at most its maximum;
    /// date bounds parse; groups have fields; attachments are top-level with a document.
    pub fn check(&self) -> Result<(), FormDefError> {
        check_fields(&self.fields, "", &self.fields, false)
    }

    /// A top-level field by key.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The document codes of the attachment slots, in form order.
    pub fn attachment_documents(&self) -> Vec<&str> {
        self.fields
            .iter()
            .filter_map(|f| match &f.kind {
                FieldKind::Attachment { document, .. } => Some(document.as_str()),
                _ => None,
            })
            .collect()
    }
}

fn check_fields(fields: &[FieldDef], prefix: &str, top: &[FieldDef], nested: bool) -> Result<(), FormDefError> {
    let mut seen = HashSet::new();
    for f in fields {
        let path = join_def_path(prefix, &f.key);
        if !is_valid_key(&f.key) {
            return Err(FormDefError::BadKey { path });
        }
        if !seen.insert(f.key.as_str()) {
            return Err(FormDefError::DuplicateKey { path });
        }
    }
    for f in fields {
        let path = join_def_path(prefix, &f.key);
        if let Some(cond) = &f.visible_when {
            let scope_top = if nested { top } else { &[] };
            if cond.field == f.key || condition_target(&cond.field, fields, scope_top).is_none() {
                return Err(FormDefError::UnknownConditionField { path, field: cond.field.clone() });
            }
            check_no_cycle(f, fields, top, nested, &path)?;
        }
        check_kind(&f.kind, &path, top, nested)?;
    }
    Ok(())
}

/// Follows a field's chain of conditions; a chain longer than the number of fields
/// involved must revisit some field.
fn check_no_cycle(
    start: &FieldDef,
    siblings: &[FieldDef],
    top: &[FieldDef],
    nested: bool,
    path: &str,
) -> Result<(), FormDefError> {
    let limit = siblings.len() + top.len() + 1;
    let mut current = start;
    let mut in_group = nested;
    for _ in 0..limit {
        let Some(cond) = &current.visible_when else {
            return Ok(());
        };
        let level = if in_group { siblings } else { top };
        let scope_top = if in_group { top } else { &[] };
        match condition_target(&cond.field, level, scope_top) {
            None => return Ok(()),
            Some((next, at_top)) => {
                current = next;
                in_group = in_group && !at_top;
            }
        }
    }
    Err(FormDefError::CyclicCondition { path: path.to_owned() })
}

fn check_kind(kind: &FieldKind, path: &str, top: &[FieldDef], nested: bool) -> Result<(), FormDefError> {
    let min_above_max = || FormDefError::MinAboveMax { path: path.to_owned() };
    match kind {
        FieldKind::Text { min_length, max_length, .. } => {
            if let (Some(min), Some(max)) = (min_length, max_length)
                && min > max
            {
                return Err(min_above_max());
            }
        }
        FieldKind::Number { min, max, .. } => {
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                return Err(min_above_max());
            }
        }
        FieldKind::Date { min, max } => {
            let parse = |bound: &Option<DateBound>| match bound {
                None => Ok(None),
                Some(b) => b
                    .parse()
                    .map(Some)
                    .ok_or_else(|| FormDefError::BadDateBound { path: path.to_owned(), bound: b.0.clone() }),
            };
            let (lo, hi) = (parse(min)?, parse(max)?);
            // Comparable only when both are fixed or both are relative to today.
            if let (Some(lo), Some(hi)) = (lo, hi) {
                let same_kind = matches!(
                    (lo, hi),
                    (Bound::Fixed(_), Bound::Fixed(_)) | (Bound::Relative { .. }, Bound::Relative { .. })
                );
                let reference = NaiveDate::from_ymd_opt(2000, 3, 1).unwrap_or_default();
                if same_kind && lo.resolve(reference) > hi.resolve(reference) {
                    return Err(min_above_max());
                }
            }
        }
        FieldKind::Select { options, .. } => {
            if options.is_empty() {
                return Err(FormDefError::NoOptions { path: path.to_owned() });
            }
            let mut seen = HashSet::new();
            for o in options {
                if !seen.insert(o.value.as_str()) {
                    return Err(FormDefError::DuplicateOption { path: path.to_owned(), value: o.value.clone() });
                }
            }
        }
        FieldKind::Group { fields, min_items, max_items } => {
            if fields.is_empty() {
                return Err(FormDefError::EmptyGroup { path: path.to_owned() });
            }
            if let (Some(min), Some(max)) = (min_items, max_items)
                && min > max
            {
                return Err(min_above_max());
            }
            check_fields(fields, path, top, true)?;
        }
        FieldKind::Attachment { document, .. } => {
            if nested {
                return Err(FormDefError::NestedAttachment { path: path.to_owned() });
            }
            if document.trim().is_empty() {
                return Err(FormDefError::EmptyDocument { path: path.to_owned() });
            }
        }
        FieldKind::Checkbox { .. }
        | FieldKind::CitizenId
        | FieldKind::Phone
        | FieldKind::Email
        | FieldKind::Address => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Field errors
// ---------------------------------------------------------------------------------------

/// Why a value was refused. Stable: the code travels on the wire (`as_str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    Required,
    WrongType,
    UnknownField,
    TooShort,
    TooLong,
    PatternMismatch,
    NotANumber,
    TooSmall,
    TooLarge,
    NotAnInteger,
    InvalidDate,
    DateTooEarly,
    DateTooLate,
    InvalidOption,
    MustBeChecked,
    InvalidCitizenId,
    InvalidPhone,
    InvalidEmail,
    InvalidAddress,
    TooFewItems,
    TooManyItems,
    TooManyFiles,
    /// Used by the server for passwords (not a form field kind).
    WeakPassword,
    /// Anything else that is not valid (used by the server for non-form inputs).
    Invalid,
    /// A file that is not a PDF, JPEG or PNG (judged by its bytes).
    InvalidFileType,
    /// An attachment id that is not one of the applicant's files.
    UnknownAttachment,
    /// The values were filled on an older version of the form.
    OutdatedForm,
}

impl FieldErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [FieldErrorCode; 27] = [
        FieldErrorCode::Required,
        FieldErrorCode::WrongType,
        FieldErrorCode::UnknownField,
        FieldErrorCode::TooShort,
        FieldErrorCode::TooLong,
        FieldErrorCode::PatternMismatch,
        FieldErrorCode::NotANumber,
        FieldErrorCode::TooSmall,
        FieldErrorCode::TooLarge,
        FieldErrorCode::NotAnInteger,
        FieldErrorCode::InvalidDate,
        FieldErrorCode::DateTooEarly,
        FieldErrorCode::DateTooLate,
        FieldErrorCode::InvalidOption,
        FieldErrorCode::MustBeChecked,
        FieldErrorCode::InvalidCitizenId,
        FieldErrorCode::InvalidPhone,
        FieldErrorCode::InvalidEmail,
        FieldErrorCode::InvalidAddress,
        FieldErrorCode::TooFewItems,
        FieldErrorCode::TooManyItems,
        FieldErrorCode::TooManyFiles,
        FieldErrorCode::WeakPassword,
        FieldErrorCode::Invalid,
        FieldErrorCode::InvalidFileType,
        FieldErrorCode::UnknownAttachment,
        FieldErrorCode::OutdatedForm,
    ];

    /// The wire name (snake_case), the same as the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldErrorCode::Required => "required",
            FieldErrorCode::WrongType => "wrong_type",
            FieldErrorCode::UnknownField => "unknown_field",
            FieldErrorCode::TooShort => "too_short",
            FieldErrorCode::TooLong => "too_long",
            FieldErrorCode::PatternMismatch => "pattern_mismatch",
            FieldErrorCode::NotANumber => "not_a_number",
            FieldErrorCode::TooSmall => "too_small",
            FieldErrorCode::TooLarge => "too_large",
            FieldErrorCode::NotAnInteger => "not_an_integer",
            FieldErrorCode::InvalidDate => "invalid_date",
            FieldErrorCode::DateTooEarly => "date_too_early",
            FieldErrorCode::DateTooLate => "date_too_late",
            FieldErrorCode::InvalidOption => "invalid_option",
            FieldErrorCode::MustBeChecked => "must_be_checked",
            FieldErrorCode::InvalidCitizenId => "invalid_citizen_id",
            FieldErrorCode::InvalidPhone => "invalid_phone",
            FieldErrorCode::InvalidEmail => "invalid_email",
            FieldErrorCode::InvalidAddress => "invalid_address",
            FieldErrorCode::TooFewItems => "too_few_items",
            FieldErrorCode::TooManyItems => "too_many_items",
            FieldErrorCode::TooManyFiles => "too_many_files",
            FieldErrorCode::WeakPassword => "weak_password",
            FieldErrorCode::Invalid => "invalid",
            FieldErrorCode::InvalidFileType => "invalid_file_type",
            FieldErrorCode::UnknownAttachment => "unknown_attachment",
            FieldErrorCode::OutdatedForm => "outdated_form",
        }
    }

    /// The code with this wire name.
    pub fn from_wire(s: &str) -> Option<FieldErrorCode> {
        FieldErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for FieldErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one value. `path` is a top-level key, `group[i].key` inside a group,
/// `address.ward` inside an address, or `""` for the values object itself. `limit` is
/// the bound that was crossed (`"100"`, `"2025-01-01"`), for the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub path: String,
    pub code: FieldErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl FieldError {
    pub fn new(path: impl Into<String>, code: FieldErrorCode) -> FieldError {
        FieldError { path: path.into(), code, limit: None }
    }

    /// Attaches the bound that was crossed.
    pub fn with_limit(mut self, limit: impl std::fmt::Display) -> FieldError {
        self.limit = Some(limit.to_string());
        self
    }

    /// A sentence for the citizen, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        use FieldErrorCode as C;
        let limit = self.limit.as_deref();
        // Vietnamese readers expect dates as dd/mm/yyyy.
        let date = |l: &str| match (lang, parse_iso_date(l)) {
            (Lang::Vi, Some(d)) => d.format("%d/%m/%Y").to_string(),
            _ => l.to_owned(),
        };
        match (lang, self.code, limit) {
            (Lang::Vi, C::Required, _) => "Trường này là bắt buộc.".to_owned(),
            (Lang::En, C::Required, _) => "This field is required.".to_owned(),
            (Lang::Vi, C::WrongType, _) => "Giá trị không đúng kiểu dữ liệu.".to_owned(),
            (Lang::En, C::WrongType, _) => "This value has the wrong type.".to_owned(),
            (Lang::Vi, C::UnknownField, _) => "Trường này không có trong biểu mẫu.".to_owned(),
            (Lang::En, C::UnknownField, _) => "This field is not part of the form.".to_owned(),
            (Lang::Vi, C::TooShort, Some(n)) => format!("Tối thiểu {n} ký tự."),
            (Lang::Vi, C::TooShort, None) => "Nội dung quá ngắn.".to_owned(),
            (Lang::En, C::TooShort, Some(n)) => format!("At least {n} characters."),
            (Lang::En, C::TooShort, None) => "Too short.".to_owned(),
            (Lang::Vi, C::TooLong, Some(n)) => format!("Tối đa {n} ký tự."),
            (Lang::Vi, C::TooLong, None) => "Nội dung quá dài.".to_owned(),
            (Lang::En, C::TooLong, Some(n)) => format!("At most {n} characters."),
            (Lang::En, C::TooLong, None) => "Too long.".to_owned(),
            (Lang::Vi, C::PatternMismatch, _) => "Giá trị không đúng định dạng.".to_owned(),
            (Lang::En, C::PatternMismatch, _) => {
                "This value is not in the expected format.".to_owned()
            }
            (Lang::Vi, C::NotANumber, _) => "Vui lòng nhập một số.".to_owned(),
            (Lang::En, C::NotANumber, _) => "Please enter a number.".to_owned(),
            (Lang::Vi, C::TooSmall, Some(n)) => format!("Giá trị nhỏ nhất là {n}."),
            (Lang::Vi, C::TooSmall, None) => "Giá trị quá nhỏ.".to_owned(),
            (Lang::En, C::TooSmall, Some(n)) => format!("The smallest allowed value is {n}."),
            (Lang::En, C::TooSmall, None) => "The value is too small.".to_owned(),
            (Lang::Vi, C::TooLarge, Some(n)) => format!("Giá trị lớn nhất là {n}."),
            (Lang::Vi, C::TooLarge, None) => "Giá trị quá lớn.".to_owned(),
            (Lang::En, C::TooLarge, Some(n)) => format!("The largest allowed value is {n}."),
            (Lang::En, C::TooLarge, None) => "The value is too large.".to_owned(),
            (Lang::Vi, C::NotAnInteger, _) => "Vui lòng nhập số nguyên.".to_owned(),
            (Lang::En, C::NotAnInteger, _) => "Please enter a whole number.".to_owned(),
            (Lang::Vi, C::InvalidDate, _) => {
                "Ngày không hợp lệ: cần theo dạng năm-tháng-ngày (YYYY-MM-DD).".to_owned()
            }
            (Lang::En, C::InvalidDate, _) => "Invalid date: use the YYYY-MM-DD format.".to_owned(),
            (Lang::Vi, C::DateTooEarly, Some(d)) => {
                format!("Ngày không được trước ngày {}.", date(d))
            }
            (Lang::Vi, C::DateTooEarly, None) => "Ngày quá sớm.".to_owned(),
            (Lang::En, C::DateTooEarly, Some(d)) => {
                format!("The date must not be before {}.", date(d))
            }
            (Lang::En, C::DateTooEarly, None) => "The date is too early.".to_owned(),
            (Lang::Vi, C::DateTooLate, Some(d)) => format!("Ngày không được sau ngày {}.", date(d)),
            (Lang::Vi, C::DateTooLate, None) => "Ngày quá muộn.".to_owned(),
            (Lang::En, C::DateTooLate, Some(d)) => {
                format!("The date must not be after {}.", date(d))
            }
            (Lang::En, C::DateTooLate, None) => "The date is too late.".to_owned(),
            (Lang::Vi, C::InvalidOption, _) => {
                "Vui lòng chọn một giá trị trong danh sách.".to_owned()
            }
            (Lang::En, C::InvalidOption, _) => "Please choose one of the listed options.".to_owned(),
            (Lang::Vi, C::MustBeChecked, _) => "Vui lòng đánh dấu vào ô này để xác nhận.".to_owned(),
            (Lang::En, C::MustBeChecked, _) => "Please tick this box to confirm.".to_owned(),
            (Lang::Vi, C::InvalidCitizenId, _) => {
                "Số CCCD không hợp lệ: cần đủ 12 chữ số và mã tỉnh hợp lệ.".to_owned()
            }
            (Lang::En, C::InvalidCitizenId, _) => {
                "Invalid citizen ID number: it needs exactly 12 digits and a valid province code."
                    .to_owned()
            }
            (Lang::Vi, C::InvalidPhone, _) => {
                "Số điện thoại không hợp lệ: cần 10 chữ số bắt đầu bằng 03, 05, 07, 08, 09 hoặc số cố định 11 chữ số bắt đầu bằng 02."
                    .to_owned()
            }
            (Lang::En, C::InvalidPhone, _) => {
                "Invalid phone number: use 10 digits starting with 03, 05, 07, 08 or 09, or an 11-digit landline starting with 02."
                    .to_owned()
            }
            (Lang::Vi, C::InvalidEmail, _) => "Địa chỉ email không hợp lệ.".to_owned(),
            (Lang::En, C::InvalidEmail, _) => "Invalid e-mail address.".to_owned(),
            (Lang::Vi, C::InvalidAddress, _) => {
                "Địa chỉ không hợp lệ: hãy chọn tỉnh/thành phố trong danh sách.".to_owned()
            }
            (Lang::En, C::InvalidAddress, _) => {
                "Invalid address: choose a province or city from the list.".to_owned()
            }
            (Lang::Vi, C::TooFewItems, Some(n)) => format!("Cần ít nhất {n} mục."),
            (Lang::Vi, C::TooFewItems, None) => "Chưa đủ số mục cần thiết.".to_owned(),
            (Lang::En, C::TooFewItems, Some(n)) => format!("At least {n} entries are needed."),
            (Lang::En, C::TooFewItems, None) => "Too few entries.".to_owned(),
            (Lang::Vi, C::TooManyItems, Some(n)) => format!("Tối đa {n} mục."),
            (Lang::Vi, C::TooManyItems, None) => "Quá nhiều mục.".to_owned(),
            (Lang::En, C::TooManyItems, Some(n)) => format!("At most {n} entries."),
            (Lang::En, C::TooManyItems, None) => "Too many entries.".to_owned(),
            (Lang::Vi, C::TooManyFiles, Some(n)) => format!("Chỉ được đính kèm tối đa {n} tệp."),
            (Lang::Vi, C::TooManyFiles, None) => "Quá nhiều tệp đính kèm.".to_owned(),
            (Lang::En, C::TooManyFiles, Some(n)) => format!("At most {n} files can be attached."),
            (Lang::En, C::TooManyFiles, None) => "Too many attached files.".to_owned(),
            (Lang::Vi, C::WeakPassword, Some(n)) => {
                format!("Mật khẩu quá yếu: cần ít nhất {n} ký tự, gồm cả chữ và số.")
            }
            (Lang::Vi, C::WeakPassword, None) => {
                "Mật khẩu quá yếu: hãy dùng mật khẩu dài hơn, gồm cả chữ và số.".to_owned()
            }
            (Lang::En, C::WeakPassword, Some(n)) => {
                format!("Password too weak: use at least {n} characters, with letters and digits.")
            }
            (Lang::En, C::WeakPassword, None) => {
                "Password too weak: use a longer one, with letters and digits.".to_owned()
            }
            (Lang::Vi, C::Invalid, _) => "Giá trị không hợp lệ.".to_owned(),
            (Lang::En, C::Invalid, _) => "Invalid value.".to_owned(),
            (Lang::Vi, C::InvalidFileType, _) => "Tệp phải là PDF, JPEG hoặc PNG.".to_owned(),
            (Lang::En, C::InvalidFileType, _) => "The file must be a PDF, JPEG or PNG.".to_owned(),
            (Lang::Vi, C::UnknownAttachment, _) => "Không tìm thấy tệp đính kèm này trong tài khoản của bạn.".to_owned(),
            (Lang::En, C::UnknownAttachment, _) => "This attachment is not one of your files.".to_owned(),
            (Lang::Vi, C::OutdatedForm, Some(v)) => {
                format!("Biểu mẫu đã được cập nhật (phiên bản {v}); vui lòng cập nhật danh mục và kiểm tra lại hồ sơ.")
            }
            (Lang::Vi, C::OutdatedForm, None) => "Biểu mẫu đã được cập nhật; vui lòng kiểm tra lại hồ sơ.".to_owned(),
            (Lang::En, C::OutdatedForm, Some(v)) => format!("The form was updated (version {v}); refresh and check the dossier."),
            (Lang::En, C::OutdatedForm, None) => "The form was updated; refresh and check the dossier.".to_owned(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// Conditions nest at most this deep (definitions from [`FormDef::parse`] have no cycles;
/// this bounds hand-built ones).
const MAX_CONDITION_DEPTH: usize = 32;

#[derive(Clone, Copy)]
struct Scope<'a> {
    fields: &'a [FieldDef],
    values: &'a Map<String, Value>,
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    top: Scope<'a>,
    /// The group item being validated, if any.
    item: Option<Scope<'a>>,
    today: NaiveDate,
}

/// Whether a value counts as "not given": null, a blank string, an empty array, or an
/// object whose values are all not given (an address with blank parts).
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_empty),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A number typed on a phone: `12`, `12.5` or `12,5`; `None` when not a finite number.
fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim().replace(',', ".");
    let ok_chars = t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !ok_chars {
        return None;
    }
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

/// Formats a bound without a useless `.0`.
fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.0}") } else { x.to_string() }
}

/// Whether a condition holds for the value of the field it names. Without `equals`: the
/// value is given (see [`is_empty`]) and is not `false`. With `equals`: the value equals
/// it, or is an array containing it, or is a numeric string equal to a numeric `equals`.
fn condition_holds(cond: &Condition, value: Option<&Value>) -> bool {
    let Some(v) = value else {
        return false;
    };
    match &cond.equals {
        None => !is_empty(v) && *v != Value::Bool(false),
        Some(eq) => {
            v == eq
                || v.as_array().is_some_and(|a| a.contains(eq))
                || matches!((eq, v), (Value::Number(n), Value::String(_))
                    if n.as_f64().is_some() && number_of(v) == n.as_f64())
        }
    }
}

/// Whether `field` is shown: its condition holds, and the field the condition names is
/// itself shown. Inside a group, a condition looks at the same item first, then the top.
fn is_visible(field: &FieldDef, ctx: Ctx<'_>, depth: usize) -> bool {
    let Some(cond) = &field.visible_when else {
        return true;
    };
    if depth >= MAX_CONDITION_DEPTH {
        return false;
    }
    let in_item = ctx.item.and_then(|item| item.fields.iter().find(|f| f.key == cond.field).map(|f| (f, item)));
    let (target, scope, next_ctx) = match in_item {
        Some((f, item)) => (f, item, ctx),
        None => match ctx.top.fields.iter().find(|f| f.key == cond.field) {
            Some(f) => (f, ctx.top, Ctx { item: None, ..ctx }),
            None => return false,
        },
    };
    is_visible(target, next_ctx, depth + 1) && condition_holds(cond, scope.values.get(&cond.field))
}

fn join_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

/// Validates `values` (a JSON object) against `form` and returns every error, in form
/// order after any unknown keys. Never panics.
///
/// A field whose `visible_when` does not hold is skipped: not required, value ignored.
/// A missing, null, blank or empty value is an error only on a required field (or a
/// `must_be_true` checkbox). See [`FieldKind`] for what each kind accepts.
pub fn validate(form: &FormDef, values: &Value, today: NaiveDate) -> Vec<FieldError> {
    let Some(obj) = values.as_object() else {
        return vec![FieldError::new("", FieldErrorCode::WrongType)];
    };
    let ctx = Ctx { top: Scope { fields: &form.fields, values: obj }, item: None, today };
    let mut errors = Vec::new();
    check_object(&form.fields, obj, "", ctx, &mut errors);
    errors
}

fn check_object(
    fields: &[FieldDef],
    obj: &Map<String, Value>,
    prefix: &str,
    ctx: Ctx<'_>,
    errors: &mut Vec<FieldError>,
) {
    for key in obj.keys() {
        if !fields.iter().any(|f| &f.key == key) {
            errors.push(FieldError::new(join_path(prefix, key), FieldErrorCode::UnknownField));
        }
    }
    for field in fields {
        if !is_visible(field, ctx, 0) {
            continue;
        }
        let path = join_path(prefix, &field.key);
        check_field(field, obj.get(&field.key), &path, ctx, errors);
    }
}

fn check_field(field: &FieldDef, value: Option<&Value>, path: &str, ctx: Ctx<'_>, errors: &mut Vec<FieldError>) {
    match value.filter(|v| !is_empty(v)) {
        None => {
            if let FieldKind::Checkbox { must_be_true: true } = field.kind {
                errors.push(FieldError::new(path, FieldErrorCode::MustBeChecked));
            } else if field.required {
                errors.push(FieldError::new(path, FieldErrorCode::Required));
            }
        }
        Some(v) => check_value(&field.kind, v, path, ctx, errors),
    }
}

/// Checks a given (non-empty) value against a field kind.
fn check_value(kind: &FieldKind, v: &Value, path: &str, ctx: Ctx<'_>, errors: &mut Vec<FieldError>) {
    use FieldErrorCode as C;
    let e = |code: C| FieldError::new(path, code);
    match kind {
        FieldKind::Text { min_length, max_length, pattern, .. } => {
            let Some(s) = v.as_str() else {
                errors.push(e(C::WrongType));
                return;
            };
            let t = s.trim();
            let n = t.chars().count();
            if let Some(min) = min_length
                && n < usize::try_from(*min).unwrap_or(usize::MAX)
            {
                errors.push(FieldError::new(path, C::TooShort).with_limit(min));
            }
            if let Some(max) = max_length
                && n > usize::try_from(*max).unwrap_or(usize::MAX)
            {
                errors.push(FieldError::new(path, C::TooLong).with_limit(max));
            }
            if let Some(p) = pattern
                && !p.is_match(t)
            {
                errors.push(FieldError::new(path, C::PatternMismatch));
            }
        }
        FieldKind::Number { min, max, integer } => {
            if !matches!(v, Value::Number(_) | Value::String(_)) {
                errors.push(e(C::WrongType));
                return;
            }
            let Some(x) = number_of(v) else {
                errors.push(e(C::NotANumber));
                return;
            };
            if *integer && x.fract() != 0.0 {
                errors.push(e(C::NotAnInteger));
            }
            if let Some(min) = min
                && x < *min
            {
                errors.push(FieldError::new(path, C::TooSmall).with_limit(fmt_number(*min)));
            }
            if let Some(max) = max
                && x > *max
            {
                errors.push(FieldError::new(path, C::TooLarge).with_limit(fmt_number(*max)));
            }
        }
        FieldKind::Date { min, max } => {
            let Some(s) = v.as_str() else {
                errors.push(e(C::WrongType));
                return;
            };
            let Some(d) = parse_iso_date(s) else {
                errors.push(e(C::InvalidDate));
                return;
            };
            if let Some(lo) = min.as_ref().and_then(|b| b.resolve(ctx.today))
                && d < lo
            {
                errors.push(FieldError::new(path, C::DateTooEarly).with_limit(lo));
            }
            if let Some(hi) = max.as_ref().and_then(|b| b.resolve(ctx.today))
                && d > hi
            {
                errors.push(FieldError::new(path, C::DateTooLate).with_limit(hi));
            }
        }
        FieldKind::Select { options, multiple } => {
            let known = |s: &str| options.iter().any(|o| o.value == s);
            if *multiple {
                let Some(items) = v.as_array() else {
                    errors.push(e(C::WrongType));
                    return;
                };
                let mut seen = HashSet::new();
                let (mut wrong_type, mut invalid) = (false, false);
                for item in items {
                    match item.as_str() {
                        None => wrong_type = true,
                        Some(s) => invalid |= !known(s) || !seen.insert(s),
                    }
                }
                if wrong_type {
                    errors.push(e(C::WrongType));
                }
                if invalid {
                    errors.push(e(C::InvalidOption));
                }
            } else {
                match v.as_str() {
                    None => errors.push(e(C::WrongType)),
                    Some(s) if !known(s) => errors.push(e(C::InvalidOption)),
                    Some(_) => {}
                }
            }
        }
        FieldKind::Checkbox { must_be_true } => match v.as_bool() {
            None => errors.push(e(C::WrongType)),
            Some(false) if *must_be_true => errors.push(e(C::MustBeChecked)),
            Some(_) => {}
        },
        FieldKind::CitizenId => match v.as_str() {
            None => errors.push(e(C::WrongType)),
            Some(s) if CitizenId::parse(s).is_err() => errors.push(e(C::InvalidCitizenId)),
            Some(_) => {}
        },
        FieldKind::Phone => match v.as_str() {
            None => errors.push(e(C::WrongType)),
            Some(s) if normalize_phone(s).is_none() => errors.push(e(C::InvalidPhone)),
            Some(_) => {}
        },
        FieldKind::Email => match v.as_str() {
            None => errors.push(e(C::WrongType)),
            Some(s) if !is_valid_email(s.trim()) => errors.push(e(C::InvalidEmail)),
            Some(_) => {}
        },
        FieldKind::Address => {
            if let Err(issues) = Address::from_value(v) {
                for issue in issues {
                    let p = if issue.part.is_empty() { path.to_owned() } else { join_path(path, &issue.part) };
                    let mut e = FieldError::new(p, issue.code);
                    if let Some(limit) = issue.limit {
                        e = e.with_limit(limit);
                    }
                    errors.push(e);
                }
            }
        }
        FieldKind::Group { fields, min_items, max_items } => {
            let Some(items) = v.as_array() else {
                errors.push(e(C::WrongType));
                return;
            };
            let len = items.len();
            if let Some(min) = min_items
                && len < usize::try_from(*min).unwrap_or(usize::MAX)
            {
                errors.push(FieldError::new(path, C::TooFewItems).with_limit(min));
            }
            if let Some(max) = max_items
                && len > usize::try_from(*max).unwrap_or(usize::MAX)
            {
                errors.push(FieldError::new(path, C::TooManyItems).with_limit(max));
            }
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                let Some(obj) = item.as_object() else {
                    errors.push(FieldError::new(item_path, C::WrongType));
                    continue;
                };
                let item_ctx = Ctx { item: Some(Scope { fields, values: obj }), ..ctx };
                check_object(fields, obj, &item_path, item_ctx, errors);
            }
        }
        FieldKind::Attachment { max_files, .. } => {
            let Some(items) = v.as_array() else {
                errors.push(e(C::WrongType));
                return;
            };
            if items.iter().any(|i| i.as_str().is_none_or(|s| s.trim().is_empty())) {
                errors.push(e(C::WrongType));
            }
            if let Some(max) = max_files
                && items.len() > usize::try_from(*max).unwrap_or(usize::MAX)
            {
                errors.push(FieldError::new(path, C::TooManyFiles).with_limit(max));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Migration of draft values to a new form version
// ---------------------------------------------------------------------------------------

/// Why a value was not carried over to the new form version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The new version has no such field (wire form: `"removed"`).
    Removed,
    /// The value no longer fits the field (wire form: the error code, e.g. `"wrong_type"`).
    Invalid(FieldErrorCode),
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Removed => "removed",
            DropReason::Invalid(code) => code.as_str(),
        }
    }
}

impl Serialize for DropReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DropReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s == "removed" {
            return Ok(DropReason::Removed);
        }
        FieldErrorCode::from_wire(&s)
            .map(DropReason::Invalid)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown drop reason {s:?}")))
    }
}

/// A value of a draft that did not survive a form upgrade, kept so the app can show it
/// to the citizen. `path` uses the [`FieldError`] path syntax with the indexes of the
/// old value (`members[1].job`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedValue {
    pub path: String,
    pub value: Value,
    pub reason: DropReason,
}

/// The result of [`migrate_values`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MigratedValues {
    pub kept: Map<String, Value>,
    pub dropped: Vec<DroppedValue>,
}

/// Codes that mean "this value cannot even be shown in the new field": everything else
/// (a missing required value, a text now too long, a date now out of range) is kept for
/// the citizen to fix.
const SHAPE_ERRORS: [FieldErrorCode; 5] = [
    FieldErrorCode::WrongType,
    FieldErrorCode::UnknownField,
    FieldErrorCode::InvalidOption,
    FieldErrorCode::NotANumber,
    FieldErrorCode::InvalidDate,
];

/// Carries the values of a draft filled on `old` over to `new`. Nothing is silently lost:
/// every value is either in `kept` or in `dropped`.
///
/// The rule, per key of `values` (and recursively per key of each group item):
/// - a key that `new` does not define is dropped, reason `removed` (or `unknown_field`
///   when `old` did not define it either);
/// - an empty value (null, blank, `[]`) is kept;
/// - a value with a *shape* error under `new` (wrong type, unknown option, not a number,
///   not a date) is dropped with that code; a multiple select keeps its still-valid
///   options and drops the others; a group keeps its object items and migrates their keys
///   (non-object items are dropped);
/// - every other value is kept, even if it now fails validation (too long, required,
///   out of range): the citizen sees that error and fixes it.
///
/// Visibility is ignored: a value of a field hidden under `new` is kept (and ignored by
/// [`validate`] until the field shows again). A `values` that is not an object is
/// dropped whole with path `""`.
pub fn migrate_values(old: &FormDef, new: &FormDef, values: &Value, today: NaiveDate) -> MigratedValues {
    let Some(obj) = values.as_object() else {
        return MigratedValues {
            kept: Map::new(),
            dropped: vec![DroppedValue {
                path: String::new(),
                value: values.clone(),
                reason: DropReason::Invalid(FieldErrorCode::WrongType),
            }],
        };
    };
    let ctx = Ctx { top: Scope { fields: &new.fields, values: obj }, item: None, today };
    let mut out = MigratedValues::default();
    out.kept = migrate_object(Some(&old.fields), &new.fields, obj, "", ctx, &mut out.dropped);
    out
}

fn migrate_object(
    old_fields: Option<&[FieldDef]>,
    new_fields: &[FieldDef],
    obj: &Map<String, Value>,
    prefix: &str,
    ctx: Ctx<'_>,
    dropped: &mut Vec<DroppedValue>,
) -> Map<String, Value> {
    let mut kept = Map::new();
    for (key, value) in obj {
        let path = join_path(prefix, key);
        let old_field = old_fields.and_then(|fs| fs.iter().find(|f| &f.key == key));
        let Some(field) = new_fields.iter().find(|f| &f.key == key) else {
            let reason = if old_field.is_some() {
                DropReason::Removed
            } else {
                DropReason::Invalid(FieldErrorCode::UnknownField)
            };
            dropped.push(DroppedValue { path, value: value.clone(), reason });
            continue;
        };
        if is_empty(value) {
            kept.insert(key.clone(), value.clone());
            continue;
        }
        match (&field.kind, value) {
            (FieldKind::Group { fields, .. }, Value::Array(items)) => {
                let old_item_fields = old_field.and_then(|f| match &f.kind {
                    FieldKind::Group { fields, .. } => Some(fields.as_slice()),
                    _ => None,
                });
                let mut kept_items = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{i}]");
                    let Some(item_obj) = item.as_object() else {
                        dropped.push(DroppedValue {
                            path: item_path,
                            value: item.clone(),
                            reason: DropReason::Invalid(FieldErrorCode::WrongType),
                        });
                        continue;
                    };
                    let item_ctx = Ctx { item: Some(Scope { fields, values: item_obj }), ..ctx };
                    let kept_item = migrate_object(old_item_fields, fields, item_obj, &item_path, item_ctx, dropped);
                    kept_items.push(Value::Object(kept_item));
                }
                kept.insert(key.clone(), Value::Array(kept_items));
            }
            (FieldKind::Select { options, multiple: true }, Value::Array(items)) => {
                let mut seen = HashSet::new();
                let (good, bad): (Vec<&Value>, Vec<&Value>) = items
                    .iter()
                    .partition(|v| v.as_str().is_some_and(|s| options.iter().any(|o| o.value == s) && seen.insert(s)));
                if !bad.is_empty() {
                    let code = if bad.iter().all(|v| v.is_string()) {
                        FieldErrorCode::InvalidOption
                    } else {
                        FieldErrorCode::WrongType
                    };
                    dropped.push(DroppedValue {
                        path,
                        value: Value::Array(bad.into_iter().cloned().collect()),
                        reason: DropReason::Invalid(code),
                    });
                }
                kept.insert(key.clone(), Value::Array(good.into_iter().cloned().collect()));
            }
            _ => {
                let mut errors = Vec::new();
                check_value(&field.kind, value, &path, ctx, &mut errors);
                match errors.iter().find(|e| SHAPE_ERRORS.contains(&e.code)) {
                    Some(e) => {
                        dropped.push(DroppedValue { path, value: value.clone(), reason: DropReason::Invalid(e.code) })
                    }
                    None => {
                        kept.insert(key.clone(), value.clone());
                    }
                }
            }
        }
    }
    kept
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        parse_iso_date(s).unwrap()
    }

    #[test]
    fn pattern_is_anchored_and_serializes_as_source() {
        let p: Pattern = serde_json::from_value(json!("[0-9]{3}")).unwrap();
        assert!(p.is_match("123"));
        assert!(!p.is_match("1234"));
        assert!(!p.is_match("a123"));
        let alt = Pattern::new("ab|cd").unwrap();
        assert!(alt.is_match("cd") && !alt.is_match("abcd"));
        assert_eq!(serde_json::to_value(&p).unwrap(), json!("[0-9]{3}"));
        assert_eq!(p, Pattern::new("[0-9]{3}").unwrap());
        assert_ne!(p, Pattern::new("[0-9]{4}").unwrap());
        assert!(serde_json::from_value::<Pattern>(json!("(")).is_err());
    }

    #[test]
    fn date_bounds() {
        let today = d("2024-02-29");
        let cases = [
            ("2025-01-01", Some("2025-01-01")),
            ("today", Some("2024-02-29")),
            ("today-18y", Some("2006-02-28")),
            ("today+30d", Some("2024-03-30")),
            ("today-1m", Some("2024-01-29")),
            ("today+0d", Some("2024-02-29")),
            ("today+999999y", None),
            ("today-1000000d", None),
            ("today+1w", None),
            ("today18y", None),
            ("today-y", None),
            ("tomorrow", None),
            ("2025-1-01", None),
            ("2025-02-30", None),
            ("", None),
            ("today-", None),
        ];
        for (bound, want) in cases {
            let got = DateBound(bound.into()).resolve(today);
            assert_eq!(got, want.map(d), "{bound}");
        }
        assert!(DateBound("today+999999y".into()).is_valid());
    }

    #[test]
    fn strict_iso_dates() {
        assert_eq!(parse_iso_date("2025-12-31"), Some(d("2025-12-31")));
        for bad in ["2025-1-1", "2025/01/01", "01-01-2025", "2025-13-01", "+025-01-01", "2025-01-01 "] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
        assert_eq!(parse_iso_date("２０２５-01-01"), None);
    }

    fn def_error(json: serde_json::Value) -> Option<FormDefError> {
        FormDef::parse(&json.to_string()).err()
    }

    #[test]
    fn definition_checks() {
        let text = |key: &str| json!({"key": key, "label": "x", "type": "text"});
        let ok = json!({"version": 1, "fields": [
            text("full_name"),
            {"key": "has_spouse", "label": "x", "type": "checkbox"},
            {"key": "spouse", "label": "x", "type": "text", "visible_when": {"field": "has_spouse"}},
            {"key": "members", "label": "x", "type": "group", "min_items": 1, "max_items": 3, "fields": [
                text("full_name"),
                {"key": "note", "label": "x", "type": "text", "visible_when": {"field": "has_spouse", "equals": true}}
            ]},
            {"key": "born", "label": "x", "type": "date", "min": "today-120y", "max": "today"},
            {"key": "photo", "label": "x", "type": "attachment", "document": "CCCD"}
        ]});
        let form = FormDef::parse(&ok.to_string()).unwrap();
        assert_eq!(form.attachment_documents(), ["CCCD"]);
        assert!(form.field("spouse").is_some());

        let bad_cases: Vec<(serde_json::Value, &str)> = vec![
            (json!({"version": 1, "fields": [text("Full")]}), "BadKey"),
            (json!({"version": 1, "fields": [text("1a")]}), "BadKey"),
            (json!({"version": 1, "fields": [text("")]}), "BadKey"),
            (json!({"version": 1, "fields": [text("a"), text("a")]}), "DuplicateKey"),
            (
                json!({"version": 1, "fields": [
                    {"key": "a", "label": "x", "type": "text", "visible_when": {"field": "b"}}
                ]}),
                "UnknownConditionField",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "a", "label": "x", "type": "text", "visible_when": {"field": "a"}}
                ]}),
                "UnknownConditionField",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "a", "label": "x", "type": "text", "visible_when": {"field": "b"}},
                    {"key": "b", "label": "x", "type": "text", "visible_when": {"field": "a"}}
                ]}),
                "CyclicCondition",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "g", "label": "x", "type": "group", "fields": [text("a")]},
                    {"key": "b", "label": "x", "type": "text", "visible_when": {"field": "a"}}
                ]}),
                "UnknownConditionField",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "s", "label": "x", "type": "select", "options": []}
                ]}),
                "NoOptions",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "s", "label": "x", "type": "select", "options": [
                        {"value": "a", "label": "A"}, {"value": "a", "label": "B"}]}
                ]}),
                "DuplicateOption",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "t", "label": "x", "type": "text", "min_length": 5, "max_length": 2}
                ]}),
                "MinAboveMax",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "n", "label": "x", "type": "number", "min": 5.5, "max": 2}
                ]}),
                "MinAboveMax",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "d", "label": "x", "type": "date", "min": "2025-01-02", "max": "2025-01-01"}
                ]}),
                "MinAboveMax",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "d", "label": "x", "type": "date", "min": "today", "max": "today-1d"}
                ]}),
                "MinAboveMax",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "g", "label": "x", "type": "group", "min_items": 3, "max_items": 1, "fields": [text("a")]}
                ]}),
                "MinAboveMax",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "d", "label": "x", "type": "date", "min": "yesterday"}
                ]}),
                "BadDateBound",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "g", "label": "x", "type": "group", "fields": []}
                ]}),
                "EmptyGroup",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "g", "label": "x", "type": "group", "fields": [
                        {"key": "f", "label": "x", "type": "attachment", "document": "A"}]}
                ]}),
                "NestedAttachment",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "f", "label": "x", "type": "attachment", "document": " "}
                ]}),
                "EmptyDocument",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "g", "label": "x", "type": "group", "fields": [text("a"), text("a")]}
                ]}),
                "DuplicateKey",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "t", "label": "x", "type": "text", "pattern": "("}
                ]}),
                "Json",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "t", "label": "x", "type": "colour"}
                ]}),
                "Json",
            ),
            (
                json!({"version": 1, "fields": [
                    {"key": "t", "label": "x", "type": "text", "min": 3}
                ]}),
                "Json",
            ),
        ];
        for (json, want) in bad_cases {
            let err = def_error(json.clone());
            let got = format!("{err:?}");
            assert!(got.starts_with(&format!("Some({want}")), "{json}: {got}");
        }
        let nested = def_error(json!({"version": 1, "fields": [
            {"key": "members", "label": "x", "type": "group", "fields": [text("Bad")]}
        ]}));
        assert_eq!(nested.map(|e| e.to_string()).unwrap_or_default(), "members.Bad: a key must match [a-z][a-z0-9_]*");
    }

    #[test]
    fn definition_round_trips() {
        let json = json!({"version": 3, "fields": [
            {"key": "name", "label": {"vi": "Họ và tên", "en": "Full name"}, "required": true,
             "type": "text", "max_length": 100, "pattern": "[^0-9]*"},
            {"key": "kind", "label": "Loại", "type": "select", "multiple": true,
             "options": [{"value": "a", "label": "A"}]},
            {"key": "id", "label": "CCCD", "type": "citizen_id"}
        ]});
        let form = FormDef::parse(&json.to_string()).unwrap();
        let back = serde_json::to_value(&form).unwrap();
        assert_eq!(FormDef::parse(&back.to_string()).unwrap(), form);
        assert_eq!(back["fields"][0]["pattern"], json!("[^0-9]*"));
        assert_eq!(back["fields"][2], json!({"key": "id", "label": {"vi": "CCCD"}, "type": "citizen_id"}));
    }

    #[test]
    fn numbers_from_phones() {
        assert_eq!(parse_number(" 12,5 "), Some(12.5));
        assert_eq!(parse_number("12.5"), Some(12.5));
        assert_eq!(parse_number("-3"), Some(-3.0));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("1e999"), None);
        assert_eq!(parse_number("1,2,3"), None);
        assert_eq!(parse_number("12 kg"), None);
        assert_eq!(fmt_number(100.0), "100");
        assert_eq!(fmt_number(0.5), "0.5");
    }

    #[test]
    fn every_code_has_messages() {
        for code in FieldErrorCode::ALL {
            assert_eq!(FieldErrorCode::from_wire(code.as_str()), Some(code));
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
            for limit in [None, Some("7")] {
                let mut e = FieldError::new("x", code);
                e.limit = limit.map(str::to_owned);
                let vi = e.message(Lang::Vi);
                let en = e.message(Lang::En);
                assert!(vi.ends_with('.') && en.ends_with('.'), "{code:?}");
                assert_ne!(vi, en, "{code:?}");
            }
        }
        assert_eq!(FieldError::new("a", FieldErrorCode::Required).message(Lang::Vi), "Trường này là bắt buộc.");
        assert_eq!(
            FieldError::new("a", FieldErrorCode::TooLong).with_limit(100).message(Lang::Vi),
            "Tối đa 100 ký tự."
        );
        assert_eq!(
            FieldError::new("a", FieldErrorCode::DateTooEarly).with_limit("2025-01-31").message(Lang::Vi),
            "Ngày không được trước ngày 31/01/2025."
        );
        assert_eq!(
            FieldError::new("a", FieldErrorCode::InvalidCitizenId).message(Lang::Vi),
            "Số CCCD không hợp lệ: cần đủ 12 chữ số và mã tỉnh hợp lệ."
        );
        let e = FieldError::new("members[0].name", FieldErrorCode::TooShort).with_limit(2);
        let wire = serde_json::to_value(&e).unwrap();
        assert_eq!(wire, json!({"path": "members[0].name", "code": "too_short", "limit": "2"}));
        assert_eq!(serde_json::from_value::<FieldError>(wire).unwrap(), e);
    }

    #[test]
    fn drop_reason_wire_form() {
        for r in [DropReason::Removed, DropReason::Invalid(FieldErrorCode::WrongType)] {
            let v = serde_json::to_value(r).unwrap();
            assert_eq!(v, json!(r.as_str()));
            assert_eq!(serde_json::from_value::<DropReason>(v).unwrap(), r);
        }
        assert!(serde_json::from_value::<DropReason>(json!("nope")).is_err());
    }
}
