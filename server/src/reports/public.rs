//! The public face of field reports: a GeoJSON map of reports in a box (no names, no
//! phones, nothing about who reported; hidden text and photos left out), and their photos
//! and thumbnails as stored (metadata removed).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::geo::LatLng;
use motcua_domain::i18n::Lang;
use motcua_domain::reports::{ReportStatus, is_overdue};
use motcua_domain::wire::ErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::places::places;
use super::store::{self, Cursor};
use crate::app::AppState;
use crate::dossiers::store::local_date;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, ParamErrors};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(map)).routes(routes!(photo))
}

/// Most features in one answer.
const MAX_FEATURES: u32 = 500;
/// Largest box, in degrees on each side (the whole city fits).
const MAX_BOX_DEGREES: f64 = 1.5;

/// Query of `GET /api/v1/public/reports`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// `min_lng,min_lat,max_lng,max_lat` (WGS84), at most 1.5° a side.
    bbox: Option<String>,
    category: Option<String>,
    /// One status or several separated by commas (default: all).
    status: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
    /// Features per page, 1-500 (default 200).
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PointGeometry {
    /// Always `Point`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// `[lng, lat]`.
    coordinates: [f64; 2],
}

/// What the public may know of a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicReportProperties {
    id: String,
    code: String,
    category: String,
    category_name: String,
    status: ReportStatus,
    ward_code: String,
    ward_name: String,
    /// Absent when a moderator hid it.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    due_date: NaiveDate,
    overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicReportFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    kind: &'static str,
    geometry: PointGeometry,
    properties: PublicReportProperties,
}

/// A GeoJSON FeatureCollection (RFC 7946) with the cursor of the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicReportMap {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<PublicReportFeature>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

fn parse_bbox(raw: &str) -> Option<(LatLng, LatLng)> {
    let parts: Vec<f64> = raw.split(',').map(|p| p.trim().parse().ok()).collect::<Option<Vec<f64>>>()?;
    let [min_lng, min_lat, max_lng, max_lat] = parts.as_slice() else { return None };
    let min = LatLng::new(*min_lat, *min_lng)?;
    let max = LatLng::new(*max_lat, *max_lng)?;
    (min.lat <= max.lat && min.lng <= max.lng).then_some((min, max))
}

/// Reports in a box as GeoJSON, newest first, paged (no personal data).
#[utoipa::path(get, path = "/api/v1/public/reports", tag = "reports", params(MapQuery),
    responses((status = 200, content_type = "application/geo+json", body = PublicReportMap), (status = 422, body = ErrorBody)))]
async fn map(State(app): State<AppState>, ApiQuery(q): ApiQuery<MapQuery>) -> ApiResult<Response> {
    let mut params = ParamErrors::default();
    let bbox = match q.bbox.as_deref() {
        None => {
            params.0.push(FieldError::new("bbox", FieldErrorCode::Required));
            None
        }
        Some(raw) => match parse_bbox(raw) {
            Some((min, max)) if max.lat - min.lat <= MAX_BOX_DEGREES && max.lng - min.lng <= MAX_BOX_DEGREES => {
                Some((min, max))
            }
            Some(_) => {
                params.push("bbox", FieldErrorCode::TooLarge, MAX_BOX_DEGREES);
                None
            }
            None => {
                params.0.push(FieldError::new("bbox", FieldErrorCode::PatternMismatch));
                None
            }
        },
    };
    if q.category.as_deref().is_some_and(|c| places().category(c).is_none()) {
        params.0.push(FieldError::new("category", FieldErrorCode::InvalidOption));
    }
    let statuses: Vec<ReportStatus> = match q.status.as_deref() {
        None => ReportStatus::ALL.to_vec(),
        Some(raw) => {
            let parsed: Option<Vec<ReportStatus>> = raw.split(',').map(|s| ReportStatus::parse(s.trim())).collect();
            parsed.filter(|v| !v.is_empty()).unwrap_or_else(|| {
                params.0.push(FieldError::new("status", FieldErrorCode::InvalidOption));
                Vec::new()
            })
        }
    };
    let limit: u32 = params.parse("limit", &q.limit).unwrap_or(200);
    if !(1..=MAX_FEATURES).contains(&limit) {
        params.push("limit", FieldErrorCode::TooLarge, MAX_FEATURES);
    }
    let after = match q.after.as_deref() {
        Some(t) => match Cursor::decode(t) {
            Some(c @ Cursor::Created(..)) => Some(c),
            _ => {
                params.0.push(FieldError::new("after", FieldErrorCode::Invalid));
                None
            }
        },
        None => None,
    };
    params.finish()?;
    let Some((min, max)) = bbox else { return Err(ApiError::internal("a checked box is gone")) };
    let (rows, more) =
        store::in_box(&app.db, min, max, q.category.as_deref(), &statuses, after.as_ref(), limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let thumbs = store::first_thumbnails(&app.db, &ids).await?;
    let today = local_date(app.clock.now());
    let lang = crate::error::current_lang();
    let next = if more { rows.last().map(|r| r.cursor(false).encode()) } else { None };
    let features = rows
        .into_iter()
        .map(|r| {
            let status = ReportStatus::parse(&r.status).unwrap_or(ReportStatus::Received);
            let category = places().category(&r.category_code);
            PublicReportFeature {
                kind: "Feature",
                geometry: PointGeometry { kind: "Point", coordinates: [r.lng, r.lat] },
                properties: PublicReportProperties {
                    thumbnail_url: thumbs
                        .iter()
                        .find(|(rid, _)| *rid == r.id)
                        .map(|(rid, p)| format!("/api/v1/public/reports/{rid}/photos/{p}?size=thumbnail")),
                    id: r.id.to_string(),
                    code: r.code,
                    category_name: category
                        .map(|c| if lang == Lang::En { c.name_en.clone() } else { c.name.clone() })
                        .unwrap_or_default(),
                    category: r.category_code,
                    status,
                    ward_name: places().ward_name(&r.ward_code),
                    ward_code: r.ward_code,
                    description: (!r.description_hidden).then_some(r.description),
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    due_date: r.due_date,
                    overdue: is_overdue(status, r.due_date, today),
                },
            }
        })
        .collect();
    let body = PublicReportMap { kind: "FeatureCollection", features, next };
    let json = serde_json::to_vec(&body).map_err(|e| anyhow::anyhow!("GeoJSON: {e}"))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"))], json).into_response())
}

/// Query of a photo.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    /// `thumbnail` for the small JPEG of lists; the photo otherwise.
    size: Option<String>,
}

/// A report's photo (or its thumbnail), as stored: without metadata. Hidden photos are not
/// served.
#[utoipa::path(get, path = "/api/v1/public/reports/{id}/photos/{photo_id}", tag = "reports",
    params(("id" = String, Path), ("photo_id" = String, Path), PhotoQuery),
    responses((status = 200, description = "The image", content_type = "image/jpeg", body = Vec<u8>),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn photo(
    State(app): State<AppState>,
    Path((id, photo_id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PhotoQuery>,
) -> ApiResult<Response> {
    let thumbnail = match q.size.as_deref() {
        None | Some("full") => false,
        Some("thumbnail") => true,
        Some(_) => return Err(ApiError::field("size", FieldErrorCode::InvalidOption)),
    };
    let report = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let photo = Uuid::parse_str(&photo_id).map_err(|_| ApiError::NotFound)?;
    let row = store::photo(&app.db, report, photo).await?.filter(|p| !p.hidden).ok_or(ApiError::NotFound)?;
    let (sha, content_type) = if thumbnail {
        (row.thumb_sha256.as_str(), "image/jpeg")
    } else {
        (row.sha256.as_str(), row.content_type.as_str())
    };
    let bytes = app.blobs.get(sha).await?.ok_or_else(|| ApiError::internal("a report photo's file is missing"))?;
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("inline")),
        ],
        bytes,
    )
        .into_response())
}
