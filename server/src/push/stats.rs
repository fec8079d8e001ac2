//! Delivery figures for the operators: `GET /api/v1/ops/push/stats` (queued, sent, failed
//! by FCM error code, retries, oldest queued age, per campaign and overall; tokens
//! deactivated and stale), from the jobs and the campaigns' pages; and the same figures as
//! Prometheus gauges, refreshed every 15 seconds by every process from figures that one
//! process at a time counts and writes down (`shared`), so any process's `/metrics` shows
//! the fleet's queue and the jobs are counted once per interval whatever the fleet's size.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use chrono::{DateTime, Utc};
use motcua_domain::wire::{ErrorBody, PushFigures, PushStats, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::error::ApiResult;
use crate::on_db;

/// How often each process refreshes the gauges.
const GAUGE_EVERY: Duration = Duration::from_secs(15);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(push_stats))
}

/// Delivery figures (administrators).
#[utoipa::path(get, path = "/api/v1/ops/push/stats", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = PushStats), (status = 401, body = ErrorBody), (status = 403, description = "Administrators only", body = ErrorBody)))]
async fn push_stats(State(app): State<AppState>, user: AuthUser) -> ApiResult<axum::Json<PushStats>> {
    user.require(&[Role::Admin])?;
    Ok(axum::Json(figures(&app.db, Utc::now()).await?))
}

#[derive(sqlx::FromRow)]
struct Group {
    campaign_id: Option<Uuid>,
    state: String,
    error_code: Option<String>,
    jobs: i64,
    retries: i64,
    oldest: Option<DateTime<Utc>>,
}

fn empty() -> PushFigures {
    PushFigures { queued: 0, sent: 0, failed: BTreeMap::new(), retries: 0, oldest_queued_secs: 0 }
}

fn add(f: &mut PushFigures, g: &Group, now: DateTime<Utc>) {
    let n = g.jobs.unsigned_abs();
    match g.state.as_str() {
        "queued" => {
            f.queued += n;
            if let Some(oldest) = g.oldest {
                let age = (now - oldest).num_seconds().max(0).unsigned_abs();
                f.oldest_queued_secs = f.oldest_queued_secs.max(age);
            }
        }
        "sent" => f.sent += n,
        _ => *f.failed.entry(g.error_code.clone().unwrap_or_else(|| "UNKNOWN".to_owned())).or_default() += n,
    }
    f.retries += g.retries.unsigned_abs();
}

/// The figures as of `now` (over the jobs kept: `MOTCUA_PUSH_RETENTION_DAYS`).
pub async fn figures(db: &Db, now: DateTime<Utc>) -> Result<PushStats, sqlx::Error> {
    let groups: Vec<Group> = on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT campaign_id, state, error_code, COUNT(*) AS jobs, \
             CAST(COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0) AS BIGINT) AS retries, \
             MIN(CASE WHEN state = 'queued' THEN created_at END) AS oldest \
             FROM push_jobs GROUP BY campaign_id, state, error_code",
        )
        .fetch_all(pool).await
    })?;
    // A campaign's pages: the phones of its queued pages wait, its done pages' accepted
    // messages are sent (its phones whose send did not succeed are jobs, counted above);
    // a page claimed again after its worker died counts its phones as retries.
    let pages: Vec<Group> = on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT campaign_id, state, CAST(NULL AS TEXT) AS error_code, \
             CAST(COALESCE(SUM(CASE WHEN state = 'queued' THEN phones ELSE sent END), 0) AS BIGINT) AS jobs, \
             CAST(COALESCE(SUM(CASE WHEN attempts > 1 THEN (attempts - 1) * phones ELSE 0 END), 0) AS BIGINT) AS retries, \
             MIN(CASE WHEN state = 'queued' THEN created_at END) AS oldest \
             FROM push_pages GROUP BY campaign_id, state",
        )
        .fetch_all(pool).await
    })?;
    let groups: Vec<Group> = groups
        .into_iter()
        .chain(
            pages
                .into_iter()
                .map(|g| Group { state: if g.state == "done" { "sent".to_owned() } else { g.state }, ..g }),
        )
        .collect();
    let recent: Vec<(Uuid,)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT id FROM push_campaigns ORDER BY created_at DESC, id DESC LIMIT 100").fetch_all(pool).await
    })?;
    let mut overall = empty();
    let mut campaigns: BTreeMap<String, PushFigures> = recent.iter().map(|(id,)| (id.to_string(), empty())).collect();
    for g in &groups {
        add(&mut overall, g, now);
        if let Some(f) = g.campaign_id.and_then(|id| campaigns.get_mut(&id.to_string())) {
            add(f, g, now);
        }
    }
    let dead: Vec<(Option<String>, i64)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT deactivated_reason, COUNT(*) FROM devices WHERE deactivated_at IS NOT NULL GROUP BY deactivated_reason")
            .fetch_all(pool).await
    })?;
    let (stale,): (i64,) = on_db!(db, read, pool => {
        sqlx::query_as("SELECT COUNT(*) FROM devices WHERE stale_at IS NOT NULL AND deactivated_at IS NULL").fetch_one(pool).await
    })?;
    Ok(PushStats {
        overall,
        tokens_deactivated: dead
            .into_iter()
            .map(|(reason, n)| (reason.unwrap_or_else(|| "UNKNOWN".to_owned()), n.unsigned_abs()))
            .collect(),
        tokens_stale: stale.unsigned_abs(),
        campaigns,
    })
}

/// The fleet's figures for the gauges, and whether this call recomputed them: the first
/// process to claim the refresh once `GAUGE_EVERY` has passed counts the jobs and writes
/// the figures down; every other process reads them (one row by its key) instead of
/// counting too. None while the very first count is still being made elsewhere.
pub async fn shared(db: &Db, now: DateTime<Utc>) -> Result<Option<(PushStats, bool)>, sqlx::Error> {
    use chrono::SubsecRound;
    // As the database keeps it (microseconds), so the claim is found again by it.
    let now = now.trunc_subsecs(6);
    let due = now - chrono::Duration::from_std(GAUGE_EVERY).unwrap_or_default();
    let claimed = on_db!(db, write, pool => {
        sqlx::query(
            "INSERT INTO push_figures (id, figures, computed_at) VALUES (1, '', $1) ON CONFLICT (id) DO UPDATE \
             SET computed_at = $1 WHERE push_figures.computed_at < $2",
        )
        .bind(now).bind(due)
        .execute(pool).await.map(|r| r.rows_affected() > 0)
    })?;
    if claimed {
        let counted = figures(db, now).await?;
        let json = serde_json::to_string(&counted).unwrap_or_default();
        on_db!(db, write, pool => {
            sqlx::query("UPDATE push_figures SET figures = $1 WHERE id = 1 AND computed_at = $2")
                .bind(json).bind(now).execute(pool).await.map(|_| ())
        })?;
        return Ok(Some((counted, true)));
    }
    let written: Option<String> = on_db!(db, read, pool => {
        sqlx::query_scalar("SELECT figures FROM push_figures WHERE id = 1").fetch_optional(pool).await
    })?;
    Ok(written.and_then(|json| serde_json::from_str(&json).ok()).map(|figures| (figures, false)))
}

/// Sets the gauges from the fleet's shared figures once.
pub async fn publish_once(db: &Db) -> Result<(), sqlx::Error> {
    let Some((s, _)) = shared(db, Utc::now()).await? else { return Ok(()) };
    metrics::gauge!("motcua_push_jobs", "state" => "queued").set(s.overall.queued as f64);
    metrics::gauge!("motcua_push_jobs", "state" => "sent").set(s.overall.sent as f64);
    for (code, n) in &s.overall.failed {
        metrics::gauge!("motcua_push_jobs_failed", "code" => code.clone()).set(*n as f64);
    }
    metrics::gauge!("motcua_push_job_retries").set(s.overall.retries as f64);
    metrics::gauge!("motcua_push_oldest_queued_seconds").set(s.overall.oldest_queued_secs as f64);
    for (reason, n) in &s.tokens_deactivated {
        metrics::gauge!("motcua_push_tokens_deactivated", "reason" => reason.clone()).set(*n as f64);
    }
    metrics::gauge!("motcua_push_tokens_stale").set(s.tokens_stale as f64);
    for (id, f) in &s.campaigns {
        metrics::gauge!("motcua_push_campaign_jobs", "campaign" => id.clone(), "state" => "queued")
            .set(f.queued as f64);
        metrics::gauge!("motcua_push_campaign_jobs", "campaign" => id.clone(), "state" => "sent").set(f.sent as f64);
        let failed: u64 = f.failed.values().sum();
        metrics::gauge!("motcua_push_campaign_jobs", "campaign" => id.clone(), "state" => "failed").set(failed as f64);
    }
    Ok(())
}

/// Refreshes the gauges every 15 seconds until the process stops.
pub async fn publish_gauges(db: Db) {
    let mut tick = tokio::time::interval(GAUGE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = publish_once(&db).await {
            tracing::warn!(error = %e, "refreshing the push gauges failed");
        }
    }
}
