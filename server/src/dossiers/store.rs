//! Dossier persistence: rows, loading with the timeline, the per-day dossier code counter,
//! and the one function that records a status change together with its timeline entry,
//! the citizen's notification and the push outbox row — in the caller's transaction, so
//! there is never a change without its notification nor a notification without its change.

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::{WorkingCalendar, vietnam};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Dossier, DossierSummary, Rating, Role, TimelineEntry};
use motcua_domain::workflow::{DeadlineState, DossierStatus, deadline_state};
use serde_json::json;
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::Db;
use crate::on_db;

/// Vietnam's time zone (no daylight saving): dates of the legal calendar are local.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    (t + chrono::TimeDelta::hours(7)).date_naive()
}

pub fn calendar() -> &'static WorkingCalendar {
    vietnam()
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DossierRow {
    pub id: Uuid,
    pub code: String,
    pub applicant_id: Uuid,
    pub applicant_name: String,
    pub applicant_phone: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub processing_days: i64,
    pub form_version: i64,
    pub form_values: Json<serde_json::Value>,
    pub status: String,
    pub branch_code: String,
    pub assigned_to: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    pub paused_days: i64,
    pub pause_started_on: Option<NaiveDate>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub rating_score: Option<i64>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

pub const DOSSIER_COLUMNS: &str = "id, code, applicant_id, applicant_name, applicant_phone, procedure_code, procedure_name, \
     processing_days, form_version, form_values, status, branch_code, assigned_to, submitted_at, received_at, due_date, \
     paused_days, pause_started_on, decided_at, closed_at, rating_score, rating_comment, rated_at, updated_at, revision";

impl DossierRow {
    pub fn status(&self) -> DossierStatus {
        DossierStatus::parse(&self.status).unwrap_or(DossierStatus::Submitted)
    }

    pub fn deadline(&self, today: NaiveDate) -> DeadlineState {
        deadline_state(
            calendar(),
            self.status(),
            self.due_date,
            self.decided_at.or(self.closed_at).map(local_date),
            today,
        )
    }

    pub fn summary(&self, today: NaiveDate) -> DossierSummary {
        DossierSummary {
            id: self.id.to_string(),
            code: self.code.clone(),
            procedure_code: self.procedure_code.clone(),
            procedure_name: self.procedure_name.clone(),
            status: self.status(),
            branch_code: self.branch_code.clone(),
            submitted_at: self.submitted_at,
            updated_at: self.updated_at,
            due_date: self.due_date,
            deadline: self.deadline(today),
        }
    }

    pub fn full(&self, timeline: Vec<TimelineEntry>, today: NaiveDate) -> Dossier {
        Dossier {
            id: self.id.to_string(),
            code: self.code.clone(),
            procedure_code: self.procedure_code.clone(),
            procedure_name: self.procedure_name.clone(),
            form_version: u32::try_from(self.form_version).unwrap_or_default(),
            values: self.form_values.0.clone(),
            status: self.status(),
            branch_code: self.branch_code.clone(),
            applicant_name: self.applicant_name.clone(),
            submitted_at: self.submitted_at,
            received_at: self.received_at,
            due_date: self.due_date,
            deadline: self.deadline(today),
            decided_at: self.decided_at,
            assigned_to: self.assigned_to.map(|u| u.to_string()),
            rating: self.rating_score.map(|score| Rating {
                score: u8::try_from(score).unwrap_or_default(),
                comment: self.rating_comment.clone(),
            }),
            timeline,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct EventRow {
    at: DateTime<Utc>,
    action: String,
    from_status: Option<String>,
    to_status: String,
    actor_role: String,
    actor_name: String,
    note: Option<String>,
}

pub async fn find(db: &Db, id: Uuid) -> sqlx::Result<Option<DossierRow>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {DOSSIER_COLUMNS} FROM dossiers WHERE id = $1"));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)
}

pub async fn find_by_code(db: &Db, code: &str) -> sqlx::Result<Option<DossierRow>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {DOSSIER_COLUMNS} FROM dossiers WHERE code = $1"));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(code).fetch_optional(pool).await)
}

pub async fn timeline(db: &Db, id: Uuid) -> sqlx::Result<Vec<TimelineEntry>> {
    let rows: Vec<EventRow> = on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT at, action, from_status, to_status, actor_role, actor_name, note FROM dossier_events \
             WHERE dossier_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| TimelineEntry {
            at: r.at,
            action: r.action,
            from: r.from_status.as_deref().and_then(DossierStatus::parse),
            to: DossierStatus::parse(&r.to_status).unwrap_or(DossierStatus::Submitted),
            actor_role: Role::parse(&r.actor_role).unwrap_or(Role::Citizen),
            actor_name: Some(r.actor_name),
            note: r.note,
        })
        .collect())
}

/// The full dossier with its timeline, as of `now`.
pub async fn load_full(db: &Db, row: &DossierRow, now: DateTime<Utc>) -> sqlx::Result<Dossier> {
    Ok(row.full(timeline(db, row.id).await?, local_date(now)))
}

/// Who did something, for the timeline.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Uuid,
    pub role: Role,
    pub name: String,
}

/// A status change to record (the dossier row itself is updated by the caller).
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub dossier: &'a DossierRow,
    pub action: &'a str,
    pub from: Option<DossierStatus>,
    pub to: DossierStatus,
    pub actor: &'a Actor,
    pub note: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Appends the timeline entry and, when the status changes, the applicant's notification
/// and the push outbox row. Runs inside the caller's transaction.
#[macro_export]
macro_rules! record_change {
    ($tx:expr, $change:expr) => {{
        let change: &$crate::dossiers::store::Change<'_> = $change;
        let event_id = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO dossier_events (id, dossier_id, at, action, from_status, to_status, actor_id, actor_role, actor_name, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(event_id)
        .bind(change.dossier.id)
        .bind(change.at)
        .bind(change.action)
        .bind(change.from.map(|s| s.as_str()))
        .bind(change.to.as_str())
        .bind(change.actor.id)
        .bind(change.actor.role.as_str())
        .bind(&change.actor.name)
        .bind(change.note)
        .execute(&mut *$tx)
        .await?;
        if change.from != Some(change.to) {
            let (title, body) = $crate::dossiers::store::notification_text(change.dossier, change.to, change.note);
            let notification_id = uuid::Uuid::now_v7();
            sqlx::query(
                "INSERT INTO notifications (id, user_id, kind, dossier_id, dossier_code, status, title, body, created_at) \
                 VALUES ($1, $2, 'dossier_status', $3, $4, $5, $6, $7, $8)",
            )
            .bind(notification_id)
            .bind(change.dossier.applicant_id)
            .bind(change.dossier.id)
            .bind(&change.dossier.code)
            .bind(change.to.as_str())
            .bind(&title)
            .bind(&body)
            .bind(change.at)
            .execute(&mut *$tx)
            .await?;
            sqlx::query(
                "INSERT INTO outbox (id, topic, payload, created_at, available_at) VALUES ($1, 'push.dossier_status', $2, $3, $3)",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(sqlx::types::Json($crate::dossiers::store::push_payload(change, notification_id, &title, &body)))
            .bind(change.at)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// The notification a citizen gets for a status change (Vietnamese).
pub fn notification_text(dossier: &DossierRow, to: DossierStatus, note: Option<&str>) -> (String, String) {
    let title = format!("Hồ sơ {}: {}", dossier.code, to.label(Lang::Vi));
    let mut body = match to {
        DossierStatus::Submitted => format!("Hồ sơ “{}” đã được nộp và đang chờ tiếp nhận.", dossier.procedure_name),
        DossierStatus::Received => format!("Hồ sơ “{}” đã được tiếp nhận.", dossier.procedure_name),
        DossierStatus::InProcessing => format!("Hồ sơ “{}” đang được xử lý.", dossier.procedure_name),
        DossierStatus::SupplementRequested => {
            format!("Cơ quan yêu cầu bổ sung hồ sơ “{}”. Thời hạn giải quyết tạm dừng.", dossier.procedure_name)
        }
        DossierStatus::Approved => format!("Hồ sơ “{}” đã được phê duyệt; chờ trả kết quả.", dossier.procedure_name),
        DossierStatus::Rejected => format!("Hồ sơ “{}” bị từ chối.", dossier.procedure_name),
        DossierStatus::ResultReturned => format!("Kết quả hồ sơ “{}” đã được trả.", dossier.procedure_name),
        DossierStatus::Withdrawn => format!("Hồ sơ “{}” đã được rút.", dossier.procedure_name),
    };
    if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
        body.push_str(" Ghi chú: ");
        body.push_str(note.trim());
    }
    (title, body)
}

/// What the push worker needs to deliver one status change.
pub fn push_payload(change: &Change<'_>, notification_id: Uuid, title: &str, body: &str) -> serde_json::Value {
    json!({
        "user_id": change.dossier.applicant_id.to_string(),
        "notification_id": notification_id.to_string(),
        "dossier_id": change.dossier.id.to_string(),
        "dossier_code": change.dossier.code,
        "status": change.to.as_str(),
        "title": title,
        "body": body,
    })
}

/// The next public code of the day at `branch`: `H26.12-261124-0042`. The counter row is
/// bumped with one atomic upsert, so concurrent submissions (in any process) never share
/// a number.
#[macro_export]
macro_rules! next_dossier_code {
    ($tx:expr, $branch:expr, $now:expr) => {{
        let prefix = format!("{}-{}", $branch, $crate::dossiers::store::local_date($now).format("%y%m%d"));
        let (last,): (i64,) = sqlx::query_as(
            "INSERT INTO dossier_code_counters (prefix, last) VALUES ($1, 1) \
             ON CONFLICT (prefix) DO UPDATE SET last = dossier_code_counters.last + 1 RETURNING last",
        )
        .bind(&prefix)
        .fetch_one(&mut *$tx)
        .await?;
        format!("{prefix}-{last:04}")
    }};
}

/// Stable hash of a request body: object keys sorted at every depth.
pub fn request_hash(value: &serde_json::Value) -> String {
    fn canonical(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(&map[k], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    use sha2::Digest;
    let mut text = String::new();
    canonical(value, &mut text);
    crate::seed::hex(&sha2::Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_hash_ignores_key_order() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": null}});
        let b: serde_json::Value = serde_json::from_str(r#"{"a": {"x": null, "y": [1, 2]}, "b": 1}"#).expect("json");
        assert_eq!(request_hash(&a), request_hash(&b));
        assert_ne!(request_hash(&a), request_hash(&json!({"b": 2, "a": {"y": [1, 2], "x": null}})));
    }

    #[test]
    fn local_dates_are_vietnamese() {
        let late_evening_utc = DateTime::parse_from_rfc3339("2026-11-24T18:30:00Z").expect("date").with_timezone(&Utc);
        assert_eq!(local_date(late_evening_utc), NaiveDate::from_ymd_opt(2026, 11, 25).expect("date"));
    }
}

/// A validated submission, ready to be stored.
#[derive(Debug, Clone)]
pub struct Submission {
    pub id: Uuid,
    pub applicant_id: Uuid,
    pub applicant_name: String,
    pub applicant_phone: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub processing_days: i64,
    pub form_version: i64,
    pub values: serde_json::Value,
    pub branch_code: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub attachments: Vec<Uuid>,
}

/// Stores a submission in one transaction: its code, the dossier, the idempotency key, the
/// attachment links, and (through `record_change!`) the timeline entry, the notification
/// and the push outbox row. A unique violation means the key was taken concurrently.
pub async fn insert_submission(db: &Db, s: &Submission, actor: &Actor, now: DateTime<Utc>) -> sqlx::Result<DossierRow> {
    use crate::db::BeginWrite;
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let code = crate::next_dossier_code!(tx, s.branch_code, now);
        let row = DossierRow {
            id: s.id,
            code,
            applicant_id: s.applicant_id,
            applicant_name: s.applicant_name.clone(),
            applicant_phone: s.applicant_phone.clone(),
            procedure_code: s.procedure_code.clone(),
            procedure_name: s.procedure_name.clone(),
            processing_days: s.processing_days,
            form_version: s.form_version,
            form_values: Json(s.values.clone()),
            status: DossierStatus::Submitted.as_str().to_owned(),
            branch_code: s.branch_code.clone(),
            assigned_to: None,
            submitted_at: now,
            received_at: None,
            due_date: None,
            paused_days: 0,
            pause_started_on: None,
            decided_at: None,
            closed_at: None,
            rating_score: None,
            rating_comment: None,
            rated_at: None,
            updated_at: now,
            revision: 1,
        };
        sqlx::query(
            "INSERT INTO dossiers (id, code, applicant_id, applicant_name, applicant_phone, procedure_code, procedure_name, \
             processing_days, form_version, form_values, status, branch_code, submitted_at, updated_at, revision) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, 1)",
        )
        .bind(row.id).bind(&row.code).bind(row.applicant_id).bind(&row.applicant_name).bind(&row.applicant_phone)
        .bind(&row.procedure_code).bind(&row.procedure_name).bind(row.processing_days).bind(row.form_version)
        .bind(&row.form_values).bind(&row.status).bind(&row.branch_code).bind(now)
        .execute(&mut *tx).await?;
        sqlx::query("INSERT INTO idempotency_keys (owner_id, key, request_hash, dossier_id, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(s.applicant_id).bind(&s.idempotency_key).bind(&s.request_hash).bind(s.id).bind(now)
            .execute(&mut *tx).await?;
        for attachment in &s.attachments {
            sqlx::query("INSERT INTO dossier_attachments (dossier_id, attachment_id) VALUES ($1, $2)")
                .bind(s.id).bind(attachment)
                .execute(&mut *tx).await?;
        }
        let change = Change { dossier: &row, action: "submit", from: None, to: DossierStatus::Submitted, actor, note: None, at: now };
        crate::record_change!(tx, &change);
        tx.commit().await?;
        Ok(row)
    }.await)
}

/// The first timeline entry of a dossier, as [`insert_submission`] records it.
pub fn submitted_entry(actor: &Actor, now: DateTime<Utc>) -> TimelineEntry {
    TimelineEntry {
        at: now,
        action: "submit".to_owned(),
        from: None,
        to: DossierStatus::Submitted,
        actor_role: actor.role,
        actor_name: Some(actor.name.clone()),
        note: None,
    }
}
