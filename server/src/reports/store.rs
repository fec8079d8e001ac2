//! Every SQL statement about field reports: filing (quota claim, code, photos, timeline,
//! idempotency key and notifications in one transaction), the revision-checked moves, the
//! nearby look-up over a coarse grid index, the ward queue paged by key, lists, follows,
//! moderation, and the figures aggregated in SQL.
//!
//! Notifications fan out in SQL: one `INSERT … SELECT` writes the inbox rows of the
//! reporter, the report's followers and (for new reports and resolutions) the followers
//! of the place, bounded by [`FAN_OUT_CAP`]; a second writes one push outbox row per inbox
//! row (topic `push.report_status`).

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::geo::LatLng;
use motcua_domain::reports::{NEARBY_DAYS, NEARBY_RADIUS_M, RejectReason, ReportStatus};
use uuid::Uuid;

use crate::db::{BeginWrite, Db};
use crate::on_db;
use crate::quotas::Claim;

/// Most recipients of one change's notifications.
pub const FAN_OUT_CAP: i64 = 5_000;
/// Rows of the coarse grid per degree of latitude (a row is about 280 m high).
pub const GRID_PER_DEGREE: f64 = 400.0;
/// Metres per degree of latitude (and of longitude at the equator).
const METRES_PER_DEGREE: f64 = 111_195.0;

pub fn grid_lat(lat: f64) -> i64 {
    (lat * GRID_PER_DEGREE).floor() as i64
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: Uuid,
    pub code: String,
    pub reporter_id: Option<Uuid>,
    pub partner_key_id: Option<Uuid>,
    pub category_code: String,
    pub description: String,
    pub description_hidden: bool,
    pub status: String,
    pub reject_reason: Option<String>,
    pub ward_code: String,
    pub lat: f64,
    pub lng: f64,
    pub address: String,
    pub hide_identity: bool,
    pub assigned_to: Option<Uuid>,
    pub response: Option<String>,
    pub due_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
    pub rating_score: Option<i64>,
    pub followers: i64,
    pub revision: i64,
}

impl ReportRow {
    pub fn status(&self) -> ReportStatus {
        ReportStatus::parse(&self.status).unwrap_or(ReportStatus::Received)
    }

    pub fn reject_reason(&self) -> Option<RejectReason> {
        self.reject_reason.as_deref().and_then(RejectReason::parse)
    }
}

const REPORT_COLUMNS: &str = "id, code, reporter_id, partner_key_id, category_code, description, description_hidden, status, \
     reject_reason, ward_code, lat, lng, address, hide_identity, assigned_to, response, due_date, created_at, updated_at, \
     resolved_at, processed_at, rating_score, followers, revision";

pub async fn find(db: &Db, id: Uuid) -> sqlx::Result<Option<ReportRow>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1"));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)
}

pub async fn find_by_code(db: &Db, code: &str) -> sqlx::Result<Option<ReportRow>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {REPORT_COLUMNS} FROM reports WHERE code = $1"));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(code.to_owned()).fetch_optional(pool).await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhotoRow {
    pub id: Uuid,
    pub report_id: Uuid,
    pub stage: String,
    pub hidden: bool,
    pub sha256: String,
    pub content_type: String,
    pub thumb_sha256: String,
}

const PHOTO_SELECT: &str = "SELECT p.id, p.report_id, p.stage, p.hidden, a.sha256, b.content_type, p.thumb_sha256 \
     FROM report_photos p JOIN attachments a ON a.id = p.attachment_id JOIN blobs b ON b.sha256 = a.sha256";

pub async fn photos(db: &Db, report: Uuid) -> sqlx::Result<Vec<PhotoRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{PHOTO_SELECT} WHERE p.report_id = $1 ORDER BY p.stage DESC, p.position"));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(report).fetch_all(pool).await)
}

pub async fn photo(db: &Db, report: Uuid, photo: Uuid) -> sqlx::Result<Option<PhotoRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{PHOTO_SELECT} WHERE p.report_id = $1 AND p.id = $2"));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(report).bind(photo).fetch_optional(pool).await)
}

/// The first visible photo's thumbnail of each report among `ids`.
pub async fn first_thumbnails(db: &Db, ids: &[Uuid]) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT report_id, id FROM report_photos WHERE stage = 'before' AND hidden = FALSE AND report_id IN ({}) \
         ORDER BY report_id, position",
        placeholders.join(", ")
    ));
    let rows: Vec<(Uuid, Uuid)> = on_db!(db, read, pool => {
        let mut q = sqlx::query_as(sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows.into_iter().filter(|(r, _)| seen.insert(*r)).collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub at: DateTime<Utc>,
    pub action: String,
    pub to_status: String,
    pub actor_role: String,
    pub note: Option<String>,
}

pub async fn events(db: &Db, report: Uuid) -> sqlx::Result<Vec<EventRow>> {
    on_db!(db, read, pool => {
        sqlx::query_as("SELECT at, action, to_status, actor_role, note FROM report_events WHERE report_id = $1 ORDER BY at, id LIMIT 500")
            .bind(report).fetch_all(pool).await
    })
}

pub async fn is_following(db: &Db, report: Uuid, user: Uuid) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT CAST(1 AS BIGINT) FROM report_follows WHERE report_id = $1 AND user_id = $2")
            .bind(report).bind(user).fetch_optional(pool).await
    })?;
    Ok(row.is_some())
}

/// A photo ready to be linked: the caller's attachment and its thumbnail blob (already in
/// the blob store).
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub attachment_id: Uuid,
    pub thumb_sha256: String,
    pub thumb_size: i64,
}

/// Who did something (`None` id: a partner app through Open311).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub role: &'static str,
}

/// A notification to fan out, in both languages.
#[derive(Debug, Clone)]
pub struct Notice {
    pub title_vi: String,
    pub title_en: String,
    pub body_vi: String,
    pub body_en: String,
    /// Also tell the followers of the report's place (new reports, resolutions).
    pub places_too: bool,
}

/// A report to file.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub id: Uuid,
    pub reporter_id: Option<Uuid>,
    pub partner_key_id: Option<Uuid>,
    pub category_code: String,
    pub description: String,
    pub ward_code: String,
    pub at: LatLng,
    pub address: String,
    pub hide_identity: bool,
    pub due_date: NaiveDate,
    pub now: DateTime<Utc>,
    pub photos: Vec<NewPhoto>,
    /// The idempotency key and the request's hash (citizens' filing).
    pub idempotency: Option<(String, String)>,
    /// The quota units to take in the same transaction.
    pub claim: Option<Claim>,
}

/// What filing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    New(Uuid),
    /// The key was used before with this body: the report then filed.
    Replayed(Uuid),
    /// The key was used before with another body.
    KeyConflict,
    /// The quota claim was refused; nothing was stored.
    QuotaRefused,
}

/// Whether the live backend is PostgreSQL (the few statements that differ).
fn is_pg(db: &Db) -> bool {
    matches!(db, Db::Postgres(_))
}

fn uuid_sql(pg: bool) -> &'static str {
    if pg { "gen_random_uuid()" } else { "randomblob(16)" }
}

/// SQLite's text form of a UUID stored as 16 bytes, hyphenated like `Uuid::to_string`.
fn uuid_text(pg: bool, col: &str) -> String {
    if pg {
        format!("CAST({col} AS TEXT)")
    } else {
        let h = format!("lower(hex({col}))");
        format!(
            "substr({h},1,8)||'-'||substr({h},9,4)||'-'||substr({h},13,4)||'-'||substr({h},17,4)||'-'||substr({h},21)"
        )
    }
}

/// The inbox fan-out statement (see the module's note); binds: report, event, title, body,
/// at, actor (nil UUID when none), places_too, ward, lat, lng, cos(lat), cap.
fn fan_out_sql(pg: bool) -> String {
    let uuid = uuid_sql(pg);
    let metres2 = METRES_PER_DEGREE * METRES_PER_DEGREE;
    format!(
        "INSERT INTO notifications (id, user_id, kind, report_id, event_id, title, body, created_at) \
         SELECT {uuid}, r.user_id, 'report_status', $1, $2, $3, $4, $5 FROM ( \
           SELECT reporter_id AS user_id FROM reports WHERE id = $1 AND reporter_id IS NOT NULL \
           UNION SELECT user_id FROM report_follows WHERE report_id = $1 \
           UNION SELECT user_id FROM place_follows WHERE $7 AND (ward_code = $8 OR (ward_code IS NULL \
             AND lat BETWEEN $9 - 0.03 AND $9 + 0.03 \
             AND ((lat - $9) * (lat - $9) + (lng - $10) * $11 * (lng - $10) * $11) * {metres2:.1} <= radius_m * radius_m)) \
         ) r WHERE r.user_id <> $6 LIMIT $12"
    )
}

/// The push outbox rows of one event's inbox rows; binds: event, at, report id (text),
/// title vi, title en, body vi, body en.
fn outbox_sql(pg: bool) -> String {
    let uuid = uuid_sql(pg);
    let user = uuid_text(pg, "n.user_id");
    let id = uuid_text(pg, "n.id");
    let payload = if pg {
        format!(
            "jsonb_build_object('user_id', {user}, 'notification_id', {id}, 'kind', 'report', 'id', CAST($3 AS TEXT), \
             'pref', 'report_updates', 'title', jsonb_build_object('vi', CAST($4 AS TEXT), 'en', CAST($5 AS TEXT)), \
             'body', jsonb_build_object('vi', CAST($6 AS TEXT), 'en', CAST($7 AS TEXT)))"
        )
    } else {
        format!(
            "json_object('user_id', {user}, 'notification_id', {id}, 'kind', 'report', 'id', $3, \
             'pref', 'report_updates', 'title', json_object('vi', $4, 'en', $5), 'body', json_object('vi', $6, 'en', $7))"
        )
    };
    format!(
        "INSERT INTO outbox (id, topic, payload, created_at, available_at) \
         SELECT {uuid}, 'push.report_status', {payload}, $2, $2 FROM notifications n WHERE n.event_id = $1"
    )
}

/// Appends a timeline entry and fans its notice out, in the caller's transaction.
#[macro_export]
macro_rules! record_report_event {
    ($tx:expr, $pg:expr, $ev:expr) => {{
        let ev: &$crate::reports::store::Event<'_> = $ev;
        let event_id = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO report_events (id, report_id, at, action, from_status, to_status, actor_id, actor_role, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(event_id)
        .bind(ev.report_id)
        .bind(ev.at)
        .bind(ev.action)
        .bind(ev.from.map(|s| s.as_str()))
        .bind(ev.to.as_str())
        .bind(ev.actor.id)
        .bind(ev.actor.role)
        .bind(ev.note)
        .execute(&mut *$tx)
        .await?;
        if let Some(notice) = ev.notice {
            let cos = ev.place.lat.to_radians().cos();
            sqlx::query(sqlx::AssertSqlSafe($crate::reports::store::fan_out_statement($pg)))
                .bind(ev.report_id)
                .bind(event_id)
                .bind(&notice.title_vi)
                .bind(&notice.body_vi)
                .bind(ev.at)
                // The reporter hears of their own new report (its code, its ward); otherwise
                // whoever acted is not told of it.
                .bind(if ev.action == "filed" { uuid::Uuid::nil() } else { ev.actor.id.unwrap_or(uuid::Uuid::nil()) })
                .bind(notice.places_too)
                .bind(ev.ward_code)
                .bind(ev.place.lat)
                .bind(ev.place.lng)
                .bind(cos)
                .bind($crate::reports::store::FAN_OUT_CAP)
                .execute(&mut *$tx)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe($crate::reports::store::outbox_statement($pg)))
                .bind(event_id)
                .bind(ev.at)
                .bind(ev.report_id.to_string())
                .bind(&notice.title_vi)
                .bind(&notice.title_en)
                .bind(&notice.body_vi)
                .bind(&notice.body_en)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

pub fn fan_out_statement(pg: bool) -> String {
    fan_out_sql(pg)
}

pub fn outbox_statement(pg: bool) -> String {
    outbox_sql(pg)
}

/// One entry of a report's timeline (and the notice it sends, if any).
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub report_id: Uuid,
    pub at: DateTime<Utc>,
    pub action: &'a str,
    pub from: Option<ReportStatus>,
    pub to: ReportStatus,
    pub actor: &'a Actor,
    pub note: Option<&'a str>,
    pub notice: Option<&'a Notice>,
    pub ward_code: &'a str,
    pub place: LatLng,
}

/// Inserts a photo row and its thumbnail's blob row.
macro_rules! insert_photo {
    ($tx:expr, $report:expr, $photo:expr, $stage:expr, $position:expr, $now:expr) => {{
        let photo: &NewPhoto = $photo;
        sqlx::query(
            "INSERT INTO blobs (sha256, size, content_type, created_at) VALUES ($1, $2, 'image/jpeg', $3) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&photo.thumb_sha256)
        .bind(photo.thumb_size)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO report_photos (id, report_id, attachment_id, stage, position, thumb_sha256, hidden, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind($report)
        .bind(photo.attachment_id)
        .bind($stage)
        .bind(i64::try_from($position).unwrap_or(i64::MAX))
        .bind(&photo.thumb_sha256)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Files a report: in one transaction the quota claim, the idempotency key, the daily
/// code, the report, its photos (and their thumbnails' blob rows), the timeline entry and
/// the notifications.
pub async fn insert(db: &Db, new: &NewReport, notice: impl Fn(&str) -> Notice) -> sqlx::Result<Filed> {
    let pg = is_pg(db);
    let prefix = format!("PA-{}", crate::dossiers::store::local_date(new.now).format("%y%m%d"));
    let actor = Actor { id: new.reporter_id, role: if new.partner_key_id.is_some() { "partner" } else { "citizen" } };
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        if let (Some((key, hash)), Some(owner)) = (&new.idempotency, new.reporter_id) {
            let used: Option<(String, Uuid)> = sqlx::query_as(
                "SELECT request_hash, report_id FROM report_idempotency WHERE owner_id = $1 AND key = $2",
            )
            .bind(owner).bind(key).fetch_optional(&mut *tx).await?;
            if let Some((used_hash, report)) = used {
                return Ok(if &used_hash == hash { Filed::Replayed(report) } else { Filed::KeyConflict });
            }
        }
        if let (Some(claim), Some(owner)) = (&new.claim, new.reporter_id)
            && !crate::claim_in_tx!(tx, owner, claim, new.now)
        {
            return Ok(Filed::QuotaRefused);
        }
        let (n,): (i64,) = sqlx::query_as(
            "INSERT INTO report_code_counters (prefix, last) VALUES ($1, 1) \
             ON CONFLICT (prefix) DO UPDATE SET last = report_code_counters.last + 1 RETURNING last",
        )
        .bind(&prefix).fetch_one(&mut *tx).await?;
        let code = format!("{prefix}-{n:04}");
        let notice = notice(&code);
        sqlx::query(
            "INSERT INTO reports (id, code, reporter_id, partner_key_id, category_code, description, status, ward_code, \
             lat, lng, grid_lat, address, hide_identity, due_date, created_at, updated_at, revision) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, 1)",
        )
        .bind(new.id).bind(&code).bind(new.reporter_id).bind(new.partner_key_id).bind(&new.category_code)
        .bind(&new.description).bind(ReportStatus::Received.as_str()).bind(&new.ward_code)
        .bind(new.at.lat).bind(new.at.lng).bind(grid_lat(new.at.lat)).bind(&new.address).bind(new.hide_identity)
        .bind(new.due_date).bind(new.now)
        .execute(&mut *tx).await?;
        for (position, photo) in new.photos.iter().enumerate() {
            insert_photo!(tx, new.id, photo, "before", position, new.now);
        }
        if let (Some((key, hash)), Some(owner)) = (&new.idempotency, new.reporter_id) {
            sqlx::query(
                "INSERT INTO report_idempotency (owner_id, key, request_hash, report_id, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(owner).bind(key).bind(hash).bind(new.id).bind(new.now)
            .execute(&mut *tx).await?;
        }
        let event = Event {
            report_id: new.id,
            at: new.now,
            action: "filed",
            from: None,
            to: ReportStatus::Received,
            actor: &actor,
            note: None,
            notice: Some(&notice),
            ward_code: &new.ward_code,
            place: new.at,
        };
        crate::record_report_event!(tx, pg, &event);
        tx.commit().await?;
        Ok(Filed::New(new.id))
    }.await)
}

/// A move decided by the domain's state machine, to store.
#[derive(Debug, Clone)]
pub struct Move<'a> {
    pub action: &'a str,
    pub to: ReportStatus,
    pub actor: &'a Actor,
    pub note: Option<&'a str>,
    pub response: Option<&'a str>,
    pub reason: Option<RejectReason>,
    pub ward_code: Option<&'a str>,
    pub assign_to: Option<Uuid>,
    pub after_photos: &'a [NewPhoto],
    pub notice: &'a Notice,
    pub now: DateTime<Utc>,
    /// Whether a first processing (resolve/reject) was by the due date.
    pub on_time: bool,
}

/// Applies a move if the report is still at the revision read; `false` if someone else
/// changed it first. The update, the after photos, the timeline entry and the
/// notifications are one transaction.
pub async fn apply_move(db: &Db, row: &ReportRow, mv: &Move<'_>) -> sqlx::Result<bool> {
    let pg = is_pg(db);
    let from = row.status();
    let processed = matches!(mv.to, ReportStatus::Resolved | ReportStatus::Rejected);
    let resolved = mv.to == ReportStatus::Resolved;
    let secs = (mv.now - row.created_at).num_seconds();
    let ward = mv.ward_code.unwrap_or(&row.ward_code).to_owned();
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE reports SET status = $1, updated_at = $2, revision = revision + 1, ward_code = $3, \
             assigned_to = COALESCE($4, assigned_to), \
             response = COALESCE($5, response), \
             reject_reason = CASE WHEN $1 = 'rejected' THEN $6 ELSE reject_reason END, \
             resolved_at = CASE WHEN $7 THEN $2 ELSE resolved_at END, \
             processed_on_time = CASE WHEN $8 AND processed_at IS NULL THEN $9 ELSE processed_on_time END, \
             resolve_secs = CASE WHEN $7 AND resolve_secs IS NULL THEN $10 ELSE resolve_secs END, \
             processed_at = CASE WHEN $8 AND processed_at IS NULL THEN $2 ELSE processed_at END, \
             rating_score = CASE WHEN $1 = 'reopened' THEN NULL ELSE rating_score END \
             WHERE id = $11 AND revision = $12",
        )
        .bind(mv.to.as_str()).bind(mv.now).bind(&ward).bind(mv.assign_to).bind(mv.response)
        .bind(mv.reason.map(|r| r.as_str())).bind(resolved).bind(processed).bind(mv.on_time).bind(secs)
        .bind(row.id).bind(row.revision)
        .execute(&mut *tx).await?.rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        let (base,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM report_photos WHERE report_id = $1")
            .bind(row.id).fetch_one(&mut *tx).await?;
        for (i, photo) in mv.after_photos.iter().enumerate() {
            insert_photo!(tx, row.id, photo, "after", usize::try_from(base).unwrap_or(0) + i, mv.now);
        }
        let event = Event {
            report_id: row.id,
            at: mv.now,
            action: mv.action,
            from: Some(from),
            to: mv.to,
            actor: mv.actor,
            note: mv.note,
            notice: Some(mv.notice),
            ward_code: &ward,
            place: LatLng { lat: row.lat, lng: row.lng },
        };
        crate::record_report_event!(tx, pg, &event);
        tx.commit().await?;
        Ok(true)
    }.await)
}

/// Records the reporter's rating once (only while resolved and not rated).
pub async fn rate(
    db: &Db,
    row: &ReportRow,
    score: u8,
    comment: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let pg = is_pg(db);
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE reports SET rating_score = $1, rating_comment = $2, rated_at = $3, updated_at = $3, revision = revision + 1 \
             WHERE id = $4 AND rating_score IS NULL AND status = 'resolved'",
        )
        .bind(i64::from(score)).bind(comment).bind(now).bind(row.id)
        .execute(&mut *tx).await?.rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        let note = format!("{score}/5");
        let event = Event {
            report_id: row.id, at: now, action: "rated", from: Some(row.status()), to: row.status(), actor,
            note: Some(&note), notice: None, ward_code: &row.ward_code, place: LatLng { lat: row.lat, lng: row.lng },
        };
        crate::record_report_event!(tx, pg, &event);
        tx.commit().await?;
        Ok(true)
    }.await)
}

/// Follows (or stops following) a report; the count on the report moves with it.
pub async fn set_follow(db: &Db, report: Uuid, user: Uuid, follow: bool, now: DateTime<Utc>) -> sqlx::Result<()> {
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let changed = if follow {
            sqlx::query("INSERT INTO report_follows (report_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(report).bind(user).bind(now).execute(&mut *tx).await?.rows_affected()
        } else {
            sqlx::query("DELETE FROM report_follows WHERE report_id = $1 AND user_id = $2")
                .bind(report).bind(user).execute(&mut *tx).await?.rows_affected()
        };
        if changed > 0 {
            let delta: i64 = if follow { 1 } else { -1 };
            sqlx::query("UPDATE reports SET followers = followers + $1 WHERE id = $2")
                .bind(delta).bind(report).execute(&mut *tx).await?;
        }
        tx.commit().await
    }.await)
}

/// Hides the description and/or photos with a reason; the audit row keeps the original.
pub async fn moderate(
    db: &Db,
    row: &ReportRow,
    hide_description: bool,
    photos: &[Uuid],
    reason: &str,
    moderator: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let pg = is_pg(db);
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        if hide_description {
            sqlx::query(
                "INSERT INTO report_moderation (id, report_id, target, photo_id, reason, original, moderator_id, at) \
                 VALUES ($1, $2, 'description', NULL, $3, $4, $5, $6)",
            )
            .bind(Uuid::now_v7()).bind(row.id).bind(reason).bind(&row.description).bind(moderator).bind(now)
            .execute(&mut *tx).await?;
            sqlx::query("UPDATE reports SET description_hidden = TRUE, updated_at = $1 WHERE id = $2")
                .bind(now).bind(row.id).execute(&mut *tx).await?;
        }
        for photo in photos {
            sqlx::query(
                "INSERT INTO report_moderation (id, report_id, target, photo_id, reason, original, moderator_id, at) \
                 SELECT $1, $2, 'photo', p.id, $3, a.sha256, $4, $5 FROM report_photos p \
                 JOIN attachments a ON a.id = p.attachment_id WHERE p.id = $6 AND p.report_id = $2",
            )
            .bind(Uuid::now_v7()).bind(row.id).bind(reason).bind(moderator).bind(now).bind(*photo)
            .execute(&mut *tx).await?;
            sqlx::query("UPDATE report_photos SET hidden = TRUE WHERE id = $1 AND report_id = $2")
                .bind(*photo).bind(row.id).execute(&mut *tx).await?;
        }
        let actor = Actor { id: Some(moderator), role: "officer" };
        let event = Event {
            report_id: row.id, at: now, action: "moderated", from: Some(row.status()), to: row.status(), actor: &actor,
            note: Some(reason), notice: None, ward_code: &row.ward_code, place: LatLng { lat: row.lat, lng: row.lng },
        };
        crate::record_report_event!(tx, pg, &event);
        tx.commit().await
    }.await)
}

/// The audit of a report's moderation: (target, reason, original, at).
pub async fn moderation_audit(
    db: &Db,
    report: Uuid,
) -> sqlx::Result<Vec<(String, String, Option<String>, DateTime<Utc>)>> {
    on_db!(db, read, pool => {
        sqlx::query_as("SELECT target, reason, original, at FROM report_moderation WHERE report_id = $1 ORDER BY at, id")
            .bind(report).fetch_all(pool).await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NearbyRow {
    pub id: Uuid,
    pub code: String,
    pub category_code: String,
    pub status: String,
    pub description: String,
    pub description_hidden: bool,
    pub lat: f64,
    pub lng: f64,
    pub created_at: DateTime<Utc>,
    pub followers: i64,
}

/// Open reports of `category` within [`NEARBY_RADIUS_M`] of `p`, filed in the last
/// [`NEARBY_DAYS`] days, nearest first (at most `limit`). The index on (category, grid
/// row, lng) narrows to three grid rows and a longitude band; the exact great-circle
/// distance decides.
pub async fn nearby(
    db: &Db,
    category: &str,
    p: LatLng,
    now: DateTime<Utc>,
    limit: usize,
) -> sqlx::Result<Vec<(NearbyRow, f64)>> {
    let dlng = NEARBY_RADIUS_M / (METRES_PER_DEGREE * p.lat.to_radians().cos().max(0.1));
    let dlat = NEARBY_RADIUS_M / METRES_PER_DEGREE;
    let g = grid_lat(p.lat);
    let open: Vec<String> = ReportStatus::open().map(|s| format!("'{}'", s.as_str())).collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id, code, category_code, status, description, description_hidden, lat, lng, created_at, followers \
         FROM reports WHERE category_code = $1 AND grid_lat IN ($2, $3, $4) AND lng BETWEEN $5 AND $6 \
         AND lat BETWEEN $7 AND $8 AND created_at >= $9 AND status IN ({}) LIMIT 500",
        open.join(", ")
    ));
    let since = now - chrono::TimeDelta::days(NEARBY_DAYS);
    let rows: Vec<NearbyRow> = on_db!(db, read, pool => {
        sqlx::query_as(sql)
            .bind(category.to_owned()).bind(g - 1).bind(g).bind(g + 1)
            .bind(p.lng - dlng).bind(p.lng + dlng).bind(p.lat - dlat).bind(p.lat + dlat).bind(since)
            .fetch_all(pool).await
    })?;
    let mut near: Vec<(NearbyRow, f64)> = rows
        .into_iter()
        .map(|r| {
            let d = LatLng { lat: r.lat, lng: r.lng }.distance_km(p) * 1000.0;
            (r, d)
        })
        .filter(|(_, d)| *d <= NEARBY_RADIUS_M)
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1));
    near.truncate(limit);
    Ok(near)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: Uuid,
    pub code: String,
    pub category_code: String,
    pub status: String,
    pub ward_code: String,
    pub description: String,
    pub description_hidden: bool,
    pub lat: f64,
    pub lng: f64,
    pub due_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SUMMARY_COLUMNS: &str = "r.id, r.code, r.category_code, r.status, r.ward_code, r.description, r.description_hidden, r.lat, r.lng, r.due_date, \
     r.created_at, r.updated_at";

/// Which reports a list shows.
#[derive(Debug, Clone)]
pub enum Scope {
    /// A ward's open reports, overdue first (earliest due date first).
    Ward(String),
    /// Every ward's open reports, earliest due first.
    City,
    /// The caller's own reports, newest first.
    Mine(Uuid),
    /// Reports the caller follows, newest first.
    Followed(Uuid),
}

/// A position in a list: the sort key of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Due(NaiveDate, Uuid),
    Created(DateTime<Utc>, Uuid),
}

impl Cursor {
    pub fn encode(&self) -> String {
        use base64::Engine;
        let text = match self {
            Cursor::Due(d, id) => format!("d|{d}|{id}"),
            Cursor::Created(t, id) => format!("c|{}|{id}", t.to_rfc3339()),
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(token: &str) -> Option<Cursor> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('|');
        let cursor = match parts.next()? {
            "d" => Cursor::Due(parts.next()?.parse().ok()?, parts.next()?.parse().ok()?),
            "c" => Cursor::Created(
                DateTime::parse_from_rfc3339(parts.next()?).ok()?.with_timezone(&Utc),
                parts.next()?.parse().ok()?,
            ),
            _ => return None,
        };
        parts.next().is_none().then_some(cursor)
    }
}

/// One page of a list and whether more follow, paged by key in SQL: a ward's queue by
/// (due date, id) over open reports — so overdue ones come first —, a citizen's lists by
/// (created, id) descending.
pub async fn list(db: &Db, scope: &Scope, after: Option<&Cursor>, limit: u32) -> sqlx::Result<(Vec<SummaryRow>, bool)> {
    let open: Vec<String> = ReportStatus::open().map(|s| format!("'{}'", s.as_str())).collect();
    let open = open.join(", ");
    let queue = matches!(scope, Scope::Ward(_) | Scope::City);
    let (from, scope_clause) = match scope {
        Scope::Ward(_) => ("reports r".to_owned(), format!("r.ward_code = $1 AND r.status IN ({open})")),
        Scope::City => ("reports r".to_owned(), format!("CAST($1 AS TEXT) = '' AND r.status IN ({open})")),
        Scope::Mine(_) => ("reports r".to_owned(), "r.reporter_id = $1".to_owned()),
        Scope::Followed(_) => {
            ("reports r JOIN report_follows f ON f.report_id = r.id".to_owned(), "f.user_id = $1".to_owned())
        }
    };
    let (cursor_clause, order) = match (queue, after.is_some()) {
        (true, true) => ("AND (r.due_date, r.id) > ($3, $4)", "r.due_date, r.id"),
        (true, false) => ("", "r.due_date, r.id"),
        (false, true) => ("AND (r.created_at, r.id) < ($3, $4)", "r.created_at DESC, r.id DESC"),
        (false, false) => ("", "r.created_at DESC, r.id DESC"),
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SUMMARY_COLUMNS} FROM {from} WHERE {scope_clause} {cursor_clause} ORDER BY {order} LIMIT $2"
    ));
    let fetch = i64::from(limit) + 1;
    let mut rows: Vec<SummaryRow> = on_db!(db, read, pool => {
        let q = sqlx::query_as(sql);
        let q = match scope {
            Scope::Ward(w) => q.bind(w.clone()),
            Scope::City => q.bind(String::new()),
            Scope::Mine(u) | Scope::Followed(u) => q.bind(*u),
        };
        let q = q.bind(fetch);
        let q = match after {
            Some(Cursor::Due(d, id)) => q.bind(*d).bind(*id),
            Some(Cursor::Created(t, id)) => q.bind(*t).bind(*id),
            None => q,
        };
        q.fetch_all(pool).await
    })?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

impl SummaryRow {
    pub fn cursor(&self, queue: bool) -> Cursor {
        if queue { Cursor::Due(self.due_date, self.id) } else { Cursor::Created(self.created_at, self.id) }
    }
}

/// The public map: reports inside a box, optionally of one category and status, newest
/// first, paged by (created, id).
#[allow(clippy::too_many_arguments)]
pub async fn in_box(
    db: &Db,
    min: LatLng,
    max: LatLng,
    category: Option<&str>,
    statuses: &[ReportStatus],
    after: Option<&Cursor>,
    limit: u32,
) -> sqlx::Result<(Vec<SummaryRow>, bool)> {
    let statuses: Vec<String> = statuses.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let cursor = if after.is_some() { "AND (r.created_at, r.id) < ($7, $8)" } else { "" };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SUMMARY_COLUMNS} FROM reports r WHERE r.lat BETWEEN $1 AND $2 AND r.lng BETWEEN $3 AND $4 \
         AND ($5 = '' OR r.category_code = $5) AND r.status IN ({}) {cursor} \
         ORDER BY r.created_at DESC, r.id DESC LIMIT $6",
        statuses.join(", ")
    ));
    let fetch = i64::from(limit) + 1;
    let mut rows: Vec<SummaryRow> = on_db!(db, read, pool => {
        let q = sqlx::query_as(sql)
            .bind(min.lat).bind(max.lat).bind(min.lng).bind(max.lng)
            .bind(category.unwrap_or_default().to_owned()).bind(fetch);
        let q = match after {
            Some(Cursor::Created(t, id)) => q.bind(*t).bind(*id),
            Some(Cursor::Due(d, id)) => q.bind(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc())).bind(*id),
            None => q,
        };
        q.fetch_all(pool).await
    })?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Reports for Open311 `GET requests`: by ids (codes), or by service, status and period,
/// newest first, at most `limit`.
pub async fn for_open311(
    db: &Db,
    codes: &[String],
    category: Option<&str>,
    statuses: &[ReportStatus],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: u32,
) -> sqlx::Result<Vec<ReportRow>> {
    let statuses: Vec<String> = statuses.iter().map(|s| format!("'{}'", s.as_str())).collect();
    if !codes.is_empty() {
        let placeholders: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE code IN ({}) ORDER BY created_at DESC, id DESC",
            placeholders.join(", ")
        ));
        return on_db!(db, read, pool => {
            let mut q = sqlx::query_as(sql);
            for c in codes {
                q = q.bind(c.clone());
            }
            q.fetch_all(pool).await
        });
    }
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {REPORT_COLUMNS} FROM reports WHERE created_at >= $1 AND created_at <= $2 \
         AND ($3 = '' OR category_code = $3) AND status IN ({}) ORDER BY created_at DESC, id DESC LIMIT $4",
        statuses.join(", ")
    ));
    on_db!(db, read, pool => {
        sqlx::query_as(sql)
            .bind(start).bind(end).bind(category.unwrap_or_default().to_owned()).bind(i64::from(limit))
            .fetch_all(pool).await
    })
}

/// Sums of one group (category or ward) over a period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsGroup {
    pub key: String,
    pub received: i64,
    pub processed: i64,
    pub on_time: i64,
    pub resolved: i64,
    pub resolve_secs: i64,
    pub ratings: i64,
    pub rating_sum: i64,
}

/// Figures of reports filed in `[from, to)`, grouped by `column` (`category_code` or
/// `ward_code`), aggregated in SQL.
pub async fn stats(db: &Db, by_ward: bool, from: DateTime<Utc>, to: DateTime<Utc>) -> sqlx::Result<Vec<StatsGroup>> {
    let column = if by_ward { "ward_code" } else { "category_code" };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {column} AS key, COUNT(*) AS received, \
         CAST(COALESCE(SUM(CASE WHEN processed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS processed, \
         CAST(COALESCE(SUM(CASE WHEN processed_on_time THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_time, \
         CAST(COALESCE(SUM(CASE WHEN resolve_secs IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS resolved, \
         CAST(COALESCE(SUM(resolve_secs), 0) AS BIGINT) AS resolve_secs, \
         CAST(COALESCE(SUM(CASE WHEN rating_score IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS ratings, \
         CAST(COALESCE(SUM(rating_score), 0) AS BIGINT) AS rating_sum \
         FROM reports WHERE created_at >= $1 AND created_at < $2 GROUP BY {column} ORDER BY {column} LIMIT 1000"
    ));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(from).bind(to).fetch_all(pool).await)
}

/// A citizen's followed places (at most a few).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlaceRow {
    pub id: Uuid,
    pub ward_code: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub radius_m: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// Most places one citizen may follow.
pub const MAX_PLACES: i64 = 10;

/// Adds a followed place unless the citizen already follows [`MAX_PLACES`] (checked and
/// inserted in one statement); `false` when at the cap.
pub async fn add_place(db: &Db, user: Uuid, place: &PlaceRow) -> sqlx::Result<bool> {
    on_db!(db, write, pool => {
        sqlx::query(
            "INSERT INTO place_follows (id, user_id, ward_code, lat, lng, radius_m, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7 WHERE (SELECT COUNT(*) FROM place_follows WHERE user_id = $2) < $8",
        )
        .bind(place.id).bind(user).bind(place.ward_code.clone()).bind(place.lat).bind(place.lng).bind(place.radius_m)
        .bind(place.created_at).bind(MAX_PLACES)
        .execute(pool).await.map(|r| r.rows_affected() == 1)
    })
}

pub async fn places_of(db: &Db, user: Uuid) -> sqlx::Result<Vec<PlaceRow>> {
    on_db!(db, read, pool => {
        sqlx::query_as("SELECT id, ward_code, lat, lng, radius_m, created_at FROM place_follows WHERE user_id = $1 ORDER BY created_at, id")
            .bind(user).fetch_all(pool).await
    })
}

pub async fn remove_place(db: &Db, user: Uuid, id: Uuid) -> sqlx::Result<bool> {
    on_db!(db, write, pool => {
        sqlx::query("DELETE FROM place_follows WHERE id = $1 AND user_id = $2")
            .bind(id).bind(user).execute(pool).await.map(|r| r.rows_affected() == 1)
    })
}

/// One of the caller's attachments offered as a report photo.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnedPhoto {
    pub id: Uuid,
    pub sha256: String,
    pub content_type: String,
    /// The thumbnail made when it was stored (photos only) and its size.
    pub thumb_sha256: Option<String>,
    pub thumb_size: Option<i64>,
}

/// The attachments among `ids` that `owner` owns, with their stored bytes' hash and type
/// and their thumbnail.
pub async fn owned_photos(db: &Db, owner: Uuid, ids: &[Uuid]) -> sqlx::Result<Vec<OwnedPhoto>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT a.id, a.sha256, b.content_type, a.thumb_sha256, t.size AS thumb_size FROM attachments a \
         JOIN blobs b ON b.sha256 = a.sha256 LEFT JOIN blobs t ON t.sha256 = a.thumb_sha256 \
         WHERE a.owner_id = $1 AND a.id IN ({})",
        placeholders.join(", ")
    ));
    on_db!(db, read, pool => {
        let mut q = sqlx::query_as(sql).bind(owner);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })
}

/// Issues an Open311 key for a partner app: only the SHA-256 of the key is stored.
pub async fn insert_partner_key(db: &Db, id: Uuid, partner: &str, hash: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    on_db!(db, write, pool => {
        sqlx::query("INSERT INTO partner_keys (id, partner, key_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id).bind(partner).bind(hash).bind(now).execute(pool).await.map(|_| ())
    })
}

pub async fn partner_by_hash(db: &Db, hash: &str) -> sqlx::Result<Option<Uuid>> {
    let row: Option<(Uuid,)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT id FROM partner_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(hash.to_owned()).fetch_optional(pool).await
    })?;
    Ok(row.map(|(id,)| id))
}

/// The officer's ward: the ward of their branch when it is a ward service point.
pub fn is_ward_point(branch: &motcua_domain::wire::Branch) -> bool {
    branch.kind == motcua_domain::wire::BranchKind::WardPoint
}

/// Whether `officer` is an officer of `branch` (for assigning someone else).
pub async fn officer_branch(db: &Db, officer: Uuid) -> sqlx::Result<Option<(String, Option<String>)>> {
    on_db!(db, read, pool => {
        sqlx::query_as("SELECT role, branch_code FROM users WHERE id = $1").bind(officer).fetch_optional(pool).await
    })
}
