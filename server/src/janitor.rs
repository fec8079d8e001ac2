//! The janitor: collects what citizens abandoned, so disk and tables stay bounded.
//!
//! - Unfinished uploads untouched for `MOTCUA_STAGING_TTL_HOURS`: their rows and chunk files.
//! - Attachments no dossier and no report refers to, older than `MOTCUA_ORPHAN_TTL_HOURS` (with the
//!   upload rows that produced them).
//! - Blobs that no attachment (as its bytes or its thumbnail), no upload (announced or
//!   stored bytes) and no report thumbnail refers to any more: the row, then the file,
//!   with a trash-and-recheck step so a citizen uploading the same bytes at that moment
//!   never loses the file (see [`collect_blobs`]).
//! - Quota and guess counters of windows that have ended.
//! - Push: phones unused for `MOTCUA_DEVICE_STALE_DAYS` marked stale (no longer targeted),
//!   finished delivery jobs past `MOTCUA_PUSH_RETENTION_DAYS`, spent rate windows.
//!
//! Every step is a conditional statement in the database, so any number of processes may
//! run it at once; each pass handles a bounded batch.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::app::AppState;
use crate::on_db;

/// Rows handled per step and pass.
const BATCH: i64 = 500;

/// What one pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub stale_uploads: u64,
    pub orphan_attachments: u64,
    pub blobs: u64,
    pub counters: u64,
    /// Phones not registered again for `MOTCUA_DEVICE_STALE_DAYS`, now stale.
    pub stale_devices: u64,
    /// Finished push jobs and spent rate windows removed.
    pub push_rows: u64,
}

/// Runs the janitor every `MOTCUA_JANITOR_INTERVAL_SECS` until the process stops.
pub async fn run(app: AppState) {
    let mut tick = tokio::time::interval(app.config.quotas.janitor_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match run_once(&app, Utc::now()).await {
            Ok(done) if done != Collected::default() => tracing::info!(?done, "janitor pass"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = format!("{e:#}"), "janitor pass failed"),
        }
    }
}

/// One pass, as of `now`.
pub async fn run_once(app: &AppState, now: DateTime<Utc>) -> anyhow::Result<Collected> {
    let q = &app.config.quotas;
    let stale_uploads = collect_stale_uploads(app, now - q.staging_ttl).await?;
    let orphan_attachments = collect_orphan_attachments(app, now - q.orphan_ttl).await?;
    let blobs = collect_blobs(app).await?;
    let counters = crate::quotas::forget_old(&app.db, now).await?;
    let stale_devices = crate::push::devices::mark_stale(&app.db, now - app.config.push.stale_after, now).await?;
    let push_rows = crate::push::forget_finished(&app.db, now - app.config.push.retention, now).await?;
    metrics::counter!("motcua_janitor_collected_total", "what" => "uploads").increment(stale_uploads);
    metrics::counter!("motcua_janitor_collected_total", "what" => "attachments").increment(orphan_attachments);
    metrics::counter!("motcua_janitor_collected_total", "what" => "blobs").increment(blobs);
    Ok(Collected { stale_uploads, orphan_attachments, blobs, counters, stale_devices, push_rows })
}

async fn collect_stale_uploads(app: &AppState, before: DateTime<Utc>) -> anyhow::Result<u64> {
    let ids: Vec<(Uuid,)> = on_db!(&app.db, write, pool => {
        sqlx::query_as(
            "DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE attachment_id IS NULL AND updated_at < $1 LIMIT $2) \
             AND attachment_id IS NULL AND updated_at < $1 RETURNING id",
        )
        .bind(before).bind(BATCH)
        .fetch_all(pool).await
    })?;
    for (id,) in &ids {
        if let Err(e) = app.blobs.delete_chunks(&id.to_string()).await {
            tracing::warn!(upload = %id, error = format!("{e:#}"), "the chunks of a stale upload were not deleted");
        }
    }
    Ok(ids.len() as u64)
}

async fn collect_orphan_attachments(app: &AppState, before: DateTime<Utc>) -> anyhow::Result<u64> {
    let candidates: Vec<(Uuid,)> = on_db!(&app.db, read, pool => {
        sqlx::query_as(
            "SELECT a.id FROM attachments a WHERE a.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM dossier_attachments da WHERE da.attachment_id = a.id) \
             AND NOT EXISTS (SELECT 1 FROM report_photos rp WHERE rp.attachment_id = a.id) LIMIT $2",
        )
        .bind(before).bind(BATCH)
        .fetch_all(pool).await
    })?;
    let mut removed = 0;
    for (id,) in candidates {
        // One at a time, re-checked inside the statement: a dossier that links it in the
        // meantime keeps it (on PostgreSQL a concurrent link makes the delete fail on the
        // foreign key, which is just as good).
        let deleted: Result<u64, sqlx::Error> = on_db!(&app.db, write, pool => async {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            sqlx::query("DELETE FROM uploads WHERE attachment_id = $1").bind(id).execute(&mut *tx).await?;
            let gone = sqlx::query(
                "DELETE FROM attachments WHERE id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM dossier_attachments da WHERE da.attachment_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM report_photos rp WHERE rp.attachment_id = $1)",
            )
            .bind(id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(gone)
        }.await);
        match deleted {
            Ok(n) => removed += n,
            Err(e) => tracing::info!(attachment = %id, error = %e, "orphan attachment kept (linked meanwhile)"),
        }
    }
    Ok(removed)
}

/// Deletes blobs nothing refers to. The row goes first (only while no attachment and no
/// upload names the bytes); then the file is moved aside and the database asked again: an
/// upload of the same bytes that began meanwhile gets the file put back. An uploader
/// always renames its own copy into place after its upload row exists, so whatever the
/// order of the two, the file is there when its attachment is.
async fn collect_blobs(app: &AppState) -> anyhow::Result<u64> {
    let gone: Vec<(String,)> = on_db!(&app.db, write, pool => {
        sqlx::query_as(
            "DELETE FROM blobs WHERE sha256 IN (SELECT b.sha256 FROM blobs b \
               WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = b.sha256) \
               AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.sha256 = b.sha256) \
               AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.stored_sha256 = b.sha256) \
               AND NOT EXISTS (SELECT 1 FROM report_photos p WHERE p.thumb_sha256 = b.sha256) \
               AND NOT EXISTS (SELECT 1 FROM attachments t WHERE t.thumb_sha256 = b.sha256) LIMIT $1) \
             AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = blobs.sha256) \
             AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.sha256 = blobs.sha256) \
             AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.stored_sha256 = blobs.sha256) \
             AND NOT EXISTS (SELECT 1 FROM report_photos p WHERE p.thumb_sha256 = blobs.sha256) \
             AND NOT EXISTS (SELECT 1 FROM attachments t WHERE t.thumb_sha256 = blobs.sha256) RETURNING sha256",
        )
        .bind(BATCH)
        .fetch_all(pool).await
    })?;
    for (sha,) in &gone {
        let Some(trashed) = app.blobs.trash(sha).await? else { continue };
        let wanted: Option<(String,)> = on_db!(&app.db, write, pool => {
            sqlx::query_as(
                "SELECT sha256 FROM blobs WHERE sha256 = $1 UNION ALL SELECT sha256 FROM uploads WHERE sha256 = $1 \
                 UNION ALL SELECT stored_sha256 FROM uploads WHERE stored_sha256 = $1 LIMIT 1",
            )
            .bind(sha).fetch_optional(pool).await
        })?;
        if wanted.is_some() {
            app.blobs.restore(sha, &trashed).await?;
        } else {
            app.blobs.purge(&trashed).await?;
        }
    }
    Ok(gone.len() as u64)
}
