//! Attachments: resumable uploads (announce, send chunks at offsets, resume after a broken
//! connection without resending what arrived), one-shot uploads for small files, and
//! access to stored files. Files are checked by content (PDF, JPEG, PNG, WebP; HEIC is
//! refused with its own message), photos lose their metadata (EXIF with GPS, XMP, IPTC:
//! see `images`) before they are stored, files are stored once per SHA-256 of the stored
//! bytes, and owned by the account that uploaded them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::wire::{Attachment, ErrorBody, Role, UploadStart, UploadStatus};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::blobs::{BlobStore, sniff, write_new};
use crate::db::{BeginWrite, Db};
use crate::error::{ApiError, ApiResult, Conflict};
use crate::extract::{ApiJson, ApiQuery};
use crate::on_db;
use crate::quotas::{self, Quota};
use crate::seed::hex;
use std::path::PathBuf;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_upload))
        .routes(routes!(upload_status, upload_chunk))
        .routes(routes!(upload_whole))
        .routes(routes!(get_attachment))
        .routes(routes!(attachment_content))
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct AttachmentRow {
    id: Uuid,
    owner_id: Uuid,
    sha256: String,
    size: i64,
    content_type: String,
    file_name: String,
    created_at: DateTime<Utc>,
}

impl AttachmentRow {
    fn wire(&self) -> Attachment {
        Attachment {
            id: self.id.to_string(),
            sha256: self.sha256.clone(),
            size: u64::try_from(self.size).unwrap_or_default(),
            content_type: self.content_type.clone(),
            file_name: self.file_name.clone(),
            created_at: self.created_at,
        }
    }
}

const ATTACHMENT_SELECT: &str = "SELECT a.id, a.owner_id, a.sha256, b.size, b.content_type, a.file_name, a.created_at \
     FROM attachments a JOIN blobs b ON b.sha256 = a.sha256";

async fn attachment_by(db: &Db, clause: &'static str, a: Uuid, b: Option<&str>) -> sqlx::Result<Option<AttachmentRow>> {
    let sql = sqlx::AssertSqlSafe(format!("{ATTACHMENT_SELECT} WHERE {clause}"));
    on_db!(db, read, pool => {
        let q = sqlx::query_as(sql).bind(a);
        let q = match b { Some(b) => q.bind(b.to_owned()), None => q };
        q.fetch_optional(pool).await
    })
}

/// The caller's attachment of these bytes: stored as they are, or (a photo whose metadata
/// was removed) stored from an upload that announced them.
const OWNED_BY_ANNOUNCED_SHA: &str = "a.owner_id = $1 AND (a.sha256 = $2 OR a.id IN \
     (SELECT u.attachment_id FROM uploads u WHERE u.owner_id = $1 AND u.sha256 = $2 AND u.attachment_id IS NOT NULL))";

/// Most attachment ids looked up at once (a dossier's form allows far fewer).
pub const MAX_OWNED_LOOKUP: usize = 500;

/// The caller's attachments among `ids` (others are simply absent), in one query.
pub async fn owned_attachments(db: &Db, owner: Uuid, ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    Ok(owned_rows(db, owner, ids).await?.into_iter().map(|row| row.id).collect())
}

/// The rows of the caller's attachments among `ids` (at most [`MAX_OWNED_LOOKUP`]), in
/// one query, in the order of `ids`.
async fn owned_rows(db: &Db, owner: Uuid, ids: &[Uuid]) -> sqlx::Result<Vec<AttachmentRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = &ids[..ids.len().min(MAX_OWNED_LOOKUP)];
    let placeholders: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "{ATTACHMENT_SELECT} WHERE a.owner_id = $1 AND a.id IN ({})",
        placeholders.join(", ")
    ));
    let mut rows: Vec<AttachmentRow> = on_db!(db, read, pool => {
        let mut q = sqlx::query_as(sql).bind(owner);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(rows)
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct UploadRow {
    id: Uuid,
    sha256: String,
    size: i64,
    file_name: String,
    received: i64,
    attachment_id: Option<Uuid>,
}

const UPLOAD_SELECT: &str = "SELECT id, sha256, size, file_name, received, attachment_id FROM uploads";

async fn upload_row(db: &Db, id: Uuid, owner: Uuid) -> ApiResult<UploadRow> {
    let sql = sqlx::AssertSqlSafe(format!("{UPLOAD_SELECT} WHERE id = $1 AND owner_id = $2"));
    let row: Option<UploadRow> =
        on_db!(db, read, pool => sqlx::query_as(sql).bind(id).bind(owner).fetch_optional(pool).await)?;
    row.ok_or(ApiError::NotFound)
}

async fn status_of(db: &Db, row: &UploadRow) -> ApiResult<UploadStatus> {
    let attachment = match row.attachment_id {
        Some(id) => attachment_by(db, "a.id = $1", id, None).await?.map(|a| a.wire()),
        None => None,
    };
    Ok(UploadStatus {
        upload_id: row.id.to_string(),
        offset: u64::try_from(row.received).unwrap_or_default(),
        size: u64::try_from(row.size).unwrap_or_default(),
        attachment,
    })
}

fn clean_file_name(path: &str, name: &str, errors: &mut Vec<FieldError>) -> String {
    let name: String = name.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').collect();
    let name = name.trim().to_owned();
    if name.is_empty() {
        errors.push(FieldError::new(path, FieldErrorCode::Required));
    } else if name.chars().count() > 255 {
        errors.push(FieldError::new(path, FieldErrorCode::TooLong).with_limit(255));
    }
    name
}

fn parse_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// Refuses an upload of `incoming` bytes that would leave less free disk than the reserve
/// (a clean 507 before the disk is full, rather than a failed write half-way).
fn check_disk(app: &AppState, incoming: u64) -> ApiResult<()> {
    let reserve = app.config.quotas.min_free_disk_bytes;
    match app.blobs.free_bytes() {
        Some(free) if free < reserve.saturating_add(incoming) => {
            metrics::counter!("motcua_uploads_refused_disk_total").increment(1);
            tracing::warn!(free, reserve, incoming, "refusing an upload: the blob store's disk is nearly full");
            Err(ApiError::InsufficientStorage)
        }
        _ => Ok(()),
    }
}

/// Takes one upload and `bytes` from the caller's daily allowance.
async fn claim_upload_quota(app: &AppState, owner: Uuid, bytes: u64) -> ApiResult<()> {
    let q = &app.config.quotas;
    let now = Utc::now();
    quotas::claim(&app.db, owner, Quota::UploadsPerDay, 1, u64::from(q.uploads_per_day), now).await?;
    quotas::claim(&app.db, owner, Quota::UploadBytesPerDay, bytes, q.upload_bytes_per_day, now).await
}

/// Announce an upload. If the caller already stored these exact bytes, the answer carries
/// the attachment and nothing needs sending; an unfinished upload of the same bytes is
/// resumed (its offset is returned).
#[utoipa::path(post, path = "/api/v1/uploads", tag = "attachments", request_body = UploadStart, security(("bearer" = [])),
    responses(
        (status = 201, description = "Send the bytes from `offset`", body = UploadStatus),
        (status = 200, description = "Already stored (see `attachment`) or an unfinished upload to resume", body = UploadStatus),
        (status = 401, body = ErrorBody), (status = 413, description = "Larger than the limit", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "The account's daily upload allowance is used up", body = ErrorBody),
        (status = 507, description = "The server's disk reserve is reached; retry later", body = ErrorBody),
    ))]
async fn start_upload(
    State(app): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<UploadStart>,
) -> ApiResult<Response> {
    let mut errors = Vec::new();
    let sha = req.sha256.to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(FieldError::new("sha256", FieldErrorCode::Invalid));
    }
    if req.size == 0 {
        errors.push(FieldError::new("size", FieldErrorCode::TooSmall).with_limit(1));
    }
    let file_name = clean_file_name("file_name", &req.file_name, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if req.size > app.config.max_upload_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    let now = Utc::now();
    // These bytes are already the caller's: nothing to send. (Another account's copy of
    // the same bytes does not count: the caller must prove it has them.)
    if let Some(existing) = attachment_by(&app.db, OWNED_BY_ANNOUNCED_SHA, user.id, Some(&sha)).await? {
        let id = Uuid::now_v7();
        insert_upload(&app.db, id, user.id, &sha, existing.size, &file_name, existing.size, Some(existing.id), now)
            .await?;
        let row = upload_row(&app.db, id, user.id).await?;
        return Ok((StatusCode::OK, axum::Json(status_of(&app.db, &row).await?)).into_response());
    }
    let size = i64::try_from(req.size).map_err(|_| ApiError::PayloadTooLarge)?;
    let sql = sqlx::AssertSqlSafe(format!(
        "{UPLOAD_SELECT} WHERE owner_id = $1 AND sha256 = $2 AND size = $3 AND attachment_id IS NULL ORDER BY created_at DESC"
    ));
    let unfinished: Option<UploadRow> = on_db!(&app.db, read, pool => {
        sqlx::query_as(sql).bind(user.id).bind(&sha).bind(size).fetch_optional(pool).await
    })?;
    if let Some(row) = unfinished {
        return Ok((StatusCode::OK, axum::Json(status_of(&app.db, &row).await?)).into_response());
    }
    check_disk(&app, req.size)?;
    claim_upload_quota(&app, user.id, req.size).await?;
    let id = Uuid::now_v7();
    insert_upload(&app.db, id, user.id, &sha, size, &file_name, 0, None, now).await?;
    let row = upload_row(&app.db, id, user.id).await?;
    Ok((StatusCode::CREATED, axum::Json(status_of(&app.db, &row).await?)).into_response())
}

#[allow(clippy::too_many_arguments)]
async fn insert_upload(
    db: &Db,
    id: Uuid,
    owner: Uuid,
    sha: &str,
    size: i64,
    file_name: &str,
    received: i64,
    attachment: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_db!(db, write, pool => {
        sqlx::query(
            "INSERT INTO uploads (id, owner_id, sha256, size, file_name, received, attachment_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id).bind(owner).bind(sha).bind(size).bind(file_name).bind(received).bind(attachment).bind(now)
        .execute(pool).await.map(|_| ())
    })
}

/// Where an upload stands (after a broken connection: resume from `offset`).
#[utoipa::path(get, path = "/api/v1/uploads/{upload_id}", tag = "attachments", security(("bearer" = [])),
    params(("upload_id" = String, Path)),
    responses((status = 200, body = UploadStatus), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn upload_status(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<UploadStatus>> {
    let row = upload_row(&app.db, parse_id(&id)?, user.id).await?;
    Ok(axum::Json(status_of(&app.db, &row).await?))
}

/// The name of the chunk at `offset` written under the claim `token` (one per accepted
/// chunk, in the blob store next to the blobs, so any process can finish the upload).
fn chunk_name(offset: i64, token: &str) -> String {
    format!("{offset:020}-{token}")
}

/// Send the next chunk: `Upload-Offset` must equal the bytes received so far. The answer
/// carries `attachment` once the last byte arrived and the file checked out. An empty
/// chunk at the end finishes an upload whose last answer was lost.
///
/// Two requests for the same range never both write: the range is claimed in the
/// database first (a claim lasts the request timeout), each chunk goes to a file of its
/// own, and the offset moves only with the claim that wrote it.
#[utoipa::path(patch, path = "/api/v1/uploads/{upload_id}", tag = "attachments", security(("bearer" = [])),
    params(("upload_id" = String, Path), ("Upload-Offset" = u64, Header, description = "Bytes received so far")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 200, body = UploadStatus),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Wrong offset (or the range is being written by another request); the right offset is in the Upload-Offset header", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Too many bytes, checksum mismatch, or not a PDF/JPEG/PNG", body = ErrorBody),
        (status = 507, description = "The server's disk reserve is reached; retry later", body = ErrorBody),
    ))]
async fn upload_chunk(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let row = upload_row(&app.db, parse_id(&id)?, user.id).await?;
    if row.attachment_id.is_some() {
        return Ok(axum::Json(status_of(&app.db, &row).await?).into_response());
    }
    let offset: i64 = headers
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ApiError::field("Upload-Offset", FieldErrorCode::Required))?;
    if offset != row.received {
        return Ok(offset_mismatch(row.received));
    }
    let len = i64::try_from(body.len()).map_err(|_| ApiError::PayloadTooLarge)?;
    if offset + len > row.size {
        return Err(ApiError::Validation(vec![
            FieldError::new("body", FieldErrorCode::TooLarge).with_limit(row.size - offset),
        ]));
    }
    if len > 0 {
        check_disk(&app, body.len() as u64)?;
        if !write_chunk(&app, &row, offset, body).await? {
            let current = upload_row(&app.db, row.id, user.id).await?;
            if current.attachment_id.is_some() {
                return Ok(axum::Json(status_of(&app.db, &current).await?).into_response());
            }
            return Ok(offset_mismatch(current.received));
        }
    }
    if offset + len == row.size {
        finish_upload(&app, row.id, user.id).await?;
    }
    let row = upload_row(&app.db, row.id, user.id).await?;
    Ok(axum::Json(status_of(&app.db, &row).await?).into_response())
}

/// Claims `[offset, offset + len)` of the upload, writes the chunk to its own file and
/// moves the offset; `false` if another request holds or already moved this offset.
async fn write_chunk(app: &AppState, row: &UploadRow, offset: i64, bytes: Bytes) -> ApiResult<bool> {
    let token = Uuid::new_v4().simple().to_string();
    let now = Utc::now();
    let claim_until = now + app.config.request_timeout + std::time::Duration::from_secs(30);
    let claimed = on_db!(&app.db, write, pool => {
        sqlx::query(
            "UPDATE uploads SET claim_token = $1, claim_until = $2, updated_at = $3 \
             WHERE id = $4 AND received = $5 AND attachment_id IS NULL AND (claim_until IS NULL OR claim_until < $3)",
        )
        .bind(&token).bind(claim_until).bind(now).bind(row.id).bind(offset)
        .execute(pool).await.map(|r| r.rows_affected())
    })?;
    if claimed == 0 {
        return Ok(false);
    }
    let upload = row.id.to_string();
    let name = chunk_name(offset, &token);
    let len = bytes.len() as i64;
    if let Err(e) = app.blobs.put_chunk(&upload, &name, bytes).await {
        release_claim(&app.db, row.id, &token).await?;
        return Err(e.into());
    }
    let moved: Result<u64, sqlx::Error> = on_db!(&app.db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE uploads SET received = $1, claim_token = NULL, claim_until = NULL, updated_at = $2 \
             WHERE id = $3 AND claim_token = $4 AND received = $5",
        )
        .bind(offset + len).bind(Utc::now()).bind(row.id).bind(&token).bind(offset)
        .execute(&mut *tx).await?.rows_affected();
        if moved == 1 {
            sqlx::query(
                "INSERT INTO upload_chunks (upload_id, start, len, file_token) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (upload_id, start) DO UPDATE SET len = $3, file_token = $4",
            )
            .bind(row.id).bind(offset).bind(len).bind(&token)
            .execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(moved)
    }.await);
    if moved? == 0 {
        // The claim ran out and another request took the range: this chunk is not used.
        app.blobs.delete_chunk(&upload, &name).await.ok();
        return Ok(false);
    }
    Ok(true)
}

async fn release_claim(db: &Db, id: Uuid, token: &str) -> sqlx::Result<()> {
    on_db!(db, write, pool => {
        sqlx::query("UPDATE uploads SET claim_token = NULL, claim_until = NULL WHERE id = $1 AND claim_token = $2")
            .bind(id).bind(token).execute(pool).await.map(|_| ())
    })
}

fn offset_mismatch(current: i64) -> Response {
    let mut response = ApiError::Conflict(Conflict::OffsetMismatch).into_response();
    response.headers_mut().insert("upload-offset", HeaderValue::from(current));
    response
}

#[derive(Debug, sqlx::FromRow)]
struct ChunkRow {
    start: i64,
    len: i64,
    file_token: String,
}

/// Assembles the chunks of a fully received upload, checks it (checksum, type), stores it
/// and records the attachment. Idempotent: a second finisher (a retry whose first answer
/// was lost, or a concurrent one) finds or records the same attachment. A mismatch
/// restarts the upload from zero.
async fn finish_upload(app: &AppState, id: Uuid, owner: Uuid) -> ApiResult<()> {
    let row = upload_row(&app.db, id, owner).await?;
    if row.attachment_id.is_some() {
        return Ok(());
    }
    let chunks: Vec<ChunkRow> = on_db!(&app.db, read, pool => {
        sqlx::query_as("SELECT start, len, file_token FROM upload_chunks WHERE upload_id = $1 ORDER BY start")
            .bind(id).fetch_all(pool).await
    })?;
    let staged = app.blobs.staging_path(&format!("{id}-{}", Uuid::new_v4().simple()));
    let assembled = assemble(app.blobs.as_ref(), &id.to_string(), &chunks, row.size, &staged).await;
    let (sha, head) = match assembled {
        Ok(Some(done)) => done,
        Ok(None) => {
            tokio::fs::remove_file(&staged).await.ok();
            // A chunk vanished: another finisher completed (and cleaned up) first.
            if upload_row(&app.db, id, owner).await?.attachment_id.is_some() {
                return Ok(());
            }
            tracing::error!(upload = %id, "an upload's chunks do not add up; restarting it");
            restart_upload(app, id).await?;
            return Err(ApiError::Validation(vec![FieldError::new("body", FieldErrorCode::Invalid)]));
        }
        Err(e) => {
            tokio::fs::remove_file(&staged).await.ok();
            return Err(e.into());
        }
    };
    let content_type = sniff(&head);
    if sha != row.sha256 || content_type.is_none() {
        tokio::fs::remove_file(&staged).await.ok();
        restart_upload(app, id).await?;
        let error = if sha != row.sha256 {
            FieldError::new("sha256", FieldErrorCode::Invalid)
        } else if crate::images::is_heif(&head) {
            FieldError::new("body", FieldErrorCode::UnsupportedImage)
        } else {
            FieldError::new("body", FieldErrorCode::InvalidFileType)
        };
        return Err(ApiError::Validation(vec![error]));
    }
    let (staged, sha, size, thumb) = match clean_photo(app, &staged, &head).await {
        Ok(Some(photo)) => {
            if photo.path != staged {
                tokio::fs::remove_file(&staged).await.ok();
            }
            (photo.path, photo.sha256, photo.size, photo.thumbnail)
        }
        Ok(None) => (staged, sha, row.size, None),
        Err(e) => {
            tokio::fs::remove_file(&staged).await.ok();
            return Err(e.into());
        }
    };
    // The upload row names the stored bytes (`stored_sha256`) before they are put in
    // place, so the janitor leaves the blob alone meanwhile.
    on_db!(&app.db, write, pool => {
        sqlx::query("UPDATE uploads SET stored_sha256 = $1 WHERE id = $2").bind(&sha).bind(id).execute(pool).await.map(|_| ())
    })?;
    app.blobs.put_file(&sha, &staged).await?;
    let thumb = match thumb {
        Some(bytes) => Some(store_thumbnail(app, &bytes).await?),
        None => None,
    };
    let stored = StoredFile { sha: &sha, size, content_type: content_type.unwrap_or_default(), thumb };
    let attachment = record_attachment(&app.db, owner, &stored, &row.file_name).await?;
    on_db!(&app.db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        sqlx::query("UPDATE uploads SET attachment_id = $1, updated_at = $2 WHERE id = $3 AND attachment_id IS NULL")
            .bind(attachment).bind(Utc::now()).bind(id)
            .execute(&mut *tx).await?;
        sqlx::query("DELETE FROM upload_chunks WHERE upload_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await
    }.await)?;
    if let Err(e) = app.blobs.delete_chunks(&id.to_string()).await {
        tracing::warn!(upload = %id, error = format!("{e:#}"), "the chunks of a finished upload were not deleted");
    }
    metrics::counter!("motcua_attachments_stored_total").increment(1);
    Ok(())
}

/// A photo cleaned of its metadata: where its bytes are staged (the original path when
/// there was nothing to remove), their SHA-256 and size, and its thumbnail.
struct CleanPhoto {
    path: PathBuf,
    sha256: String,
    size: i64,
    thumbnail: Option<Vec<u8>>,
}

/// The photo at `staged` without its metadata, and its thumbnail (made once, here, so
/// filing a report only links it); `None` for a file that is not a photo that parses (a
/// scan that merely starts like one is stored as sent: a report refuses it).
async fn clean_photo(app: &AppState, staged: &std::path::Path, head: &[u8]) -> anyhow::Result<Option<CleanPhoto>> {
    if crate::images::Kind::of(head).is_none() {
        return Ok(None);
    }
    let bytes = tokio::fs::read(staged).await?;
    let made = tokio::task::spawn_blocking(move || {
        let clean = crate::images::strip(&bytes).ok()?;
        let thumbnail = crate::images::thumbnail(&clean).ok();
        let changed = clean.len() != bytes.len();
        Some((clean, changed, thumbnail))
    })
    .await?;
    let Some((clean, changed, thumbnail)) = made else { return Ok(None) };
    let path = if changed {
        let out = app.blobs.staging_path(&format!("clean-{}", Uuid::new_v4().simple()));
        write_new(&out, &clean).await?;
        out
    } else {
        staged.to_path_buf()
    };
    Ok(Some(CleanPhoto { path, sha256: hex(&Sha256::digest(&clean)), size: i64::try_from(clean.len())?, thumbnail }))
}

/// Puts a thumbnail in the blob store; its SHA-256 and size (its row is written with the
/// attachment's).
pub async fn store_thumbnail(app: &AppState, bytes: &[u8]) -> anyhow::Result<(String, i64)> {
    let sha = hex(&Sha256::digest(bytes));
    let staged = app.blobs.staging_path(&format!("thumb-{}", Uuid::new_v4().simple()));
    write_new(&staged, bytes).await?;
    app.blobs.put_file(&sha, &staged).await?;
    Ok((sha, i64::try_from(bytes.len())?))
}

/// What was stored of an uploaded file.
struct StoredFile<'a> {
    sha: &'a str,
    size: i64,
    content_type: &'a str,
    /// The thumbnail's SHA-256 and size, for a photo.
    thumb: Option<(String, i64)>,
}

/// Concatenates the chunks of `upload` into the scratch file `out`, hashing as it goes;
/// `None` when the chunks do not cover exactly `[0, size)` or a chunk is gone.
async fn assemble(
    blobs: &dyn BlobStore,
    upload: &str,
    chunks: &[ChunkRow],
    size: i64,
    out: &std::path::Path,
) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    use tokio::io::AsyncWriteExt;
    let mut expected = 0;
    for chunk in chunks {
        if chunk.start != expected {
            return Ok(None);
        }
        expected += chunk.len;
    }
    if expected != size {
        return Ok(None);
    }
    let mut file = tokio::fs::File::create(out).await?;
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    for chunk in chunks {
        let Some(part) = blobs.get_chunk(upload, &chunk_name(chunk.start, &chunk.file_token)).await? else {
            return Ok(None);
        };
        if part.len() as i64 != chunk.len {
            return Ok(None);
        }
        if head.len() < 16 {
            head.extend_from_slice(&part[..part.len().min(16 - head.len())]);
        }
        hasher.update(&part);
        file.write_all(&part).await?;
    }
    file.sync_data().await?;
    Ok(Some((hex(&hasher.finalize()), head)))
}

/// Forgets every byte received (after a checksum or type mismatch).
async fn restart_upload(app: &AppState, id: Uuid) -> ApiResult<()> {
    on_db!(&app.db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        sqlx::query("DELETE FROM upload_chunks WHERE upload_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE uploads SET received = 0, claim_token = NULL, claim_until = NULL, updated_at = $1 WHERE id = $2 AND attachment_id IS NULL")
            .bind(Utc::now()).bind(id).execute(&mut *tx).await?;
        tx.commit().await
    }.await)?;
    app.blobs.delete_chunks(&id.to_string()).await?;
    Ok(())
}

/// Records the blob (once), its thumbnail's, and the owner's attachment of it (once per
/// owner and bytes).
async fn record_attachment(db: &Db, owner: Uuid, file: &StoredFile<'_>, file_name: &str) -> sqlx::Result<Uuid> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let (sha, size, content_type) = (file.sha, file.size, file.content_type);
    on_db!(db, write, pool => {
        let mut tx = pool.begin_write().await?;
        sqlx::query("INSERT INTO blobs (sha256, size, content_type, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha).bind(size).bind(content_type).bind(now)
            .execute(&mut *tx).await?;
        if let Some((thumb, thumb_size)) = &file.thumb {
            sqlx::query("INSERT INTO blobs (sha256, size, content_type, created_at) VALUES ($1, $2, 'image/jpeg', $3) ON CONFLICT (sha256) DO NOTHING")
                .bind(thumb).bind(*thumb_size).bind(now)
                .execute(&mut *tx).await?;
        }
        let thumb = file.thumb.as_ref().map(|(t, _)| t.clone());
        sqlx::query(
            "INSERT INTO attachments (id, owner_id, sha256, file_name, created_at, thumb_sha256) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (owner_id, sha256) DO UPDATE SET thumb_sha256 = COALESCE(attachments.thumb_sha256, excluded.thumb_sha256)",
        )
        .bind(id).bind(owner).bind(sha).bind(file_name).bind(now).bind(thumb)
        .execute(&mut *tx).await?;
        let (stored,): (Uuid,) = sqlx::query_as("SELECT id FROM attachments WHERE owner_id = $1 AND sha256 = $2")
            .bind(owner).bind(sha)
            .fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(stored)
    })
}

/// Query of `POST /api/v1/attachments`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WholeQuery {
    /// File name shown to people (e.g. `cccd-mat-truoc.jpg`).
    #[param(min_length = 1, max_length = 255)]
    name: Option<String>,
}

/// Upload a whole (small) file in one request; the body is the file.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments", security(("bearer" = [])), params(WholeQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = Attachment),
        (status = 200, description = "These bytes were already stored for the caller", body = Attachment),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, description = "Empty, or not a PDF/JPEG/PNG", body = ErrorBody),
        (status = 429, description = "The account's daily upload allowance is used up", body = ErrorBody),
        (status = 507, description = "The server's disk reserve is reached; retry later", body = ErrorBody),
    ))]
async fn upload_whole(
    State(app): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<WholeQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let (stored, attachment) = store_whole(&app, user.id, q.name.as_deref(), body).await?;
    let status = if stored == Stored::New { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(attachment)).into_response())
}

/// Whether [`store_whole`] stored new bytes or found the owner's earlier copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    New,
    Already,
}

/// Stores a whole (small) file for `owner` (the API's one-shot upload and the web
/// console's form uploads): checked by content, quota taken, photos cleaned.
pub(crate) async fn store_whole(
    app: &AppState,
    owner: Uuid,
    name: Option<&str>,
    body: Bytes,
) -> ApiResult<(Stored, Attachment)> {
    let mut errors = Vec::new();
    let file_name = clean_file_name("name", name.unwrap_or("tep-dinh-kem"), &mut errors);
    if body.is_empty() {
        errors.push(FieldError::new("body", FieldErrorCode::Required));
    } else if crate::images::is_heif(&body[..body.len().min(16)]) {
        errors.push(FieldError::new("body", FieldErrorCode::UnsupportedImage));
    } else if sniff(&body[..body.len().min(16)]).is_none() {
        errors.push(FieldError::new("body", FieldErrorCode::InvalidFileType));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if body.len() as u64 > app.config.max_upload_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    let sha = hex(&Sha256::digest(&body));
    if let Some(existing) = attachment_by(&app.db, OWNED_BY_ANNOUNCED_SHA, owner, Some(&sha)).await? {
        return Ok((Stored::Already, existing.wire()));
    }
    check_disk(app, body.len() as u64)?;
    claim_upload_quota(app, owner, body.len() as u64).await?;
    // The same path as a resumable upload sent in one chunk, so there is one way a file
    // becomes an attachment.
    let size = i64::try_from(body.len()).map_err(|_| ApiError::PayloadTooLarge)?;
    let id = Uuid::now_v7();
    insert_upload(&app.db, id, owner, &sha, size, &file_name, 0, None, Utc::now()).await?;
    let row = upload_row(&app.db, id, owner).await?;
    if !write_chunk(app, &row, 0, body).await? {
        return Err(ApiError::internal("a fresh one-shot upload lost its own claim"));
    }
    finish_upload(app, id, owner).await?;
    let attachment = upload_row(&app.db, id, owner)
        .await?
        .attachment_id
        .ok_or_else(|| ApiError::internal("a finished one-shot upload has no attachment"))?;
    let row = attachment_by(&app.db, "a.id = $1", attachment, None)
        .await?
        .ok_or_else(|| ApiError::internal("an attachment just recorded is gone"))?;
    Ok((Stored::New, row.wire()))
}

/// The attachment, if `user` may see it: its owner, staff of a branch holding a dossier
/// that refers to it, or of an agency it was forwarded to (admins: any).
async fn visible_attachment(app: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<AttachmentRow> {
    let row = attachment_by(&app.db, "a.id = $1", id, None).await?.ok_or(ApiError::NotFound)?;
    if row.owner_id == user.id || user.role == Role::Admin {
        return Ok(row);
    }
    let linked = match (user.role, user.branch.as_deref(), user.agency.as_deref()) {
        (Role::Officer, Some(branch), _) => crate::dossiers::store::attachment_in_branch(&app.db, id, branch).await?,
        // Officers of an agency see the papers of the dossiers forwarded to it.
        (Role::AgencyOfficer, _, Some(agency)) => {
            crate::dossiers::store::attachment_at_agency(&app.db, id, agency).await?
        }
        _ => false,
    };
    if linked { Ok(row) } else { Err(ApiError::NotFound) }
}

/// An attachment's details.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Attachment), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_attachment(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Attachment>> {
    Ok(axum::Json(visible_attachment(&app, &user, parse_id(&id)?).await?.wire()))
}

/// An attachment's bytes, or one range of them (`Range: bytes=start-end`, `bytes=start-`
/// or `bytes=-suffix`; a header of another form, or of several ranges, is ignored and the
/// whole file sent, as RFC 9110 allows).
#[utoipa::path(get, path = "/api/v1/attachments/{id}/content", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path), ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-65535`")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked (see `Content-Range`)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 416, description = "The range starts past the end of the file", body = ErrorBody),
    ))]
async fn attachment_content(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let row = visible_attachment(&app, &user, parse_id(&id)?).await?;
    let size = u64::try_from(row.size).unwrap_or_default();
    let Ok(range) = byte_range(headers.get(header::RANGE), size) else {
        let mut refused = ApiError::Validation(vec![FieldError::new("Range", FieldErrorCode::Invalid)]).into_response();
        *refused.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
        refused.headers_mut().insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes */{size}")).unwrap_or(HeaderValue::from_static("bytes */*")),
        );
        return Ok(refused);
    };
    let Some(range) = range else { return send_whole(&app, &row).await };
    let bytes = app.blobs.get_range(&row.sha256, range.clone()).await?.ok_or_else(|| missing_file(&row))?;
    let mut response = (StatusCode::PARTIAL_CONTENT, content_headers(&row), bytes).into_response();
    let content_range = format!("bytes {}-{}/{size}", range.start, range.end - 1);
    if let Ok(value) = HeaderValue::from_str(&content_range) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}

/// The one byte range a `Range` header asks of a file of `size` bytes: `Ok(None)` for no
/// header, or one this server ignores (another unit, several ranges, malformed);
/// `Err(())` for a range that starts past the end (416).
fn byte_range(header: Option<&HeaderValue>, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = header.and_then(|v| v.to_str().ok()).and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    let Some((first, last)) = spec.trim().split_once('-') else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let parse = |s: &str| s.trim().parse::<u64>().ok();
    let range = match (first.trim().is_empty(), last.trim().is_empty()) {
        // `bytes=-n`: the last n bytes.
        (true, false) => {
            let Some(n) = parse(last) else { return Ok(None) };
            if n == 0 {
                return Err(());
            }
            size.saturating_sub(n)..size
        }
        (false, true) => {
            let Some(start) = parse(first) else { return Ok(None) };
            start..size
        }
        (false, false) => {
            let (Some(start), Some(end)) = (parse(first), parse(last)) else { return Ok(None) };
            if end < start {
                return Ok(None);
            }
            start..end.saturating_add(1).min(size)
        }
        (true, true) => return Ok(None),
    };
    if range.start >= size { Err(()) } else { Ok(Some(range)) }
}

fn missing_file(row: &AttachmentRow) -> ApiError {
    tracing::error!(sha256 = %row.sha256, "attachment recorded but its file is missing");
    ApiError::Internal
}

/// The type (as recorded), the name (shown inline) and that ranges may be asked.
fn content_headers(row: &AttachmentRow) -> [(header::HeaderName, HeaderValue); 3] {
    let content_type =
        HeaderValue::from_str(&row.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, content_disposition("inline", &row.file_name)),
        (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
    ]
}

async fn send_whole(app: &AppState, row: &AttachmentRow) -> ApiResult<Response> {
    let bytes = app.blobs.get(&row.sha256).await?.ok_or_else(|| missing_file(row))?;
    Ok((content_headers(row), bytes).into_response())
}

/// The details of `owner`'s attachments among `ids` (others are absent): what a form
/// already holds for its owner, shown again when it comes back with errors.
pub(crate) async fn owned_details(app: &AppState, owner: Uuid, ids: &[Uuid]) -> ApiResult<Vec<Attachment>> {
    Ok(owned_rows(&app.db, owner, ids).await?.iter().map(AttachmentRow::wire).collect())
}

/// The details of attachment `raw_id` (type, name, size), if `user` may see it.
pub(crate) async fn details(app: &AppState, user: &AuthUser, raw_id: &str) -> ApiResult<Attachment> {
    Ok(visible_attachment(app, user, parse_id(raw_id)?).await?.wire())
}

/// The bytes of attachment `raw_id`, if `user` may see it (the API's and the web
/// console's), shown inline with its recorded type.
pub(crate) async fn content(app: &AppState, user: &AuthUser, raw_id: &str) -> ApiResult<Response> {
    let row = visible_attachment(app, user, parse_id(raw_id)?).await?;
    send_whole(app, &row).await
}

/// `kind` (`inline`: images and PDFs shown in the officer's page, never run; or
/// `attachment`: a file to save), with the file name as typed (RFC 6266: an ASCII
/// fallback and the UTF-8 name percent-encoded).
pub(crate) fn content_disposition(kind: &'static str, file_name: &str) -> HeaderValue {
    let ascii: String = deunicode::deunicode(file_name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or(HeaderValue::from_static(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(header: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
        byte_range(Some(&HeaderValue::from_str(header).expect("header")), size)
    }

    #[test]
    fn byte_ranges() {
        assert_eq!(byte_range(None, 10), Ok(None));
        assert_eq!(range("bytes=0-3", 10), Ok(Some(0..4)));
        assert_eq!(range("bytes=5-", 10), Ok(Some(5..10)));
        assert_eq!(range("bytes=-3", 10), Ok(Some(7..10)));
        assert_eq!(range("bytes=-30", 10), Ok(Some(0..10)));
        assert_eq!(range("bytes=8-99", 10), Ok(Some(8..10)));
        assert_eq!(range("bytes=10-", 10), Err(()));
        assert_eq!(range("bytes=-0", 10), Err(()));
        // Ignored: another unit, several ranges, malformed, reversed.
        for ignored in ["items=0-3", "bytes=0-1,4-5", "bytes=a-b", "bytes=5-2", "bytes=-", "bytes=3"] {
            assert_eq!(range(ignored, 10), Ok(None), "{ignored}");
        }
    }
}
