//! Builds valid values for any form of the catalogue (so the dossier tests follow the seed
//! rather than hard-coding one form), given attachment ids for the attachment slots.

use chrono::NaiveDate;
use motcua_domain::form::{FieldDef, FieldKind, FormDef};
use serde_json::{Map, Value, json};

/// A valid text for a pattern of the seed catalogue (None: no such pattern is known here).
fn text_for(pattern: Option<&str>, min: u32) -> Value {
    let text = match pattern {
        None => "Nguyễn Thị Hoa".to_owned(),
        Some("[0-9]{12}") => "001203004567".to_owned(),
        Some("[0-9]{10}") | Some("[0-9]{10}(-[0-9]{3})?") => "0101234567".to_owned(),
        Some("[0-9]{6,20}") => "12345678".to_owned(),
        Some("([01][0-9]|2[0-3]):[0-5][0-9]") => "08:30".to_owned(),
        Some("[A-Z]{2} ?[0-9]{6}") => "AB123456".to_owned(),
        Some("[0-9]{4}(, ?[0-9]{4})*") => "2020".to_owned(),
        Some("[0-9]{2}[A-Z]{1,2}-?[0-9]{3}\\.?[0-9]{2}") | Some("[0-9]{2}[A-Z]{1,2}[0-9]?-?[0-9]{3}\\.?[0-9]{2}") => {
            "29A-123.45".to_owned()
        }
        Some("[A-Z0-9]{6,12}") => "ABC12345".to_owned(),
        Some("[0-9]{1,5}") | Some("[0-9]{1,4}") => "12".to_owned(),
        Some(other) => panic!("no sample value for pattern {other}: add one to tests/api/forms.rs"),
    };
    let padded = if (text.chars().count() as u32) < min { format!("{text}{}", "a".repeat(min as usize)) } else { text };
    Value::String(padded)
}

fn value_for(field: &FieldDef, today: NaiveDate, attach: &mut dyn FnMut(&str) -> Vec<String>) -> Value {
    match &field.kind {
        FieldKind::Text { pattern, min_length, .. } => {
            text_for(pattern.as_ref().map(|p| p.source.as_str()), min_length.unwrap_or(0))
        }
        FieldKind::Number { min, max, .. } => {
            let lo = min.unwrap_or(0.0);
            let hi = max.unwrap_or(lo + 100.0);
            json!(((lo + hi) / 2.0).floor().max(lo))
        }
        FieldKind::Date { min, max } => {
            let lo = min.as_ref().and_then(|b| b.resolve(today));
            let hi = max.as_ref().and_then(|b| b.resolve(today));
            let day = match (lo, hi) {
                (Some(lo), Some(hi)) => lo + chrono::Days::new(((hi - lo).num_days() / 2).max(0) as u64),
                (Some(lo), None) => lo,
                (None, Some(hi)) => hi,
                (None, None) => today,
            };
            json!(day.format("%Y-%m-%d").to_string())
        }
        FieldKind::Select { options, multiple } => {
            let first = json!(options[0].value);
            if *multiple { json!([first]) } else { first }
        }
        FieldKind::Checkbox { .. } => json!(true),
        FieldKind::CitizenId => json!("001203004567"),
        FieldKind::Phone => json!("0912345678"),
        FieldKind::Email => json!("an.nguyen@example.vn"),
        FieldKind::Address => json!({"province": "Hà Nội", "ward": "Phường Hoàn Kiếm", "street": "1 Tràng Tiền"}),
        FieldKind::Group { fields, min_items, .. } => {
            let n = min_items.unwrap_or(1).max(1);
            json!((0..n).map(|_| Value::Object(fill(fields, today, attach))).collect::<Vec<_>>())
        }
        FieldKind::Attachment { document, .. } => json!(attach(document)),
    }
}

fn fill(fields: &[FieldDef], today: NaiveDate, attach: &mut dyn FnMut(&str) -> Vec<String>) -> Map<String, Value> {
    let mut map = Map::new();
    for field in fields {
        map.insert(field.key.clone(), value_for(field, today, attach));
    }
    map
}

/// Values for every field of `form` (conditional ones too: they hold when their select
/// or checkbox has the chosen value, and are ignored otherwise).
pub fn valid_values(form: &FormDef, today: NaiveDate, attach: &mut dyn FnMut(&str) -> Vec<String>) -> Value {
    let mut values = fill(&form.fields, today, attach);
    // A conditional field whose condition does not hold would be a stray value: drop it.
    for field in &form.fields {
        if let Some(condition) = &field.visible_when {
            let holds = match (&condition.equals, values.get(&condition.field)) {
                (Some(expected), Some(actual)) => expected == actual,
                (None, Some(actual)) => !actual.is_null() && actual != &json!(false),
                (_, None) => false,
            };
            if !holds {
                values.remove(&field.key);
            }
        }
    }
    Value::Object(values)
}
