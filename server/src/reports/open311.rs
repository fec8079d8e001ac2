//! Open311 GeoReport v2 under `/open311/v2/`: a face over field reports with no rules of
//! its own. `discovery`, `services`, `services/{service_code}`, `requests` (GET with the
//! standard's filters; POST form-encoded with a partner's `api_key`), `requests/{id}` and
//! `tokens/{token}`, each as `.json` or `.xml`; errors in the standard's shape
//! (`[{"code", "description"}]`, `<errors><error>…`) with its status codes (400, 403, 404).
//!
//! A `service_code` is a category code, a `service_request_id` a report's public code (a
//! token is the report's id: requests are filed at once, so both come back together).
//! Nothing personal is shown: no names, phones or e-mails of anyone.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use motcua_domain::geo::LatLng;
use motcua_domain::reports::{HANOI, HandlingUnit, MAX_TEXT, ReportStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::places::places;
use super::store::{self, Filed, NewReport, ReportRow};
use crate::app::AppState;
use crate::dossiers::store::{calendar, local_date};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(top_get, top_post))
        .routes(routes!(service_definition))
        .routes(routes!(request_one))
        .routes(routes!(token))
}

/// The default and longest window of `GET requests`, and its most rows (the standard's).
const WINDOW_DAYS: i64 = 90;
const MAX_REQUESTS: u32 = 1000;
const MAX_IDS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `name.json` / `name.xml` → (name, format).
fn split_format(file: &str) -> Option<(&str, Format)> {
    if let Some(name) = file.strip_suffix(".json") {
        Some((name, Format::Json))
    } else {
        file.strip_suffix(".xml").map(|name| (name, Format::Xml))
    }
}

/// A value of the answer, rendered as JSON or as the standard's XML.
#[derive(Debug, Clone)]
enum V {
    S(String),
    N(f64),
    I(i64),
    B(bool),
    Null,
    List(&'static str, Vec<V>),
    Obj(Vec<(&'static str, V)>),
}

impl V {
    fn json(&self) -> serde_json::Value {
        match self {
            V::S(s) => serde_json::Value::String(s.clone()),
            V::N(n) => serde_json::json!(n),
            V::I(n) => serde_json::json!(n),
            V::B(b) => serde_json::Value::Bool(*b),
            V::Null => serde_json::Value::Null,
            V::List(_, items) => serde_json::Value::Array(items.iter().map(V::json).collect()),
            V::Obj(fields) => {
                serde_json::Value::Object(fields.iter().map(|(k, v)| ((*k).to_owned(), v.json())).collect())
            }
        }
    }

    fn xml(&self, out: &mut String) {
        match self {
            V::S(s) => escape(s, out),
            V::N(n) => out.push_str(&n.to_string()),
            V::I(n) => out.push_str(&n.to_string()),
            V::B(b) => out.push_str(if *b { "true" } else { "false" }),
            V::Null => {}
            V::List(tag, items) => {
                for item in items {
                    element(tag, item, out);
                }
            }
            V::Obj(fields) => {
                for (k, v) in fields {
                    element(k, v, out);
                }
            }
        }
    }
}

fn element(tag: &str, v: &V, out: &mut String) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    v.xml(out);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// Renders `body` with the XML root `root` (a list's items are its children).
fn render(format: Format, status: StatusCode, root: &'static str, body: &V) -> Response {
    match format {
        Format::Json => (status, axum::Json(body.json())).into_response(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            element(root, body, &mut out);
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"))], out).into_response()
        }
    }
}

/// The standard's error answer.
fn error(format: Format, status: StatusCode, description: &str) -> Response {
    let body = V::List(
        "error",
        vec![V::Obj(vec![("code", V::I(i64::from(status.as_u16()))), ("description", V::S(description.to_owned()))])],
    );
    render(format, status, "errors", &body)
}

fn not_found(format: Format) -> Response {
    error(format, StatusCode::NOT_FOUND, "Không tìm thấy / Not found")
}

fn internal(format: Format, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "open311");
    error(format, StatusCode::INTERNAL_SERVER_ERROR, "Đã có lỗi xảy ra / Internal error")
}

fn pairs(raw: &str) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_str(raw).ok()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

fn services() -> V {
    V::List(
        "service",
        places()
            .categories
            .iter()
            .map(|c| {
                V::Obj(vec![
                    ("service_code", V::S(c.code.clone())),
                    ("service_name", V::S(c.name.clone())),
                    ("description", V::S(c.description.clone())),
                    ("metadata", V::B(false)),
                    ("type", V::S("realtime".to_owned())),
                    ("keywords", V::S(c.name_en.clone())),
                    ("group", V::S(c.group.clone())),
                ])
            })
            .collect(),
    )
}

fn discovery() -> V {
    V::Obj(vec![
        ("changeset", V::S("2026-01-01T00:00:00Z".to_owned())),
        ("contact", V::S("Trung tâm Phục vụ hành chính công Hà Nội, 197 Nghi Tàm, Hà Nội".to_owned())),
        ("key_service", V::S("Khóa api_key do quản trị viên cấp cho ứng dụng đối tác.".to_owned())),
        (
            "endpoints",
            V::List(
                "endpoint",
                vec![V::Obj(vec![
                    ("specification", V::S("http://wiki.open311.org/GeoReport_v2".to_owned())),
                    ("url", V::S("/open311/v2".to_owned())),
                    ("changeset", V::S("2026-01-01T00:00:00Z".to_owned())),
                    ("type", V::S("production".to_owned())),
                    (
                        "formats",
                        V::List("format", vec![V::S("application/json".to_owned()), V::S("text/xml".to_owned())]),
                    ),
                ])],
            ),
        ),
    ])
}

fn time(t: DateTime<Utc>) -> V {
    V::S(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A report as an Open311 service request (nothing personal).
fn request(r: &ReportRow, media: Option<String>) -> V {
    let category = places().category(&r.category_code);
    let status = r.status();
    let notes = match status {
        ReportStatus::Rejected => r.reject_reason().map(|x| x.label(motcua_domain::i18n::Lang::Vi).to_owned()),
        _ => r.response.clone(),
    };
    let agency = match category {
        Some(c) if c.unit == HandlingUnit::Ward => format!("UBND {}", places().ward_name(&r.ward_code)),
        Some(c) => c.unit_name.clone(),
        None => String::new(),
    };
    let expected = r.due_date.and_hms_opt(17, 0, 0).map(|t| t.and_utc() - TimeDelta::hours(7));
    V::Obj(vec![
        ("service_request_id", V::S(r.code.clone())),
        ("status", V::S(if status.is_open() { "open" } else { "closed" }.to_owned())),
        ("status_notes", notes.map(V::S).unwrap_or(V::Null)),
        ("service_name", V::S(category.map(|c| c.name.clone()).unwrap_or_default())),
        ("service_code", V::S(r.category_code.clone())),
        ("description", if r.description_hidden { V::Null } else { V::S(r.description.clone()) }),
        ("agency_responsible", V::S(agency)),
        ("service_notice", V::Null),
        ("requested_datetime", time(r.created_at)),
        ("updated_datetime", time(r.updated_at)),
        ("expected_datetime", expected.map(time).unwrap_or(V::Null)),
        ("address", V::S(r.address.clone())),
        ("address_id", V::Null),
        ("zipcode", V::Null),
        ("lat", V::N(r.lat)),
        ("long", V::N(r.lng)),
        ("media_url", media.map(V::S).unwrap_or(V::Null)),
    ])
}

async fn requests_of(app: &AppState, rows: &[ReportRow]) -> Result<V, sqlx::Error> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let media = store::first_thumbnails(&app.db, &ids).await?;
    Ok(V::List(
        "request",
        rows.iter()
            .map(|r| {
                let url = media
                    .iter()
                    .find(|(rid, _)| *rid == r.id)
                    .map(|(rid, p)| format!("/api/v1/public/reports/{rid}/photos/{p}"));
                request(r, url)
            })
            .collect(),
    ))
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// `GET /open311/v2/{resource}`: `discovery`, `services` or `requests` (`.json`/`.xml`).
#[utoipa::path(get, path = "/open311/v2/{resource}", tag = "open311",
    params(("resource" = String, Path, description = "`discovery`, `services` or `requests`, with `.json` or `.xml`"),
        ("service_request_id" = Option<String>, Query, description = "Report codes, comma separated (overrides the other filters)"),
        ("service_code" = Option<String>, Query, description = "Category codes, comma separated"),
        ("start_date" = Option<String>, Query, description = "W3C date-time; default 90 days before end_date"),
        ("end_date" = Option<String>, Query, description = "W3C date-time; default now; at most 90 days after start_date"),
        ("status" = Option<String>, Query, description = "`open` or `closed` (both by default)"),
        ("jurisdiction_id" = Option<String>, Query, description = "Accepted and ignored: one jurisdiction")),
    responses((status = 200, description = "The standard's answer", body = serde_json::Value),
        (status = 400, description = "A bad parameter, in the standard's error shape", body = serde_json::Value),
        (status = 404, description = "No such resource", body = serde_json::Value)))]
async fn top_get(State(app): State<AppState>, Path(resource): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some((name, format)) = split_format(&resource) else { return not_found(Format::Json) };
    let Some(q) = pairs(query.as_deref().unwrap_or_default()) else {
        return error(format, StatusCode::BAD_REQUEST, "Tham số không đọc được / Unreadable query string");
    };
    match name {
        "discovery" => render(format, StatusCode::OK, "discovery", &discovery()),
        "services" => render(format, StatusCode::OK, "services", &services()),
        "requests" => match list_requests(&app, &q).await {
            Ok(Ok(body)) => render(format, StatusCode::OK, "service_requests", &body),
            Ok(Err(bad)) => error(format, StatusCode::BAD_REQUEST, &bad),
            Err(e) => internal(format, e),
        },
        _ => not_found(format),
    }
}

async fn list_requests(app: &AppState, q: &[(String, String)]) -> Result<Result<V, String>, sqlx::Error> {
    if let Some(ids) = param(q, "service_request_id") {
        let codes: Vec<String> = ids.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if codes.len() > MAX_IDS {
            return Ok(Err(format!("service_request_id: tối đa {MAX_IDS} mã / at most {MAX_IDS} ids")));
        }
        let rows = store::for_open311(&app.db, &codes, None, &[], Utc::now(), Utc::now(), MAX_REQUESTS).await?;
        return requests_of(app, &rows).await.map(Ok);
    }
    let now = app.clock.now();
    let end = match param(q, "end_date") {
        Some(raw) => match parse_time(raw) {
            Some(t) => t,
            None => return Ok(Err("end_date: cần ngày giờ W3C / a W3C date-time is expected".to_owned())),
        },
        None => now,
    };
    let start = match param(q, "start_date") {
        Some(raw) => match parse_time(raw) {
            Some(t) => t,
            None => return Ok(Err("start_date: cần ngày giờ W3C / a W3C date-time is expected".to_owned())),
        },
        None => end - TimeDelta::days(WINDOW_DAYS),
    };
    if start > end || end - start > TimeDelta::days(WINDOW_DAYS) {
        return Ok(Err(format!(
            "start_date: khoảng thời gian tối đa {WINDOW_DAYS} ngày / the range may not span more than {WINDOW_DAYS} days"
        )));
    }
    let statuses: Vec<ReportStatus> = match param(q, "status") {
        None => ReportStatus::ALL.to_vec(),
        Some(raw) => {
            let mut out = Vec::new();
            for s in raw.split(',').map(str::trim) {
                match s {
                    "open" => out.extend(ReportStatus::open()),
                    "closed" => out.extend(ReportStatus::ALL.into_iter().filter(|s| !s.is_open())),
                    _ => return Ok(Err("status: chỉ nhận open hoặc closed / open or closed".to_owned())),
                }
            }
            out
        }
    };
    let codes: Vec<String> = param(q, "service_code")
        .map(|raw| raw.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if let Some(bad) = codes.iter().find(|c| places().category(c).is_none()) {
        return Ok(Err(format!("service_code: không có dịch vụ {bad} / unknown service {bad}")));
    }
    let mut rows = Vec::new();
    if codes.is_empty() {
        rows = store::for_open311(&app.db, &[], None, &statuses, start, end, MAX_REQUESTS).await?;
    } else {
        for code in &codes {
            rows.extend(store::for_open311(&app.db, &[], Some(code), &statuses, start, end, MAX_REQUESTS).await?);
        }
        rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        rows.truncate(MAX_REQUESTS as usize);
    }
    requests_of(app, &rows).await.map(Ok)
}

/// `POST /open311/v2/requests.json|xml`: a partner app files a request, form-encoded, with
/// its `api_key`, `service_code`, `lat`, `long` and `description` (also `address_string`,
/// `media_url` ignored; no personal fields are kept).
#[utoipa::path(post, path = "/open311/v2/{resource}", tag = "open311",
    params(("resource" = String, Path, description = "`requests.json` or `requests.xml`")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "api_key, service_code, lat, long, description, address_string"),
    responses((status = 201, description = "Filed: `service_request_id` and `token`", body = serde_json::Value),
        (status = 400, description = "A missing or bad field, in the standard's error shape", body = serde_json::Value),
        (status = 403, description = "A missing or unknown api_key", body = serde_json::Value),
        (status = 404, description = "No such resource", body = serde_json::Value)))]
async fn top_post(State(app): State<AppState>, Path(resource): Path<String>, body: Bytes) -> Response {
    let Some(("requests", format)) = split_format(&resource) else {
        return not_found(split_format(&resource).map(|(_, f)| f).unwrap_or(Format::Json));
    };
    let Some(form) = std::str::from_utf8(&body).ok().and_then(pairs) else {
        return error(format, StatusCode::BAD_REQUEST, "Nội dung không đọc được / Unreadable form body");
    };
    if form.iter().any(|(k, v)| crate::extract::has_control_character(k) || crate::extract::has_control_character(v)) {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "Ký tự điều khiển không được phép / Control characters are not allowed",
        );
    }
    let Some(key) = param(&form, "api_key") else {
        return error(format, StatusCode::FORBIDDEN, "api_key: thiếu khóa / missing api_key");
    };
    let partner = match store::partner_by_hash(&app.db, &super::key_hash(key)).await {
        Ok(Some(p)) => p,
        Ok(None) => return error(format, StatusCode::FORBIDDEN, "api_key: khóa không hợp lệ / invalid api_key"),
        Err(e) => return internal(format, e),
    };
    let Some(category) = param(&form, "service_code").and_then(|c| places().category(c)) else {
        return error(format, StatusCode::BAD_REQUEST, "service_code: thiếu hoặc không tồn tại / missing or unknown");
    };
    let lat = param(&form, "lat").and_then(|v| v.trim().parse::<f64>().ok());
    let lng = param(&form, "long").and_then(|v| v.trim().parse::<f64>().ok());
    let Some(point) = lat.zip(lng).and_then(|(lat, lng)| LatLng::new(lat, lng)) else {
        return error(format, StatusCode::BAD_REQUEST, "lat/long: cần tọa độ WGS84 / WGS84 coordinates are required");
    };
    if !HANOI.contains(point) {
        return error(format, StatusCode::BAD_REQUEST, "lat/long: ngoài địa bàn Hà Nội / outside Hanoi's area");
    }
    let description = param(&form, "description").map(str::trim).unwrap_or_default().to_owned();
    if description.chars().count() < 10 || description.chars().count() > MAX_TEXT {
        return error(format, StatusCode::BAD_REQUEST, "description: từ 10 đến 2000 ký tự / 10 to 2000 characters");
    }
    let address: String = param(&form, "address_string").unwrap_or_default().trim().chars().take(300).collect();
    let Some(ward) = places().route(point) else {
        return error(format, StatusCode::BAD_REQUEST, "lat/long: ngoài địa bàn Hà Nội / outside Hanoi's area");
    };
    let now = app.clock.now();
    let new = NewReport {
        id: Uuid::now_v7(),
        reporter_id: None,
        partner_key_id: Some(partner),
        category_code: category.code.clone(),
        description,
        ward_code: ward.code.clone(),
        at: point,
        address,
        hide_identity: true,
        due_date: motcua_domain::reports::due_date(calendar(), local_date(now), category.deadline_days),
        now,
        photos: Vec::new(),
        idempotency: None,
        claim: None,
    };
    let filed =
        store::insert(&app.db, &new, |code| super::notice(code, "filed", ReportStatus::Received, None, true)).await;
    let id = match filed {
        Ok(Filed::New(id)) => id,
        Ok(other) => return internal(format, format!("a partner's filing answered {other:?}")),
        Err(e) => return internal(format, e),
    };
    let row = match store::find(&app.db, id).await {
        Ok(Some(row)) => row,
        Ok(None) => return internal(format, "a report just filed is gone"),
        Err(e) => return internal(format, e),
    };
    let body = V::List(
        "request",
        vec![V::Obj(vec![
            ("service_request_id", V::S(row.code)),
            ("token", V::S(row.id.to_string())),
            ("service_notice", V::S(format!("Thời hạn trả lời: {} ngày làm việc.", category.deadline_days))),
            ("account_id", V::Null),
        ])],
    );
    render(format, StatusCode::CREATED, "service_requests", &body)
}

/// `GET /open311/v2/services/{service_code}.json|xml`: the service's definition (no
/// extra attributes are asked).
#[utoipa::path(get, path = "/open311/v2/services/{file}", tag = "open311",
    params(("file" = String, Path, description = "`{service_code}.json` or `.xml`")),
    responses((status = 200, description = "The service definition", body = serde_json::Value), (status = 404, description = "No such service", body = serde_json::Value)))]
async fn service_definition(Path(file): Path<String>) -> Response {
    let Some((code, format)) = split_format(&file) else { return not_found(Format::Json) };
    match places().category(code) {
        Some(c) => render(
            format,
            StatusCode::OK,
            "service_definition",
            &V::Obj(vec![("service_code", V::S(c.code.clone())), ("attributes", V::List("attribute", Vec::new()))]),
        ),
        None => not_found(format),
    }
}

/// `GET /open311/v2/requests/{service_request_id}.json|xml`.
#[utoipa::path(get, path = "/open311/v2/requests/{file}", tag = "open311",
    params(("file" = String, Path, description = "`{service_request_id}.json` or `.xml`")),
    responses((status = 200, description = "A list of one request", body = serde_json::Value), (status = 404, description = "No such request", body = serde_json::Value)))]
async fn request_one(State(app): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((code, format)) = split_format(&file) else { return not_found(Format::Json) };
    match store::find_by_code(&app.db, code).await {
        Ok(Some(row)) => match requests_of(&app, std::slice::from_ref(&row)).await {
            Ok(body) => render(format, StatusCode::OK, "service_requests", &body),
            Err(e) => internal(format, e),
        },
        Ok(None) => not_found(format),
        Err(e) => internal(format, e),
    }
}

/// `GET /open311/v2/tokens/{token}.json|xml`: the request a token became.
#[utoipa::path(get, path = "/open311/v2/tokens/{file}", tag = "open311",
    params(("file" = String, Path, description = "`{token}.json` or `.xml`")),
    responses((status = 200, description = "The token and its service_request_id", body = serde_json::Value), (status = 404, description = "No such token", body = serde_json::Value)))]
async fn token(State(app): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((token, format)) = split_format(&file) else { return not_found(Format::Json) };
    let Ok(id) = Uuid::parse_str(token) else { return not_found(format) };
    match store::find(&app.db, id).await {
        Ok(Some(row)) => render(
            format,
            StatusCode::OK,
            "service_requests",
            &V::List(
                "request",
                vec![V::Obj(vec![("service_request_id", V::S(row.code)), ("token", V::S(row.id.to_string()))])],
            ),
        ),
        Ok(None) => not_found(format),
        Err(e) => internal(format, e),
    }
}
