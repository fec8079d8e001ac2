//! The core's form view as rows to draw and edit: one row per field shown now (an address
//! as three rows: province, ward, street), its label, value as the citizen reads it, a hint
//! from the field's rules and the core's issues; and the typed value a row's text becomes
//! for `set_field`. What is required, valid or shown is the core's answer, never decided here.

use motcua_client::{FieldIssue, FieldValue, FormField, FormFieldKind, FormView};

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
    /// Several of the options, typed as their numbers (`1,3`).
    MultiSelect {
        options: Vec<(String, String)>,
    },
    Checkbox,
    /// One part (`province`, `ward`, `street`) of an address field.
    AddressPart {
        part: &'static str,
    },
    /// Files attached by path.
    Attachment,
    /// A repeated group: shown, not editable in the terminal.
    Group,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FormRow {
    /// The top-level field key (what `set_field` takes).
    pub key: String,
    pub label: String,
    pub required: bool,
    pub kind: RowKind,
    /// The field's value from the core (an address row: the whole address).
    pub value: Option<FieldValue>,
    /// The value as the citizen reads it (empty: none).
    pub display: String,
    /// From the field's rules: bounds, accepted files, option numbers.
    pub hint: Option<String>,
    /// The core's messages for this row.
    pub issues: Vec<String>,
}

impl FormRow {
    /// The text an edit starts from.
    pub fn edit_text(&self) -> String {
        match &self.kind {
            RowKind::MultiSelect { options } => {
                let chosen = match &self.value {
                    Some(FieldValue::Choices { values }) => values.clone(),
                    _ => Vec::new(),
                };
                let numbers: Vec<String> = options
                    .iter()
                    .enumerate()
                    .filter(|(_, (v, _))| chosen.contains(v))
                    .map(|(i, _)| (i + 1).to_string())
                    .collect();
                numbers.join(",")
            }
            _ => self.display.clone(),
        }
    }
}

fn part_label(lang: Lang, part: &str) -> &'static str {
    match part {
        "province" => tr(lang, "Tỉnh/thành phố", "Province/city"),
        "ward" => tr(lang, "Phường/xã", "Ward/commune"),
        _ => tr(lang, "Số nhà, đường", "Street address"),
    }
}

fn messages<'a>(issues: impl IntoIterator<Item = &'a FieldIssue>) -> Vec<String> {
    issues.into_iter().map(|i| i.message.clone()).collect()
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

fn options(opts: &[motcua_client::FormOption]) -> Vec<(String, String)> {
    opts.iter().map(|o| (o.value.clone(), o.label.clone())).collect()
}

/// The rows of the fields shown now, in the form's order.
pub fn rows(view: &FormView, lang: Lang) -> Vec<FormRow> {
    let mut out = Vec::new();
    for field in view.fields.iter().filter(|f| f.visible) {
        push_rows(field, lang, &mut out);
    }
    out
}

fn push_rows(field: &FormField, lang: Lang, out: &mut Vec<FormRow>) {
    let t = |vi, en| tr(lang, vi, en);
    let base = FormRow {
        key: field.key.clone(),
        label: field.label.clone(),
        required: field.required,
        kind: RowKind::Text,
        value: field.value.clone(),
        display: String::new(),
        hint: field.help.clone(),
        issues: messages(&field.issues),
    };
    let row = match (&field.kind, &field.value) {
        (FormFieldKind::Address { .. }, value) => {
            for (i, part) in ADDRESS_PARTS.into_iter().enumerate() {
                let path = format!("{}.{part}", field.path);
                let shown = match value {
                    Some(FieldValue::Address { province, ward, street, .. }) => match part {
                        "province" => province.clone(),
                        "ward" => ward.clone(),
                        _ => street.clone().unwrap_or_default(),
                    },
                    _ => String::new(),
                };
                // The part's own issues; the others (the whole address) on its first row.
                let issues = field.issues.iter().filter(|x| {
                    x.path == path || (i == 0 && !ADDRESS_PARTS.iter().any(|p| x.path.ends_with(&format!(".{p}"))))
                });
                out.push(FormRow {
                    label: format!("{} — {}", field.label, part_label(lang, part)),
                    kind: RowKind::AddressPart { part },
                    display: shown,
                    hint: if i == 0 { base.hint.clone() } else { None },
                    issues: messages(issues),
                    ..base.clone()
                });
            }
            return;
        }
        (FormFieldKind::Text { .. } | FormFieldKind::CitizenId | FormFieldKind::Phone | FormFieldKind::Email, v) => {
            let display = match v {
                Some(FieldValue::Text { value }) => value.clone(),
                _ => String::new(),
            };
            FormRow { display, ..base }
        }
        (FormFieldKind::Number { .. }, v) => {
            let display = match v {
                Some(FieldValue::Number { value }) => number(*value),
                _ => String::new(),
            };
            FormRow { kind: RowKind::Number, display, ..base }
        }
        (FormFieldKind::Date { min, max }, v) => {
            let display = match v {
                Some(FieldValue::Date { value }) => text::date(value),
                _ => String::new(),
            };
            let bounds = match (min, max) {
                (Some(a), Some(b)) => {
                    Some(format!("{} {} {} {}", t("từ", "from"), text::date(a), t("đến", "to"), text::date(b)))
                }
                (Some(a), None) => Some(format!("{} {}", t("từ", "from"), text::date(a))),
                (None, Some(b)) => Some(format!("{} {}", t("đến", "until"), text::date(b))),
                (None, None) => None,
            };
            let hint = Some(format!("dd/mm/yyyy{}", bounds.map(|b| format!(", {b}")).unwrap_or_default()));
            FormRow { kind: RowKind::Date, display, hint, ..base }
        }
        (FormFieldKind::Select { options: opts, multiple: false }, v) => {
            let options = options(opts);
            let display = match v {
                Some(FieldValue::Choice { value }) => {
                    options.iter().find(|(o, _)| o == value).map(|(_, l)| l.clone()).unwrap_or_else(|| value.clone())
                }
                _ => String::new(),
            };
            FormRow { kind: RowKind::Select { options }, display, ..base }
        }
        (FormFieldKind::Select { options: opts, multiple: true }, v) => {
            let options = options(opts);
            let display = match v {
                Some(FieldValue::Choices { values }) => {
                    let labels: Vec<&str> =
                        options.iter().filter(|(o, _)| values.contains(o)).map(|(_, l)| l.as_str()).collect();
                    labels.join(", ")
                }
                _ => String::new(),
            };
            let numbered: Vec<String> =
                options.iter().enumerate().map(|(i, (_, l))| format!("{}. {l}", i + 1)).collect();
            let hint = Some(format!(
                "{} {}",
                t("Gõ số, cách nhau dấu phẩy:", "Type numbers, comma separated:"),
                numbered.join("  ")
            ));
            FormRow { kind: RowKind::MultiSelect { options }, display, hint, ..base }
        }
        (FormFieldKind::Checkbox { .. }, v) => {
            let ticked = matches!(v, Some(FieldValue::Bool { value: true }));
            FormRow { kind: RowKind::Checkbox, display: if ticked { "[x]" } else { "[ ]" }.to_owned(), ..base }
        }
        (FormFieldKind::Group { items, .. }, _) => FormRow {
            kind: RowKind::Group,
            display: format!("{} {}", items.len(), t("mục (sửa trên điện thoại)", "items (edit on the phone)")),
            ..base
        },
        (FormFieldKind::Attachment { files, max_bytes, accepted_types, max_files, .. }, _) => {
            let names: Vec<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
            let kinds: Vec<&str> = accepted_types.iter().map(|m| m.rsplit('/').next().unwrap_or(m)).collect();
            let mut hint = format!(
                "{} {}; {} {} MB",
                t("Nhận", "Accepts"),
                kinds.join(", ").to_uppercase(),
                t("tối đa", "at most"),
                max_bytes / (1024 * 1024)
            );
            if let Some(n) = max_files {
                hint.push_str(&format!(", {n} {}", t("tệp", "files")));
            }
            FormRow { kind: RowKind::Attachment, display: names.join(", "), hint: Some(hint), ..base }
        }
    };
    out.push(row);
}

/// Why a typed text cannot be a value yet (said on Enter; while typing nothing is sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotYet {
    Number,
    Date,
    Options,
}

impl NotYet {
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            NotYet::Number => tr(lang, "Hãy nhập một số.", "Type a number."),
            NotYet::Date => tr(lang, "Hãy nhập ngày dạng dd/mm/yyyy.", "Type the date as dd/mm/yyyy."),
            NotYet::Options => {
                tr(lang, "Hãy gõ số thứ tự các lựa chọn, ví dụ 1,3.", "Type the options' numbers, e.g. 1,3.")
            }
        }
    }
}

/// The typed value `set_field` gets for `typed` on `row` (`None` clears the field). An
/// address part is merged into the address the field holds.
pub fn value_for(row: &FormRow, typed: &str) -> Result<Option<FieldValue>, NotYet> {
    let trimmed = typed.trim();
    if trimmed.is_empty() && !matches!(row.kind, RowKind::AddressPart { .. }) {
        return Ok(None);
    }
    Ok(Some(match &row.kind {
        RowKind::Number => {
            FieldValue::Number { value: trimmed.replace(',', ".").parse::<f64>().map_err(|_| NotYet::Number)? }
        }
        RowKind::Date => FieldValue::Date { value: text::typed_date(trimmed).ok_or(NotYet::Date)? },
        RowKind::MultiSelect { options } => {
            let mut values = Vec::new();
            for part in trimmed.split([',', ' ', ';']).filter(|s| !s.is_empty()) {
                let i: usize = part.parse().map_err(|_| NotYet::Options)?;
                let (value, _) = options.get(i.wrapping_sub(1)).ok_or(NotYet::Options)?;
                if !values.contains(value) {
                    values.push(value.clone());
                }
            }
            FieldValue::Choices { values }
        }
        RowKind::AddressPart { part } => {
            let (mut province, mut ward, mut ward_code, district, mut street) = match &row.value {
                Some(FieldValue::Address { province, ward, ward_code, district, street }) => {
                    (province.clone(), ward.clone(), ward_code.clone(), district.clone(), street.clone())
                }
                _ => Default::default(),
            };
            match *part {
                "province" => province = typed.to_owned(),
                "ward" => ward = typed.to_owned(),
                _ => street = Some(typed.to_owned()).filter(|s| !s.trim().is_empty()),
            }
            if province.trim().is_empty() && ward.trim().is_empty() && street.is_none() {
                return Ok(None);
            }
            if *part != "street" {
                // A typed name replaces a ward picked from the list.
                ward_code = None;
            }
            FieldValue::Address { province, ward, ward_code, district, street }
        }
        _ => FieldValue::Text { value: typed.to_owned() },
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use motcua_client::{DraftFile, DraftState, FormOption};

    fn field(key: &str, label: &str, kind: FormFieldKind, value: Option<FieldValue>) -> FormField {
        FormField {
            key: key.into(),
            path: key.into(),
            label: label.into(),
            help: None,
            required: true,
            visible: true,
            kind,
            value,
            issues: vec![],
        }
    }

    fn issue(path: &str, message: &str) -> FieldIssue {
        FieldIssue { path: path.into(), code: "x".into(), message: message.into() }
    }

    /// A form view like the core's: text, date, number, select, multi-select, address,
    /// a hidden field, checkbox, attachment.
    pub(crate) fn view(values: &[(&str, FieldValue)], issues: Vec<FieldIssue>) -> FormView {
        let value = |k: &str| values.iter().find(|(key, _)| *key == k).map(|(_, v)| v.clone());
        let opts = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(v, l)| FormOption { value: (*v).into(), label: (*l).into() }).collect::<Vec<_>>()
        };
        let mut fields = vec![
            field(
                "ho_ten",
                "Họ tên",
                FormFieldKind::Text { multiline: false, min_length: None, max_length: None, pattern: None },
                value("ho_ten"),
            ),
            field(
                "ngay",
                "Ngày sinh",
                FormFieldKind::Date { min: Some("1926-01-01".into()), max: Some("2026-01-01".into()) },
                value("ngay"),
            ),
            field("so_ban", "Số bản", FormFieldKind::Number { min: None, max: None, integer: true }, value("so_ban")),
            field(
                "gioi",
                "Giới tính",
                FormFieldKind::Select { options: opts(&[("nam", "Nam"), ("nu", "Nữ")]), multiple: false },
                value("gioi"),
            ),
            field(
                "muc",
                "Nội dung",
                FormFieldKind::Select { options: opts(&[("a", "A"), ("b", "B"), ("c", "C")]), multiple: true },
                value("muc"),
            ),
            field("noi_o", "Nơi cư trú", FormFieldKind::Address { provinces: vec!["Hà Nội".into()] }, value("noi_o")),
            field(
                "an",
                "Ẩn",
                FormFieldKind::Text { multiline: false, min_length: None, max_length: None, pattern: None },
                None,
            ),
            field("cam_doan", "Cam đoan", FormFieldKind::Checkbox { must_be_true: true }, value("cam_doan")),
            field(
                "tep",
                "Tờ khai",
                FormFieldKind::Attachment {
                    document: "tk".into(),
                    max_files: Some(2),
                    max_bytes: 10 * 1024 * 1024,
                    accepted_types: vec!["application/pdf".into(), "image/jpeg".into()],
                    files: vec![DraftFile {
                        id: "f1".into(),
                        field_key: "tep".into(),
                        file_name: "to-khai.pdf".into(),
                        size: 10,
                        sha256: String::new(),
                        uploaded: false,
                    }],
                },
                None,
            ),
        ];
        fields[6].visible = false;
        for f in &mut fields {
            f.issues = issues
                .iter()
                .filter(|i| i.path == f.key || i.path.starts_with(&format!("{}.", f.key)))
                .cloned()
                .collect();
        }
        FormView {
            draft_id: "d1".into(),
            procedure_code: "1.1".into(),
            procedure_name: "Thủ tục".into(),
            form_version: 1,
            state: DraftState::Editing,
            editable: true,
            branch_code: None,
            fields,
            issues,
        }
    }

    #[test]
    fn rows_show_the_fields_shown_now_with_values_as_read_and_issues_where_they_point() {
        let v = view(
            &[
                ("ho_ten", FieldValue::Text { value: "An".into() }),
                ("ngay", FieldValue::Date { value: "2024-02-01".into() }),
                ("so_ban", FieldValue::Number { value: 2.0 }),
                ("gioi", FieldValue::Choice { value: "nu".into() }),
                ("muc", FieldValue::Choices { values: vec!["c".into(), "a".into()] }),
                (
                    "noi_o",
                    FieldValue::Address {
                        province: "Hà Nội".into(),
                        ward: String::new(),
                        ward_code: None,
                        district: None,
                        street: None,
                    },
                ),
                ("cam_doan", FieldValue::Bool { value: true }),
            ],
            vec![issue("noi_o.ward", "Thiếu phường"), issue("noi_o", "Địa chỉ sai"), issue("ho_ten", "Quá ngắn")],
        );
        let rows = rows(&v, Lang::Vi);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Họ tên",
                "Ngày sinh",
                "Số bản",
                "Giới tính",
                "Nội dung",
                "Nơi cư trú — Tỉnh/thành phố",
                "Nơi cư trú — Phường/xã",
                "Nơi cư trú — Số nhà, đường",
                "Cam đoan",
                "Tờ khai"
            ]
        );
        assert_eq!(rows[0].issues, ["Quá ngắn"]);
        assert_eq!(rows[1].display, "01/02/2024");
        assert_eq!(rows[1].hint.as_deref(), Some("dd/mm/yyyy, từ 01/01/1926 đến 01/01/2026"));
        assert_eq!(rows[2].display, "2");
        assert_eq!(rows[3].display, "Nữ");
        assert_eq!(rows[4].display, "A, C");
        assert_eq!(rows[4].edit_text(), "1,3");
        assert_eq!(rows[5].display, "Hà Nội");
        assert_eq!(rows[5].issues, ["Địa chỉ sai"]);
        assert_eq!(rows[6].issues, ["Thiếu phường"]);
        assert_eq!(rows[8].display, "[x]");
        assert_eq!(rows[9].display, "to-khai.pdf");
        assert_eq!(rows[9].hint.as_deref(), Some("Nhận PDF, JPEG; tối đa 10 MB, 2 tệp"));
    }

    #[test]
    fn typed_text_becomes_a_typed_value() {
        let v = view(
            &[(
                "noi_o",
                FieldValue::Address {
                    province: "Hà Nội".into(),
                    ward: "X".into(),
                    ward_code: Some("00001".into()),
                    district: None,
                    street: None,
                },
            )],
            vec![],
        );
        let rows = rows(&v, Lang::Vi);
        assert_eq!(value_for(&rows[1], "1/2/2024"), Ok(Some(FieldValue::Date { value: "2024-02-01".into() })));
        assert_eq!(value_for(&rows[1], "1/2"), Err(NotYet::Date));
        assert_eq!(value_for(&rows[2], "2,5"), Ok(Some(FieldValue::Number { value: 2.5 })));
        assert_eq!(value_for(&rows[2], "hai"), Err(NotYet::Number));
        assert_eq!(value_for(&rows[0], "  "), Ok(None));
        assert_eq!(value_for(&rows[0], "An"), Ok(Some(FieldValue::Text { value: "An".into() })));
        assert_eq!(value_for(&rows[4], "3, 1"), Ok(Some(FieldValue::Choices { values: vec!["c".into(), "a".into()] })));
        assert_eq!(value_for(&rows[4], "4"), Err(NotYet::Options));
        assert_eq!(
            value_for(&rows[6], "Hoàn Kiếm"),
            Ok(Some(FieldValue::Address {
                province: "Hà Nội".into(),
                ward: "Hoàn Kiếm".into(),
                ward_code: None,
                district: None,
                street: None
            }))
        );
        assert_eq!(
            value_for(&rows[7], "12 Hàng Bài"),
            Ok(Some(FieldValue::Address {
                province: "Hà Nội".into(),
                ward: "X".into(),
                ward_code: Some("00001".into()),
                district: None,
                street: Some("12 Hàng Bài".into())
            }))
        );
    }
}
