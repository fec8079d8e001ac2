//! The definition checker: structural rules a form definition must keep before it is
//! published (keys, conditions without cycles, options, bounds, groups, attachments).

use std::collections::HashSet;

use chrono::NaiveDate;

use super::dates::Bound;
use super::def::{DateBound, FieldDef, FieldKind, FormDef};

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
    /// Structural checks: keys well formed and unique among siblings; conditions name an
    /// existing sibling (or top-level) field, other than the field itself, without cycles;
    /// selects have options with unique values; every minimum is at most its maximum;
    /// date bounds parse; groups have fields; attachments are top-level with a document.
    pub fn check(&self) -> Result<(), FormDefError> {
        check_fields(&self.fields, "", &self.fields, false)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
