//! The console's walk-in intake form as a browser fills it: the input names and values
//! for a dossier's values (shared by the API tests and the browser journey).

use motcua_domain::form::{FieldDef, FieldKind};
use serde_json::Value;

/// The intake form's fields for `values` as a browser sends them (`v.key`, `v.key.street`,
/// `v.key.0.sub`; unticked boxes are not sent), and the attachment fields' keys.
pub fn intake_fields(
    fields: &[FieldDef],
    values: &Value,
    prefix: &str,
    out: &mut Vec<(String, String)>,
) -> Vec<String> {
    let mut papers = Vec::new();
    for field in fields {
        let name = format!("{prefix}{}", field.key);
        let Some(value) = values.get(&field.key) else { continue };
        match (&field.kind, value) {
            (FieldKind::Attachment { .. }, _) => papers.push(field.key.clone()),
            (FieldKind::Group { fields, .. }, Value::Array(rows)) => {
                for (i, row) in rows.iter().enumerate() {
                    intake_fields(fields, row, &format!("{name}.{i}."), out);
                }
            }
            (FieldKind::Address, Value::Object(parts)) => {
                for (k, v) in parts {
                    out.push((format!("{name}.{k}"), v.as_str().unwrap_or_default().to_owned()));
                }
            }
            (_, Value::Array(items)) => {
                out.extend(items.iter().map(|v| (name.clone(), v.as_str().unwrap_or_default().to_owned())));
            }
            (_, Value::Bool(true)) => out.push((name, "true".to_owned())),
            (_, Value::Bool(false)) => {}
            (_, Value::String(s)) => out.push((name, s.clone())),
            (_, other) => out.push((name, other.to_string())),
        }
    }
    papers
}
