//! The citizen's dossiers and notification inbox: fetched from the server, cached in the
//! store for offline reading, with status changes reported to the listener.

use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Dossier, DossierList, DossierSummary, Notification, NotificationList, PublicDossier};
use motcua_domain::workflow::DossierStatus;
use sqlx::SqliteConnection;

use crate::error::{Error, FieldIssue, Result};
use crate::events::Events;
use crate::http::{Api, check, decode};
use crate::model::{
    self, DeadlineState, DossierDetail, DossierItem, DossierStatusChange, NotificationItem, NotificationKind,
    PublicTracking, Role, TimelineAction, TimelineItem, TrackingStep,
};
use crate::store::Store;
use motcua_domain::form::{FieldError, FieldErrorCode};

fn wire_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn item(s: &DossierSummary, lang: Lang) -> DossierItem {
    DossierItem {
        id: s.id.clone(),
        code: s.code.clone(),
        procedure_code: s.procedure_code.clone(),
        procedure_name: s.procedure_name.clone(),
        status: model::DossierStatus::from_code(s.status.as_str()),
        status_label: s.status.label(lang).to_owned(),
        branch_code: s.branch_code.clone(),
        submitted_at_ms: s.submitted_at.timestamp_millis(),
        updated_at_ms: s.updated_at.timestamp_millis(),
        due_date: s.due_date.map(|d| d.format("%Y-%m-%d").to_string()),
        deadline: DeadlineState::from_code(&wire_name(&s.deadline)),
    }
}

/// The list entry of a full dossier.
fn summary_of(d: &Dossier) -> DossierSummary {
    let updated_at = d.timeline.iter().map(|t| t.at).max().unwrap_or(d.submitted_at);
    let current = d.legs.iter().find(|l| l.state.is_current());
    DossierSummary {
        id: d.id.clone(),
        code: d.code.clone(),
        procedure_code: d.procedure_code.clone(),
        procedure_name: d.procedure_name.clone(),
        status: d.status,
        branch_code: d.branch_code.clone(),
        submitted_at: d.submitted_at,
        updated_at,
        due_date: d.due_date,
        deadline: d.deadline,
        agency: current.map(|l| l.agency.clone()),
        leg_due_date: current.and_then(|l| l.due_date),
        leg_deadline: current.map(|l| l.deadline),
    }
}

fn detail(d: &Dossier, lang: Lang) -> DossierDetail {
    DossierDetail {
        item: item(&summary_of(d), lang),
        form_version: d.form_version,
        values_json: d.values.to_string(),
        timeline: d
            .timeline
            .iter()
            .map(|t| TimelineItem {
                at_ms: t.at.timestamp_millis(),
                action: TimelineAction::from_code(&t.action),
                from_status: t.from.map(|s| model::DossierStatus::from_code(s.as_str())),
                to_status: model::DossierStatus::from_code(t.to.as_str()),
                actor_role: Role::from_code(t.actor_role.as_str()),
                actor_name: t.actor_name.clone(),
                note: t.note.clone(),
            })
            .collect(),
        tracking_verifier: d.tracking_verifier.clone(),
        rating_score: d.rating.as_ref().map(|r| u32::from(r.score)),
        rating_comment: d.rating.as_ref().and_then(|r| r.comment.clone()),
        supplement_request: crate::supplements::request_of(d),
    }
}

/// One action of the applicant on a dossier (online): the server's answer is cached and
/// a status change reported like a refresh's.
async fn act(store: &Store, api: &Api, events: &Events, path: &str, body: serde_json::Value) -> Result<DossierDetail> {
    let (_, d): (u16, Dossier) = api.post(path, &body, Vec::new()).await?;
    let mut tx = store.begin().await?;
    let old = cache_detail(&mut tx, &d).await?;
    tx.commit().await?;
    if let Some(c) = change(&d.id, &d.code, old, d.status) {
        events.status_changed(c);
    }
    Ok(detail(&d, api.lang()))
}

/// Withdraws a dossier before a decision (online). `Conflict` (`illegal_transition`) once
/// decided.
pub(crate) async fn withdraw(
    store: &Store,
    api: &Api,
    events: &Events,
    id: &str,
    note: Option<&str>,
) -> Result<DossierDetail> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let path = format!("/api/v1/dossiers/{}/transitions", encode(id));
    act(store, api, events, &path, serde_json::json!({ "action": "withdraw", "note": note })).await
}

/// Ratings waiting for the network, by dossier id (one file beside the store; personal
/// data, wiped at logout).
const PENDING_RATINGS: &str = "pending_ratings.json";
const MAX_COMMENT: usize = 1_000;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct PendingRating {
    score: u8,
    comment: Option<String>,
}

async fn pending_ratings(store: &Store) -> Result<std::collections::BTreeMap<String, PendingRating>> {
    match tokio::fs::read(store.dir_file(PENDING_RATINGS)).await {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(e.into()),
    }
}

async fn save_pending_ratings(store: &Store, map: &std::collections::BTreeMap<String, PendingRating>) -> Result<()> {
    let path = store.dir_file(PENDING_RATINGS);
    if map.is_empty() {
        return match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        };
    }
    let partial = path.with_extension("part");
    tokio::fs::write(&partial, serde_json::to_vec(map)?).await?;
    tokio::fs::rename(&partial, &path).await?;
    Ok(())
}

/// Forgets every queued rating (logout).
pub(crate) async fn forget_pending_ratings(store: &Store) -> Result<()> {
    save_pending_ratings(store, &Default::default()).await
}

fn rating_path(id: &str) -> String {
    format!("/api/v1/dossiers/{}/rating", encode(id))
}

/// Rates a dossier whose result was returned: 1 to 5 and an optional comment. Sent now
/// (`Some(detail)`), or, when the network or the server is out of reach, queued on the
/// phone (`None`) and sent by the next `sync_outbox`/`sync_now`; a newer rating of the
/// same dossier replaces a queued one. The values are checked first (`Validation` on
/// `score`/`comment`); `Conflict` with `not_returned_yet` or `already_rated`.
/// The caller holds the sync lock (no flush runs meanwhile).
pub(crate) async fn rate(
    store: &Store,
    api: &Api,
    events: &Events,
    id: &str,
    score: u32,
    comment: Option<&str>,
) -> Result<Option<DossierDetail>> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    let mut errors = Vec::new();
    let score = match u8::try_from(score) {
        Ok(s @ 1..=5) => s,
        _ => {
            let code = if score < 1 { FieldErrorCode::TooSmall } else { FieldErrorCode::TooLarge };
            errors.push(FieldError::new("score", code).with_limit(if score < 1 { 1 } else { 5 }));
            0
        }
    };
    if comment.as_deref().is_some_and(|c| c.chars().count() > MAX_COMMENT) {
        errors.push(FieldError::new("comment", FieldErrorCode::TooLong).with_limit(MAX_COMMENT));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors.iter().map(|e| FieldIssue::from_domain(e, api.lang())).collect()));
    }
    let body = serde_json::json!({ "score": score, "comment": comment });
    match act(store, api, events, &rating_path(id), body).await {
        Ok(detail) => Ok(Some(detail)),
        Err(e) if e.is_transient() => {
            let mut queued = pending_ratings(store).await?;
            queued.insert(id.to_owned(), PendingRating { score, comment });
            save_pending_ratings(store, &queued).await?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Sends the queued ratings (part of a sync pass, under the sync lock). A rating the
/// server took, or one it refuses for good (already rated, not returned, gone), leaves
/// the queue; one that meets the network down again stays.
pub(crate) async fn send_pending_ratings(store: &Store, api: &Api, events: &Events) -> Result<()> {
    let mut queued = pending_ratings(store).await?;
    if queued.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = queued.keys().cloned().collect();
    for id in ids {
        let Some(r) = queued.get(&id).cloned() else { continue };
        let body = serde_json::json!({ "score": r.score, "comment": r.comment });
        match act(store, api, events, &rating_path(&id), body).await {
            Ok(_) => {}
            Err(e) if e.is_transient() => break,
            Err(Error::SignedOut) => break,
            Err(e) => tracing::warn!(error = %e, "a queued rating was refused; dropped"),
        }
        queued.remove(&id);
        save_pending_ratings(store, &queued).await?;
    }
    Ok(())
}

/// Percent-encodes one URL path segment or query value (RFC 3986 unreserved kept).
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Public tracking by receipt code and verifier: no account needed (and none used). A
/// wrong pair is `NotFound` (the server does not tell which was wrong); too many guesses
/// are throttled.
pub(crate) async fn track(api: &Api, code: &str, verifier: &str) -> Result<PublicTracking> {
    let (code, verifier) = (code.trim(), verifier.trim());
    if code.is_empty() || code.chars().count() > 64 {
        return Err(Error::Invalid("code is empty or too long"));
    }
    if verifier.is_empty() {
        return Err(Error::Invalid("verifier is empty"));
    }
    let path = format!("/api/v1/public/dossiers/{}?verifier={}", encode(code), encode(verifier));
    let d: PublicDossier = decode(check(api.send("GET", &path, Vec::new(), Vec::new()).await?)?)?;
    let lang = api.lang();
    Ok(PublicTracking {
        code: d.code,
        procedure_name: d.procedure_name,
        status: model::DossierStatus::from_code(d.status.as_str()),
        status_label: d.status.label(lang).to_owned(),
        submitted_at_ms: d.submitted_at.timestamp_millis(),
        received_at_ms: d.received_at.map(|t| t.timestamp_millis()),
        due_date: d.due_date.map(|d| d.format("%Y-%m-%d").to_string()),
        deadline: DeadlineState::from_code(&wire_name(&d.deadline)),
        steps: d
            .steps
            .into_iter()
            .map(|s| TrackingStep {
                at_ms: s.at.timestamp_millis(),
                status: model::DossierStatus::from_code(s.status.as_str()),
                status_label: s.status.label(lang).to_owned(),
                description: s.description,
            })
            .collect(),
    })
}

/// Stores a summary, returning the status it replaces (if it was cached).
async fn upsert_summary(conn: &mut SqliteConnection, s: &DossierSummary) -> Result<Option<String>> {
    let old: Option<String> =
        sqlx::query_scalar("SELECT status FROM dossiers WHERE id = $1").bind(&s.id).fetch_optional(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO dossiers (id, status, updated_at, summary) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
             summary = excluded.summary",
    )
    .bind(&s.id)
    .bind(s.status.as_str())
    .bind(s.updated_at.to_rfc3339())
    .bind(serde_json::to_string(s)?)
    .execute(&mut *conn)
    .await?;
    Ok(old)
}

/// Caches a full dossier (and its list entry).
pub(crate) async fn cache_detail(conn: &mut SqliteConnection, d: &Dossier) -> Result<Option<String>> {
    let old = upsert_summary(conn, &summary_of(d)).await?;
    sqlx::query("UPDATE dossiers SET detail = $1 WHERE id = $2")
        .bind(serde_json::to_string(d)?)
        .bind(&d.id)
        .execute(&mut *conn)
        .await?;
    Ok(old)
}

fn change(id: &str, code: &str, old: Option<String>, new: DossierStatus) -> Option<DossierStatusChange> {
    let old = old?;
    (old != new.as_str()).then(|| DossierStatusChange {
        dossier_id: id.to_owned(),
        dossier_code: code.to_owned(),
        from_status: Some(model::DossierStatus::from_code(&old)),
        to_status: model::DossierStatus::from_code(new.as_str()),
    })
}

pub(crate) async fn refresh(store: &Store, api: &Api, events: &Events) -> Result<Vec<DossierItem>> {
    let list: DossierList = api.get("/api/v1/dossiers").await?;
    let mut changes = Vec::new();
    let mut tx = store.begin().await?;
    for s in &list.items {
        let old = upsert_summary(&mut tx, s).await?;
        changes.extend(change(&s.id, &s.code, old, s.status));
    }
    tx.commit().await?;
    for c in changes {
        events.status_changed(c);
    }
    cached(store, api.lang()).await
}

pub(crate) async fn cached(store: &Store, lang: Lang) -> Result<Vec<DossierItem>> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT summary FROM dossiers ORDER BY updated_at DESC, id").fetch_all(store.read()).await?;
    rows.iter().map(|r| Ok(item(&serde_json::from_str(r)?, lang))).collect()
}

/// The dossier from the server (cached), or from the cache when the server is out of reach.
pub(crate) async fn get(store: &Store, api: &Api, events: &Events, id: &str) -> Result<DossierDetail> {
    match api.get::<Dossier>(&format!("/api/v1/dossiers/{id}")).await {
        Ok(d) => {
            let mut tx = store.begin().await?;
            let old = cache_detail(&mut tx, &d).await?;
            tx.commit().await?;
            if let Some(c) = change(&d.id, &d.code, old, d.status) {
                events.status_changed(c);
            }
            Ok(detail(&d, api.lang()))
        }
        Err(e) if e.is_transient() => {
            let doc: Option<Option<String>> = sqlx::query_scalar("SELECT detail FROM dossiers WHERE id = $1")
                .bind(id)
                .fetch_optional(store.read())
                .await?;
            match doc.flatten() {
                Some(doc) => Ok(detail(&serde_json::from_str(&doc)?, api.lang())),
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// A status change's title in the app's language (the server writes it in Vietnamese);
/// other kinds keep the server's title.
fn notification_title(n: &Notification, lang: Lang) -> String {
    match (n.kind.as_str(), n.status, n.dossier_code.as_deref()) {
        ("dossier_status", Some(status), Some(code)) => {
            let word = if lang == Lang::En { "Dossier" } else { "Hồ sơ" };
            format!("{word} {code}: {}", status.label(lang))
        }
        _ => n.title.clone(),
    }
}

fn notification(n: &Notification, lang: Lang) -> NotificationItem {
    NotificationItem {
        id: n.id.clone(),
        kind: NotificationKind::from_code(&n.kind),
        dossier_id: n.dossier_id.clone(),
        dossier_code: n.dossier_code.clone(),
        status: n.status.map(|s| model::DossierStatus::from_code(s.as_str())),
        title: notification_title(n, lang),
        body: n.body.clone(),
        created_at_ms: n.created_at.timestamp_millis(),
        read: n.read_at.is_some(),
    }
}

pub(crate) async fn refresh_notifications(store: &Store, api: &Api) -> Result<Vec<NotificationItem>> {
    let list: NotificationList = api.get("/api/v1/notifications").await?;
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM notifications").execute(&mut *tx).await?;
    for n in &list.items {
        sqlx::query("INSERT INTO notifications (id, created_at, read_at, doc) VALUES ($1, $2, $3, $4)")
            .bind(&n.id)
            .bind(n.created_at.to_rfc3339())
            .bind(n.read_at.map(|t| t.to_rfc3339()))
            .bind(serde_json::to_string(n)?)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    cached_notifications(store, api.lang()).await
}

pub(crate) async fn cached_notifications(store: &Store, lang: Lang) -> Result<Vec<NotificationItem>> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT doc, read_at FROM notifications ORDER BY created_at DESC, id")
            .fetch_all(store.read())
            .await?;
    rows.iter()
        .map(|(doc, read_at)| {
            let mut item = notification(&serde_json::from_str(doc)?, lang);
            item.read = read_at.is_some();
            Ok(item)
        })
        .collect()
}

pub(crate) async fn mark_read(store: &Store, api: &Api, id: &str) -> Result<()> {
    check(api.send_authed("POST", &format!("/api/v1/notifications/{id}/read"), Vec::new(), Vec::new()).await?)?;
    sqlx::query("UPDATE notifications SET read_at = $1 WHERE id = $2 AND read_at IS NULL")
        .bind(chrono::Utc::now().to_rfc3339())
        .bind(id)
        .execute(store.write())
        .await?;
    Ok(())
}

/// The result document of dossier `id` (online): the applicant's once the result is
/// returned (or the dossier rejected); a `Conflict` (`not_returned_yet`) before, `NotFound`
/// when there is none.
pub(crate) async fn download_result(api: &Api, id: &str) -> Result<crate::model::ResultFile> {
    let id = id.trim();
    if id.is_empty() || id.chars().count() > 64 {
        return Err(Error::Invalid("dossier id is empty or too long"));
    }
    let path = format!("/api/v1/dossiers/{}/result", encode(id));
    let response = check(api.send_authed("GET", &path, Vec::new(), Vec::new()).await?)?;
    let file_name =
        response.header("Content-Disposition").and_then(disposition_file_name).unwrap_or_else(|| "ket-qua".to_owned());
    let content_type = response.header("Content-Type").unwrap_or("application/octet-stream").trim().to_owned();
    Ok(crate::model::ResultFile { file_name, content_type, bytes: response.body })
}

/// The file name of a `Content-Disposition` header: the UTF-8 `filename*` (RFC 6266 and
/// 8187) when given, else the plain `filename`; without any folder part.
fn disposition_file_name(header: &str) -> Option<String> {
    let params: Vec<(&str, &str)> =
        header.split(';').skip(1).filter_map(|p| p.trim().split_once('=')).map(|(k, v)| (k.trim(), v.trim())).collect();
    let extended = params.iter().find(|(k, _)| k.eq_ignore_ascii_case("filename*")).and_then(|(_, v)| {
        let (charset, rest) = v.split_once('\'')?;
        let (_, encoded) = rest.split_once('\'')?;
        charset.eq_ignore_ascii_case("utf-8").then(|| percent_decode(encoded))?
    });
    let plain = || {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("filename"))
            .map(|(_, v)| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v).to_owned())
    };
    let name = extended.or_else(plain)?;
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim().to_owned();
    (!name.is_empty()).then_some(name)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod result_file_tests {
    use super::disposition_file_name;

    #[test]
    fn the_file_name_comes_from_the_disposition() {
        let header = "attachment; filename=\"Quyet_dinh.pdf\"; filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh.pdf";
        assert_eq!(disposition_file_name(header).as_deref(), Some("Quyết định.pdf"));
        assert_eq!(disposition_file_name("attachment; filename=\"kq.pdf\"").as_deref(), Some("kq.pdf"));
        assert_eq!(disposition_file_name("attachment; filename=\"../../etc/kq.pdf\"").as_deref(), Some("kq.pdf"));
        assert_eq!(
            disposition_file_name("attachment; filename*=UTF-8''%ZZ; filename=\"b.pdf\"").as_deref(),
            Some("b.pdf")
        );
        assert_eq!(disposition_file_name("attachment").as_deref(), None);
    }
}
