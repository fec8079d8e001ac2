//! Push notifications: the citizens' phones and preferences (`devices`), the operators'
//! announcements (`campaigns`) and figures (`stats`), the FCM client (`fcm`, `message`),
//! the producers' contract (`event`), and the delivery workers (`delivery`, `rate`).
//!
//! The delivery path (see ARCHITECTURE.md): producers write `outbox` rows whose topic
//! starts with `push.` in the same transaction as the change they announce; the delivery
//! workers turn each row into one job per phone and send the jobs to FCM. A campaign is
//! cut into pages of phones (ranges of tokens), each sent as a whole by one worker.

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

/// Removes finished delivery jobs and campaign pages created before `before` (found through their
/// time-ordered ids, so no index of their own is needed) and rate windows older than an
/// hour; bounded batches, any process may run it. Returns the rows removed.
pub async fn forget_finished(
    db: &crate::db::Db,
    before: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sqlx::Error> {
    let boundary = first_uuid_v7_at(before);
    let jobs = crate::on_db!(db, write, pool => {
        sqlx::query(
            "DELETE FROM push_jobs WHERE id IN (SELECT id FROM push_jobs WHERE id < $1 AND state <> 'queued' LIMIT 5000)",
        )
        .bind(boundary).execute(pool).await.map(|r| r.rows_affected())
    })?;
    let pages = crate::on_db!(db, write, pool => {
        sqlx::query(
            "DELETE FROM push_pages WHERE id IN (SELECT id FROM push_pages WHERE id < $1 AND state = 'done' LIMIT 5000)",
        )
        .bind(boundary).execute(pool).await.map(|r| r.rows_affected())
    })?;
    let minute = now.timestamp().div_euclid(60) - 60;
    let windows = crate::on_db!(db, write, pool => {
        sqlx::query("DELETE FROM push_rate WHERE minute < $1").bind(minute).execute(pool).await.map(|r| r.rows_affected())
    })?;
    Ok(jobs + pages + windows)
}

/// The smallest UUIDv7 of the millisecond `at`: every id made later sorts above it.
pub fn first_uuid_v7_at(at: chrono::DateTime<chrono::Utc>) -> uuid::Uuid {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or_default();
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    uuid::Uuid::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_first_v7_of_a_millisecond_sorts_below_every_later_id() {
        let now = chrono::Utc::now();
        let bound = super::first_uuid_v7_at(now - chrono::Duration::milliseconds(2));
        let later = uuid::Uuid::now_v7();
        assert!(bound < later && bound.as_bytes() < later.as_bytes());
        assert_eq!(bound.get_version_num(), 7);
        let after = super::first_uuid_v7_at(now + chrono::Duration::seconds(1));
        assert!(later < after);
    }
}
