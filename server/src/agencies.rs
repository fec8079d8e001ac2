//! The competent agencies (cơ quan có thẩm quyền) the centre forwards dossiers to: the
//! public list, so that apps and staff name an agency by its code (the seed's
//! `agencies.json`; which procedures go where is each procedure's `agency_legs`).

use axum::extract::State;
use motcua_domain::wire::Agency;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::on_db;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_agencies))
}

/// Every agency, ordered by code (a few dozen at most: they come from the seed only).
#[utoipa::path(get, path = "/api/v1/agencies", tag = "catalogue", responses((status = 200, body = Vec<Agency>)))]
async fn list_agencies(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<Agency>>> {
    let rows: Vec<(String, String, String)> = on_db!(&app.db, read, pool => {
        sqlx::query_as("SELECT code, name, name_en FROM agencies ORDER BY code LIMIT 1000").fetch_all(pool).await
    })?;
    Ok(axum::Json(rows.into_iter().map(|(code, name, name_en)| Agency { code, name, name_en }).collect()))
}
