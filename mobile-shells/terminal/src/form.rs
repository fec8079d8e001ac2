//! A draft as rows to draw and edit: one row per field (an address as three rows: province,
//! ward, street), with its label in the app's language, its value as the citizen reads
//! it and the core's issues for it; and the value a typed text becomes for `set_field`.
//! The rules (what is required, valid, shown) stay in the core: rows only carry its answers.

use motcua_client::{Draft, FieldIssue};
use motcua_domain::form::{FieldDef, FieldKind, FormDef};
use serde_json::{Map, Value};

use crate::text::{self, Lang, tr};

/// The three parts of an address the app edits.
pub const ADDRESS_PARTS: [&str; 3] = ["province", "ward", "street"];

/// How a row is edited.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    /// Typed text (also citizen ID, phone, e-mail).
    Text,
    Number,
    /// Typed `dd/mm/yyyy`.
    Date,
    /// One of the options: (value, label).
    Select {
        options: Vec<(String, String)>,
    },
    Checkbox,
    /// One part (`province`, `ward`, `street`) of the address field `key`.
    AddressPart {
        part: &'static str,
    },
    /// Files attached by path.
    Attachment,
    /// A repeated group: not editable in the terminal.
    Group,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FormRow {
    /// The top-level field key (what `set_field` takes).
    pub key: String,
    /// Where this row's issues point (`ho_ten`, `noi_cu_tru.ward`).
    pub path: String,
    pub label: String,
    pub required: bool,
    /// Shown only in some cases (the core checks it only then).
    pub conditional: bool,
    pub kind: RowKind,
    /// The value as the citizen reads it (empty: none).
    pub display: String,
    /// The core's messages for this row.
    pub issues: Vec<String>,
}

impl FormRow {
    /// The text an edit starts from.
    pub fn edit_text(&self) -> String {
        self.display.clone()
    }
}

fn part_label(lang: Lang, part: &str) -> &'static str {
    match part {
        "province" => tr(lang, "Tỉnh/thành phố", "Province/city"),
        "ward" => tr(lang, "Phường/xã", "Ward/commune"),
        _ => tr(lang, "Số nhà, đường", "Street address"),
    }
}

fn issues_at(issues: &[FieldIssue], path: &str, whole: bool) -> Vec<String> {
    issues
        .iter()
        .filter(|i| {
            i.path == path
                || (whole && (i.path.starts_with(&format!("{path}.")) || i.path.starts_with(&format!("{path}["))))
        })
        .map(|i| i.message.clone())
        .collect()
}

fn scalar(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The rows of a draft, in the form's order.
pub fn rows(draft: &Draft, lang: Lang) -> Vec<FormRow> {
    let Ok(form) = FormDef::parse(&draft.form_json) else {
        return Vec::new();
    };
    let values: Map<String, Value> = serde_json::from_str(&draft.values_json).unwrap_or_default();
    let mut out = Vec::new();
    for field in &form.fields {
        push_rows(field, &values, draft, lang, &mut out);
    }
    out
}

fn push_rows(field: &FieldDef, values: &Map<String, Value>, draft: &Draft, lang: Lang, out: &mut Vec<FormRow>) {
    let value = values.get(&field.key);
    let base = FormRow {
        key: field.key.clone(),
        path: field.key.clone(),
        label: field.label.get(lang).to_owned(),
        required: field.required,
        conditional: field.visible_when.is_some(),
        kind: RowKind::Text,
        display: String::new(),
        issues: issues_at(&draft.issues, &field.key, false),
    };
    let row = match &field.kind {
        FieldKind::Text { .. } | FieldKind::CitizenId | FieldKind::Phone | FieldKind::Email => {
            FormRow { display: scalar(value), ..base }
        }
        FieldKind::Number { .. } => FormRow { kind: RowKind::Number, display: scalar(value), ..base },
        FieldKind::Date { .. } => FormRow { kind: RowKind::Date, display: text::date(&scalar(value)), ..base },
        FieldKind::Select { options, .. } => {
            let options: Vec<(String, String)> =
                options.iter().map(|o| (o.value.clone(), o.label.get(lang).to_owned())).collect();
            let chosen = scalar(value);
            let display = options.iter().find(|(v, _)| *v == chosen).map(|(_, l)| l.clone()).unwrap_or(chosen);
            FormRow { kind: RowKind::Select { options }, display, ..base }
        }
        FieldKind::Checkbox { .. } => {
            let ticked = value.and_then(Value::as_bool).unwrap_or(false);
            FormRow { kind: RowKind::Checkbox, display: if ticked { "[x]" } else { "[ ]" }.to_owned(), ..base }
        }
        FieldKind::Address => {
            let issues = base.issues.clone();
            for (i, part) in ADDRESS_PARTS.into_iter().enumerate() {
                let path = format!("{}.{part}", field.key);
                let mut part_issues = issues_at(&draft.issues, &path, false);
                if i == 0 {
                    part_issues.extend(issues.iter().cloned());
                }
                out.push(FormRow {
                    path,
                    label: format!("{} — {}", base.label, part_label(lang, part)),
                    kind: RowKind::AddressPart { part },
                    display: scalar(value.and_then(|v| v.get(part))),
                    issues: part_issues,
                    ..base.clone()
                });
            }
            return;
        }
        FieldKind::Group { .. } => {
            let n = value.and_then(Value::as_array).map_or(0, Vec::len);
            FormRow {
                kind: RowKind::Group,
                display: format!("{n} {}", tr(lang, "mục (sửa trên điện thoại)", "items (edit on the phone)")),
                issues: issues_at(&draft.issues, &field.key, true),
                ..base
            }
        }
        FieldKind::Attachment { .. } => {
            let names: Vec<&str> =
                draft.files.iter().filter(|f| f.field_key == field.key).map(|f| f.file_name.as_str()).collect();
            FormRow { kind: RowKind::Attachment, display: names.join(", "), ..base }
        }
    };
    out.push(row);
}

/// What `set_field` gets for `typed` on `row` (an address part: the whole address with
/// that part replaced, from the draft's values). An empty text clears the value.
pub fn value_for(row: &FormRow, typed: &str, values_json: &str) -> Value {
    let trimmed = typed.trim();
    match &row.kind {
        RowKind::Number if !trimmed.is_empty() => trimmed
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .and_then(|n| {
                if n.fract() == 0.0 && n.abs() < 9e15 {
                    Some(Value::from(n as i64))
                } else {
                    serde_json::Number::from_f64(n).map(Value::Number)
                }
            })
            .unwrap_or_else(|| Value::String(typed.to_owned())),
        RowKind::Date if !trimmed.is_empty() => {
            Value::String(text::typed_date(trimmed).unwrap_or_else(|| typed.to_owned()))
        }
        RowKind::AddressPart { part } => {
            let values: Map<String, Value> = serde_json::from_str(values_json).unwrap_or_default();
            let mut address = values.get(&row.key).and_then(Value::as_object).cloned().unwrap_or_default();
            if trimmed.is_empty() {
                address.remove(*part);
            } else {
                address.insert((*part).to_owned(), Value::String(typed.to_owned()));
            }
            if address.is_empty() { Value::Null } else { Value::Object(address) }
        }
        _ if trimmed.is_empty() => Value::Null,
        _ => Value::String(typed.to_owned()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use motcua_client::{DraftState, DraftSummary};

    pub(crate) fn draft(values: &str, issues: Vec<FieldIssue>) -> Draft {
        let form = r#"{"version":1,"fields":[
            {"key":"ho_ten","label":{"vi":"Họ tên","en":"Name"},"required":true,"type":"text"},
            {"key":"ngay","label":"Ngày sinh","type":"date"},
            {"key":"so_ban","label":"Số bản","type":"number","integer":true},
            {"key":"gioi","label":"Giới tính","type":"select","options":[{"value":"nam","label":"Nam"},{"value":"nu","label":"Nữ"}]},
            {"key":"noi_o","label":"Nơi cư trú","type":"address"},
            {"key":"cam_doan","label":"Cam đoan","type":"checkbox","must_be_true":true},
            {"key":"tep","label":"Tờ khai","type":"attachment","document":"tk"}]}"#;
        Draft {
            summary: DraftSummary {
                id: "d1".into(),
                procedure_code: "1.1".into(),
                procedure_name: "Thủ tục".into(),
                form_version: 1,
                state: DraftState::Editing,
                created_at_ms: 0,
                updated_at_ms: 0,
                file_count: 0,
                dropped_count: 0,
                procedure_retired: false,
                dossier_id: None,
            },
            branch_code: None,
            form_json: form.into(),
            values_json: values.into(),
            files: vec![],
            dropped: vec![],
            issues,
        }
    }

    fn issue(path: &str, message: &str) -> FieldIssue {
        FieldIssue { path: path.into(), code: "x".into(), message: message.into() }
    }

    #[test]
    fn rows_show_values_as_read_and_issues_where_they_point() {
        let d = draft(
            r#"{"ho_ten":"An","ngay":"2024-02-01","gioi":"nu","noi_o":{"province":"Hà Nội"},"cam_doan":true}"#,
            vec![issue("noi_o.ward", "Thiếu phường"), issue("ho_ten", "Quá ngắn")],
        );
        let rows = rows(&d, Lang::Vi);
        let labels: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            labels,
            ["ho_ten", "ngay", "so_ban", "gioi", "noi_o.province", "noi_o.ward", "noi_o.street", "cam_doan", "tep"]
        );
        assert_eq!(rows[0].issues, ["Quá ngắn"]);
        assert_eq!(rows[1].display, "01/02/2024");
        assert_eq!(rows[3].display, "Nữ");
        assert_eq!(rows[4].display, "Hà Nội");
        assert_eq!(rows[5].issues, ["Thiếu phường"]);
        assert_eq!(rows[7].display, "[x]");
        assert_eq!(super::rows(&d, Lang::En)[0].label, "Name");
    }

    #[test]
    fn typed_text_becomes_the_field_value() {
        let d = draft(r#"{"noi_o":{"province":"Hà Nội"}}"#, vec![]);
        let rows = rows(&d, Lang::Vi);
        assert_eq!(value_for(&rows[1], "1/2/2024", &d.values_json), Value::from("2024-02-01"));
        assert_eq!(value_for(&rows[1], "1/2", &d.values_json), Value::from("1/2"));
        assert_eq!(value_for(&rows[2], "3", &d.values_json), Value::from(3));
        assert_eq!(value_for(&rows[2], "2,5", &d.values_json), Value::from(2.5));
        assert_eq!(value_for(&rows[0], "  ", &d.values_json), Value::Null);
        assert_eq!(
            value_for(&rows[5], "Hoàn Kiếm", &d.values_json),
            serde_json::json!({"province": "Hà Nội", "ward": "Hoàn Kiếm"})
        );
    }
}
