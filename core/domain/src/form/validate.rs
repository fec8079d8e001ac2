//! Validation of a values object against a form: visibility, emptiness, then one checker
//! per field kind. Returns every error at once and never panics.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::dates::parse_iso_date;
use super::def::{Condition, DateBound, FieldDef, FieldKind, FormDef, Pattern, SelectOption};
use super::errors::{FieldError, FieldErrorCode};
use crate::ids::{Address, CitizenId, is_valid_email, normalize_phone};

/// Conditions nest at most this deep (definitions from [`FormDef::parse`] have no cycles;
/// this bounds hand-built ones).
const MAX_CONDITION_DEPTH: usize = 32;

#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    pub(super) fields: &'a [FieldDef],
    pub(super) values: &'a Map<String, Value>,
}

#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub(super) top: Scope<'a>,
    /// The group item being validated, if any.
    pub(super) item: Option<Scope<'a>>,
    pub(super) today: NaiveDate,
}

/// Whether a value counts as "not given": null, a blank string, an empty array, or an
/// object whose values are all not given (an address with blank parts).
pub(super) fn is_empty(v: &Value) -> bool {
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

/// Whether `field` is shown now under `values` (the top-level values object); `item`: the
/// group item the field belongs to, with its group's fields. The rule [`validate`] applies
/// (a field whose `visible_when` does not hold is neither required nor checked), for the
/// form view the phone renders.
pub fn is_shown(
    form: &FormDef,
    values: &Map<String, Value>,
    item: Option<(&[FieldDef], &Map<String, Value>)>,
    field: &FieldDef,
) -> bool {
    let ctx = Ctx {
        top: Scope { fields: &form.fields, values },
        item: item.map(|(fields, values)| Scope { fields, values }),
        today: NaiveDate::default(),
    };
    is_visible(field, ctx, 0)
}

pub(super) fn join_path(prefix: &str, key: &str) -> String {
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

/// Where the errors of one value go: its path and the list being filled.
struct Sink<'e> {
    path: &'e str,
    errors: &'e mut Vec<FieldError>,
}

impl Sink<'_> {
    fn push(&mut self, code: FieldErrorCode) {
        self.errors.push(FieldError::new(self.path, code));
    }

    fn push_limit(&mut self, code: FieldErrorCode, limit: impl std::fmt::Display) {
        self.errors.push(FieldError::new(self.path, code).with_limit(limit));
    }
}

/// A `u32` limit as a length, saturating (a limit above `usize::MAX` is never crossed).
fn as_len(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Checks a given (non-empty) value against a field kind: one checker per kind.
pub(super) fn check_value(kind: &FieldKind, v: &Value, path: &str, ctx: Ctx<'_>, errors: &mut Vec<FieldError>) {
    let mut out = Sink { path, errors };
    match kind {
        FieldKind::Text { min_length, max_length, pattern, .. } => {
            check_text(v, *min_length, *max_length, pattern.as_ref(), &mut out)
        }
        FieldKind::Number { min, max, integer } => check_number(v, *min, *max, *integer, &mut out),
        FieldKind::Date { min, max } => check_date(v, min.as_ref(), max.as_ref(), ctx.today, &mut out),
        FieldKind::Select { options, multiple: true } => check_multi_select(v, options, &mut out),
        FieldKind::Select { options, multiple: false } => check_select(v, options, &mut out),
        FieldKind::Checkbox { must_be_true } => check_checkbox(v, *must_be_true, &mut out),
        FieldKind::CitizenId => {
            check_string(v, FieldErrorCode::InvalidCitizenId, |s| CitizenId::parse(s).is_ok(), &mut out)
        }
        FieldKind::Phone => check_string(v, FieldErrorCode::InvalidPhone, |s| normalize_phone(s).is_some(), &mut out),
        FieldKind::Email => check_string(v, FieldErrorCode::InvalidEmail, |s| is_valid_email(s.trim()), &mut out),
        FieldKind::Address => check_address(v, &mut out),
        FieldKind::Group { fields, min_items, max_items } => {
            check_group(v, fields, *min_items, *max_items, ctx, &mut out)
        }
        FieldKind::Attachment { max_files, .. } => check_attachment(v, *max_files, &mut out),
    }
}

/// A string; its length (Unicode scalar values, after trimming) within bounds; the
/// whole trimmed value matching the pattern.
fn check_text(v: &Value, min_length: Option<u32>, max_length: Option<u32>, pattern: Option<&Pattern>, out: &mut Sink) {
    let Some(s) = v.as_str() else {
        return out.push(FieldErrorCode::WrongType);
    };
    let t = s.trim();
    let n = t.chars().count();
    if let Some(min) = min_length
        && n < as_len(min)
    {
        out.push_limit(FieldErrorCode::TooShort, min);
    }
    if let Some(max) = max_length
        && n > as_len(max)
    {
        out.push_limit(FieldErrorCode::TooLong, max);
    }
    if let Some(p) = pattern
        && !p.is_match(t)
    {
        out.push(FieldErrorCode::PatternMismatch);
    }
}

/// A JSON number or a numeric string, finite, whole when `integer`, within bounds.
fn check_number(v: &Value, min: Option<f64>, max: Option<f64>, integer: bool, out: &mut Sink) {
    if !matches!(v, Value::Number(_) | Value::String(_)) {
        return out.push(FieldErrorCode::WrongType);
    }
    let Some(x) = number_of(v) else {
        return out.push(FieldErrorCode::NotANumber);
    };
    if integer && x.fract() != 0.0 {
        out.push(FieldErrorCode::NotAnInteger);
    }
    if let Some(min) = min
        && x < min
    {
        out.push_limit(FieldErrorCode::TooSmall, fmt_number(min));
    }
    if let Some(max) = max
        && x > max
    {
        out.push_limit(FieldErrorCode::TooLarge, fmt_number(max));
    }
}

/// A strict `YYYY-MM-DD` string within the bounds resolved on `today`.
fn check_date(v: &Value, min: Option<&DateBound>, max: Option<&DateBound>, today: NaiveDate, out: &mut Sink) {
    let Some(s) = v.as_str() else {
        return out.push(FieldErrorCode::WrongType);
    };
    let Some(d) = parse_iso_date(s) else {
        return out.push(FieldErrorCode::InvalidDate);
    };
    if let Some(lo) = min.and_then(|b| b.resolve(today))
        && d < lo
    {
        out.push_limit(FieldErrorCode::DateTooEarly, lo);
    }
    if let Some(hi) = max.and_then(|b| b.resolve(today))
        && d > hi
    {
        out.push_limit(FieldErrorCode::DateTooLate, hi);
    }
}

/// One option's value, as a string.
fn check_select(v: &Value, options: &[SelectOption], out: &mut Sink) {
    match v.as_str() {
        None => out.push(FieldErrorCode::WrongType),
        Some(s) if !options.iter().any(|o| o.value == s) => out.push(FieldErrorCode::InvalidOption),
        Some(_) => {}
    }
}

/// An array of distinct option values; at most one `wrong_type` and one `invalid_option`.
fn check_multi_select(v: &Value, options: &[SelectOption], out: &mut Sink) {
    let Some(items) = v.as_array() else {
        return out.push(FieldErrorCode::WrongType);
    };
    let known = |s: &str| options.iter().any(|o| o.value == s);
    let mut seen = HashSet::new();
    let (mut wrong_type, mut invalid) = (false, false);
    for item in items {
        match item.as_str() {
            None => wrong_type = true,
            Some(s) => invalid |= !known(s) || !seen.insert(s),
        }
    }
    if wrong_type {
        out.push(FieldErrorCode::WrongType);
    }
    if invalid {
        out.push(FieldErrorCode::InvalidOption);
    }
}

/// A boolean, `true` when the box must be ticked.
fn check_checkbox(v: &Value, must_be_true: bool, out: &mut Sink) {
    match v.as_bool() {
        None => out.push(FieldErrorCode::WrongType),
        Some(false) if must_be_true => out.push(FieldErrorCode::MustBeChecked),
        Some(_) => {}
    }
}

/// A string that `is_valid` accepts (citizen ID, phone, e-mail), else `invalid`.
fn check_string(v: &Value, invalid: FieldErrorCode, is_valid: impl Fn(&str) -> bool, out: &mut Sink) {
    match v.as_str() {
        None => out.push(FieldErrorCode::WrongType),
        Some(s) if !is_valid(s) => out.push(invalid),
        Some(_) => {}
    }
}

/// An address object; each problem is reported at its part (`address.ward`).
fn check_address(v: &Value, out: &mut Sink) {
    let Err(issues) = Address::from_value(v) else {
        return;
    };
    for issue in issues {
        let p = if issue.part.is_empty() { out.path.to_owned() } else { join_path(out.path, &issue.part) };
        let mut e = FieldError::new(p, issue.code);
        if let Some(limit) = issue.limit {
            e = e.with_limit(limit);
        }
        out.errors.push(e);
    }
}

/// An array of objects within the item bounds, each validated against the group's fields
/// (conditions see the same item first, then the top level).
fn check_group(
    v: &Value,
    fields: &[FieldDef],
    min_items: Option<u32>,
    max_items: Option<u32>,
    ctx: Ctx<'_>,
    out: &mut Sink,
) {
    let Some(items) = v.as_array() else {
        return out.push(FieldErrorCode::WrongType);
    };
    if let Some(min) = min_items
        && items.len() < as_len(min)
    {
        out.push_limit(FieldErrorCode::TooFewItems, min);
    }
    if let Some(max) = max_items
        && items.len() > as_len(max)
    {
        out.push_limit(FieldErrorCode::TooManyItems, max);
    }
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{}[{i}]", out.path);
        let Some(obj) = item.as_object() else {
            out.errors.push(FieldError::new(item_path, FieldErrorCode::WrongType));
            continue;
        };
        let item_ctx = Ctx { item: Some(Scope { fields, values: obj }), ..ctx };
        check_object(fields, obj, &item_path, item_ctx, out.errors);
    }
}

/// An array of non-blank attachment ids, at most `max_files` of them.
fn check_attachment(v: &Value, max_files: Option<u32>, out: &mut Sink) {
    let Some(items) = v.as_array() else {
        return out.push(FieldErrorCode::WrongType);
    };
    if items.iter().any(|i| i.as_str().is_none_or(|s| s.trim().is_empty())) {
        out.push(FieldErrorCode::WrongType);
    }
    if let Some(max) = max_files
        && items.len() > as_len(max)
    {
        out.push_limit(FieldErrorCode::TooManyFiles, max);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
}
