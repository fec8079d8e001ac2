//! The citizens' phones (FCM registration tokens) and notification preferences: register,
//! refresh, remove, the sign-in a token belongs to, and the janitor's stale marking.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Device, DevicePlatform, ErrorBody, NotificationPreferences, RegisterDevice};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{BeginWrite, Db};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::on_db;

pub use motcua_domain::device::{MAX_TOKEN_LEN, token_error};
/// Phones one account may have registered at once; registering one more drops the one
/// seen least recently.
pub const MAX_DEVICES_PER_ACCOUNT: i64 = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_device, list_devices))
        .routes(routes!(remove_device))
        .routes(routes!(get_preferences, put_preferences))
}

/// The token and app version checked by the rule the phone applies too.
fn validate(req: &RegisterDevice) -> Result<(), ApiError> {
    let errors = motcua_domain::device::registration_errors(&req.token, &req.app_version);
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    token: String,
    platform: String,
    app_version: String,
    locale: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

impl DeviceRow {
    fn wire(self) -> Device {
        Device {
            token: self.token,
            platform: DevicePlatform::parse(&self.platform).unwrap_or(DevicePlatform::Android),
            app_version: self.app_version,
            locale: if self.locale == "en" { Lang::En } else { Lang::Vi },
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
        }
    }
}

/// Register this phone for push notifications, or refresh its registration. A token
/// registered by another account moves to the caller (a token belongs to one account at
/// a time); logging out of this sign-in removes it.
#[utoipa::path(post, path = "/api/v1/devices", tag = "push", request_body = RegisterDevice, security(("bearer" = [])),
    responses(
        (status = 200, description = "Registered (or refreshed)", body = Device),
        (status = 401, body = ErrorBody),
        (status = 422, description = "A bad token (printable ASCII, at most 4096 characters), platform, app version or locale", body = ErrorBody),
    ))]
async fn register_device(
    State(app): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<RegisterDevice>,
) -> ApiResult<axum::Json<Device>> {
    validate(&req)?;
    let now = Utc::now();
    let row = upsert(&app.db, user.id, Some(user.family), &req, now).await?;
    metrics::counter!("motcua_push_devices_registered_total").increment(1);
    Ok(axum::Json(row.wire()))
}

/// Registers `req.token` for `user_id` (taking it over from any other account) and drops
/// the account's devices beyond [`MAX_DEVICES_PER_ACCOUNT`], in one transaction.
async fn upsert(
    db: &Db,
    user_id: Uuid,
    family: Option<Uuid>,
    req: &RegisterDevice,
    now: DateTime<Utc>,
) -> Result<DeviceRow, sqlx::Error> {
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let row: DeviceRow = sqlx::query_as(
            "INSERT INTO devices (token, user_id, family_id, platform, app_version, locale, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (token) DO UPDATE SET \
               created_at = CASE WHEN devices.user_id = excluded.user_id THEN devices.created_at ELSE excluded.created_at END, \
               user_id = excluded.user_id, family_id = excluded.family_id, platform = excluded.platform, \
               app_version = excluded.app_version, locale = excluded.locale, last_seen_at = excluded.last_seen_at, \
               stale_at = NULL, deactivated_at = NULL, deactivated_reason = NULL \
             RETURNING token, platform, app_version, locale, created_at, last_seen_at",
        )
        .bind(&req.token)
        .bind(user_id)
        .bind(family)
        .bind(req.platform.as_str())
        .bind(req.app_version.trim())
        .bind(req.locale.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM devices WHERE user_id = $1 AND token NOT IN (SELECT token FROM devices WHERE user_id = $1 \
             ORDER BY last_seen_at DESC, token LIMIT $2)",
        )
        .bind(user_id)
        .bind(MAX_DEVICES_PER_ACCOUNT)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row)
    }.await)
}

/// The caller's registered phones.
#[utoipa::path(get, path = "/api/v1/devices", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = Vec<Device>), (status = 401, body = ErrorBody)))]
async fn list_devices(State(app): State<AppState>, user: AuthUser) -> ApiResult<axum::Json<Vec<Device>>> {
    let rows: Vec<DeviceRow> = on_db!(&app.db, read, pool => {
        sqlx::query_as(
            "SELECT token, platform, app_version, locale, created_at, last_seen_at FROM devices \
             WHERE user_id = $1 AND deactivated_at IS NULL AND stale_at IS NULL ORDER BY last_seen_at DESC, token LIMIT $2",
        )
        .bind(user.id).bind(MAX_DEVICES_PER_ACCOUNT)
        .fetch_all(pool).await
    })?;
    Ok(axum::Json(rows.into_iter().map(DeviceRow::wire).collect()))
}

/// Stop sending to this phone. Only the caller's own tokens (another's answers 404).
#[utoipa::path(delete, path = "/api/v1/devices/{token}", tag = "push", params(("token" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_device(
    State(app): State<AppState>,
    user: AuthUser,
    Path(token): Path<String>,
) -> ApiResult<StatusCode> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(ApiError::NotFound);
    }
    let gone = on_db!(&app.db, write, pool => {
        sqlx::query("DELETE FROM devices WHERE token = $1 AND user_id = $2")
            .bind(&token).bind(user.id)
            .execute(pool).await.map(|r| r.rows_affected())
    })?;
    if gone == 0 { Err(ApiError::NotFound) } else { Ok(StatusCode::NO_CONTENT) }
}

/// Removes the phones registered under sign-in `family` (called when it signs out).
pub async fn forget_sign_in(db: &Db, family: Uuid) -> Result<u64, sqlx::Error> {
    on_db!(db, write, pool => {
        sqlx::query("DELETE FROM devices WHERE family_id = $1").bind(family).execute(pool).await.map(|r| r.rows_affected())
    })
}

#[derive(sqlx::FromRow)]
struct PreferencesRow {
    dossier_updates: bool,
    report_updates: bool,
    announcements: bool,
    ward_code: Option<String>,
}

/// The account's preferences (the defaults when it never set any).
pub async fn preferences(db: &Db, user_id: Uuid) -> Result<NotificationPreferences, sqlx::Error> {
    let row: Option<PreferencesRow> = on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT dossier_updates, report_updates, announcements, ward_code FROM notification_preferences WHERE user_id = $1",
        )
        .bind(user_id).fetch_optional(pool).await
    })?;
    Ok(row.map_or_else(NotificationPreferences::default, |r| NotificationPreferences {
        dossier_updates: r.dossier_updates,
        report_updates: r.report_updates,
        announcements: r.announcements,
        ward_code: r.ward_code,
    }))
}

/// Which push notifications the caller receives.
#[utoipa::path(get, path = "/api/v1/me/notification-preferences", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = NotificationPreferences), (status = 401, body = ErrorBody)))]
async fn get_preferences(
    State(app): State<AppState>,
    user: AuthUser,
) -> ApiResult<axum::Json<NotificationPreferences>> {
    Ok(axum::Json(preferences(&app.db, user.id).await?))
}

/// Turn each kind of push notification on or off, and choose the ward whose announcements
/// to follow (a ward or commune code of today's units).
#[utoipa::path(put, path = "/api/v1/me/notification-preferences", tag = "push", request_body = NotificationPreferences,
    security(("bearer" = [])),
    responses(
        (status = 200, body = NotificationPreferences),
        (status = 401, body = ErrorBody),
        (status = 422, description = "An unknown ward code, or a missing or mistyped field", body = ErrorBody),
    ))]
async fn put_preferences(
    State(app): State<AppState>,
    user: AuthUser,
    ApiJson(mut req): ApiJson<NotificationPreferences>,
) -> ApiResult<axum::Json<NotificationPreferences>> {
    req.ward_code = req.ward_code.map(|w| w.trim().to_owned()).filter(|w| !w.is_empty());
    if let Some(code) = &req.ward_code
        && motcua_domain::admin::ward_by_code(code).is_none()
    {
        return Err(ApiError::Validation(vec![FieldError::new("ward_code", FieldErrorCode::InvalidOption)]));
    }
    on_db!(&app.db, write, pool => {
        sqlx::query(
            "INSERT INTO notification_preferences (user_id, dossier_updates, report_updates, announcements, ward_code, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET dossier_updates = excluded.dossier_updates, \
             report_updates = excluded.report_updates, announcements = excluded.announcements, ward_code = excluded.ward_code, \
             updated_at = excluded.updated_at",
        )
        .bind(user.id).bind(req.dossier_updates).bind(req.report_updates).bind(req.announcements)
        .bind(&req.ward_code).bind(Utc::now())
        .execute(pool).await.map(|_| ())
    })?;
    Ok(axum::Json(req))
}

/// Marks tokens not registered again since `before` stale (no longer targeted); forgets
/// stale or dead tokens after as long again. Bounded batches; any process may run it.
pub async fn mark_stale(db: &Db, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let marked = on_db!(db, write, pool => {
        sqlx::query(
            "UPDATE devices SET stale_at = $1 WHERE token IN (SELECT token FROM devices \
             WHERE last_seen_at < $2 AND stale_at IS NULL AND deactivated_at IS NULL LIMIT 1000)",
        )
        .bind(now).bind(before)
        .execute(pool).await.map(|r| r.rows_affected())
    })?;
    let forget_before = before - (now - before);
    on_db!(db, write, pool => {
        sqlx::query(
            "DELETE FROM devices WHERE token IN (SELECT token FROM devices \
             WHERE last_seen_at < $1 AND (stale_at IS NOT NULL OR deactivated_at IS NOT NULL) LIMIT 1000)",
        )
        .bind(forget_before)
        .execute(pool).await.map(|_| ())
    })?;
    Ok(marked)
}
