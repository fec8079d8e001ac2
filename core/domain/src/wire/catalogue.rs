//! The language-specific catalogue answer: each procedure's texts in one language
//! ([`Procedure::in_language`]) and the form fields that many procedures share sent once
//! ([`pack`] on the server, [`unpack`] on the phone).
//!
//! The bilingual answer carries every text twice and repeats the same fields (the
//! applicant's name, citizen id, phone, how the result is received, the declaration) in
//! nearly every form; for a city's 2,000 procedures the first sync of the phone shrinks
//! by a third without them.

use serde_json::{Map, Value};

use super::{CatalogueChanges, Procedure, RequiredDocument};
use crate::form::{FieldDef, FieldKind};
use crate::i18n::{Lang, Text};

/// One text in `lang` (English falling back to Vietnamese), as a text of one form.
fn one(text: &Text, lang: Lang) -> Text {
    Text::vi(text.get(lang))
}

/// `vi` or its translation `en` in `lang`.
fn pick(vi: &str, en: Option<&String>, lang: Lang) -> String {
    match (lang, en) {
        (Lang::En, Some(en)) if !en.is_empty() => en.clone(),
        _ => vi.to_owned(),
    }
}

fn field_in(f: &FieldDef, lang: Lang) -> FieldDef {
    let kind = match &f.kind {
        FieldKind::Select { options, multiple } => FieldKind::Select {
            options: options
                .iter()
                .map(|o| crate::form::SelectOption { value: o.value.clone(), label: one(&o.label, lang) })
                .collect(),
            multiple: *multiple,
        },
        FieldKind::Group { fields, min_items, max_items } => FieldKind::Group {
            fields: fields.iter().map(|f| field_in(f, lang)).collect(),
            min_items: *min_items,
            max_items: *max_items,
        },
        other => other.clone(),
    };
    FieldDef {
        key: f.key.clone(),
        label: one(&f.label, lang),
        help: f.help.as_ref().map(|h| one(h, lang)),
        required: f.required,
        visible_when: f.visible_when.clone(),
        kind,
    }
}

impl Procedure {
    /// This procedure with each text once, in `lang` (English falling back to Vietnamese
    /// where a text has none): the form's labels, help and option labels become texts of
    /// one form, the agency and required documents take the translation and lose their
    /// `*_en` companions. `name` stays Vietnamese (search folds it, in either language)
    /// and `name_en` is kept in English only. Rules (keys, kinds, bounds, conditions,
    /// versions) are untouched, so a draft validates the same.
    pub fn in_language(&self, lang: Lang) -> Procedure {
        let mut p = self.clone();
        if lang == Lang::Vi {
            p.name_en = String::new();
        }
        p.agency = pick(&self.agency, self.agency_en.as_ref(), lang);
        p.agency_en = None;
        p.required_documents = self
            .required_documents
            .iter()
            .map(|d| RequiredDocument {
                name: pick(&d.name, d.name_en.as_ref(), lang),
                name_en: None,
                only_when: d.only_when.as_ref().map(|w| pick(w, d.only_when_en.as_ref(), lang)),
                only_when_en: None,
                ..d.clone()
            })
            .collect();
        p.form.fields = self.form.fields.iter().map(|f| field_in(f, lang)).collect();
        p
    }
}

/// The top-level fields of a procedure's form, in JSON.
fn form_fields(p: &mut Value) -> Option<&mut Vec<Value>> {
    p.get_mut("form").and_then(|f| f.get_mut("fields")).and_then(Value::as_array_mut)
}

/// The key of a reference to a shared field, in a form's `fields`: `{"shared": 3}`.
pub const SHARED_REF: &str = "shared";

/// The answer as JSON with every top-level form field that occurs in more than one
/// procedure of it written once, in `shared_fields`, and referred to as `{"shared": i}`
/// where it occurs (in order of first occurrence, so the answer is deterministic).
pub fn pack(changes: &CatalogueChanges) -> serde_json::Result<Value> {
    let mut answer = serde_json::to_value(changes)?;
    let Some(procedures) = answer.get_mut("procedures").and_then(Value::as_array_mut) else {
        return Ok(answer);
    };
    let mut counts: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for p in procedures.iter_mut() {
        for f in form_fields(p).into_iter().flatten() {
            *counts.entry(f.to_string()).or_default() += 1;
        }
    }
    let mut ids: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut shared = Vec::new();
    for p in procedures.iter_mut() {
        for f in form_fields(p).into_iter().flatten() {
            let text = f.to_string();
            if counts.get(&text).copied().unwrap_or(0) < 2 {
                continue;
            }
            let id = *ids.entry(text).or_insert_with(|| {
                shared.push(f.clone());
                shared.len() - 1
            });
            *f = Value::Object(Map::from_iter([(SHARED_REF.to_owned(), Value::from(id))]));
        }
    }
    if let Value::Object(map) = &mut answer {
        map.insert("shared_fields".to_owned(), Value::Array(shared));
    }
    Ok(answer)
}

/// Reads an answer, bilingual or packed by [`pack`]: each `{"shared": i}` is replaced by
/// the `i`-th of `shared_fields`. A reference to a missing entry is an error.
pub fn unpack(body: &[u8]) -> Result<CatalogueChanges, String> {
    let mut answer: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let shared = match answer.as_object_mut().and_then(|m| m.remove("shared_fields")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(shared)) => shared,
        Some(_) => return Err("shared_fields is not an array".into()),
    };
    if !shared.is_empty() {
        let procedures = answer.get_mut("procedures").and_then(Value::as_array_mut);
        for p in procedures.into_iter().flatten() {
            for f in form_fields(p).into_iter().flatten() {
                let id = match f.as_object() {
                    Some(map) if map.len() == 1 => map.get(SHARED_REF).and_then(Value::as_u64),
                    _ => None,
                };
                if let Some(id) = id {
                    let entry = usize::try_from(id).ok().and_then(|i| shared.get(i));
                    *f = entry.cloned().ok_or_else(|| format!("no shared field {id}"))?;
                }
            }
        }
    }
    serde_json::from_value(answer).map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn procedure(code: &str, extra_label: &str) -> Procedure {
        serde_json::from_value(json!({
            "code": code, "name": "Đăng ký khai sinh", "name_en": "Birth registration", "field": "ho_tich",
            "agency": "UBND cấp xã", "agency_en": "Commune People's Committee", "processing_days": 1,
            "fee_vnd": 0, "online_level": "full", "boundary_free": true,
            "required_documents": [
                {"code": "to_khai", "name": "Tờ khai", "name_en": "Declaration", "original": true, "count": 1,
                 "only_when": "Khi ủy quyền", "only_when_en": "When authorised"},
                {"code": "cccd", "name": "Căn cước", "original": false, "count": 1}],
            "form": {"version": 2, "fields": [
                {"key": "ho_ten", "label": {"vi": "Họ tên", "en": "Full name"}, "required": true, "type": "text",
                 "max_length": 100},
                {"key": "gioi_tinh", "label": "Giới tính", "help": {"vi": "Chọn một", "en": "Pick one"},
                 "type": "select", "options": [{"value": "nam", "label": {"vi": "Nam", "en": "Male"}},
                                               {"value": "nu", "label": "Nữ"}]},
                {"key": "con", "label": {"vi": "Con", "en": "Children"}, "type": "group", "fields": [
                    {"key": "ten", "label": {"vi": "Tên", "en": "Name"}, "type": "text"}]},
                {"key": "rieng", "label": extra_label, "type": "text"}
            ]},
            "version": 3
        }))
        .unwrap()
    }

    #[test]
    fn one_language_keeps_the_rules_and_the_names() {
        let p = procedure("1.1", "Riêng");
        let en = p.in_language(Lang::En);
        let v = serde_json::to_value(&en).unwrap();
        assert_eq!(v["agency"], "Commune People's Committee");
        assert!(v.get("agency_en").is_none());
        assert_eq!(v["required_documents"][0]["name"], "Declaration");
        assert_eq!(v["required_documents"][0]["only_when"], "When authorised");
        assert!(v["required_documents"][0].get("name_en").is_none());
        assert!(v["required_documents"][0].get("only_when_en").is_none());
        assert_eq!(v["required_documents"][1]["name"], "Căn cước", "no English: Vietnamese");
        assert_eq!(v["form"]["fields"][0]["label"], "Full name");
        assert_eq!(v["form"]["fields"][1]["label"], "Giới tính");
        assert_eq!(v["form"]["fields"][1]["help"], "Pick one");
        assert_eq!(
            v["form"]["fields"][1]["options"],
            json!([{"value": "nam", "label": "Male"}, {"value": "nu", "label": "Nữ"}])
        );
        assert_eq!(v["form"]["fields"][2]["fields"][0]["label"], "Name");
        assert_eq!(
            (v["name"].as_str(), v["name_en"].as_str()),
            (Some("Đăng ký khai sinh"), Some("Birth registration"))
        );
        assert!(!v.to_string().contains("\"en\""), "no bilingual text left: {v}");
        let vi = serde_json::to_value(p.in_language(Lang::Vi)).unwrap();
        assert_eq!(vi["form"]["fields"][0]["label"], "Họ tên");
        assert_eq!((vi["name"].as_str(), vi.get("name_en")), (Some("Đăng ký khai sinh"), None));
        assert_eq!(vi["required_documents"][0]["name"], "Tờ khai");
        assert!(!vi.to_string().contains("Full name") && !vi.to_string().contains("Declaration"));
        // The same rules: same keys, kinds, bounds, versions; the same values validate.
        assert_eq!((en.form.version, en.version, en.code.as_str()), (2, 3, "1.1"));
        let keys = |p: &Procedure| p.form.fields.iter().map(|f| (f.key.clone(), f.required)).collect::<Vec<_>>();
        assert_eq!(keys(&en), keys(&p));
        assert!(matches!(en.form.fields[0].kind, FieldKind::Text { max_length: Some(100), .. }));
    }

    #[test]
    fn pack_shares_repeated_fields_and_unpack_restores_them() {
        let changes = CatalogueChanges {
            version: 3,
            since: 0,
            lang: Some(Lang::Vi),
            fields: Vec::new(),
            procedures: vec![
                procedure("1.1", "Một").in_language(Lang::Vi),
                procedure("1.2", "Hai").in_language(Lang::Vi),
            ],
            retired: vec!["9.9".into()],
            shared_fields: Vec::new(),
        };
        let packed = pack(&changes).unwrap();
        // Three fields occur in both procedures; the fourth differs.
        assert_eq!(packed["shared_fields"].as_array().unwrap().len(), 3);
        assert_eq!(packed["procedures"][1]["form"]["fields"][0], json!({"shared": 0}));
        assert_eq!(packed["procedures"][1]["form"]["fields"][3]["label"], "Hai");
        let body = packed.to_string();
        assert!(body.len() < serde_json::to_string(&changes).unwrap().len());
        assert_eq!(unpack(body.as_bytes()).unwrap(), changes);
        // A bilingual answer (no shared fields) reads as before.
        let plain = serde_json::to_vec(&changes).unwrap();
        assert_eq!(unpack(&plain).unwrap(), changes);
        // A reference to nothing is an error, not a panic.
        let mut bad = packed.clone();
        bad["procedures"][0]["form"]["fields"][0] = json!({"shared": 7});
        assert!(unpack(bad.to_string().as_bytes()).unwrap_err().contains("no shared field 7"));
        let mut bad = packed;
        bad["shared_fields"] = json!("x");
        assert!(unpack(bad.to_string().as_bytes()).is_err());
    }
}
