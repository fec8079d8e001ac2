//! The citizen's notification inbox: every status change of their dossiers (see
//! `dossiers::store::record_change!`) and of the field reports they filed or follow (see
//! `reports::store::record_report_event!`), written in the same transaction as the change.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_domain::wire::{ErrorBody, Notification, NotificationList};
use motcua_domain::workflow::DossierStatus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::on_db;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(mark_read))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    dossier_id: Option<Uuid>,
    dossier_code: Option<String>,
    report_id: Option<Uuid>,
    status: Option<String>,
    title: String,
    body: String,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

/// The caller's newest 200 notifications and the count of unread ones.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationList), (status = 401, body = ErrorBody)))]
async fn list(State(app): State<AppState>, user: AuthUser) -> ApiResult<axum::Json<NotificationList>> {
    let rows: Vec<Row> = on_db!(&app.db, read, pool => {
        sqlx::query_as(
            "SELECT id, kind, dossier_id, dossier_code, report_id, status, title, body, created_at, read_at FROM notifications \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
        )
        .bind(user.id).fetch_all(pool).await
    })?;
    let (unread,): (i64,) = on_db!(&app.db, read, pool => {
        sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL").bind(user.id).fetch_one(pool).await
    })?;
    let items = rows
        .into_iter()
        .map(|r| Notification {
            id: r.id.to_string(),
            kind: r.kind,
            dossier_id: r.dossier_id.map(|d| d.to_string()),
            dossier_code: r.dossier_code,
            report_id: r.report_id.map(|d| d.to_string()),
            status: r.status.as_deref().and_then(DossierStatus::parse),
            title: r.title,
            body: r.body,
            created_at: r.created_at,
            read_at: r.read_at,
        })
        .collect();
    Ok(axum::Json(NotificationList { items, unread: u64::try_from(unread).unwrap_or_default() }))
}

/// Mark one notification read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Read"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn mark_read(State(app): State<AppState>, user: AuthUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let found = on_db!(&app.db, write, pool => {
        sqlx::query("UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3")
            .bind(Utc::now()).bind(id).bind(user.id)
            .execute(pool).await.map(|r| r.rows_affected())
    })?;
    if found == 0 { Err(ApiError::NotFound) } else { Ok(StatusCode::NO_CONTENT) }
}
