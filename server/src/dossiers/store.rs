//! Dossier persistence: every SQL statement about dossiers lives here, behind functions
//! the handlers call. Rows, loading with the timeline, the per-day dossier code counter,
//! the queue (ordered by urgency and paged by key in SQL), the moves of the workflow
//! (with an optimistic revision check), assignment, rating, statistics aggregated in SQL,
//! and the one macro that records a change together with its timeline entry, the
//! citizen's notification and the push outbox row — in the caller's transaction, so there
//! is never a change without its notification nor a notification without its change.

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::{WorkingCalendar, vietnam};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Dossier, DossierLeg, DossierSummary, Rating, Role, TimelineEntry};
use motcua_domain::workflow::{Action, Clock, DeadlineState, DossierStatus, Leg, LegState, deadline_state};
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
    pub tracking_verifier: Option<String>,
    pub received_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub working_days_taken: Option<i64>,
    /// How many agency legs its route has (their rows are in `dossier_legs`).
    pub leg_count: i64,
}

pub const DOSSIER_COLUMNS: &str = "id, code, applicant_id, applicant_name, applicant_phone, procedure_code, procedure_name, \
     processing_days, form_version, form_values, status, branch_code, assigned_to, submitted_at, received_at, due_date, \
     paused_days, pause_started_on, decided_at, closed_at, rating_score, rating_comment, rated_at, updated_at, revision, \
     tracking_verifier, received_on, decided_on, working_days_taken, leg_count";

impl DossierRow {
    pub fn status(&self) -> DossierStatus {
        DossierStatus::parse(&self.status).unwrap_or(DossierStatus::Submitted)
    }

    /// The legal clock as stored (the domain's [`motcua_domain::workflow::step`] moves it).
    pub fn clock(&self) -> Clock {
        Clock {
            processing_days: u32::try_from(self.processing_days).unwrap_or_default(),
            received_on: self.received_on.or(self.received_at.map(local_date)),
            due_date: self.due_date,
            paused_days: u32::try_from(self.paused_days).unwrap_or_default(),
            pause_started_on: self.pause_started_on,
            decided_on: self.decided_on.or(self.decided_at.map(local_date)),
            working_days_taken: self.working_days_taken.and_then(|d| u32::try_from(d).ok()),
        }
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

    pub fn full(&self, timeline: Vec<TimelineEntry>, legs: &[LegRow], today: NaiveDate) -> Dossier {
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
            tracking_verifier: self.tracking_verifier.clone(),
            timeline,
            legs: legs.iter().map(|l| l.wire(today)).collect(),
            result_document: None,
        }
    }
}

/// One leg of a dossier's route as stored, with its agency's names (also read as JSON,
/// gathered by the database, on the read path: [`find_with_timeline`]).
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct LegRow {
    pub seq: i64,
    pub agency_code: String,
    pub agency_name: String,
    pub agency_name_en: String,
    pub days: i64,
    pub state: String,
    pub started_on: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub paused_days: i64,
    pub pause_started_on: Option<NaiveDate>,
    pub finished_on: Option<NaiveDate>,
    pub working_days_taken: Option<i64>,
    /// The dossier's revision when the legs were read (in the same statement): every leg
    /// change bumps it, so legs read at another revision than the row are not its route.
    /// Read with the row on the read path, where the legs come in the row's own statement.
    #[serde(default)]
    pub revision: i64,
}

impl LegRow {
    /// The leg as the domain's `workflow::step` takes it.
    pub fn leg(&self) -> Leg {
        Leg {
            agency: self.agency_code.clone(),
            days: u32::try_from(self.days).unwrap_or_default(),
            state: LegState::parse(&self.state).unwrap_or(LegState::Pending),
            started_on: self.started_on,
            due_date: self.due_date,
            paused_days: u32::try_from(self.paused_days).unwrap_or_default(),
            pause_started_on: self.pause_started_on,
            finished_on: self.finished_on,
            working_days_taken: self.working_days_taken.and_then(|d| u32::try_from(d).ok()),
        }
    }

    /// The agency's name in the request's language.
    pub fn agency_name(&self) -> &str {
        if crate::error::current_lang() == Lang::En { &self.agency_name_en } else { &self.agency_name }
    }

    pub fn wire(&self, today: NaiveDate) -> DossierLeg {
        let leg = self.leg();
        DossierLeg {
            agency: self.agency_code.clone(),
            agency_name: self.agency_name().to_owned(),
            days: leg.days,
            state: leg.state,
            started_on: leg.started_on,
            due_date: leg.due_date,
            finished_on: leg.finished_on,
            deadline: leg.deadline(calendar(), today),
        }
    }
}

/// The legs of a dossier's route, in order (none asked for when it has none), each with
/// the dossier's revision read with it (see [`legs_match`]).
pub async fn legs(db: &Db, row: &DossierRow) -> sqlx::Result<Vec<LegRow>> {
    if row.leg_count == 0 {
        return Ok(Vec::new());
    }
    on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT l.seq, l.agency_code, a.name AS agency_name, a.name_en AS agency_name_en, l.days, l.state, \
             l.started_on, l.due_date, l.paused_days, l.pause_started_on, l.finished_on, l.working_days_taken, d.revision \
             FROM dossier_legs l JOIN agencies a ON a.code = l.agency_code JOIN dossiers d ON d.id = l.dossier_id \
             WHERE l.dossier_id = $1 ORDER BY l.seq",
        )
        .bind(row.id)
        .fetch_all(pool)
        .await
    })
}

/// Whether the attachment `attachment` belongs to a dossier of `branch`.
pub async fn attachment_in_branch(db: &Db, attachment: Uuid, branch: &str) -> sqlx::Result<bool> {
    let linked: Option<(Uuid,)> = on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT da.dossier_id FROM dossier_attachments da JOIN dossiers d ON d.id = da.dossier_id \
             WHERE da.attachment_id = $1 AND d.branch_code = $2",
        )
        .bind(attachment).bind(branch).fetch_optional(pool).await
    })?;
    Ok(linked.is_some())
}

/// Whether the attachment `attachment` belongs to a dossier forwarded to `agency` (now or
/// before: a leg of the agency that is no longer pending).
pub async fn attachment_at_agency(db: &Db, attachment: Uuid, agency: &str) -> sqlx::Result<bool> {
    let linked: Option<(Uuid,)> = on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT da.dossier_id FROM dossier_attachments da JOIN dossier_legs l ON l.dossier_id = da.dossier_id \
             WHERE da.attachment_id = $1 AND l.agency_code = $2 AND l.state <> 'pending'",
        )
        .bind(attachment).bind(agency).fetch_optional(pool).await
    })?;
    Ok(linked.is_some())
}

/// Whether `legs` were read at the revision of `row` (the row and its legs are two reads; a
/// move decided on a route of another revision would be decided on the wrong route).
pub fn legs_match(row: &DossierRow, legs: &[LegRow]) -> bool {
    legs.iter().all(|l| l.revision == row.revision)
}

/// The names of an agency (Vietnamese, English), if it exists.
pub async fn agency_names(db: &Db, code: &str) -> sqlx::Result<Option<(String, String)>> {
    on_db!(db, read, pool => {
        sqlx::query_as("SELECT name, name_en FROM agencies WHERE code = $1").bind(code).fetch_optional(pool).await
    })
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
    agency_code: Option<String>,
    agency_name: Option<String>,
    agency_name_en: Option<String>,
}

/// An agency's name in the request's language.
fn pick_name(vi: Option<String>, en: Option<String>) -> Option<String> {
    if crate::error::current_lang() == Lang::En { en.or(vi) } else { vi }
}

/// A timeline entry of `action` (a stored action name); an inter-agency step gets its
/// agency's name and a plain sentence naming it, in the request's language.
#[allow(clippy::too_many_arguments)]
fn entry(
    at: DateTime<Utc>,
    action: String,
    from: Option<DossierStatus>,
    to: DossierStatus,
    actor_role: Role,
    actor_name: Option<String>,
    note: Option<String>,
    agency: (Option<String>, Option<String>, Option<String>),
) -> TimelineEntry {
    let (code, vi, en) = agency;
    let agency_name = code.as_ref().and_then(|_| pick_name(vi, en));
    let description = agency_name.as_deref().and_then(|name| {
        let known = Action::ALL.into_iter().find(|a| a.as_str() == action)?;
        Some(known.describe(Some(name), crate::error::current_lang()))
    });
    TimelineEntry { at, action, from, to, actor_role, actor_name, note, agency: code, agency_name, description }
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
            "SELECT e.at, e.action, e.from_status, e.to_status, e.actor_role, e.actor_name, e.note, e.agency_code, \
             a.name AS agency_name, a.name_en AS agency_name_en \
             FROM dossier_events e LEFT JOIN agencies a ON a.code = e.agency_code \
             WHERE e.dossier_id = $1 ORDER BY e.at, e.id",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| {
            entry(
                r.at,
                r.action,
                r.from_status.as_deref().and_then(DossierStatus::parse),
                DossierStatus::parse(&r.to_status).unwrap_or(DossierStatus::Submitted),
                Role::parse(&r.actor_role).unwrap_or(Role::Citizen),
                Some(r.actor_name),
                r.note,
                (r.agency_code, r.agency_name, r.agency_name_en),
            )
        })
        .collect())
}

/// A dossier row with one of its timeline events (a LEFT JOIN row).
#[derive(Debug, sqlx::FromRow)]
struct RowWithEvent {
    #[sqlx(flatten)]
    dossier: DossierRow,
    ev_at: Option<DateTime<Utc>>,
    ev_action: Option<String>,
    ev_from: Option<String>,
    ev_to: Option<String>,
    ev_role: Option<String>,
    ev_name: Option<String>,
    ev_note: Option<String>,
    ev_agency: Option<String>,
    ev_agency_name: Option<String>,
    ev_agency_name_en: Option<String>,
    /// The route's legs as a JSON array (the same on every row of the dossier).
    legs_json: Option<String>,
}

/// A dossier, its timeline and its route's legs in one round trip (the read path of
/// `GET /dossiers/{id}`): the legs come as a JSON array gathered by the database.
pub async fn find_with_timeline(
    db: &Db,
    id: Uuid,
) -> sqlx::Result<Option<(DossierRow, Vec<TimelineEntry>, Vec<LegRow>)>> {
    const LEG_FIELDS: &str = "'seq', l.seq, 'agency_code', l.agency_code, 'agency_name', la.name, \
         'agency_name_en', la.name_en, 'days', l.days, 'state', l.state, 'started_on', l.started_on, \
         'due_date', l.due_date, 'paused_days', l.paused_days, 'pause_started_on', l.pause_started_on, \
         'finished_on', l.finished_on, 'working_days_taken', l.working_days_taken";
    fn sql(legs: &str) -> String {
        let columns: Vec<String> = DOSSIER_COLUMNS.split(',').map(|c| format!("d.{}", c.trim())).collect();
        // The legs are gathered once (an aggregate without grouping: exactly one row, joined
        // to every row of the timeline), not once per timeline row.
        format!(
            "WITH route AS ({legs} AS legs_json FROM dossier_legs l JOIN agencies la ON la.code = l.agency_code \
             WHERE l.dossier_id = $1) \
             SELECT {}, e.at AS ev_at, e.action AS ev_action, e.from_status AS ev_from, e.to_status AS ev_to, \
             e.actor_role AS ev_role, e.actor_name AS ev_name, e.note AS ev_note, e.agency_code AS ev_agency, \
             a.name AS ev_agency_name, a.name_en AS ev_agency_name_en, \
             CASE WHEN d.leg_count > 0 THEN route.legs_json END AS legs_json \
             FROM dossiers d CROSS JOIN route LEFT JOIN dossier_events e ON e.dossier_id = d.id \
             LEFT JOIN agencies a ON a.code = e.agency_code WHERE d.id = $1 ORDER BY e.at, e.id",
            columns.join(", ")
        )
    }
    static PG: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| sql(&format!("SELECT CAST(json_agg(json_build_object({LEG_FIELDS})) AS TEXT)")));
    static SQLITE: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| sql(&format!("SELECT json_group_array(json_object({LEG_FIELDS}))")));
    let rows: Vec<RowWithEvent> = match db {
        Db::Postgres(pool) => sqlx::query_as(sqlx::AssertSqlSafe(PG.as_str())).bind(id).fetch_all(pool).await?,
        Db::Sqlite { read, .. } => {
            sqlx::query_as(sqlx::AssertSqlSafe(SQLITE.as_str())).bind(id).fetch_all(read).await?
        }
    };
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else { return Ok(None) };
    let entry = |r: &RowWithEvent| {
        Some(entry(
            r.ev_at?,
            r.ev_action.clone()?,
            r.ev_from.as_deref().and_then(DossierStatus::parse),
            DossierStatus::parse(r.ev_to.as_deref()?).unwrap_or(DossierStatus::Submitted),
            Role::parse(r.ev_role.as_deref()?).unwrap_or(Role::Citizen),
            r.ev_name.clone(),
            r.ev_note.clone(),
            (r.ev_agency.clone(), r.ev_agency_name.clone(), r.ev_agency_name_en.clone()),
        ))
    };
    let mut timeline: Vec<TimelineEntry> = entry(&first).into_iter().collect();
    timeline.extend(rows.filter_map(|r| entry(&r)));
    let mut legs: Vec<LegRow> = match &first.legs_json {
        Some(json) => serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        None => Vec::new(),
    };
    legs.sort_by_key(|l| l.seq);
    // One statement: the legs are the route at the row's own revision.
    for leg in &mut legs {
        leg.revision = first.dossier.revision;
    }
    Ok(Some((first.dossier, timeline, legs)))
}

/// The full dossier with its timeline and legs, as of `now`.
pub async fn load_full(db: &Db, row: &DossierRow, now: DateTime<Utc>) -> sqlx::Result<Dossier> {
    let mut dossier = row.full(timeline(db, row.id).await?, &legs(db, row).await?, local_date(now));
    dossier.result_document = super::result::document(db, row).await?;
    Ok(dossier)
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
    /// The agency of an inter-agency step: its code and Vietnamese name.
    pub agency: Option<(&'a str, &'a str)>,
}

/// Appends the timeline entry and, when the status changes, the applicant's notification
/// and the push outbox row. Runs inside the caller's transaction.
#[macro_export]
macro_rules! record_change {
    ($tx:expr, $change:expr) => {{
        let change: &$crate::dossiers::store::Change<'_> = $change;
        let event_id = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO dossier_events (id, dossier_id, at, action, from_status, to_status, actor_id, actor_role, actor_name, note, agency_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
        .bind(change.agency.map(|(code, _)| code))
        .execute(&mut *$tx)
        .await?;
        if change.from != Some(change.to) {
            let (title, body) = $crate::dossiers::store::notification_text(change);
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

/// The notification a citizen gets for a status change (Vietnamese: the inbox's text); an
/// inter-agency step names the agency (never its officer).
pub fn notification_text(change: &Change<'_>) -> (String, String) {
    notification_text_in(change, Lang::Vi)
}

/// The notification of a status change in `lang` (the push message follows the phone's
/// language). The procedure's and the agency's names stay as the catalogue gives them.
pub fn notification_text_in(change: &Change<'_>, lang: Lang) -> (String, String) {
    let (dossier, to, note) = (change.dossier, change.to, change.note);
    let name = &dossier.procedure_name;
    let agency_step = change.agency.and_then(|(_, agency)| {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == change.action && (a.by_agency() || *a == Action::Forward))
            .map(|a| a.describe(Some(agency), lang))
    });
    let title = match lang {
        Lang::Vi => format!("Hồ sơ {}: {}", dossier.code, to.label(Lang::Vi)),
        Lang::En => format!("Dossier {}: {}", dossier.code, to.label(Lang::En)),
    };
    let mut body = agency_step.unwrap_or_else(|| match lang {
        Lang::Vi => match to {
            DossierStatus::Submitted => format!("Hồ sơ “{name}” đã được nộp và đang chờ tiếp nhận."),
            DossierStatus::Received => format!("Hồ sơ “{name}” đã được tiếp nhận."),
            DossierStatus::InProcessing => format!("Hồ sơ “{name}” đang được xử lý."),
            DossierStatus::SupplementRequested => {
                format!("Cơ quan yêu cầu bổ sung hồ sơ “{name}”. Thời hạn giải quyết tạm dừng.")
            }
            DossierStatus::Approved => format!("Hồ sơ “{name}” đã được phê duyệt; chờ trả kết quả."),
            DossierStatus::Rejected => format!("Hồ sơ “{name}” bị từ chối."),
            DossierStatus::ResultReturned => format!("Kết quả hồ sơ “{name}” đã được trả."),
            DossierStatus::Withdrawn => format!("Hồ sơ “{name}” đã được rút."),
            DossierStatus::AtAgency => format!("Hồ sơ “{name}” đang được cơ quan có thẩm quyền giải quyết."),
        },
        Lang::En => match to {
            DossierStatus::Submitted => format!("Your dossier “{name}” was filed and awaits reception."),
            DossierStatus::Received => format!("Your dossier “{name}” was received."),
            DossierStatus::InProcessing => format!("Your dossier “{name}” is being processed."),
            DossierStatus::SupplementRequested => {
                format!("The agency asks for a supplement to your dossier “{name}”. The deadline is paused.")
            }
            DossierStatus::Approved => format!("Your dossier “{name}” was approved; the result will be returned."),
            DossierStatus::Rejected => format!("Your dossier “{name}” was rejected."),
            DossierStatus::ResultReturned => format!("The result of your dossier “{name}” was returned."),
            DossierStatus::Withdrawn => format!("Your dossier “{name}” was withdrawn."),
            DossierStatus::AtAgency => format!("Your dossier “{name}” is with the competent agency."),
        },
    });
    if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
        body.push_str(if lang == Lang::En { " Note: " } else { " Ghi chú: " });
        body.push_str(note.trim());
    }
    (title, body)
}

/// The outbox row of a status change, in the push contract's shape (see
/// `push::event` and ARCHITECTURE.md): texts in both languages, the deep link.
pub fn push_payload(change: &Change<'_>, notification_id: Uuid, title: &str, body: &str) -> serde_json::Value {
    let (title_en, body_en) = notification_text_in(change, Lang::En);
    json!({
        "user_id": change.dossier.applicant_id.to_string(),
        "notification_id": notification_id.to_string(),
        "kind": "dossier",
        "id": change.dossier.id.to_string(),
        "pref": "dossier_updates",
        "title": {"vi": title, "en": title_en},
        "body": {"vi": body, "en": body_en},
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
    pub procedure_code: String,
    pub procedure_name: String,
    pub processing_days: i64,
    pub form_version: i64,
    pub values: serde_json::Value,
    pub branch_code: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub attachments: Vec<Uuid>,
    /// The secret printed on the receipt for public tracking ([`new_tracking_verifier`]).
    pub tracking_verifier: String,
    /// The catalogue version the submission was validated against: checked in the
    /// insert's transaction ([`InsertError::StaleCatalogue`]).
    pub catalogue_version: i64,
    /// The route through the competent agencies (`workflow::route` of the procedure's plan).
    pub legs: Vec<Leg>,
}

/// Why a submission was not stored.
#[derive(Debug)]
pub enum InsertError {
    /// A quota claim was refused (nothing was stored).
    Quota(crate::quotas::Claim),
    /// The applicant's account is gone.
    NoApplicant,
    /// An attachment is not the applicant's (nothing was stored).
    ForeignAttachment,
    /// Another catalogue version landed since the submission was validated (nothing was
    /// stored): validate again against the current one.
    StaleCatalogue,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for InsertError {
    fn from(e: sqlx::Error) -> Self {
        InsertError::Db(e)
    }
}

/// Stores a submission in one transaction: the applicant's quotas (taken only if the
/// dossier is stored), its code, the dossier and its route's legs (returned as stored),
/// the idempotency key, the attachment links,
/// and (through `record_change!`) the timeline entry, the notification and the push
/// outbox row. A unique violation means the key was taken concurrently. The applicant's
/// name and phone are read inside the transaction (no round trip before it).
pub async fn insert_submission(
    db: &Db,
    s: &Submission,
    claims: &[crate::quotas::Claim],
    now: DateTime<Utc>,
) -> Result<(DossierRow, Actor, Vec<LegRow>), InsertError> {
    use crate::db::BeginWrite;
    // On PostgreSQL the day's counter row is claimed in a statement of its own: the row
    // lock it takes is then held for one statement, not for the whole transaction, so
    // concurrent submissions to one branch do not queue behind each other's transactions.
    // (A submission that then fails leaves a gap in the day's numbers; codes stay unique.)
    // SQLite has one writer anyway, and a second write transaction would cost more.
    let early_code = match db {
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            Some(crate::next_dossier_code!(conn, s.branch_code, now))
        }
        Db::Sqlite { .. } => None,
    };
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        for claim in claims {
            if !crate::claim_in_tx!(tx, s.applicant_id, claim, now) {
                return Err(InsertError::Quota(*claim));
            }
        }
        // The applicant, and the catalogue version in the same round trip: the form the
        // values were validated against is still the current one when they are stored.
        let applicant: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT full_name, phone, (SELECT version FROM catalogue_state WHERE id = 1) FROM users WHERE id = $1",
        )
        .bind(s.applicant_id).fetch_optional(&mut *tx).await?;
        let Some((applicant_name, applicant_phone, catalogue_version)) = applicant else { return Err(InsertError::NoApplicant) };
        if catalogue_version != s.catalogue_version {
            return Err(InsertError::StaleCatalogue);
        }
        let actor = Actor { id: s.applicant_id, role: Role::Citizen, name: applicant_name.clone() };
        let code = match &early_code {
            Some(code) => code.clone(),
            None => crate::next_dossier_code!(tx, s.branch_code, now),
        };
        let row = DossierRow {
            id: s.id,
            code,
            applicant_id: s.applicant_id,
            applicant_name,
            applicant_phone,
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
            tracking_verifier: Some(s.tracking_verifier.clone()),
            received_on: None,
            decided_on: None,
            working_days_taken: None,
            leg_count: i64::try_from(s.legs.len()).unwrap_or(i64::MAX),
        };
        sqlx::query(
            "INSERT INTO dossiers (id, code, applicant_id, applicant_name, applicant_phone, procedure_code, procedure_name, \
             processing_days, form_version, form_values, status, branch_code, submitted_at, updated_at, revision, tracking_verifier, \
             leg_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, 1, $14, $15)",
        )
        .bind(row.id).bind(&row.code).bind(row.applicant_id).bind(&row.applicant_name).bind(&row.applicant_phone)
        .bind(&row.procedure_code).bind(&row.procedure_name).bind(row.processing_days).bind(row.form_version)
        .bind(&row.form_values).bind(&row.status).bind(&row.branch_code).bind(now).bind(&s.tracking_verifier)
        .bind(row.leg_count)
        .execute(&mut *tx).await?;
        // Each leg comes back as [`legs`] would read it (its agency's names included), so
        // the answer needs no read after the transaction.
        let mut legs = Vec::with_capacity(s.legs.len());
        for (seq, leg) in s.legs.iter().enumerate() {
            let stored: LegRow = sqlx::query_as(
                "INSERT INTO dossier_legs (dossier_id, seq, agency_code, days, state) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING seq, agency_code, (SELECT a.name FROM agencies a WHERE a.code = agency_code) AS agency_name, \
                 (SELECT a.name_en FROM agencies a WHERE a.code = agency_code) AS agency_name_en, days, state, started_on, \
                 due_date, paused_days, pause_started_on, finished_on, working_days_taken, $6 AS revision",
            )
            .bind(row.id).bind(i64::try_from(seq).unwrap_or(i64::MAX)).bind(&leg.agency).bind(i64::from(leg.days))
            .bind(leg.state.as_str()).bind(row.revision)
            .fetch_one(&mut *tx).await?;
            legs.push(stored);
        }
        sqlx::query("INSERT INTO idempotency_keys (owner_id, key, request_hash, dossier_id, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(s.applicant_id).bind(&s.idempotency_key).bind(&s.request_hash).bind(s.id).bind(now)
            .execute(&mut *tx).await?;
        for attachment in &s.attachments {
            // Linked only if it is the applicant's: the ownership check costs no round trip.
            let linked = sqlx::query(
                "INSERT INTO dossier_attachments (dossier_id, attachment_id) \
                 SELECT $1, id FROM attachments WHERE id = $2 AND owner_id = $3",
            )
            .bind(s.id).bind(attachment).bind(s.applicant_id)
            .execute(&mut *tx).await?.rows_affected();
            if linked == 0 {
                return Err(InsertError::ForeignAttachment);
            }
        }
        let change = Change {
            dossier: &row, action: "submit", from: None, to: DossierStatus::Submitted, actor: &actor, note: None, at: now, agency: None,
        };
        crate::record_change!(tx, &change);
        tx.commit().await?;
        Ok((row, actor, legs))
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
        agency: None,
        agency_name: None,
        description: None,
    }
}

/// Letters and digits a person reads off a receipt without confusing them (no 0/O, 1/I/L).
const VERIFIER_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Length of a tracking verifier: 31^8 ≈ 8.5 × 10^11 possibilities, against 5 guesses per
/// code per quarter hour.
pub const VERIFIER_LEN: usize = 8;

/// A fresh random verifier for a new dossier's receipt.
pub fn new_tracking_verifier() -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(VERIFIER_LEN);
    let mut buf = [0u8; 32];
    while out.len() < VERIFIER_LEN {
        getrandom::fill(&mut buf)?;
        // Rejection sampling keeps every symbol equally likely (256 = 8 × 31 + 8).
        let limit = 256 - 256 % VERIFIER_ALPHABET.len();
        for b in buf.iter().filter(|&&b| usize::from(b) < limit).take(VERIFIER_LEN - out.len()) {
            out.push(char::from(VERIFIER_ALPHABET[usize::from(*b) % VERIFIER_ALPHABET.len()]));
        }
    }
    Ok(out)
}

/// Whether `given` is the verifier of `row`: its receipt verifier (spaces, dashes and case
/// ignored), or, for dossiers filed before verifiers existed, the last 4 digits of the
/// applicant's phone.
pub fn verifier_matches(row: &DossierRow, given: &str) -> bool {
    let given: String = given.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase();
    match &row.tracking_verifier {
        Some(secret) => {
            secret.len() == given.len() && secret.bytes().zip(given.bytes()).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
        }
        None => given.len() == 4 && row.applicant_phone.len() >= 4 && row.applicant_phone.ends_with(&given),
    }
}

/// The earlier submission under an idempotency key: its body hash and dossier.
pub async fn find_idempotent(db: &Db, owner: Uuid, key: &str) -> sqlx::Result<Option<(String, Uuid)>> {
    on_db!(db, read, pool => {
        sqlx::query_as("SELECT request_hash, dossier_id FROM idempotency_keys WHERE owner_id = $1 AND key = $2")
            .bind(owner).bind(key).fetch_optional(pool).await
    })
}

/// A move of the workflow to store: the new status and clock, the timestamps it sets, and
/// (for a supplement answer) the new values and attachment links.
#[derive(Debug, Clone)]
pub struct Move<'a> {
    pub to: DossierStatus,
    pub clock: Clock,
    pub received_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub values: Option<(&'a serde_json::Value, u32, &'a [Uuid])>,
    /// The leg the move changed (its position on the route, and its new state and clock).
    pub leg: Option<(usize, &'a Leg)>,
    /// The idempotency key (owner, key, request hash) recorded with the move, so that a
    /// retry of the same request finds it done.
    pub once: Option<(Uuid, &'a str, &'a str)>,
}

/// Stores `mv` over `row` if nobody changed the row since it was read (its revision), with
/// the change's timeline entry, notification and outbox row; `false` if someone did.
pub async fn apply_move(db: &Db, row: &DossierRow, mv: &Move<'_>, change: &Change<'_>) -> sqlx::Result<bool> {
    use crate::db::BeginWrite;
    let (values, form_version) = match mv.values {
        Some((values, version, _)) => (Json(values.clone()), i64::from(version)),
        None => (row.form_values.clone(), row.form_version),
    };
    let links: &[Uuid] = mv.values.map(|(_, _, ids)| ids).unwrap_or(&[]);
    let c = &mv.clock;
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE dossiers SET status = $1, received_at = $2, due_date = $3, paused_days = $4, pause_started_on = $5, \
             decided_at = $6, closed_at = $7, form_values = $8, form_version = $9, updated_at = $10, revision = revision + 1, \
             received_on = $11, decided_on = $12, working_days_taken = $13 \
             WHERE id = $14 AND revision = $15",
        )
        .bind(mv.to.as_str()).bind(mv.received_at).bind(c.due_date).bind(i64::from(c.paused_days)).bind(c.pause_started_on)
        .bind(mv.decided_at).bind(mv.closed_at).bind(&values).bind(form_version).bind(change.at)
        .bind(c.received_on).bind(c.decided_on).bind(c.working_days_taken.map(i64::from))
        .bind(row.id).bind(row.revision)
        .execute(&mut *tx).await?.rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        if let Some((owner, key, hash)) = mv.once {
            sqlx::query("INSERT INTO idempotency_keys (owner_id, key, request_hash, dossier_id, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(owner).bind(key).bind(hash).bind(row.id).bind(change.at)
                .execute(&mut *tx).await?;
        }
        for attachment in links {
            sqlx::query("INSERT INTO dossier_attachments (dossier_id, attachment_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(row.id).bind(attachment)
                .execute(&mut *tx).await?;
        }
        if let Some((seq, leg)) = mv.leg {
            sqlx::query(
                "UPDATE dossier_legs SET state = $1, started_on = $2, due_date = $3, paused_days = $4, pause_started_on = $5, \
                 finished_on = $6, working_days_taken = $7, forwarded_at = COALESCE(forwarded_at, $8) \
                 WHERE dossier_id = $9 AND seq = $10",
            )
            .bind(leg.state.as_str()).bind(leg.started_on).bind(leg.due_date).bind(i64::from(leg.paused_days))
            .bind(leg.pause_started_on).bind(leg.finished_on).bind(leg.working_days_taken.map(i64::from)).bind(change.at)
            .bind(row.id).bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .execute(&mut *tx).await?;
        }
        crate::record_change!(tx, change);
        tx.commit().await?;
        Ok(true)
    }.await)
}

/// Assigns `row` to `officer` (revision-checked, with its timeline entry).
pub async fn assign(db: &Db, row: &DossierRow, officer: Uuid, change: &Change<'_>) -> sqlx::Result<bool> {
    use crate::db::BeginWrite;
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query("UPDATE dossiers SET assigned_to = $1, updated_at = $2, revision = revision + 1 WHERE id = $3 AND revision = $4")
            .bind(officer).bind(change.at).bind(row.id).bind(row.revision)
            .execute(&mut *tx).await?.rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        crate::record_change!(tx, change);
        tx.commit().await?;
        Ok(true)
    }.await)
}

/// Why a rating was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateOutcome {
    Rated,
    AlreadyRated,
    ChangedMeanwhile,
}

/// Stores the applicant's rating like every other change: revision-checked, with a
/// timeline entry (no status change, so no notification).
pub async fn rate(
    db: &Db,
    row: &DossierRow,
    score: u8,
    comment: Option<&str>,
    change: &Change<'_>,
) -> sqlx::Result<RateOutcome> {
    use crate::db::BeginWrite;
    let rated_on = local_date(change.at);
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE dossiers SET rating_score = $1, rating_comment = $2, rated_at = $3, rated_on = $4, updated_at = $3, \
             revision = revision + 1 WHERE id = $5 AND revision = $6 AND rating_score IS NULL",
        )
        .bind(i64::from(score)).bind(comment).bind(change.at).bind(rated_on).bind(row.id).bind(row.revision)
        .execute(&mut *tx).await?.rows_affected();
        if updated == 0 {
            let (rated,): (Option<i64>,) = sqlx::query_as("SELECT rating_score FROM dossiers WHERE id = $1")
                .bind(row.id).fetch_one(&mut *tx).await?;
            return Ok(if rated.is_some() { RateOutcome::AlreadyRated } else { RateOutcome::ChangedMeanwhile });
        }
        crate::record_change!(tx, change);
        tx.commit().await?;
        Ok(RateOutcome::Rated)
    }.await)
}

/// Whose dossiers a list shows.
#[derive(Debug, Clone)]
pub enum Scope {
    /// A citizen's own, newest first.
    Applicant(Uuid),
    /// A branch's queue, most urgent first.
    Branch(String),
    /// Every branch's queue (admins).
    All,
    /// An agency's queue: the dossiers forwarded to it and under way there (or paused by
    /// its supplement request), the most overdue leg first.
    Agency(String),
}

/// One row of a list: only what a list shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: Uuid,
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub status: String,
    pub branch_code: String,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub due_date: Option<NaiveDate>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub urgency: i64,
    pub due_key: NaiveDate,
    /// The leg under way, if any: its agency, state and due date.
    pub leg_agency: Option<String>,
    pub leg_state: Option<String>,
    pub leg_due_date: Option<NaiveDate>,
}

impl SummaryRow {
    pub fn summary(&self, today: NaiveDate) -> DossierSummary {
        let status = DossierStatus::parse(&self.status).unwrap_or(DossierStatus::Submitted);
        let decided = self.decided_at.or(self.closed_at).map(local_date);
        DossierSummary {
            id: self.id.to_string(),
            code: self.code.clone(),
            procedure_code: self.procedure_code.clone(),
            procedure_name: self.procedure_name.clone(),
            status,
            branch_code: self.branch_code.clone(),
            submitted_at: self.submitted_at,
            updated_at: self.updated_at,
            due_date: self.due_date,
            deadline: deadline_state(calendar(), status, self.due_date, decided, today),
            agency: self.leg_agency.clone(),
            leg_due_date: self.leg_due_date,
            leg_deadline: self.leg_agency.as_ref().map(|agency| {
                let mut leg = Leg::pending(agency.clone(), 0);
                leg.state = self.leg_state.as_deref().and_then(LegState::parse).unwrap_or(LegState::Open);
                leg.due_date = self.leg_due_date;
                leg.deadline(calendar(), today)
            }),
        }
    }

    /// Where the next page starts.
    pub fn cursor(&self) -> Cursor {
        Cursor { urgency: self.urgency, due_key: self.due_key, submitted_at: self.submitted_at, id: self.id }
    }
}

/// A position in a list: the sort key of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub urgency: i64,
    pub due_key: NaiveDate,
    pub submitted_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// An opaque token (`after=`), URL-safe.
    pub fn encode(&self) -> String {
        use base64::Engine;
        let text = format!("{}|{}|{}|{}", self.urgency, self.due_key, self.submitted_at.to_rfc3339(), self.id);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(token: &str) -> Option<Cursor> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('|');
        let cursor = Cursor {
            urgency: parts.next()?.parse().ok()?,
            due_key: parts.next()?.parse().ok()?,
            submitted_at: DateTime::parse_from_rfc3339(parts.next()?).ok()?.with_timezone(&Utc),
            id: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(cursor)
    }
}

/// What a list is narrowed to: a status, a procedure (each optional).
#[derive(Debug, Clone, Copy, Default)]
pub struct Filters<'a> {
    pub status: Option<DossierStatus>,
    pub procedure: Option<&'a str>,
}

/// Due key of dossiers without a due date: after every real one.
const NO_DUE: &str = "9999-12-31";

/// One page of a list, and whether more follow. A branch queue is ordered by urgency
/// (overdue, at risk, on time, not received yet, paused, then closed; within each, the
/// earliest due date, then the oldest), exactly as [`deadline_state`] judges on `today`
/// (`at_risk_before` from the domain); an agency's queue likewise over its legs' own due
/// dates (`Leg::deadline`: overdue, at risk, on time, then paused); a citizen's list
/// newest first. All are paged by key, so every dossier is reachable however many there
/// are, and a page costs the same. Each row carries the leg under way, if any.
pub async fn list(
    db: &Db,
    scope: &Scope,
    filters: Filters<'_>,
    after: Option<&Cursor>,
    limit: u32,
    today: NaiveDate,
    at_risk_before: NaiveDate,
) -> sqlx::Result<(Vec<SummaryRow>, bool)> {
    let closed: Vec<String> =
        DossierStatus::ALL.iter().filter(|s| s.is_closed()).map(|s| format!("'{}'", s.as_str())).collect();
    let paused = DossierStatus::SupplementRequested.as_str();
    let citizen = matches!(scope, Scope::Applicant(_));
    let current = format!("('{}', '{}')", LegState::Open.as_str(), LegState::Paused.as_str());
    let (from_clause, scope_clause) = match scope {
        Scope::Applicant(_) => (
            format!("dossiers d LEFT JOIN dossier_legs l ON l.dossier_id = d.id AND l.state IN {current}"),
            "d.applicant_id = $1",
        ),
        Scope::Branch(_) => (
            format!("dossiers d LEFT JOIN dossier_legs l ON l.dossier_id = d.id AND l.state IN {current}"),
            "d.branch_code = $1",
        ),
        Scope::All => (
            format!("dossiers d LEFT JOIN dossier_legs l ON l.dossier_id = d.id AND l.state IN {current}"),
            "CAST($1 AS TEXT) = ''",
        ),
        Scope::Agency(_) => (
            format!("dossier_legs l JOIN dossiers d ON d.id = l.dossier_id AND l.state IN {current}"),
            "l.agency_code = $1",
        ),
    };
    let agency = matches!(scope, Scope::Agency(_));
    let (urgency, order, cursor_clause) = if citizen {
        (
            "0".to_owned(),
            "submitted_at DESC, id DESC",
            if after.is_some() { "(submitted_at, id) < ($4, $5)" } else { "1 = 1" },
        )
    } else if agency {
        (
            format!(
                "CASE WHEN l.state = '{}' THEN 4 WHEN l.due_date < $4 THEN 0 WHEN l.due_date < $5 THEN 1 ELSE 2 END",
                LegState::Paused.as_str()
            ),
            "urgency, due_key, submitted_at, id",
            if after.is_some() { "(urgency, due_key, submitted_at, id) > ($6, $7, $8, $9)" } else { "1 = 1" },
        )
    } else {
        (
            format!(
                "CASE WHEN d.status IN ({}) THEN 5 WHEN d.due_date IS NULL THEN 3 WHEN d.status = '{paused}' THEN 4 \
                 WHEN d.due_date < $4 THEN 0 WHEN d.due_date < $5 THEN 1 ELSE 2 END",
                closed.join(", ")
            ),
            "urgency, due_key, submitted_at, id",
            if after.is_some() { "(urgency, due_key, submitted_at, id) > ($6, $7, $8, $9)" } else { "1 = 1" },
        )
    };
    let due = if agency { "l.due_date" } else { "d.due_date" };
    // The procedure filter is bound last: its number follows the parameters bound above.
    let procedure_param = match (citizen, after.is_some()) {
        (true, false) => 4,
        (true, true) | (false, false) => 6,
        (false, true) => 10,
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT * FROM (SELECT d.id, d.code, d.procedure_code, d.procedure_name, d.status, d.branch_code, d.submitted_at, \
         d.updated_at, d.due_date, d.decided_at, d.closed_at, CAST({urgency} AS BIGINT) AS urgency, \
         COALESCE({due}, '{NO_DUE}') AS due_key, l.agency_code AS leg_agency, l.state AS leg_state, l.due_date AS leg_due_date \
         FROM {from_clause} WHERE {scope_clause} AND ($2 = '' OR d.status = $2) \
         AND (${procedure_param} = '' OR d.procedure_code = ${procedure_param})) q \
         WHERE {cursor_clause} ORDER BY {order} LIMIT $3"
    ));
    let status = filters.status.map(|s| s.as_str()).unwrap_or_default();
    let procedure = filters.procedure.unwrap_or_default();
    let fetch = i64::from(limit) + 1;
    let mut rows: Vec<SummaryRow> = on_db!(db, read, pool => {
        let q = sqlx::query_as(sql);
        let q = match scope {
            Scope::Applicant(id) => q.bind(*id),
            Scope::Branch(code) | Scope::Agency(code) => q.bind(code.clone()),
            Scope::All => q.bind(String::new()),
        };
        let q = q.bind(status).bind(fetch);
        let q = match (citizen, after) {
            (true, Some(c)) => q.bind(c.submitted_at).bind(c.id),
            (true, None) => q,
            (false, Some(c)) => q.bind(today).bind(at_risk_before).bind(c.urgency).bind(c.due_key).bind(c.submitted_at).bind(c.id),
            (false, None) => q.bind(today).bind(at_risk_before),
        };
        q.bind(procedure).fetch_all(pool).await
    })?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Sums of one branch and procedure over a period (local dates, inclusive).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsGroup {
    pub branch_code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub received: i64,
    pub decided: i64,
    pub decided_on_time: i64,
    pub working_days: i64,
    pub ratings: i64,
    pub satisfied: i64,
}

/// Figures per branch and procedure, aggregated in SQL over the clock's local dates (a
/// decision counts when it followed a reception; on time means on or before the due
/// date, as `workflow::decided_on_time` says).
pub async fn stats_groups(
    db: &Db,
    branch: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<StatsGroup>> {
    let within = |col: &str| format!("{col} >= $2 AND {col} <= $3");
    let decided = format!("{} AND received_on IS NOT NULL", within("decided_on"));
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT branch_code, procedure_code, MAX(procedure_name) AS procedure_name, \
         CAST(SUM(CASE WHEN {received} THEN 1 ELSE 0 END) AS BIGINT) AS received, \
         CAST(SUM(CASE WHEN {decided} THEN 1 ELSE 0 END) AS BIGINT) AS decided, \
         CAST(SUM(CASE WHEN {decided} AND decided_on <= due_date THEN 1 ELSE 0 END) AS BIGINT) AS decided_on_time, \
         CAST(SUM(CASE WHEN {decided} THEN COALESCE(working_days_taken, 0) ELSE 0 END) AS BIGINT) AS working_days, \
         CAST(SUM(CASE WHEN {rated} THEN 1 ELSE 0 END) AS BIGINT) AS ratings, \
         CAST(SUM(CASE WHEN {rated} AND rating_score >= 4 THEN 1 ELSE 0 END) AS BIGINT) AS satisfied \
         FROM dossiers WHERE ($1 = '' OR branch_code = $1) AND ({received} OR {decided_any} OR {rated}) \
         GROUP BY branch_code, procedure_code ORDER BY branch_code, procedure_code",
        received = within("received_on"),
        decided_any = within("decided_on"),
        rated = within("rated_on"),
    ));
    let branch = branch.unwrap_or_default().to_owned();
    on_db!(db, read, pool => sqlx::query_as(sql).bind(branch).bind(from).bind(to).fetch_all(pool).await)
}

/// One officer's receptions and decisions over a period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfficerStatsGroup {
    pub actor_id: Uuid,
    pub actor_name: String,
    pub received: i64,
    pub decided: i64,
    pub decided_on_time: i64,
}

/// Most officers a statistics answer lists.
pub const MAX_OFFICERS: i64 = 500;

/// Receptions and decisions per officer over `[from, to]` (local dates; the timeline's
/// instants), of the dossiers of `branch` when given: a decision is on time when the
/// dossier was decided on or before its due date.
pub async fn stats_officers(
    db: &Db,
    branch: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<OfficerStatsGroup>> {
    let start = from.and_hms_opt(0, 0, 0).map(|t| t.and_utc() - chrono::TimeDelta::hours(7)).unwrap_or_default();
    let end = to
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc() - chrono::TimeDelta::hours(7))
        .unwrap_or_default();
    on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT e.actor_id, MAX(e.actor_name) AS actor_name, \
             CAST(SUM(CASE WHEN e.action = 'receive' THEN 1 ELSE 0 END) AS BIGINT) AS received, \
             CAST(SUM(CASE WHEN e.action IN ('approve', 'reject') THEN 1 ELSE 0 END) AS BIGINT) AS decided, \
             CAST(SUM(CASE WHEN e.action IN ('approve', 'reject') AND d.due_date IS NOT NULL AND d.decided_on <= d.due_date \
                 THEN 1 ELSE 0 END) AS BIGINT) AS decided_on_time \
             FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id \
             WHERE e.actor_role = 'officer' AND e.action IN ('receive', 'approve', 'reject') \
             AND ($1 = '' OR d.branch_code = $1) AND e.at >= $2 AND e.at < $3 \
             GROUP BY e.actor_id ORDER BY MAX(e.actor_name), e.actor_id LIMIT $4",
        )
        .bind(branch.unwrap_or_default().to_owned()).bind(start).bind(end).bind(MAX_OFFICERS)
        .fetch_all(pool).await
    })
}

/// Dossiers under way (received or in processing) past their due date on `today`, per
/// branch (of `branch` only when given).
pub async fn open_overdue(db: &Db, branch: Option<&str>, today: NaiveDate) -> sqlx::Result<Vec<(String, i64)>> {
    on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT branch_code, CAST(COUNT(*) AS BIGINT) FROM dossiers \
             WHERE status IN ('received', 'in_processing') AND due_date < $1 AND ($2 = '' OR branch_code = $2) \
             GROUP BY branch_code ORDER BY branch_code",
        )
        .bind(today).bind(branch.unwrap_or_default().to_owned())
        .fetch_all(pool).await
    })
}

/// Sums of one agency's legs: forwarded to it and finished by it over a period (local
/// dates, inclusive), and those open past their due date on `today`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgencyStatsGroup {
    pub agency_code: String,
    pub agency_name: String,
    pub agency_name_en: String,
    pub forwarded: i64,
    pub finished: i64,
    pub finished_on_time: i64,
    pub working_days: i64,
    pub open: i64,
    pub open_overdue: i64,
}

/// Figures per agency over its legs (of dossiers of `branch`, when given), aggregated in
/// SQL over the dates `workflow::step` recorded on each leg: a leg counts as forwarded on
/// the day it was first forwarded, finished when the agency decided it (done or refused),
/// on time when that was on or before its own due date; `open_overdue` counts the legs at
/// the agency today past their due date (the same judgement as `Leg::deadline`).
pub async fn stats_agencies(
    db: &Db,
    branch: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> sqlx::Result<Vec<AgencyStatsGroup>> {
    let within = |col: &str| format!("l.{col} >= $2 AND l.{col} <= $3");
    let finished = format!(
        "l.state IN ('{}', '{}') AND {}",
        LegState::Done.as_str(),
        LegState::Refused.as_str(),
        within("finished_on")
    );
    let open = format!("l.state = '{}'", LegState::Open.as_str());
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT l.agency_code, MAX(a.name) AS agency_name, MAX(a.name_en) AS agency_name_en, \
         CAST(SUM(CASE WHEN {started} THEN 1 ELSE 0 END) AS BIGINT) AS forwarded, \
         CAST(SUM(CASE WHEN {finished} THEN 1 ELSE 0 END) AS BIGINT) AS finished, \
         CAST(SUM(CASE WHEN {finished} AND l.finished_on <= l.due_date THEN 1 ELSE 0 END) AS BIGINT) AS finished_on_time, \
         CAST(SUM(CASE WHEN {finished} THEN COALESCE(l.working_days_taken, 0) ELSE 0 END) AS BIGINT) AS working_days, \
         CAST(SUM(CASE WHEN {open} THEN 1 ELSE 0 END) AS BIGINT) AS open, \
         CAST(SUM(CASE WHEN {open} AND l.due_date < $4 THEN 1 ELSE 0 END) AS BIGINT) AS open_overdue \
         FROM dossier_legs l JOIN dossiers d ON d.id = l.dossier_id JOIN agencies a ON a.code = l.agency_code \
         WHERE ($1 = '' OR d.branch_code = $1) AND ({started} OR {finished} OR {open}) \
         GROUP BY l.agency_code ORDER BY l.agency_code",
        started = within("started_on"),
    ));
    let branch = branch.unwrap_or_default().to_owned();
    on_db!(db, read, pool => sqlx::query_as(sql).bind(branch).bind(from).bind(to).bind(today).fetch_all(pool).await)
}

/// Fills the clock's dates on dossiers stored before they existed (the migration fills the
/// dates; the working days taken need the calendar). Bounded batches; a no-op once done.
pub async fn backfill_clock(db: &Db) -> sqlx::Result<u64> {
    let mut done = 0;
    loop {
        let rows: Vec<(Uuid, NaiveDate, NaiveDate)> = on_db!(db, read, pool => {
            sqlx::query_as(
                "SELECT id, received_on, decided_on FROM dossiers \
                 WHERE working_days_taken IS NULL AND received_on IS NOT NULL AND decided_on IS NOT NULL LIMIT 500",
            )
            .fetch_all(pool).await
        })?;
        if rows.is_empty() {
            return Ok(done);
        }
        for (id, received, decided) in rows {
            let days = calendar().working_days_between(received, decided).max(0);
            on_db!(db, write, pool => {
                sqlx::query("UPDATE dossiers SET working_days_taken = $1 WHERE id = $2").bind(days).bind(id).execute(pool).await.map(|_| ())
            })?;
            done += 1;
        }
    }
}
