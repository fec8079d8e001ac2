//! Field reports (phản ánh hiện trường): filing with photos and a place (idempotent,
//! within the hourly quota), routing to the ward, the nearby check before filing, the
//! officers' handling over the domain's state machine (`motcua_domain::reports`),
//! following reports and places, moderation, figures, the public map and the Open311
//! face (`open311`).
//!
//! Who sees what: any signed-in person may read a report (reports are public matters), but
//! the reporter's name only its reporter and staff; an officer of a ward service point
//! handles the reports of that ward, other officers (the centre's) and admins every
//! ward's. A photo is served only as stored: without its metadata.

pub mod open311;
pub mod places;
pub mod public;
pub mod store;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::geo::LatLng;
use motcua_domain::i18n::Lang;
use motcua_domain::reports::{
    Evidence, HANOI, MAX_PHOTOS, MAX_TEXT, MIN_PHOTOS, REPORTER_WINDOW, ReportAction, ReportError, ReportStatus,
    is_overdue, transition,
};
use motcua_domain::wire::reports::{
    FollowPlace, ModerateReport, NearbyReport, NearbyReports, NewPartnerKey, PartnerKey, PlaceFollow, RateReport,
    Report, ReportActionRequest, ReportCategory, ReportEvent, ReportPage, ReportPhoto, ReportStats, ReportStatsRow,
    ReportSummary, SubmitReport,
};
use motcua_domain::wire::{ErrorBody, Role};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use self::places::places;
use self::store::{Actor, Filed, Move, NewPhoto, NewReport, Notice, ReportRow, Scope};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::dossiers::store::{calendar, local_date};
use crate::error::{ApiError, ApiResult, Conflict};
use crate::extract::{ApiJson, ApiQuery, ParamErrors};
use crate::quotas::{Claim, Quota};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(categories))
        .routes(routes!(file_report))
        .routes(routes!(nearby))
        .routes(routes!(mine))
        .routes(routes!(followed))
        .routes(routes!(queue))
        .routes(routes!(get_report))
        .routes(routes!(take_action))
        .routes(routes!(rate))
        .routes(routes!(follow, unfollow))
        .routes(routes!(moderate))
        .routes(routes!(follow_place, list_places))
        .routes(routes!(unfollow_place))
        .routes(routes!(stats))
        .routes(routes!(issue_partner_key))
        .merge(public::router())
}

/// Shortest description, in characters.
const MIN_DESCRIPTION: usize = 10;
/// Longest address text and moderation reason.
const MAX_ADDRESS: usize = 300;
/// Longest list page.
const MAX_PAGE: u32 = 100;

/// The categories citizens choose from.
#[utoipa::path(get, path = "/api/v1/report-categories", tag = "reports",
    responses((status = 200, body = Vec<ReportCategory>)))]
async fn categories() -> axum::Json<Vec<ReportCategory>> {
    axum::Json(places().categories.clone())
}

fn text_len(s: &str) -> usize {
    s.chars().count()
}

/// Checks a point: in range and inside the city's area, naming `lat`/`lng` (with a prefix
/// for nested fields).
fn check_point(lat: f64, lng: f64, errors: &mut Vec<FieldError>) -> Option<LatLng> {
    let Some(p) = LatLng::new(lat, lng) else {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            errors.push(FieldError::new("lat", FieldErrorCode::Invalid));
        }
        if !(lng.is_finite() && (-180.0..=180.0).contains(&lng)) {
            errors.push(FieldError::new("lng", FieldErrorCode::Invalid));
        }
        return None;
    };
    let mut inside = true;
    if !(HANOI.min_lat..=HANOI.max_lat).contains(&lat) {
        errors.push(FieldError::new("lat", FieldErrorCode::OutsideServiceArea));
        inside = false;
    }
    if !(HANOI.min_lng..=HANOI.max_lng).contains(&lng) {
        errors.push(FieldError::new("lng", FieldErrorCode::OutsideServiceArea));
        inside = false;
    }
    inside.then_some(p)
}

/// Distinct attachment ids at `path[i]`, each a UUID; problems named. The same id twice
/// counts once: two photos that differ only in their metadata are the same stored file.
fn parse_ids(path: &str, raw: &[String], errors: &mut Vec<FieldError>) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match Uuid::parse_str(r.trim()) {
            Ok(id) if ids.contains(&id) => {}
            Ok(id) => ids.push(id),
            Err(_) => errors.push(FieldError::new(format!("{path}[{i}]"), FieldErrorCode::Invalid)),
        }
    }
    ids
}

/// The caller's photos among `ids` made ready for a report: each must be the caller's, a
/// JPEG/PNG/WebP that parsed and lost its metadata when stored (its thumbnail was made
/// then). A photo stored before thumbnails were made at upload is checked and given one
/// here.
async fn prepare_photos(
    app: &AppState,
    owner: Uuid,
    path: &str,
    ids: &[Uuid],
    errors: &mut Vec<FieldError>,
) -> ApiResult<Vec<NewPhoto>> {
    let owned = store::owned_photos(&app.db, owner, ids).await?;
    let mut photos = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let Some(owned) = owned.iter().find(|a| a.id == *id) else {
            errors.push(FieldError::new(at, FieldErrorCode::UnknownAttachment));
            continue;
        };
        if !owned.content_type.starts_with("image/") {
            errors.push(FieldError::new(at, FieldErrorCode::InvalidFileType));
            continue;
        }
        if let (Some(thumb), Some(size)) = (&owned.thumb_sha256, owned.thumb_size) {
            photos.push(NewPhoto { attachment_id: *id, thumb_sha256: thumb.clone(), thumb_size: size });
            continue;
        }
        let Some(bytes) = app.blobs.get(&owned.sha256).await? else {
            return Err(ApiError::internal("a report photo's stored file is missing"));
        };
        let made = tokio::task::spawn_blocking(move || {
            let clean = crate::images::strip(&bytes).is_ok_and(|c| c.len() == bytes.len());
            if clean { crate::images::thumbnail(&bytes).ok() } else { None }
        })
        .await
        .map_err(|e| anyhow::anyhow!("thumbnail task: {e}"))?;
        let Some(thumb) = made else {
            errors.push(FieldError::new(at, FieldErrorCode::InvalidFileType));
            continue;
        };
        let (thumb_sha256, thumb_size) = crate::attachments::store_thumbnail(app, &thumb).await?;
        photos.push(NewPhoto { attachment_id: *id, thumb_sha256, thumb_size });
    }
    Ok(photos)
}

/// The notice of a status change (or of a new report), in both languages.
fn notice(code: &str, action: &str, to: ReportStatus, extra: Option<&str>, places_too: bool) -> Notice {
    let (body_vi, body_en) = match action {
        "filed" => (
            "Phản ánh mới đã được tiếp nhận và chuyển đến đơn vị xử lý.".to_owned(),
            "A new report was received and sent to the unit that handles it.".to_owned(),
        ),
        "move_ward" => (
            "Phản ánh đã được chuyển đến phường/xã khác để xử lý.".to_owned(),
            "The report was moved to another ward.".to_owned(),
        ),
        "resolve" => (
            "Phản ánh đã được xử lý xong, kèm ảnh sau xử lý. Bạn có 7 ngày để đánh giá hoặc mở lại.".to_owned(),
            "The report was resolved, with photos after the work. You have 7 days to rate or reopen it.".to_owned(),
        ),
        "reject" => ("Phản ánh không được xử lý.".to_owned(), "The report was rejected.".to_owned()),
        "reopen" => (
            "Người phản ánh cho biết vấn đề chưa được khắc phục; phản ánh được mở lại.".to_owned(),
            "The reporter says the problem is not fixed; the report was reopened.".to_owned(),
        ),
        _ => (format!("Trạng thái mới: {}.", to.label(Lang::Vi)), format!("New status: {}.", to.label(Lang::En))),
    };
    let (body_vi, body_en) = match extra.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => (format!("{body_vi} {e}"), format!("{body_en} {e}")),
        None => (body_vi, body_en),
    };
    Notice {
        title_vi: format!("Phản ánh {code}: {}", to.label(Lang::Vi)),
        title_en: format!("Report {code}: {}", to.label(Lang::En)),
        body_vi,
        body_en,
        places_too,
    }
}

/// File a report. Send an `Idempotency-Key` made when the citizen pressed "send": a retry
/// with the same key and body returns the same report, never a second. Photos are
/// attachment ids from the resumable upload (their metadata was removed when stored).
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", request_body = SubmitReport, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per report, 1-200 characters")),
    responses(
        (status = 201, description = "Filed and routed to its ward", body = Report),
        (status = 200, description = "A retry with the same key: the same report", body = Report),
        (status = 401, body = ErrorBody), (status = 403, description = "Staff cannot file reports", body = ErrorBody),
        (status = 409, description = "The key was used with a different body", body = ErrorBody),
        (status = 422, description = "Every field error at once (outside the city: `lat`/`lng`)", body = ErrorBody),
        (status = 429, description = "The account's hourly allowance of reports is used up", body = ErrorBody),
    ))]
async fn file_report(
    State(app): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    user.require(&[Role::Citizen])?;
    let key = crate::extract::idempotency_key(&headers)?;
    let hash = crate::dossiers::store::request_hash(&raw);
    if let Some(response) = replay(&app, &user, &key, &hash).await? {
        return Ok(response);
    }
    let req: SubmitReport = crate::extract::parse_value(raw)?;
    let mut errors = Vec::new();
    let category = places().category(&req.category);
    if category.is_none() {
        errors.push(FieldError::new("category", FieldErrorCode::InvalidOption));
    }
    let description = req.description.trim().to_owned();
    if text_len(&description) < MIN_DESCRIPTION {
        errors.push(FieldError::new("description", FieldErrorCode::TooShort).with_limit(MIN_DESCRIPTION));
    } else if text_len(&description) > MAX_TEXT {
        errors.push(FieldError::new("description", FieldErrorCode::TooLong).with_limit(MAX_TEXT));
    }
    let address = req.address.trim().to_owned();
    if text_len(&address) > MAX_ADDRESS {
        errors.push(FieldError::new("address", FieldErrorCode::TooLong).with_limit(MAX_ADDRESS));
    }
    if req.photos.len() < MIN_PHOTOS {
        errors.push(FieldError::new("photos", FieldErrorCode::TooFewItems).with_limit(MIN_PHOTOS));
    } else if req.photos.len() > MAX_PHOTOS {
        errors.push(FieldError::new("photos", FieldErrorCode::TooManyItems).with_limit(MAX_PHOTOS));
    }
    let point = check_point(req.lat, req.lng, &mut errors);
    let ids = if req.photos.len() <= MAX_PHOTOS { parse_ids("photos", &req.photos, &mut errors) } else { Vec::new() };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let photos = prepare_photos(&app, user.id, "photos", &ids, &mut errors).await?;
    let (Some(category), Some(point)) = (category, point) else {
        return Err(ApiError::internal("a checked report lost its category or place"));
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let ward = places().route(point).ok_or_else(|| ApiError::field("lat", FieldErrorCode::OutsideServiceArea))?;
    let now = app.clock.now();
    let new = NewReport {
        id: Uuid::now_v7(),
        reporter_id: Some(user.id),
        partner_key_id: None,
        category_code: category.code.clone(),
        description,
        ward_code: ward.code.clone(),
        at: point,
        address,
        hide_identity: req.hide_identity,
        due_date: motcua_domain::reports::due_date(calendar(), local_date(now), category.deadline_days),
        now,
        photos,
        idempotency: Some((key.clone(), hash.clone())),
        claim: Some(Claim {
            quota: Quota::ReportsPerHour,
            amount: 1,
            cap: u64::from(app.config.quotas.reports_per_hour),
        }),
    };
    let filed = store::insert(&app.db, &new, |code| notice(code, "filed", ReportStatus::Received, None, true)).await;
    let id = match filed {
        Ok(Filed::New(id)) => id,
        Ok(Filed::Replayed(_) | Filed::KeyConflict) => {
            return replay(&app, &user, &key, &hash).await?.ok_or(ApiError::Conflict(Conflict::IdempotencyConflict));
        }
        Ok(Filed::QuotaRefused) => return Err(new.claim.map(|c| c.refused(now)).unwrap_or(ApiError::Internal)),
        // A concurrent retry with the same key won the race.
        Err(e) if crate::db::is_unique_violation(&e) => {
            return replay(&app, &user, &key, &hash).await?.ok_or(ApiError::Conflict(Conflict::IdempotencyConflict));
        }
        Err(e) if crate::db::is_foreign_key_violation(&e) => {
            return Err(ApiError::field("photos", FieldErrorCode::UnknownAttachment));
        }
        Err(e) => return Err(e.into()),
    };
    metrics::counter!("motcua_reports_filed_total").increment(1);
    let row = store::find(&app.db, id).await?.ok_or_else(|| ApiError::internal("a report just filed is gone"))?;
    Ok((StatusCode::CREATED, axum::Json(view(&app, &row, Some(&user), now).await?)).into_response())
}

/// The report an idempotency key already filed (409 if the body differs).
async fn replay(app: &AppState, user: &AuthUser, key: &str, hash: &str) -> ApiResult<Option<Response>> {
    let found: Option<(String, Uuid)> = crate::on_db!(&app.db, read, pool => {
        sqlx::query_as("SELECT request_hash, report_id FROM report_idempotency WHERE owner_id = $1 AND key = $2")
            .bind(user.id).bind(key.to_owned()).fetch_optional(pool).await
    })?;
    let Some((stored, id)) = found else { return Ok(None) };
    if stored != hash {
        return Err(ApiError::Conflict(Conflict::IdempotencyConflict));
    }
    let row =
        store::find(&app.db, id).await?.ok_or_else(|| ApiError::internal("an idempotency key names a lost report"))?;
    Ok(Some((StatusCode::OK, axum::Json(view(app, &row, Some(user), app.clock.now()).await?)).into_response()))
}

/// Whether `user` handles reports of `ward`: admins and the centre's officers every
/// ward; an officer of a ward service point that ward only; agencies' officers none
/// (they handle the dossiers forwarded to them).
async fn handles(app: &AppState, user: &AuthUser, ward: &str) -> ApiResult<bool> {
    Ok(match user.role {
        Role::Admin => true,
        Role::Citizen | Role::AgencyOfficer => false,
        Role::Officer => match officer_ward(app, user).await? {
            Some(own) => own == ward,
            None => true,
        },
    })
}

/// The ward of an officer's branch when it is a ward service point (`None`: the centre).
async fn officer_ward(app: &AppState, user: &AuthUser) -> ApiResult<Option<String>> {
    let branches = app.branches.get(&app.db).await?;
    let branch = user.branch.as_deref().and_then(|code| branches.iter().find(|b| b.code == code));
    Ok(branch.filter(|b| store::is_ward_point(b)).and_then(|b| b.ward_code.clone()))
}

fn photo_url(report: Uuid, photo: Uuid, thumbnail: bool) -> String {
    let size = if thumbnail { "?size=thumbnail" } else { "" };
    format!("/api/v1/public/reports/{report}/photos/{photo}{size}")
}

/// What a hidden description shows to anyone but staff.
fn hidden_text(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "Nội dung đã bị ẩn do vi phạm quy định.",
        Lang::En => "This text was hidden by a moderator.",
    }
}

/// A report as `caller` may see it.
async fn view(app: &AppState, row: &ReportRow, caller: Option<&AuthUser>, now: DateTime<Utc>) -> ApiResult<Report> {
    let staff = caller.is_some_and(|u| matches!(u.role, Role::Officer | Role::Admin));
    let mine = caller.is_some_and(|u| row.reporter_id == Some(u.id));
    let photos = store::photos(&app.db, row.id).await?;
    let events = store::events(&app.db, row.id).await?;
    let following = match caller {
        Some(u) => store::is_following(&app.db, row.id, u.id).await?,
        None => false,
    };
    let reporter_name = match (staff || mine, row.reporter_id) {
        (true, Some(id)) => crate::auth::find_user(&app.db, id).await?.map(|a| a.full_name),
        _ => None,
    };
    let lang = crate::error::current_lang();
    let category = places().category(&row.category_code);
    let status = row.status();
    Ok(Report {
        id: row.id.to_string(),
        code: row.code.clone(),
        category: row.category_code.clone(),
        category_name: category
            .map(|c| if lang == Lang::En { c.name_en.clone() } else { c.name.clone() })
            .unwrap_or_default(),
        description: if row.description_hidden && !staff {
            hidden_text(lang).to_owned()
        } else {
            row.description.clone()
        },
        description_hidden: row.description_hidden,
        status,
        reject_reason: row.reject_reason(),
        ward_code: row.ward_code.clone(),
        ward_name: places().ward_name(&row.ward_code),
        unit: category.map(|c| c.unit).unwrap_or(motcua_domain::reports::HandlingUnit::Ward),
        lat: row.lat,
        lng: row.lng,
        address: row.address.clone(),
        hide_identity: row.hide_identity,
        reporter_name,
        photos: photos
            .iter()
            .filter(|p| staff || !p.hidden)
            .map(|p| ReportPhoto {
                id: p.id.to_string(),
                stage: p.stage.clone(),
                url: photo_url(row.id, p.id, false),
                thumbnail_url: photo_url(row.id, p.id, true),
                hidden: p.hidden,
            })
            .collect(),
        response: row.response.clone(),
        rating: row.rating_score.and_then(|s| u8::try_from(s).ok()),
        due_date: row.due_date,
        overdue: is_overdue(status, row.due_date, local_date(now)),
        created_at: row.created_at,
        updated_at: row.updated_at,
        resolved_at: row.resolved_at,
        reporter_window_until: row
            .resolved_at
            .filter(|_| status == ReportStatus::Resolved)
            .map(|r| r + REPORTER_WINDOW),
        followers: u64::try_from(row.followers).unwrap_or_default(),
        following,
        mine,
        timeline: events
            .into_iter()
            .map(|e| ReportEvent {
                at: e.at,
                action: e.action,
                status: ReportStatus::parse(&e.to_status).unwrap_or(ReportStatus::Received),
                actor_role: e.actor_role,
                note: e.note,
            })
            .collect(),
    })
}

async fn visible(app: &AppState, raw_id: &str) -> ApiResult<ReportRow> {
    let id = Uuid::parse_str(raw_id).map_err(|_| ApiError::NotFound)?;
    store::find(&app.db, id).await?.ok_or(ApiError::NotFound)
}

/// A report.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_report(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Report>> {
    let row = visible(&app, &id).await?;
    Ok(axum::Json(view(&app, &row, Some(&user), app.clock.now()).await?))
}

/// Query of `GET /api/v1/reports/nearby`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearbyQuery {
    lat: Option<String>,
    lng: Option<String>,
    /// A category code (see `/api/v1/report-categories`).
    category: Option<String>,
}

/// Before filing: open reports of the same category within 250 m, filed in the last 30
/// days, nearest first (at most 20), so the citizen can follow one instead.
#[utoipa::path(get, path = "/api/v1/reports/nearby", tag = "reports", params(NearbyQuery),
    responses((status = 200, body = NearbyReports), (status = 422, body = ErrorBody)))]
async fn nearby(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<NearbyQuery>,
) -> ApiResult<axum::Json<NearbyReports>> {
    let mut params = ParamErrors::default();
    let lat: Option<f64> = params.parse("lat", &q.lat);
    let lng: Option<f64> = params.parse("lng", &q.lng);
    if q.lat.is_none() {
        params.0.push(FieldError::new("lat", FieldErrorCode::Required));
    }
    if q.lng.is_none() {
        params.0.push(FieldError::new("lng", FieldErrorCode::Required));
    }
    let category = q.category.as_deref().and_then(|c| places().category(c));
    if category.is_none() {
        let code = if q.category.is_none() { FieldErrorCode::Required } else { FieldErrorCode::InvalidOption };
        params.0.push(FieldError::new("category", code));
    }
    let mut errors = params.0;
    let point = match (lat, lng) {
        (Some(lat), Some(lng)) => check_point(lat, lng, &mut errors),
        _ => None,
    };
    let (Some(point), Some(category), true) = (point, category, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let found = store::nearby(&app.db, &category.code, point, app.clock.now(), 20).await?;
    let ids: Vec<Uuid> = found.iter().map(|(r, _)| r.id).collect();
    let thumbs = store::first_thumbnails(&app.db, &ids).await?;
    let lang = crate::error::current_lang();
    let items = found
        .into_iter()
        .map(|(r, d)| NearbyReport {
            thumbnail_url: thumbs.iter().find(|(rid, _)| *rid == r.id).map(|(rid, p)| photo_url(*rid, *p, true)),
            id: r.id.to_string(),
            code: r.code,
            category: r.category_code,
            status: ReportStatus::parse(&r.status).unwrap_or(ReportStatus::Received),
            description: if r.description_hidden { hidden_text(lang).to_owned() } else { r.description },
            distance_m: d.round() as u32,
            created_at: r.created_at,
            followers: u64::try_from(r.followers).unwrap_or_default(),
        })
        .collect();
    Ok(axum::Json(NearbyReports { items }))
}

/// Query of the lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` of the previous page.
    after: Option<String>,
    /// Rows per page, 1-100 (default 20).
    limit: Option<String>,
    /// Queue only (admins and the centre's officers): one ward's.
    ward: Option<String>,
}

fn page_params(q: &PageQuery) -> ApiResult<(Option<store::Cursor>, u32)> {
    let mut params = ParamErrors::default();
    let limit: u32 = params.parse("limit", &q.limit).unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&limit) {
        params.push("limit", FieldErrorCode::TooLarge, MAX_PAGE);
    }
    let after = match q.after.as_deref() {
        Some(token) => {
            let c = store::Cursor::decode(token);
            if c.is_none() {
                params.0.push(FieldError::new("after", FieldErrorCode::Invalid));
            }
            c
        }
        None => None,
    };
    params.finish()?;
    Ok((after, limit))
}

async fn page(app: &AppState, scope: Scope, q: &PageQuery) -> ApiResult<ReportPage> {
    let (after, limit) = page_params(q)?;
    let queue = matches!(scope, Scope::Ward(_) | Scope::City);
    let (rows, more) = store::list(&app.db, &scope, after.as_ref(), limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let thumbs = store::first_thumbnails(&app.db, &ids).await?;
    let today = local_date(app.clock.now());
    let lang = crate::error::current_lang();
    let next = if more { rows.last().map(|r| r.cursor(queue).encode()) } else { None };
    let items = rows
        .into_iter()
        .map(|r| {
            let status = ReportStatus::parse(&r.status).unwrap_or(ReportStatus::Received);
            ReportSummary {
                thumbnail_url: thumbs.iter().find(|(rid, _)| *rid == r.id).map(|(rid, p)| photo_url(*rid, *p, true)),
                id: r.id.to_string(),
                code: r.code,
                category: r.category_code,
                status,
                ward_code: r.ward_code,
                description: if r.description_hidden && !queue { hidden_text(lang).to_owned() } else { r.description },
                lat: r.lat,
                lng: r.lng,
                due_date: r.due_date,
                overdue: is_overdue(status, r.due_date, today),
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        })
        .collect();
    Ok(ReportPage { items, next })
}

/// The caller's reports, newest first.
#[utoipa::path(get, path = "/api/v1/reports/mine", tag = "reports", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = ReportPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn mine(
    State(app): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<ReportPage>> {
    Ok(axum::Json(page(&app, Scope::Mine(user.id), &q).await?))
}

/// Reports the caller follows, newest first.
#[utoipa::path(get, path = "/api/v1/reports/followed", tag = "reports", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = ReportPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn followed(
    State(app): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<ReportPage>> {
    Ok(axum::Json(page(&app, Scope::Followed(user.id), &q).await?))
}

/// Staff: the open reports to handle, overdue first (earliest due date first), paged by
/// key. An officer of a ward service point sees that ward's; others every ward's (or
/// `ward=`).
#[utoipa::path(get, path = "/api/v1/reports/queue", tag = "reports", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = ReportPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn queue(
    State(app): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<ReportPage>> {
    Ok(axum::Json(staff_queue(&app, &user, &q).await?))
}

/// The queue `user` handles (the API's and the web console's): a ward service point's
/// officer their ward's, others every ward's or the ward asked for.
async fn staff_queue(app: &AppState, user: &AuthUser, q: &PageQuery) -> ApiResult<ReportPage> {
    user.require(&[Role::Officer, Role::Admin])?;
    let own = if user.role == Role::Officer { officer_ward(app, user).await? } else { None };
    let scope = match (own, q.ward.as_deref().filter(|w| !w.is_empty())) {
        (Some(own), _) => Scope::Ward(own),
        (None, Some(w)) if places().ward(w).is_some() => Scope::Ward(w.to_owned()),
        (None, Some(_)) => return Err(ApiError::field("ward", FieldErrorCode::InvalidOption)),
        (None, None) => Scope::City,
    };
    page(app, scope, q).await
}

/// The web console's queue: a page after `after`, of `ward` when the caller may choose.
pub(crate) async fn console_queue(
    app: &AppState,
    user: &AuthUser,
    after: Option<&str>,
    ward: Option<&str>,
) -> ApiResult<ReportPage> {
    let q = PageQuery { after: after.map(str::to_owned), limit: Some("25".to_owned()), ward: ward.map(str::to_owned) };
    staff_queue(app, user, &q).await
}

/// A report as a member of staff who handles its ward sees it (others: not found).
pub(crate) async fn staff_view(app: &AppState, user: &AuthUser, raw_id: &str) -> ApiResult<Report> {
    user.require(&[Role::Officer, Role::Admin])?;
    let row = visible(app, raw_id).await?;
    if !handles(app, user, &row.ward_code).await? {
        return Err(ApiError::NotFound);
    }
    view(app, &row, Some(user), app.clock.now()).await
}

/// The API error of a refused move, naming the field to fix.
fn refusal(e: ReportError) -> ApiError {
    match e {
        ReportError::Illegal { from, action } => ApiError::IllegalReportMove { from, action },
        ReportError::Forbidden { .. } => ApiError::Forbidden,
        ReportError::MissingResponse => ApiError::field("response", FieldErrorCode::Required),
        ReportError::MissingAfterPhoto => ApiError::Validation(vec![
            FieldError::new("after_photos", FieldErrorCode::TooFewItems).with_limit(MIN_PHOTOS),
        ]),
        ReportError::MissingReason => ApiError::field("reason", FieldErrorCode::Required),
        ReportError::WindowClosed => ApiError::Conflict(Conflict::ReporterWindowClosed),
    }
}

/// Take an action: staff `assign`, `start`, `resolve` (a `response` and at least one
/// `after_photos`), `reject` (a `reason`), `move_ward` (a `ward_code`); the reporter
/// `reopen` (within 7 days of the resolution). The reporter and every follower are
/// notified (inbox and push) in the same transaction.
#[utoipa::path(post, path = "/api/v1/reports/{id}/actions", tag = "reports", params(("id" = String, Path)),
    request_body = ReportActionRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = Report), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not possible from the current state, or changed meanwhile, or the reporter's window is over", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
async fn take_action(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReportActionRequest>,
) -> ApiResult<axum::Json<Report>> {
    Ok(axum::Json(act(&app, &user, &id, req).await?))
}

/// Takes an action on report `id` (the API's and the web console's).
pub(crate) async fn act(app: &AppState, user: &AuthUser, id: &str, req: ReportActionRequest) -> ApiResult<Report> {
    let (app, user) = (app.clone(), user.clone());
    let row = visible(&app, id).await?;
    let reporter = row.reporter_id == Some(user.id);
    if !req.action.by_reporter() && !handles(&app, &user, &row.ward_code).await? {
        return Err(if user.role == Role::Citizen { ApiError::Forbidden } else { ApiError::NotFound });
    }
    let mut errors = Vec::new();
    let response = req.response.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if response.is_some_and(|r| text_len(r) > MAX_TEXT) {
        errors.push(FieldError::new("response", FieldErrorCode::TooLong).with_limit(MAX_TEXT));
    }
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| text_len(n) > MAX_TEXT) {
        errors.push(FieldError::new("note", FieldErrorCode::TooLong).with_limit(MAX_TEXT));
    }
    if req.after_photos.len() > MAX_PHOTOS {
        errors.push(FieldError::new("after_photos", FieldErrorCode::TooManyItems).with_limit(MAX_PHOTOS));
    }
    let after_ids = if req.action == ReportAction::Resolve && req.after_photos.len() <= MAX_PHOTOS {
        parse_ids("after_photos", &req.after_photos, &mut errors)
    } else {
        Vec::new()
    };
    let ward = match (req.action, req.ward_code.as_deref()) {
        (ReportAction::MoveWard, Some(w)) if places().ward(w).is_some() && w != row.ward_code => Some(w.to_owned()),
        (ReportAction::MoveWard, Some(_)) => {
            errors.push(FieldError::new("ward_code", FieldErrorCode::InvalidOption));
            None
        }
        (ReportAction::MoveWard, None) => {
            errors.push(FieldError::new("ward_code", FieldErrorCode::Required));
            None
        }
        _ => None,
    };
    let assign_to = match (req.action, req.officer_id.as_deref()) {
        (ReportAction::Assign, Some(raw)) => match Uuid::parse_str(raw.trim()) {
            Ok(officer) => match store::officer_branch(&app.db, officer).await? {
                Some((role, _)) if role == "officer" || role == "admin" => Some(officer),
                _ => {
                    errors.push(FieldError::new("officer_id", FieldErrorCode::Invalid));
                    None
                }
            },
            Err(_) => {
                errors.push(FieldError::new("officer_id", FieldErrorCode::Invalid));
                None
            }
        },
        (ReportAction::Assign, None) => Some(user.id),
        _ => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = app.clock.now();
    // Decide first (cheap), then prepare the photos, then decide again with them.
    let evidence = Evidence {
        response,
        after_photos: after_ids.len(),
        reason: req.reason,
        resolved_at: row.resolved_at,
        now: Some(now),
    };
    let to = transition(row.status(), req.action, user.role, reporter, &evidence).map_err(refusal)?;
    let after = prepare_photos(&app, user.id, "after_photos", &after_ids, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let actor = Actor { id: Some(user.id), role: user.role.as_str() };
    let extra = match req.action {
        ReportAction::Resolve => response,
        ReportAction::Reject => req.reason.map(|r| r.label(Lang::Vi)),
        _ => note,
    };
    let places_too = req.action == ReportAction::Resolve;
    let notice = notice(&row.code, req.action.as_str(), to, extra, places_too);
    let processed = matches!(to, ReportStatus::Resolved | ReportStatus::Rejected);
    let mv = Move {
        action: req.action.as_str(),
        to,
        actor: &actor,
        note,
        response: if req.action == ReportAction::Resolve || req.action == ReportAction::Reject {
            response
        } else {
            None
        },
        reason: req.reason.filter(|_| req.action == ReportAction::Reject),
        ward_code: ward.as_deref(),
        assign_to,
        after_photos: &after,
        notice: &notice,
        now,
        on_time: processed && local_date(now) <= row.due_date,
    };
    if !store::apply_move(&app.db, &row, &mv).await? {
        return Err(ApiError::Conflict(Conflict::ConcurrentUpdate));
    }
    metrics::counter!("motcua_report_actions_total", "action" => req.action.as_str()).increment(1);
    let row = store::find(&app.db, row.id).await?.ok_or_else(|| ApiError::internal("a report just moved is gone"))?;
    view(&app, &row, Some(&user), now).await
}

/// The reporter rates a resolution (1-5), once, within 7 days.
#[utoipa::path(post, path = "/api/v1/reports/{id}/rating", tag = "reports", params(("id" = String, Path)),
    request_body = RateReport, security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not resolved, already rated, or the 7 days are over", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn rate(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RateReport>,
) -> ApiResult<axum::Json<Report>> {
    let row = visible(&app, &id).await?;
    if row.reporter_id != Some(user.id) {
        return Err(ApiError::NotFound);
    }
    let mut errors = Vec::new();
    if req.score < 1 {
        errors.push(FieldError::new("score", FieldErrorCode::TooSmall).with_limit(1));
    } else if req.score > 5 {
        errors.push(FieldError::new("score", FieldErrorCode::TooLarge).with_limit(5));
    }
    let comment = req.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| text_len(c) > MAX_TEXT) {
        errors.push(FieldError::new("comment", FieldErrorCode::TooLong).with_limit(MAX_TEXT));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = app.clock.now();
    if row.status() == ReportStatus::Resolved && !motcua_domain::reports::within_window(row.resolved_at, Some(now)) {
        return Err(ApiError::Conflict(Conflict::ReporterWindowClosed));
    }
    if !motcua_domain::reports::may_rate(row.status(), row.resolved_at, now) {
        return Err(ApiError::Conflict(Conflict::ReportNotRateable));
    }
    let actor = Actor { id: Some(user.id), role: "citizen" };
    if !store::rate(&app.db, &row, req.score, comment, &actor, now).await? {
        return Err(ApiError::Conflict(Conflict::ReportNotRateable));
    }
    let row = store::find(&app.db, row.id).await?.ok_or_else(|| ApiError::internal("a rated report is gone"))?;
    Ok(axum::Json(view(&app, &row, Some(&user), now).await?))
}

/// Follow a report: its changes reach the caller too.
#[utoipa::path(post, path = "/api/v1/reports/{id}/follow", tag = "reports", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Following"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn follow(State(app): State<AppState>, user: AuthUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let row = visible(&app, &id).await?;
    store::set_follow(&app.db, row.id, user.id, true, app.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop following a report.
#[utoipa::path(delete, path = "/api/v1/reports/{id}/follow", tag = "reports", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Not following"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unfollow(State(app): State<AppState>, user: AuthUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let row = visible(&app, &id).await?;
    store::set_follow(&app.db, row.id, user.id, false, app.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Staff: hide abusive text or photos, with a reason. The public and the followers no
/// longer see them; the audit keeps the original.
#[utoipa::path(post, path = "/api/v1/reports/{id}/moderation", tag = "reports", params(("id" = String, Path)),
    request_body = ModerateReport, security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn moderate(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ModerateReport>,
) -> ApiResult<axum::Json<Report>> {
    Ok(axum::Json(moderate_report(&app, &user, &id, req).await?))
}

/// Hides a report's abusive text or photos (the API's and the web console's).
pub(crate) async fn moderate_report(
    app: &AppState,
    user: &AuthUser,
    id: &str,
    req: ModerateReport,
) -> ApiResult<Report> {
    let (app, user) = (app.clone(), user.clone());
    user.require(&[Role::Officer, Role::Admin])?;
    let row = visible(&app, id).await?;
    if !handles(&app, &user, &row.ward_code).await? {
        return Err(ApiError::NotFound);
    }
    let mut errors = Vec::new();
    let reason = req.reason.trim();
    if reason.is_empty() {
        errors.push(FieldError::new("reason", FieldErrorCode::Required));
    } else if text_len(reason) > MAX_ADDRESS {
        errors.push(FieldError::new("reason", FieldErrorCode::TooLong).with_limit(MAX_ADDRESS));
    }
    if req.hide_photos.len() > MAX_PHOTOS * 2 {
        errors.push(FieldError::new("hide_photos", FieldErrorCode::TooManyItems).with_limit(MAX_PHOTOS * 2));
    }
    let ids = parse_ids("hide_photos", &req.hide_photos, &mut errors);
    let photos = store::photos(&app.db, row.id).await?;
    for (i, id) in ids.iter().enumerate() {
        if !photos.iter().any(|p| p.id == *id) {
            errors.push(FieldError::new(format!("hide_photos[{i}]"), FieldErrorCode::Invalid));
        }
    }
    if !req.hide_description && ids.is_empty() {
        errors.push(FieldError::new("hide_photos", FieldErrorCode::TooFewItems).with_limit(1));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = app.clock.now();
    store::moderate(&app.db, &row, req.hide_description, &ids, reason, user.id, now).await?;
    let row = store::find(&app.db, row.id).await?.ok_or_else(|| ApiError::internal("a moderated report is gone"))?;
    view(&app, &row, Some(&user), now).await
}

fn place_wire(p: &store::PlaceRow) -> PlaceFollow {
    PlaceFollow {
        id: p.id.to_string(),
        ward_code: p.ward_code.clone(),
        lat: p.lat,
        lng: p.lng,
        radius_m: p.radius_m.and_then(|r| u32::try_from(r).ok()),
        created_at: p.created_at,
    }
}

/// Follow a place: a ward (`ward_code`) or a point and radius (`lat`, `lng`, `radius_m`
/// 50-3000): new reports and resolutions there reach the caller. At most 10 places.
#[utoipa::path(post, path = "/api/v1/place-follows", tag = "reports", request_body = FollowPlace, security(("bearer" = [])),
    responses((status = 201, body = PlaceFollow), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn follow_place(
    State(app): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<FollowPlace>,
) -> ApiResult<(StatusCode, axum::Json<PlaceFollow>)> {
    let mut errors = Vec::new();
    let now = app.clock.now();
    let mut place =
        store::PlaceRow { id: Uuid::now_v7(), ward_code: None, lat: None, lng: None, radius_m: None, created_at: now };
    match (&req.ward_code, req.lat, req.lng, req.radius_m) {
        (Some(w), None, None, None) => {
            if places().ward(w).is_some() {
                place.ward_code = Some(w.clone());
            } else {
                errors.push(FieldError::new("ward_code", FieldErrorCode::InvalidOption));
            }
        }
        (None, Some(lat), Some(lng), Some(radius)) => {
            if check_point(lat, lng, &mut errors).is_some() {
                place.lat = Some(lat);
                place.lng = Some(lng);
            }
            if !(50..=3000).contains(&radius) {
                let code = if radius < 50 { FieldErrorCode::TooSmall } else { FieldErrorCode::TooLarge };
                errors.push(FieldError::new("radius_m", code).with_limit(if radius < 50 { 50 } else { 3000 }));
            }
            place.radius_m = Some(i64::from(radius));
        }
        (None, lat, lng, radius) => {
            for (name, missing) in [("lat", lat.is_none()), ("lng", lng.is_none()), ("radius_m", radius.is_none())] {
                if missing {
                    errors.push(FieldError::new(name, FieldErrorCode::Required));
                }
            }
        }
        (Some(_), ..) => errors.push(FieldError::new("ward_code", FieldErrorCode::Invalid)),
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if !store::add_place(&app.db, user.id, &place).await? {
        return Err(ApiError::Validation(vec![
            FieldError::new("ward_code", FieldErrorCode::TooManyItems).with_limit(store::MAX_PLACES),
        ]));
    }
    Ok((StatusCode::CREATED, axum::Json(place_wire(&place))))
}

/// The places the caller follows.
#[utoipa::path(get, path = "/api/v1/place-follows", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = Vec<PlaceFollow>), (status = 401, body = ErrorBody)))]
async fn list_places(State(app): State<AppState>, user: AuthUser) -> ApiResult<axum::Json<Vec<PlaceFollow>>> {
    Ok(axum::Json(store::places_of(&app.db, user.id).await?.iter().map(place_wire).collect()))
}

/// Stop following a place.
#[utoipa::path(delete, path = "/api/v1/place-follows/{id}", tag = "reports", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unfollow_place(State(app): State<AppState>, user: AuthUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    if store::remove_place(&app.db, user.id, id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

/// Query of `GET /api/v1/stats/reports`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First day (local, inclusive), `YYYY-MM-DD`; default 30 days ago.
    from: Option<String>,
    /// Last day (local, inclusive); default today. At most 366 days in all.
    to: Option<String>,
}

/// Figures of reports filed over a period (local days, inclusive), by category and by
/// ward: received, processed and its rate, on time and its rate, average hours to the
/// first resolution, ratings and the average score.
#[utoipa::path(get, path = "/api/v1/stats/reports", tag = "reports", params(StatsQuery),
    responses((status = 200, body = ReportStats), (status = 422, body = ErrorBody)))]
async fn stats(State(app): State<AppState>, ApiQuery(q): ApiQuery<StatsQuery>) -> ApiResult<axum::Json<ReportStats>> {
    let mut params = ParamErrors::default();
    let today = local_date(app.clock.now());
    let to: NaiveDate = params.parse("to", &q.to).unwrap_or(today);
    let from: NaiveDate = params.parse("from", &q.from).unwrap_or(to - chrono::TimeDelta::days(30));
    if from > to {
        params.push("from", FieldErrorCode::DateTooLate, to);
    } else if (to - from).num_days() > 366 {
        params.push("from", FieldErrorCode::DateTooEarly, to - chrono::TimeDelta::days(366));
    }
    params.finish()?;
    Ok(axum::Json(figures(&app, from, to).await?))
}

/// The figures of reports filed over `[from, to]` (local days, inclusive): the API's and
/// the web console's dashboard.
pub(crate) async fn figures(app: &AppState, from: NaiveDate, to: NaiveDate) -> ApiResult<ReportStats> {
    let start = from.and_hms_opt(0, 0, 0).map(|t| t.and_utc() - chrono::TimeDelta::hours(7)).unwrap_or_default();
    let end = to
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc() - chrono::TimeDelta::hours(7))
        .unwrap_or_default();
    let lang = crate::error::current_lang();
    let by_category = store::stats(&app.db, false, start, end).await?;
    let by_ward = store::stats(&app.db, true, start, end).await?;
    let mut total = store::StatsGroup {
        key: String::new(),
        received: 0,
        processed: 0,
        on_time: 0,
        resolved: 0,
        resolve_secs: 0,
        ratings: 0,
        rating_sum: 0,
    };
    for g in &by_category {
        total.received += g.received;
        total.processed += g.processed;
        total.on_time += g.on_time;
        total.resolved += g.resolved;
        total.resolve_secs += g.resolve_secs;
        total.ratings += g.ratings;
        total.rating_sum += g.rating_sum;
    }
    let category_name = |code: &str| {
        places()
            .category(code)
            .map(|c| if lang == Lang::En { c.name_en.clone() } else { c.name.clone() })
            .unwrap_or_default()
    };
    Ok(ReportStats {
        from,
        to,
        total: stats_row(&total, if lang == Lang::En { "All".to_owned() } else { "Tất cả".to_owned() }),
        by_category: by_category.iter().map(|g| stats_row(g, category_name(&g.key))).collect(),
        by_ward: by_ward.iter().map(|g| stats_row(g, places().ward_name(&g.key))).collect(),
    })
}

fn stats_row(g: &store::StatsGroup, name: String) -> ReportStatsRow {
    let rate = |n: i64, d: i64| if d > 0 { (n as f64 / d as f64 * 1000.0).round() / 1000.0 } else { 0.0 };
    let count = |n: i64| u64::try_from(n).unwrap_or_default();
    ReportStatsRow {
        key: g.key.clone(),
        name,
        received: count(g.received),
        processed: count(g.processed),
        processed_rate: rate(g.processed, g.received),
        on_time: count(g.on_time),
        on_time_rate: rate(g.on_time, g.processed),
        avg_hours_to_resolve: (g.resolved > 0)
            .then(|| ((g.resolve_secs as f64 / g.resolved as f64 / 3600.0) * 10.0).round() / 10.0),
        ratings: count(g.ratings),
        satisfaction: (g.ratings > 0).then(|| ((g.rating_sum as f64 / g.ratings as f64) * 100.0).round() / 100.0),
    }
}

/// Admins: issue an Open311 `api_key` for a partner app. The key is shown once; only its
/// SHA-256 is stored.
#[utoipa::path(post, path = "/api/v1/admin/open311-keys", tag = "reports", request_body = NewPartnerKey, security(("bearer" = [])),
    responses((status = 201, body = PartnerKey), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn issue_partner_key(
    State(app): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<NewPartnerKey>,
) -> ApiResult<(StatusCode, axum::Json<PartnerKey>)> {
    user.require(&[Role::Admin])?;
    let partner = req.partner.trim();
    if partner.is_empty() || text_len(partner) > 100 {
        let code = if partner.is_empty() { FieldErrorCode::Required } else { FieldErrorCode::TooLong };
        return Err(ApiError::field("partner", code));
    }
    let key = issue_key(&app.db, partner, app.clock.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(key)))
}

/// Makes and stores a partner key (also used by the `open311-key` operator command).
pub async fn issue_key(db: &crate::db::Db, partner: &str, now: DateTime<Utc>) -> anyhow::Result<PartnerKey> {
    let mut secret = [0u8; 24];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    let api_key = format!("o311_{}", crate::seed::hex(&secret));
    let id = Uuid::now_v7();
    store::insert_partner_key(db, id, partner, &key_hash(&api_key), now).await?;
    Ok(PartnerKey { id: id.to_string(), partner: partner.to_owned(), api_key })
}

pub fn key_hash(api_key: &str) -> String {
    crate::seed::hex(&Sha256::digest(api_key.trim().as_bytes()))
}
