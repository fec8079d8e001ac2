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

/// A form definition (the form language), as the catalogue carries it.
pub struct FormDefinition;
/// One field of a form definition.
pub struct FormFieldDef;
/// A bilingual text of a form definition.
pub struct FormText;

impl PartialSchema for FormDefinition {
    fn schema() -> RefOr<Schema> {
        from_json(serde_json::json!({
            "type": "object",
            "description": "A form: its version (bumped whenever the fields change; drafts remember the version \
                they were filled on) and its fields in display order. Unknown keys are refused when a definition \
                is published. The offline client renders it (`form_view`): labels in the app's language, \
                `visible_when` evaluated, relative date bounds resolved.",
            "required": ["version", "fields"],
            "additionalProperties": false,
            "properties": {
                "version": {"type": "integer", "minimum": 0},
                "fields": {"type": "array", "items": {"anyOf": [
                    {"$ref": "#/components/schemas/FormFieldDef"},
                    {"type": "object", "required": ["shared"], "additionalProperties": false,
                     "description": "Only in a catalogue answer asked in one language (`lang`): the field \
                        at this index of the answer's `shared_fields`.",
                     "properties": {"shared": {"type": "integer", "minimum": 0}}}
                ]}}
            }
        }))
    }
}

impl ToSchema for FormDefinition {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FormDefinition")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((FormFieldDef::name().into_owned(), FormFieldDef::schema()));
        schemas.push((FormText::name().into_owned(), FormText::schema()));
    }
}

impl PartialSchema for FormText {
    fn schema() -> RefOr<Schema> {
        from_json(serde_json::json!({
            "description": "Text shown to the citizen: Vietnamese, with an optional English form \
                (a plain string is Vietnamese only; in a catalogue answer asked in one language, \
                `lang`, every text is a plain string in that language).",
            "anyOf": [
                {"type": "string"},
                {"type": "object", "required": ["vi"], "additionalProperties": false,
                 "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}}
            ]
        }))
    }
}

impl ToSchema for FormText {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FormText")
    }
}

impl PartialSchema for FormFieldDef {
    fn schema() -> RefOr<Schema> {
        let date_bound = serde_json::json!({"type": "string", "pattern": "^(today([+-][0-9]{1,6}[dmy])?|[0-9]{4}-[0-9]{2}-[0-9]{2})$",
            "description": "A fixed date `YYYY-MM-DD`, or relative to today in Vietnam: `today`, `today-18y`, `today+30d`, `today-1m`"});
        from_json(serde_json::json!({
            "type": "object",
            "description": "One field. `type` says which value it holds (see `FormValue`) and which other keys it \
                may have: `text` (`min_length`, `max_length`, `pattern` matched against the whole trimmed value, \
                `multiline`) holds a string; `number` (`min`, `max`, `integer`) a number; `date` (`min`, `max`: \
                date bounds) a `YYYY-MM-DD` string; `select` (`options`, `multiple`) an option's value, or with \
                `multiple` an array of distinct option values; `checkbox` (`must_be_true`) a boolean; \
                `citizen_id`, `phone`, `email` a string; `address` an `AddressValue`; `group` (`fields`, \
                `min_items`, `max_items`) an array of objects of values; `attachment` (`document`, `max_files`; \
                top level only) an array of attachment ids (PDF, JPEG, PNG or WebP by content, at most 10 MB each).",
            "required": ["key", "label", "type"],
            "properties": {
                "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "Key in the values object, unique among its siblings"},
                "label": {"$ref": "#/components/schemas/FormText"},
                "help": {"$ref": "#/components/schemas/FormText"},
                "required": {"type": "boolean", "description": "A value must be given (at least one file for an attachment)"},
                "visible_when": {"type": "object", "required": ["field"], "additionalProperties": false,
                    "description": "Shown (and then checked) only when the sibling (or, in a group, top-level) field \
                        `field` has a value that is not `false`, or, with `equals`, that value (or an array holding it)",
                    "properties": {"field": {"type": "string"}, "equals": {"description": "The value to compare with", "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}}},
                "type": {"type": "string", "enum": ["text", "number", "date", "select", "checkbox", "citizen_id",
                    "phone", "email", "address", "group", "attachment"]},
                "min_length": {"type": "integer", "minimum": 0},
                "max_length": {"type": "integer", "minimum": 0},
                "pattern": {"type": "string", "description": "A regular expression matched against the whole value"},
                "multiline": {"type": "boolean"},
                "min": {"description": "`number`: a number; `date`: a date bound",
                    "anyOf": [{"type": "number"}, date_bound.clone()]},
                "max": {"description": "`number`: a number; `date`: a date bound",
                    "anyOf": [{"type": "number"}, date_bound]},
                "integer": {"type": "boolean"},
                "options": {"type": "array", "items": {"type": "object", "required": ["value", "label"],
                    "properties": {"value": {"type": "string"}, "label": {"$ref": "#/components/schemas/FormText"}}}},
                "multiple": {"type": "boolean"},
                "must_be_true": {"type": "boolean"},
                "fields": {"type": "array", "items": {"$ref": "#/components/schemas/FormFieldDef"}},
                "min_items": {"type": "integer", "minimum": 0},
                "max_items": {"type": "integer", "minimum": 0},
                "document": {"type": "string", "description": "The code of one of the procedure's required documents"},
                "max_files": {"type": "integer", "minimum": 1}
            }
        }))
    }
}

impl ToSchema for FormFieldDef {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FormFieldDef")
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
            ("FormDefinition", FormDefinition::schema()),
            ("FormFieldDef", FormFieldDef::schema()),
            ("FormText", FormText::schema()),
        ] {
            let json = serde_json::to_value(&schema).unwrap_or_default();
            assert_ne!(json, serde_json::json!({"type": "object"}), "{name} fell back to the empty schema");
            assert!(json.get("description").is_some(), "{name}: {json}");
        }
        let address = serde_json::to_value(AddressValue::schema()).unwrap_or_default();
        assert_eq!(address["properties"]["ward_code"]["pattern"], "^[0-9]{5}$");
        let value = serde_json::to_value(FormValue::schema()).unwrap_or_default();
        assert_eq!(value["anyOf"].as_array().map(Vec::len), Some(7));
        let field = serde_json::to_value(FormFieldDef::schema()).unwrap_or_default();
        assert_eq!(field["properties"]["type"]["enum"].as_array().map(Vec::len), Some(11));
        assert_eq!(
            field["properties"]["min"]["anyOf"][1]["pattern"].as_str().map(|p| p.starts_with("^(today")),
            Some(true)
        );
    }
}
