//! Walk-in intake in the console ("tiếp nhận trực tiếp"): the officer picks the procedure,
//! fills its form (rendered from the procedure's form definition, as the app renders it)
//! with the citizen's id, phone and name and the scanned papers, and files it; the
//! dossier is received at once and a printable receipt (code, appointment date, tracking
//! verifier) is shown. The rules are the dossiers module's (`dossiers::counter`) and the
//! accounts' (`auth::counter`); a form that comes back with errors keeps what was typed
//! and the papers already stored.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use motcua_domain::form::{FieldDef, FieldError, FieldErrorCode, FieldKind};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Attachment, ErrorBody, Procedure, Role};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::multipart::Part;
use super::pages::{frame, local, t};
use super::{Staff, error_page, file_form, lang_of, random_token};
use crate::app::AppState;
use crate::auth::counter::{Counterpart, account_for};
use crate::dossiers::counter::{Intake, file_at_counter};
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// Rows a repeated group offers beyond those filled.
const SPARE_ROWS: usize = 1;
/// Most rows of a group the form offers.
const MAX_ROWS: usize = 10;

/// The procedures this officer's branch takes (a receiving point: boundary-free ones).
async fn offered(app: &AppState, staff: &Staff) -> Result<Vec<std::sync::Arc<Procedure>>, ApiError> {
    let branch = staff.user.branch.as_deref().ok_or(ApiError::Forbidden)?;
    let branches = app.branches.get(&app.db).await?;
    let kind = branches.iter().find(|b| b.code == branch).map(|b| b.kind).ok_or(ApiError::Forbidden)?;
    let snapshot = app.catalogue.held(&app.db).await?;
    Ok(snapshot.procedures().iter().filter(|p| kind.accepts(p.boundary_free)).cloned().collect())
}

fn officer_only(staff: &Staff) -> Result<(), ApiError> {
    staff.user.require(&[Role::Officer])?;
    staff.user.branch.as_ref().map(|_| ()).ok_or(ApiError::Forbidden)
}

/// `GET /console/intake`: which procedure the citizen came for.
pub(super) async fn start(State(app): State<AppState>, headers: HeaderMap, staff: Staff) -> Response {
    let lang = lang_of(&headers);
    let listed = async {
        officer_only(&staff)?;
        offered(&app, &staff).await
    };
    match listed.await {
        Ok(procedures) => choose_page(lang, &staff, &procedures).into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

#[derive(Deserialize)]
pub(super) struct NewQuery {
    #[serde(default)]
    procedure: String,
}

/// `GET /console/intake/new?procedure=`: the procedure's form, with a fresh key.
pub(super) async fn new(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    query: Result<ApiQuery<NewQuery>, ApiError>,
) -> Response {
    let lang = lang_of(&headers);
    let shown = async {
        officer_only(&staff)?;
        let ApiQuery(q) = query?;
        let procedure = offered(&app, &staff)
            .await?
            .into_iter()
            .find(|p| p.code == q.procedure)
            .ok_or_else(|| ApiError::field("procedure", FieldErrorCode::InvalidOption))?;
        let key = random_token()?;
        let form = IntakeForm {
            procedure: &procedure,
            key: &key,
            who: Who::default(),
            values: &Value::Object(Map::new()),
            kept: &HashMap::new(),
            errors: None,
        };
        Ok(intake_page(lang, &staff, &form).into_response())
    };
    match shown.await {
        Ok(page) => page,
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// What the officer typed about the citizen.
#[derive(Default)]
struct Who {
    citizen_id: String,
    phone: String,
    full_name: String,
}

/// `POST /console/intake`: files the dossier (multipart: the fields and the papers).
pub(super) async fn file(State(app): State<AppState>, headers: HeaderMap, staff: Staff, body: Bytes) -> Response {
    let lang = lang_of(&headers);
    let parts = match file_form(&staff, &headers, &body) {
        Ok(parts) => parts,
        Err(e) => return error_page(lang, e, Some(&staff)),
    };
    if let Err(e) = officer_only(&staff) {
        return error_page(lang, e, Some(&staff));
    }
    let text = |name: &str| parts.iter().find(|p| p.name == name).and_then(Part::text).unwrap_or_default().to_owned();
    let procedure = match offered(&app, &staff).await {
        Ok(all) => all.into_iter().find(|p| p.code == text("procedure")),
        Err(e) => return error_page(lang, e, Some(&staff)),
    };
    let Some(procedure) = procedure else {
        return error_page(lang, ApiError::field("procedure", FieldErrorCode::InvalidOption), Some(&staff));
    };
    let key = text("key");
    let who = Who { citizen_id: text("citizen_id"), phone: text("phone"), full_name: text("full_name") };
    let mut values = values_from(&procedure.form.fields, &parts, "v.");
    let mut kept: HashMap<String, Vec<Attachment>> = HashMap::new();
    let refused = |values: &Value, kept: &HashMap<String, Vec<Attachment>>, who: Who, error: ApiError| {
        let status = error.status();
        let body = error.body(lang);
        let form = IntakeForm { procedure: &procedure, key: &key, who, values, kept, errors: Some(&body) };
        (status, intake_page(lang, &staff, &form)).into_response()
    };
    let counterpart = Counterpart { citizen_id: &who.citizen_id, phone: &who.phone, full_name: &who.full_name };
    let applicant = match account_for(&app.db, &counterpart).await {
        Ok(user) => user,
        Err(e @ ApiError::Validation(_)) => return refused(&Value::Object(values), &kept, who, e),
        Err(e) => return error_page(lang, e, Some(&staff)),
    };
    // The papers: those kept from an earlier try (the citizen's own), then the new scans.
    let mut file_errors = Vec::new();
    for field in procedure.form.fields.iter().filter(|f| matches!(f.kind, FieldKind::Attachment { .. })) {
        let ids: Vec<Uuid> = parts
            .iter()
            .filter(|p| p.name == format!("a.{}", field.key))
            .filter_map(|p| p.text().and_then(|t| Uuid::parse_str(t.trim()).ok()))
            .collect();
        let mut papers = match crate::attachments::owned_details(&app, applicant.id, &ids).await {
            Ok(papers) => papers,
            Err(e) => return error_page(lang, e, Some(&staff)),
        };
        for part in parts.iter().filter(|p| p.name == format!("f.{}", field.key) && !p.data.is_empty()) {
            match crate::attachments::store_whole(
                &app,
                applicant.id,
                part.file_name.as_deref(),
                bytes::Bytes::copy_from_slice(part.data),
            )
            .await
            {
                Ok((_, paper)) => papers.push(paper),
                Err(ApiError::Validation(errors)) => file_errors
                    .extend(errors.into_iter().map(|e| FieldError { path: format!("values.{}", field.key), ..e })),
                Err(ApiError::PayloadTooLarge) => {
                    file_errors.push(FieldError::new(format!("values.{}", field.key), FieldErrorCode::TooLarge))
                }
                Err(e) => return error_page(lang, e, Some(&staff)),
            }
        }
        if !papers.is_empty() {
            let ids: Vec<Value> = papers.iter().map(|p| Value::String(p.id.clone())).collect();
            values.insert(field.key.clone(), Value::Array(ids));
            kept.insert(field.key.clone(), papers);
        }
    }
    let values = Value::Object(values);
    if !file_errors.is_empty() {
        return refused(&values, &kept, who, ApiError::Validation(file_errors));
    }
    let form_version = text("form_version").trim().parse().unwrap_or(procedure.form.version);
    let intake =
        Intake { applicant: &applicant, procedure_code: &procedure.code, form_version, values: &values, key: &key };
    match file_at_counter(&app, &staff.user, &intake).await {
        Ok(id) => Redirect::to(&format!("/console/dossiers/{id}/receipt")).into_response(),
        Err(e @ ApiError::Validation(_)) => refused(&values, &kept, who, e),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

/// The value of one field from the form's parts named `prefix + key` (and below it for
/// addresses and groups); empty inputs give no value.
fn value_from(field: &FieldDef, parts: &[Part<'_>], name: &str) -> Option<Value> {
    let texts = || parts.iter().filter(move |p| p.name == name).filter_map(Part::text).map(str::trim);
    let one = || texts().find(|t| !t.is_empty()).map(str::to_owned);
    match &field.kind {
        FieldKind::Text { .. }
        | FieldKind::CitizenId
        | FieldKind::Phone
        | FieldKind::Email
        | FieldKind::Date { .. } => one().map(Value::String),
        FieldKind::Number { .. } => one().map(|raw| {
            raw.replace(',', ".").parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(
                Value::String(raw),
                |n| {
                    if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9e15) {
                        Value::from(n.as_f64().unwrap_or_default() as i64)
                    } else {
                        Value::Number(n)
                    }
                },
            )
        }),
        FieldKind::Select { multiple: false, .. } => one().map(Value::String),
        FieldKind::Select { multiple: true, .. } => {
            let chosen: Vec<Value> = texts().filter(|t| !t.is_empty()).map(|t| Value::String(t.to_owned())).collect();
            (!chosen.is_empty()).then_some(Value::Array(chosen))
        }
        FieldKind::Checkbox { .. } => Some(Value::Bool(texts().any(|t| t == "true"))),
        FieldKind::Address => {
            let mut address = Map::new();
            for part in ["street", "ward", "province"] {
                let sub = format!("{name}.{part}");
                if let Some(v) =
                    parts.iter().filter(|p| p.name == sub).filter_map(Part::text).map(str::trim).find(|t| !t.is_empty())
                {
                    address.insert(part.to_owned(), Value::String(v.to_owned()));
                }
            }
            (!address.is_empty()).then_some(Value::Object(address))
        }
        FieldKind::Group { fields, .. } => {
            let rows: Vec<Value> = (0..MAX_ROWS)
                .map(|i| values_from(fields, parts, &format!("{name}.{i}.")))
                .filter(|row| row.values().any(|v| v != &Value::Bool(false)))
                .map(Value::Object)
                .collect();
            (!rows.is_empty()).then_some(Value::Array(rows))
        }
        // Papers are files (handled by the caller), not text.
        FieldKind::Attachment { .. } => None,
    }
}

fn values_from(fields: &[FieldDef], parts: &[Part<'_>], prefix: &str) -> Map<String, Value> {
    fields.iter().filter_map(|f| Some((f.key.clone(), value_from(f, parts, &format!("{prefix}{}", f.key))?))).collect()
}

/// What the intake page shows.
struct IntakeForm<'a> {
    procedure: &'a Procedure,
    key: &'a str,
    who: Who,
    values: &'a Value,
    kept: &'a HashMap<String, Vec<Attachment>>,
    errors: Option<&'a ErrorBody>,
}

fn choose_page(lang: Lang, staff: &Staff, procedures: &[std::sync::Arc<Procedure>]) -> Markup {
    let title = t(lang, "Tiếp nhận hồ sơ trực tiếp", "Walk-in intake");
    frame(
        lang,
        title,
        Some(staff),
        html! {
            h1 { (title) }
            form.filters method="get" action="/console/intake/new" {
                label for="procedure" { (t(lang, "Thủ tục công dân cần làm", "The citizen's procedure")) }
                select #procedure name="procedure" required {
                    @for p in procedures {
                        option value=(p.code) { (if lang == Lang::En { &p.name_en } else { &p.name }) }
                    }
                }
                button type="submit" { (t(lang, "Mở tờ khai", "Open the form")) }
            }
        },
    )
}

/// The label of the field a validation path names (`values.key...`), for the error list.
fn label_of(lang: Lang, fields: &[FieldDef], path: &str) -> String {
    let key = path.strip_prefix("values.").unwrap_or(path);
    let key = key.split(['.', '[']).next().unwrap_or(key);
    match key {
        "citizen_id" => t(lang, "Số CCCD", "Citizen id").to_owned(),
        "phone" => t(lang, "Số điện thoại", "Phone").to_owned(),
        "full_name" => t(lang, "Họ và tên", "Full name").to_owned(),
        _ => fields.iter().find(|f| f.key == key).map_or(path.to_owned(), |f| f.label.get(lang).to_owned()),
    }
}

fn input_for(lang: Lang, field: &FieldDef, name: &str, value: Option<&Value>) -> Markup {
    let id = name.replace('.', "-");
    let text = value.and_then(Value::as_str).map(str::to_owned).or_else(|| value.map(|v| v.to_string()));
    let text = text.unwrap_or_default();
    let label = html! {
        label for=(id) {
            (field.label.get(lang))
            @if field.required { " *" }
        }
        @if let Some(help) = &field.help { small.help { (help.get(lang)) } }
    };
    match &field.kind {
        FieldKind::Text { multiline: true, max_length, .. } => html! {
            (label) textarea id=(id) name=(name) rows="3" maxlength=[max_length] aria-required=[field.required.then_some("true")] { (text) }
        },
        FieldKind::Text { max_length, .. } => html! {
            (label) input id=(id) type="text" name=(name) value=(text) maxlength=[max_length] aria-required=[field.required.then_some("true")];
        },
        FieldKind::CitizenId => html! {
            (label) input id=(id) type="text" inputmode="numeric" name=(name) value=(text) aria-required=[field.required.then_some("true")];
        },
        FieldKind::Phone => html! {
            (label) input id=(id) type="tel" name=(name) value=(text) aria-required=[field.required.then_some("true")];
        },
        FieldKind::Email => html! {
            (label) input id=(id) type="email" name=(name) value=(text) aria-required=[field.required.then_some("true")];
        },
        FieldKind::Number { .. } => html! {
            (label) input id=(id) type="text" inputmode="decimal" name=(name) value=(text) aria-required=[field.required.then_some("true")];
        },
        FieldKind::Date { .. } => html! {
            (label) input id=(id) type="date" name=(name) value=(text) aria-required=[field.required.then_some("true")];
        },
        FieldKind::Select { options, multiple } => {
            let chosen: Vec<&str> = match value {
                Some(Value::Array(vs)) => vs.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(v)) => vec![v.as_str()],
                _ => Vec::new(),
            };
            html! {
                (label)
                select id=(id) name=(name) multiple[*multiple] aria-required=[field.required.then_some("true")] {
                    @if !multiple { option value="" { "—" } }
                    @for o in options {
                        option value=(o.value) selected[chosen.contains(&o.value.as_str())] { (o.label.get(lang)) }
                    }
                }
            }
        }
        FieldKind::Checkbox { .. } => html! {
            div.check {
                input id=(id) type="checkbox" name=(name) value="true" checked[value == Some(&Value::Bool(true))];
                (label)
            }
        },
        FieldKind::Address => {
            let part = |k: &str| value.and_then(|v| v.get(k)).and_then(Value::as_str).unwrap_or_default().to_owned();
            html! {
                fieldset.address {
                    legend { (field.label.get(lang)) @if field.required { " *" } }
                    label for={ (id) "-street" } { (t(lang, "Số nhà, đường", "Street")) }
                    input id={ (id) "-street" } type="text" name={ (name) ".street" } value=(part("street"));
                    label for={ (id) "-ward" } { (t(lang, "Phường/xã", "Ward")) }
                    input id={ (id) "-ward" } type="text" name={ (name) ".ward" } value=(part("ward"));
                    label for={ (id) "-province" } { (t(lang, "Tỉnh/thành phố", "Province")) }
                    input id={ (id) "-province" } type="text" name={ (name) ".province" } value=(part("province"));
                }
            }
        }
        FieldKind::Group { fields, min_items, max_items } => {
            let filled = value.and_then(Value::as_array).map_or(0, Vec::len);
            let cap = max_items.map_or(MAX_ROWS, |m| (m as usize).min(MAX_ROWS));
            let rows = (filled + SPARE_ROWS).max(min_items.unwrap_or(1) as usize).clamp(1, cap);
            html! {
                fieldset.group {
                    legend { (field.label.get(lang)) @if field.required { " *" } }
                    @for i in 0..rows {
                        fieldset.row {
                            legend { (t(lang, "Dòng", "Row")) " " (i + 1) }
                            @for sub in fields {
                                (input_for(lang, sub, &format!("{name}.{i}.{}", sub.key), value.and_then(|v| v.get(i)).and_then(|r| r.get(&sub.key))))
                            }
                        }
                    }
                }
            }
        }
        FieldKind::Attachment { .. } => html! { (label) },
    }
}

fn intake_page(lang: Lang, staff: &Staff, form: &IntakeForm<'_>) -> Markup {
    let p = form.procedure;
    let title = format!("{}: {}", t(lang, "Tiếp nhận trực tiếp", "Walk-in intake"), p.name);
    frame(
        lang,
        &title,
        Some(staff),
        html! {
            p { a href="/console/intake" { (t(lang, "← Chọn thủ tục khác", "← Another procedure")) } }
            h1 { (title) }
            @if let Some(errors) = form.errors {
                div.problem role="alert" {
                    p { (errors.error.message) }
                    @if !errors.error.fields.is_empty() {
                        ul {
                            @for f in &errors.error.fields {
                                li { (label_of(lang, &p.form.fields, &f.path)) ": " (f.message) }
                            }
                        }
                    }
                }
            }
            form.intake method="post" action="/console/intake" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(staff.csrf);
                input type="hidden" name="key" value=(form.key);
                input type="hidden" name="procedure" value=(p.code);
                input type="hidden" name="form_version" value=(p.form.version);
                fieldset {
                    legend { (t(lang, "Người nộp hồ sơ", "The applicant")) }
                    p.help { (t(lang,
                        "Công dân sẽ thấy hồ sơ trong ứng dụng khi đăng ký hoặc đăng nhập bằng cùng số CCCD và số điện thoại.",
                        "The citizen finds the dossier in the app on registering or signing in with the same citizen id and phone.")) }
                    label for="citizen_id" { (t(lang, "Số CCCD", "Citizen id")) }
                    input #citizen_id type="text" inputmode="numeric" name="citizen_id" value=(form.who.citizen_id) autocomplete="off";
                    label for="phone" { (t(lang, "Số điện thoại", "Phone")) }
                    input #phone type="tel" name="phone" value=(form.who.phone) autocomplete="off";
                    label for="full_name" { (t(lang, "Họ và tên", "Full name")) }
                    input #full_name type="text" name="full_name" value=(form.who.full_name) maxlength="200" autocomplete="off";
                }
                fieldset {
                    legend { (t(lang, "Tờ khai", "The form")) }
                    @for field in &p.form.fields {
                        @let name = format!("v.{}", field.key);
                        @match &field.kind {
                            FieldKind::Attachment { .. } => {
                                @let id = format!("f-{}", field.key);
                                div.paper-input {
                                    label for=(id) { (field.label.get(lang)) @if field.required { " *" } }
                                    @if let Some(papers) = form.kept.get(&field.key) {
                                        ul.files {
                                            @for paper in papers {
                                                li {
                                                    input type="hidden" name={ "a." (field.key) } value=(paper.id);
                                                    (t(lang, "Đã nhận: ", "Received: ")) (paper.file_name)
                                                }
                                            }
                                        }
                                    }
                                    input id=(id) type="file" name={ "f." (field.key) } multiple accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png";
                                }
                            },
                            _ => div.field { (input_for(lang, field, &name, form.values.get(&field.key))) },
                        }
                    }
                }
                button type="submit" { (t(lang, "Tiếp nhận và in phiếu hẹn", "File, receive and print the receipt")) }
            }
        },
    )
}

/// `GET /console/dossiers/{id}/receipt`: the receipt to print and hand over.
pub(super) async fn receipt(
    State(app): State<AppState>,
    headers: HeaderMap,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let shown = async {
        let (row, _) = crate::dossiers::visible(&app, &staff.user, &id).await?;
        let full = crate::dossiers::store::load_full(&app.db, &row, app.clock.now()).await?;
        let snapshot = app.catalogue.held(&app.db).await?;
        let mut papers = Vec::new();
        if let Some(procedure) = snapshot.get(&row.procedure_code) {
            for paper in super::pages::attachment_ids(&procedure.form.fields, &full.values).into_iter().take(50) {
                match crate::attachments::details(&app, &staff.user, &paper).await {
                    Ok(a) => papers.push(a.file_name),
                    Err(ApiError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(receipt_page(lang, &staff, &full, &papers))
    };
    match shown.await {
        Ok(page) => (StatusCode::OK, page).into_response(),
        Err(e) => error_page(lang, e, Some(&staff)),
    }
}

fn receipt_page(lang: Lang, staff: &Staff, d: &motcua_domain::wire::Dossier, papers: &[String]) -> Markup {
    let title = t(lang, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", "Receipt and appointment for the result");
    frame(
        lang,
        title,
        Some(staff),
        html! {
            p.no-print { a href={ "/console/dossiers/" (d.id) } { (t(lang, "← Về hồ sơ", "← Back to the dossier")) } }
            article.receipt {
                h1 { (title) }
                dl.summary {
                    dt { (t(lang, "Mã hồ sơ", "Dossier code")) } dd #receipt-code { (d.code) }
                    dt { (t(lang, "Thủ tục", "Procedure")) } dd { (d.procedure_name) }
                    dt { (t(lang, "Người nộp", "Applicant")) } dd { (d.applicant_name) }
                    dt { (t(lang, "Ngày tiếp nhận", "Received on")) }
                    dd { @if let Some(at) = d.received_at { (local(at)) } @else { "—" } }
                    dt { (t(lang, "Ngày hẹn trả kết quả", "Result due on")) }
                    dd #receipt-due { @if let Some(due) = d.due_date { (due.format("%d/%m/%Y")) } @else { "—" } }
                    dt { (t(lang, "Mã tra cứu", "Tracking verifier")) }
                    dd #receipt-verifier { (d.tracking_verifier.as_deref().unwrap_or("—")) }
                    dt { (t(lang, "Cán bộ tiếp nhận", "Received by")) } dd { (staff.name) }
                }
                @if !papers.is_empty() {
                    h2 { (t(lang, "Giấy tờ đã nhận", "Papers received")) }
                    ul { @for p in papers { li { (p) } } }
                }
                p { (t(lang,
                    "Tra cứu tình trạng hồ sơ trong ứng dụng Một cửa hoặc trên trang tra cứu bằng mã hồ sơ và mã tra cứu.",
                    "Follow the dossier in the Một cửa app, or on the tracking page with the dossier code and the verifier.")) }
            }
            p.no-print { (t(lang, "In phiếu: Ctrl+P (trang in chỉ có phiếu).", "Print: Ctrl+P (only the receipt is printed).")) }
        },
    )
}
