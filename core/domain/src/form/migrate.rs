//! Migration of a draft's values to a new version of its form: what is kept, what is
//! dropped and why (nothing is lost silently).

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::def::{FieldDef, FieldKind, FormDef};
use super::errors::FieldErrorCode;
use super::validate::{Ctx, Scope, check_value, is_empty, join_path};

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
