//! The outbox and its sync engine (after matrix-rust-sdk's send queue): "submit" freezes
//! the draft and queues it with a fresh idempotency key in one transaction; a pass uploads
//! the draft's files (resuming partial uploads), then posts the dossier that refers to
//! them. A report draft travels the same way (its photos, then `POST /api/v1/reports`). Transient failures retry with exponential backoff and jitter (honouring
//! Retry-After); permanent ones park the item with a typed reason.

use std::io::SeekFrom;

use motcua_domain::form::{FieldKind, FormDef};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::reports::Report;
use motcua_domain::wire::{Dossier, SubmitDossier, SupplementAnswer, UploadStart, UploadStatus};
use serde_json::{Map, Value};
use sqlx::SqliteConnection;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::catalogue;
use crate::dossiers;
use crate::drafts::{self, now};
use crate::error::{Error, FieldIssue, Result};
use crate::events::Events;
use crate::http::{Api, check, decode, header, now_ms};
use crate::model::{OutboxEvent, OutboxItem, OutboxReport, OutboxStage, OutboxState, ParkReason};
use crate::reports;
use crate::store::Store;

const FIRST_RETRY_MS: u64 = 1_000;
const MAX_RETRY_MS: u64 = 15 * 60 * 1_000;

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    /// The dossier draft, or (for a report) the report draft.
    draft_id: String,
    /// Whether this item carries a report draft.
    is_report: bool,
    idempotency_key: String,
    state: String,
    body: Option<String>,
    attempts: i64,
    next_attempt_at: i64,
    park_reason: Option<String>,
    dossier_id: Option<String>,
    report_id: Option<String>,
}

fn item(r: ItemRow) -> OutboxItem {
    OutboxItem {
        id: r.id,
        draft_id: r.draft_id,
        idempotency_key: r.idempotency_key,
        state: match r.state.as_str() {
            "parked" => OutboxState::Parked,
            "sent" => OutboxState::Sent,
            _ => OutboxState::Pending,
        },
        attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
        next_attempt_at_ms: r.next_attempt_at,
        park_reason: r.park_reason.as_deref().map(ParkReason::from_db),
        dossier_id: r.dossier_id,
        report_id: r.report_id,
    }
}

const SELECT: &str = "SELECT id, COALESCE(draft_id, report_draft_id) AS draft_id, report_draft_id IS NOT NULL AS is_report, \
     idempotency_key, state, body, attempts, next_attempt_at, park_reason, dossier_id, report_id FROM outbox";

/// The draft table of an item.
fn drafts_table(row: &ItemRow) -> &'static str {
    if row.is_report { "report_drafts" } else { "drafts" }
}

async fn find(conn: &mut SqliteConnection, item_id: &str) -> Result<ItemRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(item_id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("outbox item"))
}

pub(crate) async fn list(store: &Store) -> Result<Vec<OutboxItem>> {
    let rows: Vec<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY created_at, id")))
        .fetch_all(store.read())
        .await?;
    Ok(rows.into_iter().map(item).collect())
}

/// Freezes a valid draft and queues it, in one transaction.
pub(crate) async fn submit(store: &Store, draft_id: &str, lang: Lang) -> Result<OutboxItem> {
    let mut tx = store.begin().await?;
    let row: Option<(String, String, String)> =
        sqlx::query_as(
            "SELECT d.state, f.form, d.procedure_code FROM drafts d JOIN draft_forms f ON f.draft_id = d.id WHERE d.id = $1",
        )
            .bind(draft_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (state, form, procedure_code) = row.ok_or(Error::NotFound("draft"))?;
    if state != "editing" {
        return Err(Error::Conflict("draft_not_editable"));
    }
    if catalogue::procedure(&mut tx, &procedure_code).await?.is_none() {
        return Err(Error::Conflict("procedure_retired"));
    }
    let form: FormDef = serde_json::from_str(&form)?;
    let values = drafts::values(&mut tx, draft_id).await?;
    let issues = drafts::issues(&form, values, "[]", lang)?;
    if !issues.is_empty() {
        return Err(Error::Validation(issues));
    }
    let at = now();
    sqlx::query("UPDATE drafts SET state = 'queued', server_errors = '[]', updated_at = $1 WHERE id = $2")
        .bind(&at)
        .bind(draft_id)
        .execute(&mut *tx)
        .await?;
    // A refused earlier attempt of this draft is replaced (its key never made a dossier).
    sqlx::query("DELETE FROM outbox WHERE draft_id = $1").bind(draft_id).execute(&mut *tx).await?;
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO outbox (id, draft_id, idempotency_key, state, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
    )
    .bind(&id)
    .bind(draft_id)
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    let row = find(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(item(row))
}

/// Freezes a valid report draft and queues it, in one transaction.
pub(crate) async fn submit_report(store: &Store, draft_id: &str, lang: Lang) -> Result<OutboxItem> {
    let mut tx = store.begin().await?;
    reports::freeze(&mut tx, draft_id, lang).await?;
    sqlx::query("DELETE FROM outbox WHERE report_draft_id = $1").bind(draft_id).execute(&mut *tx).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let at = now();
    sqlx::query(
        "INSERT INTO outbox (id, report_draft_id, idempotency_key, state, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
    )
    .bind(&id)
    .bind(draft_id)
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    let row = find(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(item(row))
}

/// Every pending item becomes due now (the network is back: the backoff is moot).
pub(crate) async fn make_all_due(store: &Store) -> Result<()> {
    sqlx::query("UPDATE outbox SET next_attempt_at = 0 WHERE state = 'pending' AND next_attempt_at > 0")
        .execute(store.write())
        .await?;
    Ok(())
}

/// A parked item goes back to pending, due now.
pub(crate) async fn retry(store: &Store, item_id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    let row = find(&mut tx, item_id).await?;
    if row.state == "sent" {
        return Err(Error::Conflict("already_sent"));
    }
    if row.park_reason.as_deref() == Some("validation") {
        return Err(Error::Conflict("must_resubmit"));
    }
    sqlx::query(
        "UPDATE outbox SET state = 'pending', park_reason = NULL, next_attempt_at = 0, updated_at = $1 WHERE id = $2",
    )
    .bind(now())
    .bind(item_id)
    .execute(&mut *tx)
    .await?;
    let sql = format!("UPDATE {} SET state = 'queued' WHERE id = $1", drafts_table(&row));
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&row.draft_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a pending or parked item; its draft becomes editable again.
pub(crate) async fn cancel(store: &Store, item_id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    let row = find(&mut tx, item_id).await?;
    if row.state == "sent" {
        return Err(Error::Conflict("already_sent"));
    }
    sqlx::query("DELETE FROM outbox WHERE id = $1").bind(item_id).execute(&mut *tx).await?;
    let sql = format!("UPDATE {} SET state = 'editing', updated_at = $1 WHERE id = $2", drafts_table(&row));
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now()).bind(&row.draft_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Everything one pass needs.
pub(crate) struct Engine<'a> {
    pub store: &'a Store,
    pub api: &'a Api,
    pub events: &'a Events,
    pub chunk_size: u64,
}

/// How one item ended in this pass.
enum Outcome {
    Sent,
    Retry,
    Parked,
}

impl Engine<'_> {
    /// One pass over every due item, oldest first. Stops early only when signed out.
    pub(crate) async fn run(&self) -> Result<OutboxReport> {
        let due: Vec<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY created_at, id"
        )))
        .bind(now_ms())
        .fetch_all(self.store.read())
        .await?;
        let mut sent = 0;
        for row in due {
            match self.process(row).await? {
                Outcome::Sent => sent += 1,
                Outcome::Retry | Outcome::Parked => {}
            }
        }
        let (pending, parked, next): (i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'parked'), 0),
                    MIN(CASE WHEN state = 'pending' THEN next_attempt_at END) FROM outbox",
        )
        .fetch_one(self.store.read())
        .await?;
        Ok(OutboxReport {
            sent,
            pending: u32::try_from(pending).unwrap_or(u32::MAX),
            parked: u32::try_from(parked).unwrap_or(u32::MAX),
            next_retry_in_ms: next.map(|n| u64::try_from(n - now_ms()).unwrap_or(0)),
        })
    }

    fn emit(&self, row: &ItemRow, stage: OutboxStage) {
        self.events.outbox(OutboxEvent { item_id: row.id.clone(), draft_id: row.draft_id.clone(), stage });
    }

    async fn process(&self, row: ItemRow) -> Result<Outcome> {
        match self.send(&row).await {
            Ok(()) => Ok(Outcome::Sent),
            Err(Error::SignedOut) => Err(Error::SignedOut),
            Err(e) if e.is_transient() => {
                self.schedule_retry(&row, &e).await?;
                Ok(Outcome::Retry)
            }
            Err(e @ (Error::Http { .. } | Error::Io(_) | Error::BadResponse(_))) => {
                self.park(&row, e).await?;
                Ok(Outcome::Parked)
            }
            Err(e) => Err(e),
        }
    }

    async fn schedule_retry(&self, row: &ItemRow, err: &Error) -> Result<()> {
        let attempt = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
        let retry_after_ms = match err {
            Error::Http { retry_after_secs: Some(s), .. } => s.saturating_mul(1000),
            _ => 0,
        };
        let delay = backoff_ms(attempt, random_fraction()).max(retry_after_ms);
        tracing::debug!(attempt, delay_ms = delay, error = %err, "outbox item will retry");
        sqlx::query("UPDATE outbox SET attempts = $1, next_attempt_at = $2, updated_at = $3 WHERE id = $4")
            .bind(i64::from(attempt))
            .bind(now_ms().saturating_add(i64::try_from(delay).unwrap_or(i64::MAX / 2)))
            .bind(now())
            .bind(&row.id)
            .execute(self.store.write())
            .await?;
        self.emit(row, OutboxStage::Retrying { attempt, in_ms: delay });
        Ok(())
    }

    async fn park(&self, row: &ItemRow, err: Error) -> Result<()> {
        let (reason, fields) = match err {
            Error::Http { status: 422, fields, .. } | Error::Http { status: 400, fields, .. } if !fields.is_empty() => {
                (ParkReason::Validation, fields)
            }
            Error::Http { status: 409, .. } => (ParkReason::Conflict, Vec::new()),
            Error::Http { status: 403, .. } => (ParkReason::Forbidden, Vec::new()),
            Error::Http { status: 404, .. } => (ParkReason::ProcedureUnavailable, Vec::new()),
            Error::Http { code, .. } => (ParkReason::Other { code }, Vec::new()),
            Error::Io(_) => (ParkReason::Other { code: "file_missing".to_owned() }, Vec::new()),
            other => (ParkReason::Other { code: format!("{other}") }, Vec::new()),
        };
        tracing::info!(reason = %reason.to_db(), "outbox item parked");
        let mut tx = self.store.begin().await?;
        sqlx::query("UPDATE outbox SET state = 'parked', park_reason = $1, updated_at = $2 WHERE id = $3")
            .bind(reason.to_db())
            .bind(now())
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
        if reason == ParkReason::Validation && row.is_report {
            let issues: Vec<FieldIssue> = fields.into_iter().map(FieldIssue::from_wire).collect();
            sqlx::query(
                "UPDATE report_drafts SET state = 'editing', server_errors = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(serde_json::to_string(&issues)?)
            .bind(now())
            .bind(&row.draft_id)
            .execute(&mut *tx)
            .await?;
        } else if reason == ParkReason::Validation {
            // The server's paths are under `values.`; the draft's are not.
            let issues: Vec<FieldIssue> = fields
                .into_iter()
                .map(|f| {
                    let path = f.path.strip_prefix("values.").map(str::to_owned).unwrap_or(f.path.clone());
                    FieldIssue { path, ..FieldIssue::from_wire(f) }
                })
                .collect();
            sqlx::query("UPDATE drafts SET state = 'editing', server_errors = $1, updated_at = $2 WHERE id = $3")
                .bind(serde_json::to_string(&issues)?)
                .bind(now())
                .bind(&row.draft_id)
                .execute(&mut *tx)
                .await?;
            // If the form moved on meanwhile, carry the draft over to it now.
            let code: Option<String> = sqlx::query_scalar("SELECT procedure_code FROM drafts WHERE id = $1")
                .bind(&row.draft_id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(code) = code
                && let Some(p) = catalogue::procedure(&mut tx, &code).await?
            {
                drafts::migrate_editing_drafts(&mut tx, &code, &p.form).await?;
            }
        } else {
            let sql = format!("UPDATE {} SET state = 'parked', updated_at = $1 WHERE id = $2", drafts_table(row));
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now()).bind(&row.draft_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.emit(row, OutboxStage::Parked { reason });
        Ok(())
    }

    /// Uploads what is missing, then posts the dossier or the report (the same body on
    /// every attempt).
    async fn send(&self, row: &ItemRow) -> Result<()> {
        let body = match &row.body {
            Some(body) => body.clone(),
            None => {
                let body = if row.is_report {
                    self.upload_photos(row).await?;
                    let mut conn = self.store.write().acquire().await?;
                    reports::body(&mut conn, &row.draft_id).await?
                } else {
                    self.upload_files(row).await?;
                    self.build_body(&row.draft_id).await?
                };
                sqlx::query("UPDATE outbox SET body = $1 WHERE id = $2 AND body IS NULL")
                    .bind(&body)
                    .bind(&row.id)
                    .execute(self.store.write())
                    .await?;
                // Another body may have been stored first (never, with one engine; but be exact).
                let stored: Option<String> = sqlx::query_scalar("SELECT body FROM outbox WHERE id = $1")
                    .bind(&row.id)
                    .fetch_one(self.store.write())
                    .await?;
                stored.unwrap_or(body)
            }
        };
        self.emit(row, OutboxStage::Submitting);
        if row.is_report {
            return self.post_report(row, body).await;
        }
        // A submission files a dossier; an answer to a supplement request goes to its dossier.
        let answers: Option<String> = sqlx::query_scalar("SELECT supplement_for FROM drafts WHERE id = $1")
            .bind(&row.draft_id)
            .fetch_optional(self.store.read())
            .await?
            .flatten();
        let path = match &answers {
            Some(dossier) => format!("/api/v1/dossiers/{}/supplement", dossiers::encode(dossier)),
            None => "/api/v1/dossiers".to_owned(),
        };
        let response = self
            .api
            .send_authed(
                "POST",
                &path,
                vec![
                    header("Content-Type", "application/json"),
                    header("Idempotency-Key", row.idempotency_key.clone()),
                ],
                body.into_bytes(),
            )
            .await?;
        let dossier: Dossier = decode(check(response)?)?;
        let mut tx = self.store.begin().await?;
        sqlx::query("UPDATE outbox SET state = 'sent', dossier_id = $1, updated_at = $2 WHERE id = $3")
            .bind(&dossier.id)
            .bind(now())
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE drafts SET state = 'sent', dossier_id = $1, updated_at = $2 WHERE id = $3")
            .bind(&dossier.id)
            .bind(now())
            .bind(&row.draft_id)
            .execute(&mut *tx)
            .await?;
        dossiers::cache_detail(&mut tx, &dossier).await?;
        tx.commit().await?;
        self.emit(row, OutboxStage::Sent { dossier_id: dossier.id.clone(), dossier_code: dossier.code.clone() });
        Ok(())
    }

    /// Posts a report with the item's key; on success the item, the draft and the cache
    /// of the citizen's reports change in one transaction.
    async fn post_report(&self, row: &ItemRow, body: String) -> Result<()> {
        let response = self
            .api
            .send_authed(
                "POST",
                "/api/v1/reports",
                vec![
                    header("Content-Type", "application/json"),
                    header("Idempotency-Key", row.idempotency_key.clone()),
                ],
                body.into_bytes(),
            )
            .await?;
        let report: Report = decode(check(response)?)?;
        let mut tx = self.store.begin().await?;
        sqlx::query("UPDATE outbox SET state = 'sent', report_id = $1, updated_at = $2 WHERE id = $3")
            .bind(&report.id)
            .bind(now())
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE report_drafts SET state = 'sent', report_id = $1, updated_at = $2 WHERE id = $3")
            .bind(&report.id)
            .bind(now())
            .bind(&row.draft_id)
            .execute(&mut *tx)
            .await?;
        reports::cache_mine(&mut tx, &report).await?;
        tx.commit().await?;
        self.emit(row, OutboxStage::ReportSent { report_id: report.id.clone(), report_code: report.code.clone() });
        Ok(())
    }

    /// Uploads every photo of a report draft that has no attachment yet, in order.
    async fn upload_photos(&self, row: &ItemRow) -> Result<()> {
        let files: Vec<(String, String, i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, file_name, size, sha256, upload_id FROM report_draft_photos
             WHERE draft_id = $1 AND attachment_id IS NULL ORDER BY position, id",
        )
        .bind(&row.draft_id)
        .fetch_all(self.store.read())
        .await?;
        for (file_id, file_name, size, sha256, upload_id) in files {
            let size = u64::try_from(size).unwrap_or(0);
            self.upload_file(row, "report_draft_photos", &file_id, &file_name, size, &sha256, upload_id).await?;
        }
        Ok(())
    }

    /// The submission body: the frozen values with local file ids replaced by the server's
    /// attachment ids.
    async fn build_body(&self, draft_id: &str) -> Result<String> {
        let mut conn = self.store.write().acquire().await?;
        type Head = (String, i64, String, Option<String>, Option<String>, Option<String>);
        let (procedure_code, form_version, form, branch_code, answers, note): Head = sqlx::query_as(
            "SELECT d.procedure_code, d.form_version, f.form, d.branch_code, d.supplement_for, d.supplement_note
                 FROM drafts d JOIN draft_forms f ON f.draft_id = d.id WHERE d.id = $1",
        )
        .bind(draft_id)
        .fetch_one(&mut *conn)
        .await?;
        let form: FormDef = serde_json::from_str(&form)?;
        let mut values = drafts::values(&mut conn, draft_id).await?;
        let files: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT id, attachment_id FROM draft_files WHERE draft_id = $1")
                .bind(draft_id)
                .fetch_all(&mut *conn)
                .await?;
        for field in &form.fields {
            if !matches!(field.kind, FieldKind::Attachment { .. }) {
                continue;
            }
            let Some(Value::Array(ids)) = values.get_mut(&field.key) else { continue };
            for id in ids.iter_mut() {
                let local = id.as_str().unwrap_or_default().to_owned();
                if let Some((_, remote)) = files.iter().find(|(f, _)| *f == local) {
                    let remote = remote.clone().ok_or(Error::Invalid("a file is not uploaded"))?;
                    *id = Value::String(remote);
                }
            }
        }
        if answers.is_some() {
            return Ok(serde_json::to_string(&SupplementAnswer { values: Value::Object(values), note })?);
        }
        let submit = SubmitDossier {
            procedure_code,
            form_version: u32::try_from(form_version).unwrap_or(0),
            values: Value::Object(values),
            branch_code,
        };
        Ok(serde_json::to_string(&submit)?)
    }

    /// Uploads every file the values refer to that has no attachment yet.
    async fn upload_files(&self, row: &ItemRow) -> Result<()> {
        let referenced = {
            let mut conn = self.store.read().acquire().await?;
            referenced_ids(&drafts::values(&mut conn, &row.draft_id).await?)
        };
        let files: Vec<(String, String, i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, file_name, size, sha256, upload_id FROM draft_files
             WHERE draft_id = $1 AND attachment_id IS NULL ORDER BY created_at, id",
        )
        .bind(&row.draft_id)
        .fetch_all(self.store.read())
        .await?;
        for (file_id, file_name, size, sha256, upload_id) in files {
            if referenced.contains(&file_id) {
                let size = u64::try_from(size).unwrap_or(0);
                self.upload_file(row, "draft_files", &file_id, &file_name, size, &sha256, upload_id).await?;
            }
        }
        Ok(())
    }

    /// Uploads one file of `table` (`draft_files` or `report_draft_photos`), resuming.
    #[allow(clippy::too_many_arguments)]
    async fn upload_file(
        &self,
        row: &ItemRow,
        table: &'static str,
        file_id: &str,
        file_name: &str,
        size: u64,
        sha256: &str,
        upload_id: Option<String>,
    ) -> Result<()> {
        let path = self.store.file_path(file_id);
        // Where the server stands: an upload we started before, or a new one.
        let mut status = match upload_id {
            Some(id) => match self.api.get::<UploadStatus>(&format!("/api/v1/uploads/{id}")).await {
                Ok(s) => Some(s),
                Err(Error::Http { status: 404 | 410, .. }) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        if status.is_none() {
            let start = UploadStart { sha256: sha256.to_owned(), size, file_name: file_name.to_owned() };
            let (_, s): (u16, UploadStatus) = self.api.post("/api/v1/uploads", &start, Vec::new()).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET upload_id = $1 WHERE id = $2")))
                .bind(&s.upload_id)
                .bind(file_id)
                .execute(self.store.write())
                .await?;
            status = Some(s);
        }
        let Some(mut status) = status else { return Err(Error::BadResponse("no upload status".to_owned())) };
        let mut file = tokio::fs::File::open(&path).await?;
        let chunk = self.chunk_size.max(1);
        loop {
            if let Some(attachment) = &status.attachment {
                sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET attachment_id = $1 WHERE id = $2")))
                    .bind(&attachment.id)
                    .bind(file_id)
                    .execute(self.store.write())
                    .await?;
                self.emit(
                    row,
                    OutboxStage::Uploading { file_id: file_id.to_owned(), sent_bytes: size, total_bytes: size },
                );
                return Ok(());
            }
            let offset = status.offset.min(size);
            let len = chunk.min(size - offset);
            let mut buf = vec![0_u8; usize::try_from(len).unwrap_or(0)];
            file.seek(SeekFrom::Start(offset)).await?;
            file.read_exact(&mut buf).await?;
            let response = self
                .api
                .send_authed(
                    "PATCH",
                    &format!("/api/v1/uploads/{}", status.upload_id),
                    vec![
                        header("Upload-Offset", offset.to_string()),
                        header("Content-Type", "application/offset+octet-stream"),
                    ],
                    buf,
                )
                .await?;
            if response.status == 409 {
                // The server holds another offset (an earlier chunk landed after all).
                let current = response.header("Upload-Offset").and_then(|v| v.trim().parse::<u64>().ok());
                match current {
                    Some(current) => {
                        status.offset = current;
                        continue;
                    }
                    None => return Err(check(response).err().unwrap_or(Error::BadResponse("409".to_owned()))),
                }
            }
            status = decode(check(response)?)?;
            self.emit(
                row,
                OutboxStage::Uploading { file_id: file_id.to_owned(), sent_bytes: status.offset, total_bytes: size },
            );
        }
    }
}

fn referenced_ids(values: &Map<String, Value>) -> std::collections::HashSet<String> {
    values.values().filter_map(Value::as_array).flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// Exponential backoff with jitter: attempt n waits between half and all of
/// `min(1 s × 2^(n-1), 15 min)`; `fraction` in [0, 1) picks the point.
pub(crate) fn backoff_ms(attempt: u32, fraction: f64) -> u64 {
    let exp = FIRST_RETRY_MS.saturating_mul(1_u64 << attempt.saturating_sub(1).min(30));
    let cap = exp.min(MAX_RETRY_MS);
    let half = cap / 2;
    half + ((cap - half) as f64 * fraction.clamp(0.0, 1.0)) as u64
}

fn random_fraction() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64 >> 11;
    bits as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        assert_eq!(backoff_ms(1, 0.0), 500);
        assert_eq!(backoff_ms(1, 0.999_999), 999);
        assert_eq!(backoff_ms(2, 0.0), 1_000);
        assert_eq!(backoff_ms(5, 0.0), 8_000);
        assert_eq!(backoff_ms(40, 0.0), MAX_RETRY_MS / 2);
        assert!(backoff_ms(40, 1.0) <= MAX_RETRY_MS);
        for _ in 0..100 {
            let f = random_fraction();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn park_reasons_round_trip() {
        for r in [
            ParkReason::Validation,
            ParkReason::Conflict,
            ParkReason::Forbidden,
            ParkReason::ProcedureUnavailable,
            ParkReason::Other { code: "payload_too_large".to_owned() },
        ] {
            assert_eq!(ParkReason::from_db(&r.to_db()), r);
        }
    }
}
