//! The OpenAPI schemas of form values (server only, `openapi` feature): what a value of
//! each field kind looks like on the wire, so that a client generated from the document
//! knows the shape of an address, an attachment slot or a repeated group.
//!
//! The form definition (in the catalogue) says which key has which kind; these schemas
//! give every shape a value may take.

use std::borrow::Cow;

use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::ids::{MAX_STREET_CHARS, MAX_WARD_CHARS};

/// Builds a schema from its JSON form (the schemas below are easier to read that way).
fn from_json(json: serde_json::Value) -> RefOr<Schema> {
    // The JSON below is fixed and tested to parse; an empty object would be a valid
    // (permissive) schema if it ever did not.
    serde_json::from_value(json).unwrap_or_else(|_| RefOr::T(Schema::Object(Default::default())))
}

/// The values of a form: an object keyed by field key.
pub struct FormValues;
/// One value, by field kind.
pub struct FormValue;
/// The value of an `address` field.
pub struct AddressValue;

impl PartialSchema for FormValues {
    fn schema() -> RefOr<Schema> {
        from_json(serde_json::json!({
            "type": "object",
            "description": "Values of a form, by field key (`[a-z][a-z0-9_]*`). Each value's shape follows \
                its field's kind in the procedure's form; a field hidden by its `visible_when` is ignored.",
            "additionalProperties": {"$ref": "#/components/schemas/FormValue"}
        }))
    }
}

impl ToSchema for FormValues {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FormValues")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((FormValue::name().into_owned(), FormValue::schema()));
        schemas.push((AddressValue::name().into_owned(), AddressValue::schema()));
    }
}

impl PartialSchema for FormValue {
    fn schema() -> RefOr<Schema> {
        from_json(serde_json::json!({
            "description": "A field's value. `null`, a blank string and `[]` mean \"not given\".",
            "anyOf": [
                {"type": "string", "description": "`text`; `date` (`YYYY-MM-DD`); `select` (an option's value); \
                    `citizen_id` (12 digits, spaces ignored); `phone` (Vietnamese, `+84` allowed); `email`"},
                {"type": "number", "description": "`number` (a numeric string such as `\"12,5\"` is accepted too)"},
                {"type": "boolean", "description": "`checkbox`"},
                {"$ref": "#/components/schemas/AddressValue"},
                {"type": "array", "items": {"type": "string"},
                    "description": "`select` with `multiple` (option values); `attachment` (attachment ids, \
                    from `POST /api/v1/attachments` or a finished upload)"},
                {"type": "array", "items": {"$ref": "#/components/schemas/FormValues"},
                    "description": "`group`: one object of values per item"},
                {"type": "null"}
            ]
        }))
    }
}

impl ToSchema for FormValue {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FormValue")
    }
}

impl PartialSchema for AddressValue {
    fn schema() -> RefOr<Schema> {
        from_json(serde_json::json!({
            "type": "object",
            "description": "An address. Either typed (`province` and `ward`), or a ward chosen from the list of \
                the province's current wards (`ward_code`; the names may then be left out). An address copied \
                from a paper issued before 1 July 2025 gives its old `province`, `district` and `ward`, and \
                is converted to today's ward. Other keys are refused (`unknown_field`) in the value of a shown field.",
            "properties": {
                "province": {"type": ["string", "null"], "description": "Province or city (34 since July 2025; a pre-2025 name is accepted)"},
                "district": {"type": ["string", "null"], "maxLength": MAX_WARD_CHARS,
                    "description": "Pre-2025 district (quận, huyện, thị xã), only for an old address"},
                "ward": {"type": ["string", "null"], "maxLength": MAX_WARD_CHARS, "description": "Ward or commune (phường, xã)"},
                "ward_code": {"type": ["string", "null"], "pattern": "^[0-9]{5}$",
                    "description": "Code of a current ward, chosen from the list"},
                "street": {"type": ["string", "null"], "maxLength": MAX_STREET_CHARS, "description": "House number and street"}
            }
        }))
    }
}

impl ToSchema for AddressValue {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AddressValue")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_parses() {
        for (name, schema) in [
            ("FormValues", FormValues::schema()),
            ("FormValue", FormValue::schema()),
            ("AddressValue", AddressValue::schema()),
        ] {
            let json = serde_json::to_value(&schema).unwrap_or_default();
            assert_ne!(json, serde_json::json!({"type": "object"}), "{name} fell back to the empty schema");
            assert!(json.get("description").is_some(), "{name}: {json}");
        }
        let address = serde_json::to_value(AddressValue::schema()).unwrap_or_default();
        assert_eq!(address["properties"]["ward_code"]["pattern"], "^[0-9]{5}$");
        let value = serde_json::to_value(FormValue::schema()).unwrap_or_default();
        assert_eq!(value["anyOf"].as_array().map(Vec::len), Some(7));
    }
}
