//! Forms rendered by the core: typed values ([`FieldValue`]) to and from the JSON the
//! form language stores, and the render-ready [`FormView`] of a draft (labels in the
//! app's language, visibility evaluated, date bounds resolved, options, values, issues).
//! The rules themselves (visibility, validation) are `motcua_domain::form`'s.

use std::collections::HashMap;

use motcua_domain::files::{ACCEPTED_TYPES, MAX_ATTACHMENT_BYTES};
use motcua_domain::form::{FieldDef, FieldErrorCode, FieldKind, FormDef, is_shown};
use motcua_domain::i18n::Lang;
use serde_json::{Map, Value};

use crate::drafts::today;
use crate::error::FieldIssue;
use crate::model::{DraftFile, FieldValue, FormField, FormFieldKind, FormGroupItem, FormOption};

/// Largest integer an `f64` holds exactly (2^53).
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// A refusal of a value at `path`, with the shared message of `code`.
fn issue(path: &str, code: FieldErrorCode, lang: Lang) -> FieldIssue {
    FieldIssue::from_domain(&motcua_domain::form::FieldError::new(path, code), lang)
}

/// The refusal of `set_field` on an attachment field: files go through `attach_file`.
pub(crate) fn attachment_refusal(path: &str, lang: Lang) -> FieldIssue {
    let message = match lang {
        Lang::Vi => "Trường này nhận tệp đính kèm: hãy dùng chức năng đính kèm tệp.",
        Lang::En => "This field takes files: attach them instead.",
    };
    FieldIssue {
        path: path.to_owned(),
        code: FieldErrorCode::WrongType.as_str().to_owned(),
        message: message.to_owned(),
    }
}

fn number_json(x: f64) -> Option<Value> {
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() <= EXACT_INT {
        // Exact: |x| ≤ 2^53 and whole.
        #[allow(clippy::cast_possible_truncation)]
        return Some(Value::from(x as i64));
    }
    serde_json::Number::from_f64(x).map(Value::Number)
}

/// The JSON a typed value stands for under `field`, or the issue (on `path`) when the
/// value does not fit the field's kind.
pub(crate) fn to_json(field: &FieldDef, value: &FieldValue, path: &str, lang: Lang) -> Result<Value, FieldIssue> {
    let wrong = || issue(path, FieldErrorCode::WrongType, lang);
    Ok(match (&field.kind, value) {
        (FieldKind::Attachment { .. }, _) => return Err(attachment_refusal(path, lang)),
        (
            FieldKind::Text { .. } | FieldKind::CitizenId | FieldKind::Phone | FieldKind::Email,
            FieldValue::Text { value },
        ) => Value::String(value.clone()),
        (FieldKind::Number { .. }, FieldValue::Number { value }) => {
            number_json(*value).ok_or_else(|| issue(path, FieldErrorCode::NotANumber, lang))?
        }
        (FieldKind::Date { .. }, FieldValue::Date { value }) => Value::String(value.clone()),
        (FieldKind::Select { multiple: false, .. }, FieldValue::Choice { value }) => Value::String(value.clone()),
        (FieldKind::Select { multiple: true, .. }, FieldValue::Choices { values }) => {
            Value::Array(values.iter().cloned().map(Value::String).collect())
        }
        (FieldKind::Checkbox { .. }, FieldValue::Bool { value }) => Value::Bool(*value),
        (FieldKind::Address, FieldValue::Address { province, ward, ward_code, district, street }) => {
            let mut o = Map::new();
            o.insert("province".into(), Value::String(province.clone()));
            o.insert("ward".into(), Value::String(ward.clone()));
            for (k, v) in [("ward_code", ward_code), ("district", district), ("street", street)] {
                if let Some(v) = v {
                    o.insert(k.into(), Value::String(v.clone()));
                }
            }
            Value::Object(o)
        }
        (FieldKind::Group { fields, .. }, FieldValue::Group { items }) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let mut o = Map::new();
                // Sorted keys: the same item always makes the same JSON.
                let mut keys: Vec<&String> = item.keys().collect();
                keys.sort();
                for key in keys {
                    let item_path = format!("{path}[{i}].{key}");
                    let Some(def) = fields.iter().find(|f| &f.key == key) else {
                        return Err(issue(&item_path, FieldErrorCode::UnknownField, lang));
                    };
                    o.insert(key.clone(), to_json(def, &item[key], &item_path, lang)?);
                }
                out.push(Value::Object(o));
            }
            Value::Array(out)
        }
        _ => return Err(wrong()),
    })
}

/// A number typed on a phone and stored as text (`"12,5"`).
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', ".").parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|s| s.as_str().map(str::to_owned)).collect()
}

/// The typed value of a stored JSON value under `field`; `None` when absent or of another
/// shape (the issues then say `wrong_type`).
pub(crate) fn from_json(field: &FieldDef, v: &Value) -> Option<FieldValue> {
    if v.is_null() {
        return None;
    }
    let text = || v.as_str().map(str::to_owned);
    match &field.kind {
        FieldKind::Text { .. } | FieldKind::CitizenId | FieldKind::Phone | FieldKind::Email => {
            text().map(|value| FieldValue::Text { value })
        }
        FieldKind::Number { .. } => number_of(v).map(|value| FieldValue::Number { value }),
        FieldKind::Date { .. } => text().map(|value| FieldValue::Date { value }),
        FieldKind::Select { multiple: false, .. } => text().map(|value| FieldValue::Choice { value }),
        FieldKind::Select { multiple: true, .. } => strings(v).map(|values| FieldValue::Choices { values }),
        FieldKind::Checkbox { .. } => v.as_bool().map(|value| FieldValue::Bool { value }),
        FieldKind::Address => {
            let o = v.as_object()?;
            let part = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
            Some(FieldValue::Address {
                province: part("province").unwrap_or_default(),
                ward: part("ward").unwrap_or_default(),
                ward_code: part("ward_code"),
                district: part("district"),
                street: part("street"),
            })
        }
        FieldKind::Group { fields, .. } => {
            let items = v.as_array()?;
            let items = items
                .iter()
                .map(|item| {
                    let o = item.as_object();
                    fields
                        .iter()
                        .filter_map(|f| {
                            let value = o.and_then(|o| o.get(&f.key)).and_then(|v| from_json(f, v))?;
                            Some((f.key.clone(), value))
                        })
                        .collect::<HashMap<_, _>>()
                })
                .collect();
            Some(FieldValue::Group { items })
        }
        FieldKind::Attachment { .. } => strings(v).map(|file_ids| FieldValue::Files { file_ids }),
    }
}

/// What the view of one form needs besides the form: the values, issues, files, language.
pub(crate) struct ViewInput<'a> {
    pub form: &'a FormDef,
    pub values: &'a Map<String, Value>,
    pub issues: &'a [FieldIssue],
    pub files: &'a [DraftFile],
    pub lang: Lang,
}

/// The issues of the field at `path`: its own, and those of its parts (`path.ward`).
fn issues_at(all: &[FieldIssue], path: &str) -> Vec<FieldIssue> {
    let part = format!("{path}.");
    all.iter().filter(|i| i.path == path || i.path.starts_with(&part)).cloned().collect()
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

/// The fields of `defs` (the top level, or one group item at `prefix` with its values).
fn fields(input: &ViewInput<'_>, defs: &[FieldDef], item: Option<&Map<String, Value>>, prefix: &str) -> Vec<FormField> {
    let own = item.unwrap_or(input.values);
    defs.iter()
        .map(|def| {
            let path = join(prefix, &def.key);
            let visible = is_shown(input.form, input.values, item.map(|o| (defs, o)), def);
            let value = own.get(&def.key);
            FormField {
                key: def.key.clone(),
                path: path.clone(),
                label: def.label.get(input.lang).to_owned(),
                help: def.help.as_ref().map(|h| h.get(input.lang).to_owned()),
                required: def.required,
                visible,
                kind: kind(input, def, value, &path),
                value: value.and_then(|v| from_json(def, v)),
                issues: issues_at(input.issues, &path),
            }
        })
        .collect()
}

fn kind(input: &ViewInput<'_>, def: &FieldDef, value: Option<&Value>, path: &str) -> FormFieldKind {
    let lang = input.lang;
    match &def.kind {
        FieldKind::Text { min_length, max_length, pattern, multiline } => FormFieldKind::Text {
            multiline: *multiline,
            min_length: *min_length,
            max_length: *max_length,
            pattern: pattern.as_ref().map(|p| p.source.clone()),
        },
        FieldKind::CitizenId => FormFieldKind::CitizenId,
        FieldKind::Phone => FormFieldKind::Phone,
        FieldKind::Email => FormFieldKind::Email,
        FieldKind::Number { min, max, integer } => FormFieldKind::Number { min: *min, max: *max, integer: *integer },
        FieldKind::Date { min, max } => {
            let resolve = |b: &Option<motcua_domain::form::DateBound>| {
                b.as_ref().and_then(|b| b.resolve(today())).map(|d| d.format("%Y-%m-%d").to_string())
            };
            FormFieldKind::Date { min: resolve(min), max: resolve(max) }
        }
        FieldKind::Select { options, multiple } => FormFieldKind::Select {
            options: options
                .iter()
                .map(|o| FormOption { value: o.value.clone(), label: o.label.get(lang).to_owned() })
                .collect(),
            multiple: *multiple,
        },
        FieldKind::Checkbox { must_be_true } => FormFieldKind::Checkbox { must_be_true: *must_be_true },
        FieldKind::Address => FormFieldKind::Address { provinces: provinces() },
        FieldKind::Group { fields: defs, min_items, max_items } => {
            let empty = Map::new();
            let template = fields(input, defs, Some(&empty), &format!("{path}[]"));
            let items = value
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| FormGroupItem {
                            index: u32::try_from(i).unwrap_or(u32::MAX),
                            fields: fields(
                                input,
                                defs,
                                Some(item.as_object().unwrap_or(&empty)),
                                &format!("{path}[{i}]"),
                            ),
                        })
                        .collect()
                })
                .unwrap_or_default();
            FormFieldKind::Group { min_items: *min_items, max_items: *max_items, template, items }
        }
        FieldKind::Attachment { document, max_files } => FormFieldKind::Attachment {
            document: document.clone(),
            max_files: *max_files,
            max_bytes: MAX_ATTACHMENT_BYTES,
            accepted_types: ACCEPTED_TYPES.iter().map(|t| (*t).to_owned()).collect(),
            files: input.files.iter().filter(|f| f.field_key == def.key).cloned().collect(),
        },
    }
}

/// The render-ready fields of a form under its values.
pub(crate) fn view_fields(input: &ViewInput<'_>) -> Vec<FormField> {
    fields(input, &input.form.fields, None, "")
}

/// The current provinces (since 1 July 2025), in the official order.
pub(crate) fn provinces() -> Vec<String> {
    motcua_domain::ids::PROVINCES.iter().map(|p| (*p).to_owned()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> FormDef {
        FormDef::parse(
            &json!({"version": 1, "fields": [
                {"key": "ten", "label": {"vi": "Tên", "en": "Name"}, "type": "text", "required": true},
                {"key": "so", "label": "Số", "type": "number", "integer": true},
                {"key": "ngay", "label": "Ngày", "type": "date", "min": "today-100y", "max": "today"},
                {"key": "loai", "label": "Loại", "type": "select", "options": [{"value": "a", "label": "A"}, {"value": "khac", "label": "Khác"}]},
                {"key": "loai_khac", "label": "Loại khác", "type": "text", "visible_when": {"field": "loai", "equals": "khac"}},
                {"key": "nhieu", "label": "Nhiều", "type": "select", "multiple": true, "options": [{"value": "x", "label": "X"}]},
                {"key": "dong_y", "label": "Đồng ý", "type": "checkbox", "must_be_true": true},
                {"key": "dia_chi", "label": "Địa chỉ", "type": "address"},
                {"key": "con", "label": "Con", "type": "group", "max_items": 3, "fields": [
                    {"key": "ten", "label": "Tên con", "type": "text", "required": true},
                    {"key": "nam", "label": "Năm sinh", "type": "number"}
                ]},
                {"key": "tep", "label": "Tệp", "type": "attachment", "document": "don", "max_files": 2}
            ]})
            .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn every_kind_round_trips_through_json() {
        let form = form();
        let cases = [
            ("ten", FieldValue::Text { value: "Nguyễn Văn An".into() }, json!("Nguyễn Văn An")),
            ("so", FieldValue::Number { value: 3.0 }, json!(3)),
            ("so", FieldValue::Number { value: 2.5 }, json!(2.5)),
            ("ngay", FieldValue::Date { value: "2001-02-03".into() }, json!("2001-02-03")),
            ("loai", FieldValue::Choice { value: "a".into() }, json!("a")),
            ("nhieu", FieldValue::Choices { values: vec!["x".into()] }, json!(["x"])),
            ("dong_y", FieldValue::Bool { value: true }, json!(true)),
            (
                "dia_chi",
                FieldValue::Address {
                    province: "Hà Nội".into(),
                    ward: "Phường Hoàn Kiếm".into(),
                    ward_code: Some("00070".into()),
                    district: None,
                    street: Some("12 Hàng Bài".into()),
                },
                json!({"province": "Hà Nội", "ward": "Phường Hoàn Kiếm", "ward_code": "00070", "street": "12 Hàng Bài"}),
            ),
            (
                "con",
                FieldValue::Group {
                    items: vec![HashMap::from([
                        ("ten".to_owned(), FieldValue::Text { value: "Bé".into() }),
                        ("nam".to_owned(), FieldValue::Number { value: 2020.0 }),
                    ])],
                },
                json!([{"nam": 2020, "ten": "Bé"}]),
            ),
        ];
        for (key, value, expected) in cases {
            let def = form.field(key).unwrap();
            let json = to_json(def, &value, key, Lang::Vi).unwrap();
            assert_eq!(json, expected, "{key}");
            assert_eq!(from_json(def, &json), Some(value), "{key}");
        }
    }

    #[test]
    fn values_of_another_kind_are_refused_at_their_path() {
        let form = form();
        let ten = form.field("ten").unwrap();
        let wrong = to_json(ten, &FieldValue::Bool { value: true }, "ten", Lang::Vi).unwrap_err();
        assert_eq!((wrong.path.as_str(), wrong.code.as_str()), ("ten", "wrong_type"));
        let loai = form.field("loai").unwrap();
        let many = to_json(loai, &FieldValue::Choices { values: vec!["a".into()] }, "loai", Lang::Vi).unwrap_err();
        assert_eq!(many.code, "wrong_type");
        let so = form.field("so").unwrap();
        let nan = to_json(so, &FieldValue::Number { value: f64::NAN }, "so", Lang::En).unwrap_err();
        assert_eq!(nan.code, "not_a_number");
        let tep = form.field("tep").unwrap();
        let files = to_json(tep, &FieldValue::Files { file_ids: vec!["made-up".into()] }, "tep", Lang::En).unwrap_err();
        assert_eq!((files.path.as_str(), files.code.as_str()), ("tep", "wrong_type"));
        assert!(files.message.contains("attach"), "{}", files.message);
        let con = form.field("con").unwrap();
        let item = HashMap::from([("tuoi".to_owned(), FieldValue::Number { value: 1.0 })]);
        let unknown = to_json(con, &FieldValue::Group { items: vec![item] }, "con", Lang::Vi).unwrap_err();
        assert_eq!((unknown.path.as_str(), unknown.code.as_str()), ("con[0].tuoi", "unknown_field"));
        let item = HashMap::from([("ten".to_owned(), FieldValue::Number { value: 1.0 })]);
        let typed = to_json(con, &FieldValue::Group { items: vec![item] }, "con", Lang::Vi).unwrap_err();
        assert_eq!((typed.path.as_str(), typed.code.as_str()), ("con[0].ten", "wrong_type"));
        // A stored numeric string typed on a phone reads as a number.
        assert_eq!(from_json(so, &json!("12,5")), Some(FieldValue::Number { value: 12.5 }));
        assert_eq!(from_json(ten, &json!(12)), None);
    }

    #[test]
    fn the_view_evaluates_visibility_bounds_labels_and_issues() {
        let form = form();
        let values = json!({"loai": "khac", "con": [{"ten": "Bé"}, {}], "tep": ["f1"]});
        let values = values.as_object().unwrap();
        let issues = vec![
            issue("dia_chi.ward", FieldErrorCode::Required, Lang::En),
            issue("con[1].ten", FieldErrorCode::Required, Lang::En),
        ];
        let files = vec![DraftFile {
            id: "f1".into(),
            field_key: "tep".into(),
            file_name: "a.pdf".into(),
            size: 5,
            sha256: "00".into(),
            uploaded: false,
        }];
        let view = view_fields(&ViewInput { form: &form, values, issues: &issues, files: &files, lang: Lang::En });
        let by = |k: &str| view.iter().find(|f| f.key == k).unwrap();
        assert_eq!(by("ten").label, "Name");
        assert!(by("loai_khac").visible);
        let FormFieldKind::Date { min, max } = &by("ngay").kind else { panic!("date") };
        let today = today();
        assert_eq!(max.as_deref(), Some(today.format("%Y-%m-%d").to_string().as_str()));
        let hundred = today.checked_sub_months(chrono::Months::new(1200)).unwrap();
        assert_eq!(min.as_deref(), Some(hundred.format("%Y-%m-%d").to_string().as_str()));
        assert_eq!(by("dia_chi").issues.len(), 1);
        let FormFieldKind::Address { provinces } = &by("dia_chi").kind else { panic!("address") };
        assert_eq!(provinces.len(), 34);
        let FormFieldKind::Group { items, template, .. } = &by("con").kind else { panic!("group") };
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].fields[0].path, "con[1].ten");
        assert_eq!(items[1].fields[0].issues.len(), 1);
        assert_eq!(items[0].fields[0].value, Some(FieldValue::Text { value: "Bé".into() }));
        assert_eq!(template.len(), 2);
        let FormFieldKind::Attachment { files, max_files, .. } = &by("tep").kind else { panic!("attachment") };
        assert_eq!((files.len(), *max_files), (1, Some(2)));
        assert_eq!(by("tep").value, Some(FieldValue::Files { file_ids: vec!["f1".into()] }));

        let hidden = json!({"loai": "a"});
        let view = view_fields(&ViewInput {
            form: &form,
            values: hidden.as_object().unwrap(),
            issues: &[],
            files: &[],
            lang: Lang::Vi,
        });
        let other = view.iter().find(|f| f.key == "loai_khac").unwrap();
        assert!(!other.visible);
        assert_eq!(view[0].label, "Tên");
    }
}
