//! Service points of the center (head office, branches, receiving points): all of them, or
//! those within a radius of the citizen, nearest first with the distance.

use axum::extract::State;
use motcua_domain::form::FieldErrorCode;
use motcua_domain::geo::LatLng;
use motcua_domain::wire::{Branch, BranchList, NearbyBranch};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::IntoParams;
use utoipa::openapi::{RefOr, Schema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::db::Db;
use crate::error::ApiResult;
use crate::extract::{ApiQuery, ParamErrors};
use crate::on_db;

pub fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new().routes(routes!(list_branches));
    relax_branch_schema(router.get_openapi_mut());
    router
}

/// `NearbyBranch` flattens `Branch` into `allOf: [Branch, {distance_km}]`, but `Branch`
/// denies unknown fields (so a typo in the seed fails loudly) and utoipa publishes that as
/// `additionalProperties: false`, under which no nearby branch could match the document.
/// The server never reads a `Branch` from a request, so the published schema drops the flag.
/// (This router is merged into the API before any other that could bring `Branch`.)
fn relax_branch_schema(openapi: &mut utoipa::openapi::OpenApi) {
    if let Some(RefOr::T(Schema::Object(branch))) =
        openapi.components.as_mut().and_then(|c| c.schemas.get_mut("Branch"))
    {
        branch.additional_properties = None;
    }
}

/// Every branch, ordered by code.
pub async fn all(db: &Db) -> Result<Vec<Branch>, sqlx::Error> {
    let rows: Vec<(Json<Branch>,)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT doc FROM branches ORDER BY code").fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(|(doc,)| doc.0).collect())
}

/// The branches as this process last read them: reloaded when older than [`BRANCH_TTL`].
/// Branches change only with a new seed (a deploy), so a submission checks its branch
/// without a round trip; a process sees a new seed's branches within the TTL.
#[derive(Debug, Default)]
pub struct BranchCache {
    current: tokio::sync::RwLock<Option<(std::time::Instant, std::sync::Arc<Vec<Branch>>)>>,
}

/// How long a process trusts its copy of the branches.
pub const BRANCH_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl BranchCache {
    pub async fn get(&self, db: &Db) -> Result<std::sync::Arc<Vec<Branch>>, sqlx::Error> {
        if let Some((at, branches)) = self.current.read().await.as_ref()
            && at.elapsed() < BRANCH_TTL
        {
            return Ok(branches.clone());
        }
        let branches = std::sync::Arc::new(all(db).await?);
        *self.current.write().await = Some((std::time::Instant::now(), branches.clone()));
        Ok(branches)
    }
}

/// Query of `GET /api/v1/branches`.
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BranchQuery {
    /// Latitude of the citizen (WGS84), with `lng`.
    #[param(value_type = Option<f64>, minimum = -90, maximum = 90)]
    lat: Option<String>,
    /// Longitude of the citizen (WGS84), with `lat`.
    #[param(value_type = Option<f64>, minimum = -180, maximum = 180)]
    lng: Option<String>,
    /// Search radius in kilometres (default 5, at most 500); needs `lat` and `lng`.
    #[param(value_type = Option<f64>, exclusive_minimum = 0, maximum = 500)]
    radius_km: Option<String>,
}

/// Service points near a position (or all of them, without a position).
#[utoipa::path(get, path = "/api/v1/branches", tag = "branches", params(BranchQuery),
    responses(
        (status = 200, description = "Nearest first, with distance; without lat/lng every point, distance 0", body = BranchList),
        (status = 400, description = "An unreadable query string (e.g. a repeated parameter)", body = motcua_domain::wire::ErrorBody),
        (status = 422, description = "A bad or missing coordinate", body = motcua_domain::wire::ErrorBody),
    ))]
async fn list_branches(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<BranchQuery>,
) -> ApiResult<axum::Json<BranchList>> {
    let mut errors = ParamErrors::default();
    let lat: Option<f64> = errors.parse("lat", &q.lat);
    let lng: Option<f64> = errors.parse("lng", &q.lng);
    let radius: Option<f64> = errors.parse("radius_km", &q.radius_km);
    if lat.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
        errors.push("lat", FieldErrorCode::TooLarge, 90);
    }
    if lng.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
        errors.push("lng", FieldErrorCode::TooLarge, 180);
    }
    if let Some(r) = radius {
        if r.is_nan() || r <= 0.0 {
            errors.push("radius_km", FieldErrorCode::TooSmall, 0);
        } else if r > 500.0 {
            errors.push("radius_km", FieldErrorCode::TooLarge, 500);
        }
    }
    match (&q.lat, &q.lng) {
        (Some(_), None) => errors.push("lng", FieldErrorCode::Required, ""),
        (None, Some(_)) => errors.push("lat", FieldErrorCode::Required, ""),
        (None, None) if q.radius_km.is_some() => {
            errors.push("lat", FieldErrorCode::Required, "");
            errors.push("lng", FieldErrorCode::Required, "");
        }
        _ => {}
    }
    errors.finish()?;
    let branches = all(&app.db).await?;
    let items = match lat.zip(lng).and_then(|(lat, lng)| LatLng::new(lat, lng)) {
        Some(here) => {
            let radius = radius.unwrap_or(5.0);
            let mut near: Vec<NearbyBranch> = branches
                .into_iter()
                .filter_map(|branch| {
                    let d = here.distance_km(LatLng { lat: branch.lat, lng: branch.lng });
                    (d <= radius).then(|| NearbyBranch { branch, distance_km: (d * 1000.0).round() / 1000.0 })
                })
                .collect();
            near.sort_by(|a, b| a.distance_km.total_cmp(&b.distance_km));
            near
        }
        None => branches.into_iter().map(|branch| NearbyBranch { branch, distance_km: 0.0 }).collect(),
    };
    Ok(axum::Json(BranchList { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_branch_schema_admits_the_distance_of_a_nearby_branch() {
        let openapi = router().into_openapi();
        let schemas = &openapi.components.as_ref().expect("components").schemas;
        let Some(RefOr::T(Schema::Object(branch))) = schemas.get("Branch") else { panic!("no Branch schema") };
        assert!(branch.additional_properties.is_none());
        assert!(schemas.contains_key("NearbyBranch"));
    }
}
