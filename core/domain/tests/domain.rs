//! Integration tests of motcua-domain: data-driven tables of every validation error code,
//! form migration, and property tests (validation never panics, fold is idempotent,
//! working-day arithmetic is consistent).

#![allow(clippy::unwrap_used)]

use chrono::{Datelike, NaiveDate};
use motcua_domain::calendar::WorkingCalendar;
use motcua_domain::form::{
    DropReason, FieldDef, FieldError, FieldErrorCode, FieldKind, FormDef, SelectOption, migrate_values, validate,
};
use motcua_domain::i18n::{Lang, Text};
use motcua_domain::ids::PROVINCES;
use motcua_domain::text::fold;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    day("2025-06-15")
}

/// A form using every field kind and constraint.
fn rich_form() -> FormDef {
    let json = json!({"version": 2, "fields": [
        {"key": "full_name", "label": {"vi": "Họ và tên", "en": "Full name"}, "required": true,
         "type": "text", "min_length": 2, "max_length": 10},
        {"key": "code", "label": "Mã", "type": "text", "pattern": "[A-Z]{2}[0-9]{3}"},
        {"key": "area", "label": "Diện tích", "type": "number", "min": 1, "max": 500},
        {"key": "rooms", "label": "Số phòng", "type": "number", "integer": true},
        {"key": "birth_date", "label": "Ngày sinh", "type": "date",
         "min": "1900-01-01", "max": "today-18y"},
        {"key": "visit", "label": "Ngày hẹn", "type": "date", "min": "today", "max": "today+30d"},
        {"key": "gender", "label": "Giới tính", "type": "select",
         "options": [{"value": "m", "label": "Nam"}, {"value": "f", "label": "Nữ"}]},
        {"key": "services", "label": "Dịch vụ", "type": "select", "multiple": true,
         "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        {"key": "agree", "label": "Cam đoan", "type": "checkbox", "must_be_true": true},
        {"key": "newsletter", "label": "Nhận tin", "type": "checkbox"},
        {"key": "citizen_id", "label": "Số CCCD", "type": "citizen_id"},
        {"key": "phone", "label": "Điện thoại", "type": "phone"},
        {"key": "email", "label": "Email", "type": "email"},
        {"key": "address", "label": "Địa chỉ", "type": "address"},
        {"key": "married", "label": "Đã kết hôn", "type": "checkbox"},
        {"key": "spouse_name", "label": "Họ tên vợ/chồng", "required": true, "type": "text",
         "visible_when": {"field": "married"}},
        {"key": "members", "label": "Thành viên", "type": "group", "min_items": 1, "max_items": 2,
         "fields": [
            {"key": "full_name", "label": "Họ tên", "required": true, "type": "text", "max_length": 5},
            {"key": "relation", "label": "Quan hệ", "type": "select",
             "options": [{"value": "child", "label": "Con"}, {"value": "other", "label": "Khác"}]},
            {"key": "school", "label": "Trường", "required": true, "type": "text",
             "visible_when": {"field": "relation", "equals": "child"}},
            {"key": "spouse_note", "label": "Ghi chú", "required": true, "type": "text",
             "visible_when": {"field": "married", "equals": true}}
         ]},
        {"key": "id_photos", "label": "Ảnh CCCD", "required": true, "type": "attachment",
         "document": "cccd", "max_files": 2}
    ]});
    FormDef::parse(&json.to_string()).unwrap()
}

/// A complete, valid set of values for [`rich_form`].
fn good_values() -> Value {
    json!({
        "full_name": "Nguyễn An",
        "code": "AB123",
        "area": "12,5",
        "rooms": 3,
        "birth_date": "1990-05-01",
        "visit": "2025-06-20",
        "gender": "f",
        "services": ["a", "b"],
        "agree": true,
        "newsletter": false,
        "citizen_id": "001 190 012345",
        "phone": "+84 912 345 678",
        "email": "an@example.vn",
        "address": {"province": "Hà Nội", "ward": "Phường Hoàn Kiếm", "street": "1 Tràng Tiền"},
        "married": false,
        "members": [{"full_name": "Bình", "relation": "other"}],
        "id_photos": ["att-1"]
    })
}

fn with(changes: Value) -> Value {
    let mut v = good_values();
    for (k, change) in changes.as_object().unwrap() {
        if change == &json!("<remove>") {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = change.clone();
        }
    }
    v
}

type Expected = Vec<(&'static str, FieldErrorCode, Option<&'static str>)>;

#[test]
fn good_values_are_valid() {
    assert_eq!(validate(&rich_form(), &good_values(), today()), vec![]);
}

#[test]
fn every_error_code_from_validate() {
    use FieldErrorCode as C;
    let cases: Vec<(Value, Expected)> = vec![
        (json!({"full_name": "<remove>"}), vec![("full_name", C::Required, None)]),
        (json!({"full_name": "   "}), vec![("full_name", C::Required, None)]),
        (json!({"full_name": null}), vec![("full_name", C::Required, None)]),
        (json!({"full_name": 5}), vec![("full_name", C::WrongType, None)]),
        (json!({"full_name": " A "}), vec![("full_name", C::TooShort, Some("2"))]),
        (json!({"full_name": "Nguyễn Văn Anh"}), vec![("full_name", C::TooLong, Some("10"))]),
        (json!({"nickname": "x"}), vec![("nickname", C::UnknownField, None)]),
        (json!({"code": "ab123"}), vec![("code", C::PatternMismatch, None)]),
        (json!({"code": "XAB123"}), vec![("code", C::PatternMismatch, None)]),
        (json!({"area": "mười"}), vec![("area", C::NotANumber, None)]),
        (json!({"area": "NaN"}), vec![("area", C::NotANumber, None)]),
        (json!({"area": true}), vec![("area", C::WrongType, None)]),
        (json!({"area": 0.5}), vec![("area", C::TooSmall, Some("1"))]),
        (json!({"area": "500,5"}), vec![("area", C::TooLarge, Some("500"))]),
        (json!({"rooms": 2.5}), vec![("rooms", C::NotAnInteger, None)]),
        (json!({"rooms": "3"}), vec![]),
        (json!({"birth_date": "01/05/1990"}), vec![("birth_date", C::InvalidDate, None)]),
        (json!({"birth_date": "1990-02-30"}), vec![("birth_date", C::InvalidDate, None)]),
        (json!({"birth_date": 1990}), vec![("birth_date", C::WrongType, None)]),
        (json!({"birth_date": "1899-12-31"}), vec![("birth_date", C::DateTooEarly, Some("1900-01-01"))]),
        (json!({"birth_date": "2007-06-16"}), vec![("birth_date", C::DateTooLate, Some("2007-06-15"))]),
        (json!({"birth_date": "2007-06-15"}), vec![]),
        (json!({"visit": "2025-06-14"}), vec![("visit", C::DateTooEarly, Some("2025-06-15"))]),
        (json!({"visit": "2025-07-16"}), vec![("visit", C::DateTooLate, Some("2025-07-15"))]),
        (json!({"gender": "x"}), vec![("gender", C::InvalidOption, None)]),
        (json!({"gender": ["m"]}), vec![("gender", C::WrongType, None)]),
        (json!({"services": ["a", "c"]}), vec![("services", C::InvalidOption, None)]),
        (json!({"services": ["a", "a"]}), vec![("services", C::InvalidOption, None)]),
        (json!({"services": "a"}), vec![("services", C::WrongType, None)]),
        (json!({"services": [1]}), vec![("services", C::WrongType, None)]),
        (json!({"agree": false}), vec![("agree", C::MustBeChecked, None)]),
        (json!({"agree": "<remove>"}), vec![("agree", C::MustBeChecked, None)]),
        (json!({"agree": "yes"}), vec![("agree", C::WrongType, None)]),
        (json!({"newsletter": "<remove>"}), vec![]),
        (json!({"citizen_id": "12345"}), vec![("citizen_id", C::InvalidCitizenId, None)]),
        (json!({"citizen_id": "003190012345"}), vec![("citizen_id", C::InvalidCitizenId, None)]),
        (json!({"citizen_id": 1190012345_u64}), vec![("citizen_id", C::WrongType, None)]),
        (json!({"phone": "0412345678"}), vec![("phone", C::InvalidPhone, None)]),
        (json!({"email": "an@example"}), vec![("email", C::InvalidEmail, None)]),
        (json!({"email": " an@example.vn "}), vec![]),
        (
            json!({"address": {"province": "Atlantis", "ward": "X"}}),
            vec![("address.province", C::InvalidAddress, None)],
        ),
        (json!({"address": {"province": "ha noi"}}), vec![("address.ward", C::Required, None)]),
        (json!({"address": {"province": "", "ward": ""}}), vec![]),
        (json!({"address": "Hà Nội"}), vec![("address", C::WrongType, None)]),
        (
            json!({"address": {"province": "Huế", "ward": "x", "zip": "1"}}),
            vec![("address.zip", C::UnknownField, None)],
        ),
        (
            json!({"address": {"province": "Huế", "ward": "x", "street": "s".repeat(201)}}),
            vec![("address.street", C::TooLong, Some("200"))],
        ),
        (json!({"members": []}), vec![]),
        (
            json!({"members": [{"full_name": "A"}, {"full_name": "B"}, {"full_name": "C"}]}),
            vec![("members", C::TooManyItems, Some("2"))],
        ),
        (
            json!({"members": [{"full_name": "Nguyễn Văn"}, 7, {"age": 1}]}),
            vec![
                ("members", C::TooManyItems, Some("2")),
                ("members[0].full_name", C::TooLong, Some("5")),
                ("members[1]", C::WrongType, None),
                ("members[2].age", C::UnknownField, None),
                ("members[2].full_name", C::Required, None),
            ],
        ),
        (json!({"members": {"full_name": "A"}}), vec![("members", C::WrongType, None)]),
        (json!({"id_photos": []}), vec![("id_photos", C::Required, None)]),
        (json!({"id_photos": ["a", "b", "c"]}), vec![("id_photos", C::TooManyFiles, Some("2"))]),
        (json!({"id_photos": ["a", ""]}), vec![("id_photos", C::WrongType, None)]),
        (json!({"id_photos": [3]}), vec![("id_photos", C::WrongType, None)]),
        (json!({"id_photos": "a"}), vec![("id_photos", C::WrongType, None)]),
    ];
    let form = rich_form();
    for (changes, want) in cases {
        let values = with(changes.clone());
        let got = validate(&form, &values, today());
        let want: Vec<FieldError> = want
            .into_iter()
            .map(|(path, code, limit)| FieldError { path: path.to_owned(), code, limit: limit.map(str::to_owned) })
            .collect();
        assert_eq!(got, want, "changes: {changes}");
    }
}

#[test]
fn too_few_items_and_non_object_values() {
    let form = FormDef::parse(
        &json!({"version": 1, "fields": [
            {"key": "g", "label": "G", "type": "group", "min_items": 2,
             "fields": [{"key": "a", "label": "A", "type": "text"}]}
        ]})
        .to_string(),
    )
    .unwrap();
    assert_eq!(
        validate(&form, &json!({"g": [{"a": "x"}]}), today()),
        vec![FieldError::new("g", FieldErrorCode::TooFewItems).with_limit(2)]
    );
    for v in [json!(null), json!([]), json!("x"), json!(1)] {
        assert_eq!(validate(&form, &v, today()), vec![FieldError::new("", FieldErrorCode::WrongType)]);
    }
}

#[test]
fn conditions_hide_fields() {
    use FieldErrorCode as C;
    let form = rich_form();
    // Hidden: not required, value ignored (even a wrong one).
    let hidden = with(json!({"married": false, "spouse_name": 12}));
    assert_eq!(validate(&form, &hidden, today()), vec![]);
    // Shown: required.
    let shown = with(json!({"married": true, "members": [{"full_name": "Bình", "spouse_note": "x"}]}));
    assert_eq!(validate(&form, &shown, today()), vec![FieldError::new("spouse_name", C::Required)]);
    // Inside a group: a sibling of the same item first, then the top level.
    let values = with(json!({"married": true, "spouse_name": "Chi", "members": [
        {"full_name": "Bình", "relation": "child", "school": "THCS", "spouse_note": "x"},
        {"full_name": "Cúc", "relation": "child"}
    ]}));
    assert_eq!(
        validate(&form, &values, today()),
        vec![FieldError::new("members[1].school", C::Required), FieldError::new("members[1].spouse_note", C::Required),]
    );
}

#[test]
fn messages_are_localised() {
    let e = FieldError::new("full_name", FieldErrorCode::TooLong).with_limit(100);
    assert_eq!(e.message(Lang::Vi), "Tối đa 100 ký tự.");
    assert_eq!(e.message(Lang::En), "At most 100 characters.");
    let label = &rich_form().fields[0].label;
    assert_eq!(label.get(Lang::En), "Full name");
    assert_eq!(Text::vi("Mã").get(Lang::En), "Mã");
}

#[test]
fn unit_kinds_reject_extra_keys() {
    for extra in [
        json!({"key": "a", "label": "A", "type": "citizen_id", "max_length": 3}),
        json!({"key": "a", "label": "A", "type": "text", "colour": "red"}),
        json!({"key": "a", "label": "A"}),
        json!({"label": "A", "type": "text"}),
    ] {
        let form = json!({"version": 1, "fields": [extra]});
        assert!(FormDef::parse(&form.to_string()).is_err(), "{form}");
    }
}

#[test]
fn migration_keeps_what_fits_and_reports_the_rest() {
    let old = rich_form();
    let new = FormDef::parse(
        &json!({"version": 3, "fields": [
            {"key": "full_name", "label": "Họ và tên", "required": true, "type": "text", "max_length": 3},
            {"key": "area", "label": "Diện tích", "type": "text"},
            {"key": "rooms", "label": "Số phòng", "type": "number"},
            {"key": "gender", "label": "Giới tính", "type": "select",
             "options": [{"value": "male", "label": "Nam"}, {"value": "female", "label": "Nữ"}]},
            {"key": "services", "label": "Dịch vụ", "type": "select", "multiple": true,
             "options": [{"value": "a", "label": "A"}]},
            {"key": "phone", "label": "Điện thoại", "type": "phone"},
            {"key": "email", "label": "Email", "required": true, "type": "email"},
            {"key": "members", "label": "Thành viên", "type": "group",
             "fields": [{"key": "full_name", "label": "Họ tên", "type": "text"}]}
        ]})
        .to_string(),
    )
    .unwrap();
    let values = json!({
        "full_name": "Nguyễn An",
        "area": 12.5,
        "rooms": "ba",
        "gender": "f",
        "services": ["a", "b"],
        "phone": "",
        "code": "AB123",
        "stray": 1,
        "members": [{"full_name": "Bình", "relation": "other"}, "junk"]
    });
    let m = migrate_values(&old, &new, &values, today());
    assert_eq!(
        Value::Object(m.kept.clone()),
        json!({
            "full_name": "Nguyễn An",
            "services": ["a"],
            "phone": "",
            "members": [{"full_name": "Bình"}]
        })
    );
    let dropped: Vec<(String, Value, DropReason)> =
        m.dropped.iter().map(|d| (d.path.clone(), d.value.clone(), d.reason)).collect();
    use DropReason::{Invalid, Removed};
    use FieldErrorCode as C;
    let want = vec![
        ("area".to_owned(), json!(12.5), Invalid(C::WrongType)),
        ("code".to_owned(), json!("AB123"), Removed),
        ("gender".to_owned(), json!("f"), Invalid(C::InvalidOption)),
        ("members[0].relation".to_owned(), json!("other"), Removed),
        ("members[1]".to_owned(), json!("junk"), Invalid(C::WrongType)),
        ("rooms".to_owned(), json!("ba"), Invalid(C::NotANumber)),
        ("services".to_owned(), json!(["b"]), Invalid(C::InvalidOption)),
        ("stray".to_owned(), json!(1), Invalid(C::UnknownField)),
    ];
    let mut got = dropped;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    let wire = serde_json::to_value(&m).unwrap();
    assert!(wire["dropped"].as_array().unwrap().iter().any(|d| d["reason"] == "removed"));
    let not_object = migrate_values(&old, &new, &json!([1]), today());
    assert!(not_object.kept.is_empty());
    assert_eq!(not_object.dropped[0].path, "");
}

// ----------------------------------------------------------------------------------------
// Property tests
// ----------------------------------------------------------------------------------------

const FORM_KEYS: [&str; 20] = [
    "full_name",
    "code",
    "area",
    "rooms",
    "birth_date",
    "visit",
    "gender",
    "services",
    "agree",
    "newsletter",
    "citizen_id",
    "phone",
    "email",
    "address",
    "married",
    "spouse_name",
    "members",
    "id_photos",
    "relation",
    "province",
];

fn key_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(FORM_KEYS.to_vec()).prop_map(str::to_owned),
        1 => "[a-z_]{0,6}",
        1 => "\\PC{0,4}",
    ]
}

fn leaf_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        "[0-9 ,.+-]{0,14}".prop_map(Value::String),
        "(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
        proptest::sample::select(vec!["m", "f", "a", "b", "child", "ha noi", "", " ", "NaN", "inf", "1e400"])
            .prop_map(Value::from),
    ]
}

fn json_strategy() -> impl Strategy<Value = Value> {
    leaf_strategy().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key_strategy(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn values_object_strategy() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(key_strategy(), json_strategy(), 0..12)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

// A random form, with values valid for it.

fn label() -> Text {
    Text::vi("Nhãn")
}

fn field(key: String, required: bool, kind: FieldKind) -> FieldDef {
    FieldDef { key, label: label(), help: None, required, visible_when: None, kind }
}

fn date_from_offset(days: u64) -> NaiveDate {
    day("1950-01-01") + chrono::Days::new(days)
}

/// A field kind (no group when `nested`), with a strategy for its valid values.
fn kind_strategy(nested: bool) -> BoxedStrategy<FieldKind> {
    let text = (0u32..4, 0u32..8, any::<bool>()).prop_map(|(min, extra, pat)| {
        if pat {
            FieldKind::Text {
                min_length: None,
                max_length: None,
                pattern: serde_json::from_value(json!("[A-Z]{2}[0-9]{3,5}")).ok(),
                multiline: false,
            }
        } else {
            FieldKind::Text {
                min_length: Some(min),
                max_length: Some(min.max(1) + extra),
                pattern: None,
                multiline: extra % 2 == 0,
            }
        }
    });
    let number = (-1000i64..1000, 0i64..1000, any::<bool>()).prop_map(|(lo, span, integer)| FieldKind::Number {
        min: Some(lo as f64),
        max: Some((lo + span) as f64),
        integer,
    });
    let date = (0u64..30000, 0u64..3000).prop_map(|(lo, span)| FieldKind::Date {
        min: Some(motcua_domain::form::DateBound(date_from_offset(lo).to_string())),
        max: Some(motcua_domain::form::DateBound(date_from_offset(lo + span).to_string())),
    });
    let select = (1usize..5, any::<bool>()).prop_map(|(n, multiple)| FieldKind::Select {
        options: (0..n).map(|i| SelectOption { value: format!("opt{i}"), label: label() }).collect(),
        multiple,
    });
    let simple = prop_oneof![
        text,
        number,
        date,
        select,
        any::<bool>().prop_map(|must_be_true| FieldKind::Checkbox { must_be_true }),
        Just(FieldKind::CitizenId),
        Just(FieldKind::Phone),
        Just(FieldKind::Email),
        Just(FieldKind::Address),
    ];
    if nested {
        return simple.boxed();
    }
    let group = (proptest::collection::vec((kind_strategy(true), any::<bool>()), 1..4), 0u32..2, 0u32..3).prop_map(
        |(kinds, min, extra)| FieldKind::Group {
            fields: kinds.into_iter().enumerate().map(|(i, (k, req))| field(format!("g{i}"), req, k)).collect(),
            min_items: Some(min),
            max_items: Some(min.max(1) + extra),
        },
    );
    let attachment =
        (0u32..3).prop_map(|extra| FieldKind::Attachment { document: "doc".into(), max_files: Some(1 + extra) });
    prop_oneof![4 => simple, 1 => group, 1 => attachment].boxed()
}

fn valid_value(kind: &FieldKind) -> BoxedStrategy<Value> {
    match kind.clone() {
        FieldKind::Text { min_length, max_length, pattern, .. } => {
            if pattern.is_some() {
                return "[A-Z]{2}[0-9]{3,5}".prop_map(Value::String).boxed();
            }
            let lo = min_length.unwrap_or(0).max(1) as usize;
            let hi = max_length.unwrap_or(20) as usize;
            proptest::collection::vec(
                proptest::sample::select(vec!['a', 'ă', 'đ', 'Ơ', 'ữ', '1', 'x', ' ', '_']),
                lo..=hi.max(lo),
            )
            .prop_map(move |cs| {
                // No blank ends: lengths count the trimmed value.
                let mut s: String = cs.into_iter().collect();
                s = s.replace(' ', "a");
                Value::String(s)
            })
            .boxed()
        }
        FieldKind::Number { min, max, integer } => {
            let (lo, hi) = (min.unwrap_or(-1e6), max.unwrap_or(1e6));
            (lo..=hi, any::<bool>())
                .prop_map(move |(x, as_text)| {
                    let x = if integer { x.round().clamp(lo, hi) } else { x };
                    if as_text && !integer {
                        Value::String(x.to_string().replace('.', ","))
                    } else {
                        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
                    }
                })
                .boxed()
        }
        FieldKind::Date { min, max } => {
            let lo = min.and_then(|b| b.resolve(today())).unwrap_or(day("1900-01-01"));
            let hi = max.and_then(|b| b.resolve(today())).unwrap_or(day("2100-01-01"));
            let span = u64::try_from((hi - lo).num_days()).unwrap_or(0);
            (0..=span).prop_map(move |o| Value::String((lo + chrono::Days::new(o)).to_string())).boxed()
        }
        FieldKind::Select { options, multiple } => {
            let values: Vec<String> = options.into_iter().map(|o| o.value).collect();
            if multiple {
                proptest::sample::subsequence(values.clone(), 1..=values.len()).prop_map(|v| json!(v)).boxed()
            } else {
                proptest::sample::select(values).prop_map(Value::String).boxed()
            }
        }
        FieldKind::Checkbox { must_be_true } => {
            if must_be_true {
                Just(Value::Bool(true)).boxed()
            } else {
                any::<bool>().prop_map(Value::Bool).boxed()
            }
        }
        FieldKind::CitizenId => (proptest::sample::select(vec!["001", "079", "096", "048"]), "[0-9]{9}")
            .prop_map(|(p, rest)| Value::String(format!("{p}{rest}")))
            .boxed(),
        FieldKind::Phone => ("0[35789][0-9]{8}", any::<bool>())
            .prop_map(|(p, intl)| Value::String(if intl { format!("+84 {}", &p[1..]) } else { p }))
            .boxed(),
        FieldKind::Email => "[a-z0-9._]{0,8}[a-z]@[a-z]{1,8}\\.(vn|com)"
            .prop_filter("no dot runs", |e| !e.contains("..") && !e.starts_with('.'))
            .prop_map(Value::String)
            .boxed(),
        FieldKind::Address => (proptest::sample::select(PROVINCES.to_vec()), "[A-Za-z ]{0,20}")
            .prop_map(|(p, street)| json!({"province": fold(p), "ward": "Phường Một", "street": street}))
            .boxed(),
        FieldKind::Group { fields, min_items, max_items } => {
            let lo = min_items.unwrap_or(0).max(1) as usize;
            let hi = max_items.unwrap_or(3).max(1) as usize;
            proptest::collection::vec(valid_object(fields), lo..=hi.max(lo)).prop_map(Value::Array).boxed()
        }
        FieldKind::Attachment { max_files, .. } => {
            let hi = max_files.unwrap_or(3).max(1) as usize;
            proptest::collection::vec("[a-f0-9]{8}", 1..=hi).prop_map(|v| json!(v)).boxed()
        }
    }
}

/// Values for `fields`: every required field present, optional ones sometimes omitted.
fn valid_object(fields: Vec<FieldDef>) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
        .into_iter()
        .map(|f| {
            let key = f.key.clone();
            let value = valid_value(&f.kind).prop_map(move |v| (key.clone(), v));
            let must = f.required || matches!(f.kind, FieldKind::Checkbox { must_be_true: true });
            if must { value.prop_map(Some).boxed() } else { proptest::option::of(value).boxed() }
        })
        .collect();
    parts.prop_map(|entries| Value::Object(entries.into_iter().flatten().collect::<Map<_, _>>())).boxed()
}

fn form_strategy() -> impl Strategy<Value = FormDef> {
    proptest::collection::vec((kind_strategy(false), any::<bool>()), 1..8).prop_map(|kinds| FormDef {
        version: 1,
        fields: kinds.into_iter().enumerate().map(|(i, (k, req))| field(format!("f{i}"), req, k)).collect(),
    })
}

fn sample_calendar() -> WorkingCalendar {
    WorkingCalendar::from_json(
        r#"{"country":"VN","first_year":2025,"last_year":2026,
        "holidays":[
          {"date":"2025-01-01","name":"Tết Dương lịch"},
          {"date":"2025-01-27","name":"Tết"},{"date":"2025-01-28","name":"Tết"},
          {"date":"2025-01-29","name":"Tết"},{"date":"2025-01-30","name":"Tết"},
          {"date":"2025-01-31","name":"Tết"},{"date":"2025-04-07","name":"Giỗ Tổ"},
          {"date":"2025-04-30","name":"30/4"},{"date":"2025-05-01","name":"1/5"},
          {"date":"2025-05-02","name":"Nghỉ bù"},{"date":"2025-09-01","name":"Quốc khánh"},
          {"date":"2025-09-02","name":"Quốc khánh"},{"date":"2026-01-01","name":"Tết Dương lịch"},
          {"date":"2026-02-16","name":"Tết"},{"date":"2026-02-17","name":"Tết"},
          {"date":"2026-02-18","name":"Tết"},{"date":"2026-02-19","name":"Tết"},
          {"date":"2026-02-20","name":"Tết"}],
        "working_weekends":[{"date":"2025-04-26","name":"Làm bù","name_en":"Make-up day"}]}"#,
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn validate_never_panics_on_any_json(values in json_strategy()) {
        let errors = validate(&rich_form(), &values, today());
        if !values.is_object() {
            prop_assert_eq!(errors, vec![FieldError::new("", FieldErrorCode::WrongType)]);
        }
    }

    #[test]
    fn validate_never_panics_on_form_shaped_values(values in values_object_strategy()) {
        let form = rich_form();
        let errors = validate(&form, &values, today());
        for e in &errors {
            prop_assert!(!e.message(Lang::Vi).is_empty());
        }
        // Migration loses nothing: every key is kept or reported.
        let m = migrate_values(&form, &form, &values, today());
        for key in values.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            let reported = m.dropped.iter().any(|d| d.path == key || d.path.starts_with(&format!("{key}[")));
            prop_assert!(m.kept.contains_key(&key) || reported, "lost {}", key);
        }
    }

    #[test]
    fn generated_valid_values_pass(
        (form, values) in form_strategy().prop_flat_map(|form| {
            let values = valid_object(form.fields.clone());
            (Just(form), values)
        })
    ) {
        prop_assert!(form.check().is_ok(), "{:?}", form.check());
        let errors = validate(&form, &values, today());
        prop_assert!(errors.is_empty(), "errors {:?} for {}", errors, values);
        let m = migrate_values(&form, &form, &values, today());
        prop_assert!(m.dropped.is_empty(), "{:?}", m.dropped);
        prop_assert_eq!(Value::Object(m.kept), values);
    }

    #[test]
    fn arbitrary_values_against_arbitrary_forms(form in form_strategy(), values in values_object_strategy()) {
        let _ = validate(&form, &values, today());
    }

    #[test]
    fn fold_is_idempotent(s in "\\PC{0,40}") {
        let once = fold(&s);
        prop_assert_eq!(fold(&once), once.clone());
        prop_assert!(once.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' '));
        prop_assert!(!once.contains("  ") && once.trim() == once);
    }

    #[test]
    fn fold_is_idempotent_on_vietnamese(s in "[a-zA-ZàáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĐƯƠ ,.-]{0,40}") {
        let once = fold(&s);
        prop_assert_eq!(fold(&once), once);
    }

    #[test]
    fn adding_working_days_is_consistent(offset in 0u64..1500, n in 0u32..400) {
        let cal = sample_calendar();
        let start = day("2024-06-01") + chrono::Days::new(offset);
        let end = cal.add_working_days(start, n);
        prop_assert!(cal.is_working_day(end));
        prop_assert!(end >= start);
        let between = cal.working_days_between(start, end);
        if n == 0 {
            prop_assert!(between == 0 || between == 1);
            prop_assert_eq!(between == 0, cal.is_working_day(start));
        } else {
            prop_assert_eq!(between, i64::from(n));
            prop_assert_eq!(cal.working_days_between(end, start), -i64::from(n));
        }
    }
}

/// The lunar holidays of the calendar data fall where Vietnam's lunar calendar (UTC+7, as
/// computed by amlich-core) puts them: Tết (1/1) and the Hùng Kings day (10/3) are days
/// off in every covered year, and Tết's eve (the day before 1/1) too.
#[test]
fn lunar_holidays_match_the_lunar_calendar() {
    let calendar = motcua_domain::calendar::vietnam();
    let (first, last) = calendar.years();
    for year in first..=last {
        for (lunar_day, lunar_month, what) in [(1, 1, "Tết"), (10, 3, "Giỗ Tổ Hùng Vương")] {
            let (d, m, y) = amlich_core::lunar::convert_lunar_to_solar(lunar_day, lunar_month, year, false, 7.0);
            let date = chrono::NaiveDate::from_ymd_opt(y, m as u32, d as u32).unwrap();
            let observed = if date.weekday().number_from_monday() >= 6 && what != "Tết" {
                // A Hùng Kings day on a weekend is made up by a day in lieu on the next working day.
                let mut next = date.succ_opt().unwrap();
                while next.weekday().number_from_monday() >= 6 {
                    next = next.succ_opt().unwrap();
                }
                next
            } else {
                date
            };
            assert!(!calendar.is_working_day(observed), "{what} {year}: {observed} should be a day off");
            assert!(
                calendar.holiday(date).is_some() || date.weekday().number_from_monday() >= 6,
                "{what} {year}: {date}"
            );
        }
        let (d, m, y) = amlich_core::lunar::convert_lunar_to_solar(1, 1, year, false, 7.0);
        let tet = chrono::NaiveDate::from_ymd_opt(y, m as u32, d as u32).unwrap();
        let eve = tet.pred_opt().unwrap();
        assert!(!calendar.is_working_day(eve), "Tết's eve {year}: {eve}");
    }
}

/// The first three days of the lunar year are always statutory Tết days, never "weekly
/// rest days" (a statutory day on a weekend earns a day in lieu): 7 February 2027 is the
/// second day of Tết, not a Sunday off.
#[test]
fn the_first_days_of_tet_are_tet_days_not_weekly_rest_days() {
    let calendar = motcua_domain::calendar::vietnam();
    let (first, last) = calendar.years();
    for year in first..=last {
        for lunar_day in 1..=3 {
            let (d, m, y) = amlich_core::lunar::convert_lunar_to_solar(lunar_day, 1, year, false, 7.0);
            let date = chrono::NaiveDate::from_ymd_opt(y, m as u32, d as u32).unwrap();
            let Some(holiday) = calendar.holiday(date) else {
                assert!(date.weekday().number_from_monday() >= 6, "{date} is neither a holiday nor a weekend");
                continue;
            };
            assert!(!holiday.name.vi.contains("hằng tuần"), "{date} (mùng {lunar_day}): {}", holiday.name.vi);
        }
    }
    let second = calendar.holiday(day("2027-02-07")).map(|h| h.name.vi.clone()).unwrap_or_default();
    assert!(second.contains("Mùng 2"), "{second}");
}
