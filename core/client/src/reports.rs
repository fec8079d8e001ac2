//! Field reports on the phone: drafts made offline (category, description, the place, the
//! reporter's wish to stay anonymous, 1 to 5 photos copied into the store and hashed),
//! checked with the domain's rules (the city's area, the photo count, text lengths), sent
//! through the outbox like dossiers (photos uploaded resumably first, then the report with
//! its idempotency key), and the citizen's own and followed reports cached for offline
//! reading.

use std::path::Path;

use motcua_domain::files::MAX_ATTACHMENT_BYTES;
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::geo::LatLng;
use motcua_domain::i18n::Lang;
use motcua_domain::reports::{HANOI, MAX_PHOTOS, MAX_TEXT, MIN_PHOTOS};
use motcua_domain::wire::reports::{Report, ReportPage, ReportSummary, SubmitReport};
use sqlx::SqliteConnection;

use crate::drafts::{copy_hashing, file_refusal, ms, now};
use crate::error::{Error, FieldIssue, Result};
use crate::http::{Api, check};
use crate::model::{DraftState, ReportDraft, ReportDraftInput, ReportItem, ReportPhotoFile};
use crate::store::Store;

/// Shortest description, in characters (as the server).
const MIN_DESCRIPTION: usize = 10;
const MAX_ADDRESS: usize = 300;

#[derive(sqlx::FromRow)]
struct DraftRow {
    id: String,
    category: String,
    description: String,
    lat: Option<f64>,
    lng: Option<f64>,
    address: String,
    hide_identity: bool,
    state: String,
    server_errors: String,
    report_id: Option<String>,
    updated_at: String,
}

const DRAFT_SELECT: &str = "SELECT id, category, description, lat, lng, address, hide_identity, state, server_errors, \
     report_id, updated_at FROM report_drafts";

async fn row(conn: &mut SqliteConnection, id: &str) -> Result<DraftRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{DRAFT_SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("report draft"))
}

async fn photos(conn: &mut SqliteConnection, draft_id: &str) -> Result<Vec<ReportPhotoFile>> {
    let rows: Vec<(String, String, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, file_name, size, sha256, attachment_id FROM report_draft_photos WHERE draft_id = $1 ORDER BY position, id",
    )
    .bind(draft_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, file_name, size, sha256, attachment)| ReportPhotoFile {
            id,
            file_name,
            size: u64::try_from(size).unwrap_or(0),
            sha256,
            uploaded: attachment.is_some(),
        })
        .collect())
}

/// The problems of a draft by the shared rules, in `lang` (the server's, after a refusal,
/// come first).
fn issues(r: &DraftRow, photo_count: usize, lang: Lang) -> Result<Vec<FieldIssue>> {
    let mut errors = Vec::new();
    if r.category.trim().is_empty() {
        errors.push(FieldError::new("category", FieldErrorCode::Required));
    }
    let description = r.description.trim().chars().count();
    if description < MIN_DESCRIPTION {
        errors.push(FieldError::new("description", FieldErrorCode::TooShort).with_limit(MIN_DESCRIPTION));
    } else if description > MAX_TEXT {
        errors.push(FieldError::new("description", FieldErrorCode::TooLong).with_limit(MAX_TEXT));
    }
    if r.address.trim().chars().count() > MAX_ADDRESS {
        errors.push(FieldError::new("address", FieldErrorCode::TooLong).with_limit(MAX_ADDRESS));
    }
    match (r.lat, r.lng) {
        (Some(lat), Some(lng)) => match LatLng::new(lat, lng) {
            Some(p) if HANOI.contains(p) => {}
            _ => {
                if !(HANOI.min_lat..=HANOI.max_lat).contains(&lat) {
                    errors.push(FieldError::new("lat", FieldErrorCode::OutsideServiceArea));
                }
                if !(HANOI.min_lng..=HANOI.max_lng).contains(&lng) {
                    errors.push(FieldError::new("lng", FieldErrorCode::OutsideServiceArea));
                }
            }
        },
        _ => {
            errors.push(FieldError::new("lat", FieldErrorCode::Required));
            errors.push(FieldError::new("lng", FieldErrorCode::Required));
        }
    }
    if photo_count < MIN_PHOTOS {
        errors.push(FieldError::new("photos", FieldErrorCode::TooFewItems).with_limit(MIN_PHOTOS));
    } else if photo_count > MAX_PHOTOS {
        errors.push(FieldError::new("photos", FieldErrorCode::TooManyItems).with_limit(MAX_PHOTOS));
    }
    let mut out: Vec<FieldIssue> = serde_json::from_str(&r.server_errors)?;
    out.extend(errors.iter().map(|e| FieldIssue::from_domain(e, lang)));
    Ok(out)
}

async fn view(conn: &mut SqliteConnection, id: &str, lang: Lang) -> Result<ReportDraft> {
    let r = row(&mut *conn, id).await?;
    let photos = photos(&mut *conn, id).await?;
    let issues = issues(&r, photos.len(), lang)?;
    Ok(ReportDraft {
        id: r.id,
        category: r.category,
        description: r.description,
        lat: r.lat,
        lng: r.lng,
        address: r.address,
        hide_identity: r.hide_identity,
        state: DraftState::parse(&r.state),
        report_id: r.report_id,
        updated_at_ms: ms(&r.updated_at),
        photos,
        issues,
    })
}

/// A new, empty report draft.
pub(crate) async fn create(store: &Store, lang: Lang) -> Result<ReportDraft> {
    let id = uuid::Uuid::new_v4().to_string();
    let at = now();
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO report_drafts (id, category, description, address, hide_identity, state, created_at, updated_at)
         VALUES ($1, '', '', '', 0, 'editing', $2, $2)",
    )
    .bind(&id)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    let draft = view(&mut tx, &id, lang).await?;
    tx.commit().await?;
    Ok(draft)
}

async fn editable(conn: &mut SqliteConnection, id: &str) -> Result<()> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM report_drafts WHERE id = $1").bind(id).fetch_optional(conn).await?;
    match state.as_deref().map(DraftState::parse) {
        None => Err(Error::NotFound("report draft")),
        Some(DraftState::Editing) => Ok(()),
        Some(_) => Err(Error::Conflict("report draft is not editable")),
    }
}

/// Saves every field of the draft at once (one small transaction); returns the draft
/// with its current problems.
pub(crate) async fn update(store: &Store, id: &str, input: &ReportDraftInput, lang: Lang) -> Result<ReportDraft> {
    let mut tx = store.begin().await?;
    editable(&mut tx, id).await?;
    sqlx::query(
        "UPDATE report_drafts SET category = $1, description = $2, lat = $3, lng = $4, address = $5, hide_identity = $6,
         server_errors = '[]', updated_at = $7 WHERE id = $8",
    )
    .bind(input.category.trim())
    .bind(&input.description)
    .bind(input.lat)
    .bind(input.lng)
    .bind(&input.address)
    .bind(input.hide_identity)
    .bind(now())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let draft = view(&mut tx, id, lang).await?;
    tx.commit().await?;
    Ok(draft)
}

pub(crate) async fn load(store: &Store, id: &str, lang: Lang) -> Result<ReportDraft> {
    let mut conn = store.read().acquire().await?;
    view(&mut conn, id, lang).await
}

pub(crate) async fn list(store: &Store, lang: Lang) -> Result<Vec<ReportDraft>> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM report_drafts ORDER BY updated_at DESC, id").fetch_all(store.read()).await?;
    let mut conn = store.read().acquire().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(view(&mut conn, &id, lang).await?);
    }
    Ok(out)
}

/// Copies a photo into the store (hashing it) and adds it to the draft (at most 5).
pub(crate) async fn add_photo(
    store: &Store,
    draft_id: &str,
    source: &Path,
    file_name: &str,
    lang: Lang,
) -> Result<ReportPhotoFile> {
    if file_name.trim().is_empty() {
        return Err(Error::Invalid("file name is empty"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let dest = store.file_path(&id);
    let partial = dest.with_extension("part");
    // The server checks the photo's type when it is uploaded; its size is checked now.
    let (size, sha256) = match copy_hashing(source, &partial, MAX_ATTACHMENT_BYTES).await {
        Ok(Some(c)) => (c.size, c.sha256),
        Ok(None) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(file_refusal("photos", FieldErrorCode::TooLarge, lang));
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    tokio::fs::rename(&partial, &dest).await?;
    let saved = async {
        let mut tx = store.begin().await?;
        editable(&mut tx, draft_id).await?;
        let (count, next): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(MAX(position), -1) + 1 FROM report_draft_photos WHERE draft_id = $1",
        )
        .bind(draft_id)
        .fetch_one(&mut *tx)
        .await?;
        if count >= MAX_PHOTOS as i64 {
            return Err(Error::Validation(vec![FieldIssue::from_domain(
                &FieldError::new("photos", FieldErrorCode::TooManyItems).with_limit(MAX_PHOTOS),
                Lang::Vi,
            )]));
        }
        sqlx::query(
            "INSERT INTO report_draft_photos (id, draft_id, position, file_name, size, sha256, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(draft_id)
        .bind(next)
        .bind(file_name)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(&sha256)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE report_drafts SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(draft_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, Error>(())
    }
    .await;
    if let Err(e) = saved {
        let _ = tokio::fs::remove_file(&dest).await;
        return Err(e);
    }
    Ok(ReportPhotoFile { id, file_name: file_name.to_owned(), size, sha256, uploaded: false })
}

pub(crate) async fn remove_photo(store: &Store, draft_id: &str, photo_id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    editable(&mut tx, draft_id).await?;
    let gone = sqlx::query("DELETE FROM report_draft_photos WHERE id = $1 AND draft_id = $2")
        .bind(photo_id)
        .bind(draft_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(Error::NotFound("photo"));
    }
    tx.commit().await?;
    let _ = tokio::fs::remove_file(store.file_path(photo_id)).await;
    Ok(())
}

pub(crate) async fn delete(store: &Store, draft_id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM report_drafts WHERE id = $1")
        .bind(draft_id)
        .fetch_optional(&mut *tx)
        .await?;
    if DraftState::parse(&state.ok_or(Error::NotFound("report draft"))?) == DraftState::Queued {
        return Err(Error::Conflict("report draft is queued for sending"));
    }
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM report_draft_photos WHERE draft_id = $1")
        .bind(draft_id)
        .fetch_all(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM report_drafts WHERE id = $1").bind(draft_id).execute(&mut *tx).await?;
    tx.commit().await?;
    for id in ids {
        let _ = tokio::fs::remove_file(store.file_path(&id)).await;
    }
    Ok(())
}

/// Checks a draft and freezes it for the outbox (in the caller's transaction); the
/// problems, if any, are a `Validation` error.
pub(crate) async fn freeze(conn: &mut SqliteConnection, draft_id: &str, lang: Lang) -> Result<()> {
    let r = row(&mut *conn, draft_id).await?;
    if DraftState::parse(&r.state) != DraftState::Editing {
        return Err(Error::Conflict("report draft is not editable"));
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report_draft_photos WHERE draft_id = $1")
        .bind(draft_id)
        .fetch_one(&mut *conn)
        .await?;
    let found = issues(&DraftRow { server_errors: "[]".to_owned(), ..r }, usize::try_from(count).unwrap_or(0), lang)?;
    if !found.is_empty() {
        return Err(Error::Validation(found));
    }
    sqlx::query("UPDATE report_drafts SET state = 'queued', server_errors = '[]', updated_at = $1 WHERE id = $2")
        .bind(now())
        .bind(draft_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The body to post, with the photos' server attachment ids (all uploaded by now).
pub(crate) async fn body(conn: &mut SqliteConnection, draft_id: &str) -> Result<String> {
    let r = row(&mut *conn, draft_id).await?;
    let attachments: Vec<Option<String>> =
        sqlx::query_scalar("SELECT attachment_id FROM report_draft_photos WHERE draft_id = $1 ORDER BY position, id")
            .bind(draft_id)
            .fetch_all(&mut *conn)
            .await?;
    let photos =
        attachments.into_iter().collect::<Option<Vec<String>>>().ok_or(Error::Invalid("a photo is not uploaded"))?;
    let (Some(lat), Some(lng)) = (r.lat, r.lng) else { return Err(Error::Invalid("the report has no place")) };
    let submit = SubmitReport {
        category: r.category,
        description: r.description.trim().to_owned(),
        photos,
        lat,
        lng,
        address: r.address.trim().to_owned(),
        hide_identity: r.hide_identity,
    };
    Ok(serde_json::to_string(&submit)?)
}

fn item(s: &ReportSummary, lang: Lang, mine: bool, followed: bool) -> ReportItem {
    ReportItem {
        id: s.id.clone(),
        code: s.code.clone(),
        category: s.category.clone(),
        status: s.status.as_str().to_owned(),
        status_label: s.status.label(lang).to_owned(),
        ward_code: s.ward_code.clone(),
        description: s.description.clone(),
        lat: s.lat,
        lng: s.lng,
        due_date: s.due_date.format("%Y-%m-%d").to_string(),
        overdue: s.overdue,
        created_at_ms: s.created_at.timestamp_millis(),
        updated_at_ms: s.updated_at.timestamp_millis(),
        mine,
        followed,
    }
}

/// The list entry of a full report.
pub(crate) fn summary_of(r: &Report) -> ReportSummary {
    ReportSummary {
        id: r.id.clone(),
        code: r.code.clone(),
        category: r.category.clone(),
        status: r.status,
        ward_code: r.ward_code.clone(),
        description: r.description.clone(),
        lat: r.lat,
        lng: r.lng,
        due_date: r.due_date,
        overdue: r.overdue,
        created_at: r.created_at,
        updated_at: r.updated_at,
        thumbnail_url: r.photos.first().map(|p| p.thumbnail_url.clone()),
    }
}

/// Caches a report the citizen filed (right after the outbox sent it).
pub(crate) async fn cache_mine(conn: &mut SqliteConnection, r: &Report) -> Result<()> {
    let s = summary_of(r);
    sqlx::query(
        "INSERT INTO reports (id, mine, followed, created_at, summary) VALUES ($1, 1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET mine = 1, summary = excluded.summary",
    )
    .bind(&s.id)
    .bind(r.following)
    .bind(s.created_at.to_rfc3339())
    .bind(serde_json::to_string(&s)?)
    .execute(conn)
    .await?;
    Ok(())
}

/// Most reports one refresh fetches per list (the newest).
const REFRESH_LIMIT: u32 = 100;

/// Fetches the newest of the citizen's own (`mine`) or followed reports and replaces that
/// list in the cache (a report in both lists keeps both marks).
pub(crate) async fn refresh(store: &Store, api: &Api, mine: bool, lang: Lang) -> Result<Vec<ReportItem>> {
    let path = if mine { "/api/v1/reports/mine" } else { "/api/v1/reports/followed" };
    let page: ReportPage = api.get(&format!("{path}?limit={REFRESH_LIMIT}")).await?;
    let column = if mine { "mine" } else { "followed" };
    let mut tx = store.begin().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE reports SET {column} = 0"))).execute(&mut *tx).await?;
    for s in &page.items {
        let sql = format!(
            "INSERT INTO reports (id, mine, followed, created_at, summary) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET {column} = 1, summary = excluded.summary"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&s.id)
            .bind(mine)
            .bind(!mine)
            .bind(s.created_at.to_rfc3339())
            .bind(serde_json::to_string(s)?)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM reports WHERE mine = 0 AND followed = 0").execute(&mut *tx).await?;
    tx.commit().await?;
    cached(store, mine, lang).await
}

/// The cached list, newest first (offline).
pub(crate) async fn cached(store: &Store, mine: bool, lang: Lang) -> Result<Vec<ReportItem>> {
    let column = if mine { "mine" } else { "followed" };
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT summary, mine, followed FROM reports WHERE {column} = 1 ORDER BY created_at DESC, id DESC"
    )))
    .fetch_all(store.read())
    .await?;
    rows.into_iter()
        .map(|(summary, mine, followed)| {
            let s: ReportSummary = serde_json::from_str(&summary)?;
            Ok(item(&s, lang, mine, followed))
        })
        .collect()
}

/// Follows (or stops following) a report on the server; the followed list is refreshed.
pub(crate) async fn set_follow(
    store: &Store,
    api: &Api,
    report_id: &str,
    follow: bool,
    lang: Lang,
) -> Result<Vec<ReportItem>> {
    let method = if follow { "POST" } else { "DELETE" };
    check(api.send_authed(method, &format!("/api/v1/reports/{report_id}/follow"), Vec::new(), Vec::new()).await?)?;
    refresh(store, api, false, lang).await
}
