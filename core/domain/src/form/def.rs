//! What a form is: fields, their kinds and constraints, conditions, patterns.
//!
//! A [`FormDef`] is data (it travels in the catalogue); [`FormDef::parse`] reads one and
//! runs the structural checks of [`FormDef::check`] (in `check.rs`).

use serde::{Deserialize, Serialize};

use super::check::FormDefError;
pub use super::dates::DateBound;
use crate::i18n::Text;

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

impl FormDef {
    /// Parses a JSON form definition and runs [`FormDef::check`] on it.
    pub fn parse(json: &str) -> Result<FormDef, FormDefError> {
        let form: FormDef = serde_json::from_str(json)?;
        form.check()?;
        Ok(form)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert_eq!(back["fields"][2], json!({"key": "id", "label": "CCCD", "type": "citizen_id"}));
    }
}
