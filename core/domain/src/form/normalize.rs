//! Normalisation of a values object: the canonical form of each value that has one (an
//! address in today's units, with its ward code), everything else untouched.

use serde_json::{Map, Value};

use super::def::{FieldDef, FieldKind, FormDef};
use crate::ids::Address;

/// Returns `values` with every valid address value (at the top level and inside group
/// items) replaced by [`Address::to_value`]: an address copied from a pre-2025 paper
/// comes back in today's province and ward, and a ward found in the list gains its
/// `ward_code`. Invalid values and values of other kinds are left as they are, so
/// [`super::validate`] reports the same errors before and after.
pub fn normalize_values(form: &FormDef, values: &Value) -> Value {
    match values.as_object() {
        Some(obj) => Value::Object(normalize_object(&form.fields, obj)),
        None => values.clone(),
    }
}

fn normalize_object(fields: &[FieldDef], obj: &Map<String, Value>) -> Map<String, Value> {
    obj.iter()
        .map(|(key, value)| {
            let kind = fields.iter().find(|f| &f.key == key).map(|f| &f.kind);
            let value = match (kind, value) {
                (Some(FieldKind::Address), v) => Address::from_value(v).map_or_else(|_| v.clone(), |a| a.to_value()),
                (Some(FieldKind::Group { fields, .. }), Value::Array(items)) => Value::Array(
                    items
                        .iter()
                        .map(|item| match item.as_object() {
                            Some(o) => Value::Object(normalize_object(fields, o)),
                            None => item.clone(),
                        })
                        .collect(),
                ),
                (_, v) => v.clone(),
            };
            (key.clone(), value)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn addresses_come_back_in_todays_units() {
        let form = FormDef::parse(
            &json!({"version": 1, "fields": [
                {"key": "name", "label": "x", "type": "text"},
                {"key": "home", "label": "x", "type": "address"},
                {"key": "members", "label": "x", "type": "group", "fields": [
                    {"key": "home", "label": "x", "type": "address"}]}
            ]})
            .to_string(),
        )
        .unwrap();
        let old = json!({"province": "ha noi", "district": "Chương Mỹ", "ward": "Xuân Mai", "street": " 2 Hòa Sơn "});
        let now = json!({"province": "Hà Nội", "ward": "Xã Xuân Mai", "ward_code": "10045", "street": "2 Hòa Sơn"});
        let bad = json!({"province": "Atlantis", "ward": "x"});
        let values = json!({"name": " An ", "home": old, "members": [{"home": bad}, {"home": old}, 3]});
        assert_eq!(
            normalize_values(&form, &values),
            json!({"name": " An ", "home": now, "members": [{"home": bad}, {"home": now}, 3]})
        );
        assert_eq!(normalize_values(&form, &json!([1])), json!([1]));
    }
}
