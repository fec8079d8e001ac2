//! Push notifications: the citizens' phones and preferences (`devices`), the operators'
//! announcements (`campaigns`) and figures (`stats`), the FCM client (`fcm`, `message`),
//! the producers' contract (`event`), and the delivery workers (`delivery`, `rate`).
//!
//! The delivery path (see ARCHITECTURE.md): producers write `outbox` rows whose topic
//! starts with `push.` in the same transaction as the change they announce; the delivery
//! workers turn each row into one job per phone and send the jobs to FCM.

pub mod campaigns;
pub mod delivery;
pub mod devices;
pub mod event;
pub mod fcm;
pub mod message;
pub mod rate;
pub mod stats;

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    devices::router().merge(campaigns::router()).merge(stats::router())
}

/// Removes delivery jobs finished before `before` and rate windows older than an hour
/// (bounded batches; any process may run it). Returns the rows removed.
pub async fn forget_finished(
    db: &crate::db::Db,
    before: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sqlx::Error> {
    let jobs = crate::on_db!(db, write, pool => {
        sqlx::query(
            "DELETE FROM push_jobs WHERE id IN (SELECT id FROM push_jobs WHERE finished_at < $1 AND state <> 'queued' LIMIT 5000)",
        )
        .bind(before).execute(pool).await.map(|r| r.rows_affected())
    })?;
    let minute = now.timestamp().div_euclid(60) - 60;
    let windows = crate::on_db!(db, write, pool => {
        sqlx::query("DELETE FROM push_rate WHERE minute < $1").bind(minute).execute(pool).await.map(|r| r.rows_affected())
    })?;
    Ok(jobs + windows)
}
