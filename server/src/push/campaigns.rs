//! The operators' announcements (campaigns): created by administrators with a title and a
//! body in Vietnamese and English, for the whole city, one ward or commune, or listed
//! accounts, now or at a set time; cancelled while they have not started. The delivery
//! workers fan a due campaign out one page of phones at a time (`fan_out_step`).
//!
//! A citizen belongs to a ward's audience when their notification preferences name that
//! ward (`ward_code`): the citizen chooses which ward's news to follow (where they live,
//! or work), and the server keeps no address-derived location for announcements.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::wire::{Campaign, CampaignAudience, CampaignState, CampaignText, ErrorBody, NewCampaign, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::delivery::DeviceTarget;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{BeginWrite, Db};
use crate::error::{ApiError, ApiResult, Conflict};
use crate::extract::ApiJson;
use crate::on_db;

/// Accounts one campaign may list.
pub const MAX_ACCOUNTS: usize = 10_000;
const MAX_TITLE: usize = 200;
const MAX_BODY: usize = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_campaign, list_campaigns)).routes(routes!(cancel_campaign))
}

fn check_text(errors: &mut Vec<FieldError>, path: &str, text: &str, max: usize) {
    let n = text.trim().chars().count();
    if n == 0 {
        errors.push(FieldError::new(path, FieldErrorCode::Required));
    } else if n > max {
        errors.push(FieldError::new(path, FieldErrorCode::TooLong).with_limit(max));
    }
}

/// Checks a new campaign (every problem at once); the accounts' ids parsed.
fn validate(req: &NewCampaign, now: DateTime<Utc>) -> Result<Vec<Uuid>, ApiError> {
    let mut errors = Vec::new();
    check_text(&mut errors, "title.vi", &req.title.vi, MAX_TITLE);
    check_text(&mut errors, "title.en", &req.title.en, MAX_TITLE);
    check_text(&mut errors, "body.vi", &req.body.vi, MAX_BODY);
    check_text(&mut errors, "body.en", &req.body.en, MAX_BODY);
    let mut accounts = Vec::new();
    match &req.audience {
        CampaignAudience::City => {}
        CampaignAudience::Ward { ward_code } => {
            if motcua_domain::admin::ward_by_code(ward_code).is_none() {
                errors.push(FieldError::new("audience.ward_code", FieldErrorCode::InvalidOption));
            }
        }
        CampaignAudience::Accounts { user_ids } => {
            if user_ids.is_empty() {
                errors.push(FieldError::new("audience.user_ids", FieldErrorCode::TooFewItems).with_limit(1));
            } else if user_ids.len() > MAX_ACCOUNTS {
                errors
                    .push(FieldError::new("audience.user_ids", FieldErrorCode::TooManyItems).with_limit(MAX_ACCOUNTS));
            } else {
                for (i, id) in user_ids.iter().enumerate() {
                    match Uuid::parse_str(id.trim()) {
                        Ok(id) => accounts.push(id),
                        Err(_) => {
                            errors.push(FieldError::new(format!("audience.user_ids[{i}]"), FieldErrorCode::Invalid))
                        }
                    }
                }
                accounts.sort_unstable();
                accounts.dedup();
            }
        }
    }
    if let Some(at) = req.scheduled_at
        && at > now + chrono::Duration::days(366)
    {
        errors.push(FieldError::new("scheduled_at", FieldErrorCode::DateTooLate).with_limit("366 days"));
    }
    if errors.is_empty() { Ok(accounts) } else { Err(ApiError::Validation(errors)) }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    title_vi: String,
    title_en: String,
    body_vi: String,
    body_en: String,
    audience: String,
    ward_code: Option<String>,
    scheduled_at: DateTime<Utc>,
    state: String,
    created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, title_vi, title_en, body_vi, body_en, audience, ward_code, scheduled_at, state, created_at";

impl Row {
    fn wire(self, accounts: Vec<String>) -> Campaign {
        let audience = match self.audience.as_str() {
            "ward" => CampaignAudience::Ward { ward_code: self.ward_code.unwrap_or_default() },
            "accounts" => CampaignAudience::Accounts { user_ids: accounts },
            _ => CampaignAudience::City,
        };
        Campaign {
            id: self.id.to_string(),
            title: CampaignText { vi: self.title_vi, en: self.title_en },
            body: CampaignText { vi: self.body_vi, en: self.body_en },
            audience,
            scheduled_at: self.scheduled_at,
            state: CampaignState::parse(&self.state).unwrap_or(CampaignState::Scheduled),
            created_at: self.created_at,
        }
    }
}

/// Create an announcement (administrators). It starts at `scheduled_at` (now when absent).
#[utoipa::path(post, path = "/api/v1/ops/push/campaigns", tag = "push", request_body = NewCampaign, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Campaign),
        (status = 401, body = ErrorBody), (status = 403, description = "Administrators only", body = ErrorBody),
        (status = 422, description = "Every problem at once (texts, ward code, account ids, schedule)", body = ErrorBody),
    ))]
async fn create_campaign(
    State(app): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<NewCampaign>,
) -> ApiResult<(StatusCode, axum::Json<Campaign>)> {
    Ok((StatusCode::CREATED, axum::Json(create(&app, &user, &req).await?)))
}

/// Creates a campaign (the API's and the web console's): administrators only.
pub(crate) async fn create(app: &AppState, user: &AuthUser, req: &NewCampaign) -> ApiResult<Campaign> {
    user.require(&[Role::Admin])?;
    let now = Utc::now();
    let accounts = validate(req, now)?;
    let id = Uuid::now_v7();
    let scheduled_at = req.scheduled_at.unwrap_or(now).max(now);
    let (audience, ward_code) = match &req.audience {
        CampaignAudience::City => ("city", None),
        CampaignAudience::Ward { ward_code } => ("ward", Some(ward_code.trim().to_owned())),
        CampaignAudience::Accounts { .. } => ("accounts", None),
    };
    on_db!(&app.db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "INSERT INTO push_campaigns (id, created_by, title_vi, title_en, body_vi, body_en, audience, ward_code, \
             scheduled_at, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'scheduled', $10)",
        )
        .bind(id).bind(user.id)
        .bind(req.title.vi.trim()).bind(req.title.en.trim()).bind(req.body.vi.trim()).bind(req.body.en.trim())
        .bind(audience).bind(&ward_code).bind(scheduled_at).bind(now)
        .execute(&mut *tx).await?;
        for chunk in accounts.chunks(1000) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO push_campaign_accounts (campaign_id, user_id) ");
            q.push_values(chunk, |mut row, account| {
                row.push_bind(id).push_bind(*account);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    }.await)?;
    metrics::counter!("motcua_push_campaigns_total").increment(1);
    find(&app.db, id).await?.ok_or(ApiError::Internal)
}

async fn find(db: &Db, id: Uuid) -> Result<Option<Campaign>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM push_campaigns WHERE id = $1");
    let row: Option<Row> = on_db!(db, read, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await)?;
    let Some(row) = row else { return Ok(None) };
    let accounts: Vec<(Uuid,)> = if row.audience == "accounts" {
        on_db!(db, read, pool => {
            sqlx::query_as("SELECT user_id FROM push_campaign_accounts WHERE campaign_id = $1 ORDER BY user_id")
                .bind(id).fetch_all(pool).await
        })?
    } else {
        Vec::new()
    };
    Ok(Some(row.wire(accounts.into_iter().map(|(u,)| u.to_string()).collect())))
}

/// The newest 100 campaigns (listed accounts are not repeated here).
#[utoipa::path(get, path = "/api/v1/ops/push/campaigns", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = Vec<Campaign>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_campaigns(State(app): State<AppState>, user: AuthUser) -> ApiResult<axum::Json<Vec<Campaign>>> {
    Ok(axum::Json(list(&app, &user).await?))
}

/// The newest 100 campaigns (the API's and the web console's): administrators only.
pub(crate) async fn list(app: &AppState, user: &AuthUser) -> ApiResult<Vec<Campaign>> {
    user.require(&[Role::Admin])?;
    let sql = format!("SELECT {COLUMNS} FROM push_campaigns ORDER BY created_at DESC, id DESC LIMIT 100");
    let rows: Vec<Row> =
        on_db!(&app.db, read, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|r| r.wire(Vec::new())).collect())
}

/// Cancel a campaign that has not started sending.
#[utoipa::path(post, path = "/api/v1/ops/push/campaigns/{id}/cancel", tag = "push", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = Campaign),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Sending has begun (or it was cancelled already)", body = ErrorBody),
    ))]
async fn cancel_campaign(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Campaign>> {
    Ok(axum::Json(cancel(&app, &user, &id).await?))
}

/// Cancels a campaign that has not started (the API's and the web console's): the state
/// is checked by the update itself.
pub(crate) async fn cancel(app: &AppState, user: &AuthUser, id: &str) -> ApiResult<Campaign> {
    user.require(&[Role::Admin])?;
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    let cancelled = on_db!(&app.db, write, pool => {
        sqlx::query("UPDATE push_campaigns SET state = 'cancelled' WHERE id = $1 AND state = 'scheduled' AND lease_until IS NULL")
            .bind(id).execute(pool).await.map(|r| r.rows_affected())
    })?;
    let campaign = find(&app.db, id).await?.ok_or(ApiError::NotFound)?;
    if cancelled == 0 {
        return Err(ApiError::Conflict(Conflict::CampaignStarted));
    }
    Ok(campaign)
}

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    audience: String,
    ward_code: Option<String>,
    cursor: Option<String>,
    lease_until: DateTime<Utc>,
}

/// Pages cut by one fan-out step (one statement finds where each ends).
const PAGES_PER_STEP: i64 = 20;

/// Who a campaign is for, as its pages are read.
#[derive(Debug, Clone)]
pub struct Audience {
    pub campaign_id: Uuid,
    /// `city`, `ward` or `accounts`.
    pub kind: String,
    pub ward_code: Option<String>,
}

/// Pushes the audience's phones with tokens above `after` (up to and including `last`
/// when given), in token order, at most `limit`: the one rule both the fan-out (which
/// cuts the pages) and the senders (which read a page's phones) use.
fn push_phones<DB: sqlx::Database>(
    q: &mut sqlx::QueryBuilder<DB>,
    columns: &str,
    audience: &Audience,
    after: &str,
    last: Option<&str>,
    limit: i64,
) where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<String>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push(format!(
        "SELECT {columns} FROM devices d JOIN users u ON u.id = d.user_id \
         LEFT JOIN notification_preferences p ON p.user_id = d.user_id WHERE d.token > "
    ))
    .push_bind(after.to_owned());
    if let Some(last) = last {
        q.push(" AND d.token <= ").push_bind(last.to_owned());
    }
    q.push(" AND d.deactivated_at IS NULL AND d.stale_at IS NULL AND COALESCE(p.announcements, TRUE) AND ");
    match audience.kind.as_str() {
        "ward" => q.push("p.ward_code = ").push_bind(audience.ward_code.clone()),
        "accounts" => q
            .push("d.user_id IN (SELECT user_id FROM push_campaign_accounts WHERE campaign_id = ")
            .push_bind(audience.campaign_id)
            .push(")"),
        _ => q.push("u.role = 'citizen'"),
    };
    q.push(" ORDER BY d.token LIMIT ").push_bind(limit);
}

/// The phones of one page of `audience` (`(after, last]`), at most `limit`, in token order.
pub async fn page_phones(
    db: &Db,
    audience: &Audience,
    after: &str,
    last: &str,
    limit: usize,
) -> Result<Vec<DeviceTarget>, sqlx::Error> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    on_db!(db, read, pool => {
        let mut q = sqlx::QueryBuilder::new("");
        push_phones(&mut q, "d.token, d.locale", audience, after, Some(last), limit);
        q.build_query_as().fetch_all(pool).await
    })
}

/// Cuts the next pages (up to [`PAGES_PER_STEP`]) of `page` phones each of one due
/// campaign; whether there was a due campaign. A page is a range of tokens (`push_pages`),
/// not a row per phone: the senders read its phones when they send it.
pub async fn fan_out_step(
    db: &Db,
    now: DateTime<Utc>,
    lease: std::time::Duration,
    page: usize,
) -> anyhow::Result<bool> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
    let returning = "RETURNING id, audience, ward_code, cursor, lease_until";
    let due: Option<Due> = match db {
        Db::Postgres(pool) => {
            let sql = format!(
                "UPDATE push_campaigns SET state = 'fanning_out', lease_until = $1 WHERE id IN (SELECT id FROM push_campaigns \
                 WHERE state IN ('scheduled', 'fanning_out') AND scheduled_at <= $2 AND (lease_until IS NULL OR lease_until < $2) \
                 ORDER BY scheduled_at LIMIT 1 FOR UPDATE SKIP LOCKED) {returning}"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(until).bind(now).fetch_optional(pool).await?
        }
        Db::Sqlite { write, .. } => {
            let sql = format!(
                "UPDATE push_campaigns SET state = 'fanning_out', lease_until = $1 WHERE id IN (SELECT id FROM push_campaigns \
                 WHERE state IN ('scheduled', 'fanning_out') AND scheduled_at <= $2 AND (lease_until IS NULL OR lease_until < $2) \
                 ORDER BY scheduled_at LIMIT 1) {returning}"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(until).bind(now).fetch_optional(write).await?
        }
    };
    let Some(due) = due else { return Ok(false) };
    let cursor = due.cursor.clone().unwrap_or_default();
    let audience = Audience { campaign_id: due.id, kind: due.audience.clone(), ward_code: due.ward_code.clone() };
    let size = i64::try_from(page.max(1)).unwrap_or(1000);
    let queued = on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        // The lease is checked (and the campaign's row locked) before the page is written:
        // a worker whose lease passed to another meanwhile, or a cancelled campaign, writes
        // nothing; two workers cannot both write one page.
        let held = sqlx::query(
            "UPDATE push_campaigns SET lease_until = lease_until WHERE id = $1 AND lease_until = $2 AND state = 'fanning_out'",
        )
        .bind(due.id).bind(due.lease_until)
        .execute(&mut *tx).await?.rows_affected();
        if held == 0 {
            tx.rollback().await?;
            return Ok::<_, sqlx::Error>(0);
        }
        // The next pages: the audience's next phones after the cursor, numbered in token
        // order; the database answers only each page's last token (every `size`-th phone,
        // and the last one) with the count, so no other token travels.
        let mut q = sqlx::QueryBuilder::new(
            "SELECT token, n, total FROM (SELECT token, ROW_NUMBER() OVER (ORDER BY token) AS n, COUNT(*) OVER () AS total \
             FROM (",
        );
        push_phones(&mut q, "d.token", &audience, &cursor, None, size * PAGES_PER_STEP);
        q.push(") phones) numbered WHERE n % ").push_bind(size).push(" = 0 OR n = total ORDER BY n");
        let ends: Vec<(String, i64, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
        let total = ends.first().map_or(0, |(_, _, total)| *total);
        let mut after = cursor.clone();
        let mut counted = 0;
        let mut pages = Vec::new();
        // Each row ends a page (`n` ascending): the page holds the phones since the last end.
        for (last, n, _) in ends {
            pages.push((Uuid::now_v7(), after.clone(), last.clone(), n - counted));
            counted = n;
            after = last;
        }
        if !pages.is_empty() {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO push_pages (id, campaign_id, after_token, last_token, phones, state, attempts, available_at, \
                 sent, created_at) ",
            );
            q.push_values(&pages, |mut row, (id, after, last, phones)| {
                row.push_bind(*id)
                    .push_bind(due.id)
                    .push_bind(after.as_str())
                    .push_bind(last.as_str())
                    .push_bind(*phones)
                    .push_bind("queued")
                    .push_bind(0i64)
                    .push_bind(now)
                    .push_bind(0i64)
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        let state = if total < size * PAGES_PER_STEP { "queued" } else { "fanning_out" };
        sqlx::query("UPDATE push_campaigns SET cursor = $1, state = $2, lease_until = NULL WHERE id = $3")
            .bind(&after).bind(state).bind(due.id)
            .execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(total.unsigned_abs())
    }.await)?;
    metrics::counter!("motcua_push_queued_total", "source" => "campaign").increment(queued);
    Ok(true)
}
