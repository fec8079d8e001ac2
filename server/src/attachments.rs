//! Attachments: resumable uploads (announce, send chunks at offsets, resume after a broken
//! connection without resending what arrived), one-shot uploads for small files, and
//! access to stored files. Files are checked by content (PDF, JPEG, PNG), stored once per
//! SHA-256, and owned by the account that uploaded them.

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
use crate::blobs::{digest_file, sniff, write_at};
use crate::db::{BeginWrite, Db};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::on_db;
use crate::seed::hex;

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

/// The caller's attachments among `ids` (others are simply absent).
pub async fn owned_attachments(db: &Db, owner: Uuid, ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    let mut found = Vec::new();
    for id in ids {
        let row: Option<(Uuid,)> = on_db!(db, read, pool => {
            sqlx::query_as("SELECT id FROM attachments WHERE id = $1 AND owner_id = $2").bind(id).bind(owner).fetch_optional(pool).await
        })?;
        found.extend(row.map(|(id,)| id));
    }
    Ok(found)
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct UploadRow {
    id: Uuid,
    owner_id: Uuid,
    sha256: String,
    size: i64,
    file_name: String,
    received: i64,
    attachment_id: Option<Uuid>,
}

const UPLOAD_SELECT: &str = "SELECT id, owner_id, sha256, size, file_name, received, attachment_id FROM uploads";

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

/// Announce an upload. If the caller already stored these exact bytes, the answer carries
/// the attachment and nothing needs sending; an unfinished upload of the same bytes is
/// resumed (its offset is returned).
#[utoipa::path(post, path = "/api/v1/uploads", tag = "attachments", request_body = UploadStart, security(("bearer" = [])),
    responses(
        (status = 201, description = "Send the bytes from `offset`", body = UploadStatus),
        (status = 200, description = "Already stored (see `attachment`) or an unfinished upload to resume", body = UploadStatus),
        (status = 401, body = ErrorBody), (status = 413, description = "Larger than the limit", body = ErrorBody),
        (status = 422, body = ErrorBody),
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
    if let Some(existing) = attachment_by(&app.db, "a.owner_id = $1 AND a.sha256 = $2", user.id, Some(&sha)).await? {
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

/// Send the next chunk: `Upload-Offset` must equal the bytes received so far. The answer
/// carries `attachment` once the last byte arrived and the file checked out.
#[utoipa::path(patch, path = "/api/v1/uploads/{upload_id}", tag = "attachments", security(("bearer" = [])),
    params(("upload_id" = String, Path), ("Upload-Offset" = u64, Header, description = "Bytes received so far")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 200, body = UploadStatus),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Wrong offset; the right one is in the Upload-Offset header", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Too many bytes, checksum mismatch, or not a PDF/JPEG/PNG", body = ErrorBody),
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
    let staged = app.blobs.staging_path(&row.id.to_string());
    write_at(&staged, u64::try_from(offset).unwrap_or_default(), &body).await?;
    let received = offset + len;
    let moved = on_db!(&app.db, write, pool => {
        sqlx::query("UPDATE uploads SET received = $1, updated_at = $2 WHERE id = $3 AND received = $4 AND attachment_id IS NULL")
            .bind(received).bind(Utc::now()).bind(row.id).bind(offset)
            .execute(pool).await.map(|r| r.rows_affected())
    })?;
    if moved == 0 {
        let current = upload_row(&app.db, row.id, user.id).await?;
        return Ok(offset_mismatch(current.received));
    }
    let row = UploadRow { received, ..row };
    if received == row.size {
        finish_upload(&app, &row, &staged).await?;
    }
    let row = upload_row(&app.db, row.id, user.id).await?;
    Ok(axum::Json(status_of(&app.db, &row).await?).into_response())
}

fn offset_mismatch(current: i64) -> Response {
    let mut response = ApiError::Conflict("offset_mismatch").into_response();
    response.headers_mut().insert("upload-offset", HeaderValue::from(current));
    response
}

/// Checks the completed file (checksum, type), moves it into the blob store and records
/// the attachment. A mismatch restarts the upload from zero.
async fn finish_upload(app: &AppState, row: &UploadRow, staged: &std::path::Path) -> ApiResult<()> {
    let (sha, head) = digest_file(staged).await?;
    let content_type = sniff(&head);
    if sha != row.sha256 || content_type.is_none() {
        tokio::fs::remove_file(staged).await.ok();
        on_db!(&app.db, write, pool => {
            sqlx::query("UPDATE uploads SET received = 0, updated_at = $1 WHERE id = $2").bind(Utc::now()).bind(row.id)
                .execute(pool).await.map(|_| ())
        })?;
        let error = if sha != row.sha256 {
            FieldError::new("sha256", FieldErrorCode::Invalid)
        } else {
            FieldError::new("body", FieldErrorCode::InvalidFileType)
        };
        return Err(ApiError::Validation(vec![error]));
    }
    app.blobs.put_file(&sha, staged).await?;
    let attachment =
        record_attachment(&app.db, row.owner_id, &sha, row.size, content_type.unwrap_or_default(), &row.file_name)
            .await?;
    on_db!(&app.db, write, pool => {
        sqlx::query("UPDATE uploads SET attachment_id = $1, updated_at = $2 WHERE id = $3")
            .bind(attachment).bind(Utc::now()).bind(row.id)
            .execute(pool).await.map(|_| ())
    })?;
    metrics::counter!("motcua_attachments_stored_total").increment(1);
    Ok(())
}

/// Records the blob (once) and the owner's attachment of it (once per owner and bytes).
async fn record_attachment(
    db: &Db,
    owner: Uuid,
    sha: &str,
    size: i64,
    content_type: &str,
    file_name: &str,
) -> sqlx::Result<Uuid> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    on_db!(db, write, pool => {
        let mut tx = pool.begin_write().await?;
        sqlx::query("INSERT INTO blobs (sha256, size, content_type, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha).bind(size).bind(content_type).bind(now)
            .execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO attachments (id, owner_id, sha256, file_name, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (owner_id, sha256) DO NOTHING",
        )
        .bind(id).bind(owner).bind(sha).bind(file_name).bind(now)
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
    ))]
async fn upload_whole(
    State(app): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<WholeQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let mut errors = Vec::new();
    let file_name = clean_file_name("name", q.name.as_deref().unwrap_or("tep-dinh-kem"), &mut errors);
    if body.is_empty() {
        errors.push(FieldError::new("body", FieldErrorCode::Required));
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
    if let Some(existing) = attachment_by(&app.db, "a.owner_id = $1 AND a.sha256 = $2", user.id, Some(&sha)).await? {
        return Ok((StatusCode::OK, axum::Json(existing.wire())).into_response());
    }
    let staged = app.blobs.staging_path(&Uuid::now_v7().to_string());
    write_at(&staged, 0, &body).await?;
    app.blobs.put_file(&sha, &staged).await?;
    let content_type = sniff(&body[..body.len().min(16)]).unwrap_or_default();
    let size = i64::try_from(body.len()).map_err(|_| ApiError::PayloadTooLarge)?;
    let id = record_attachment(&app.db, user.id, &sha, size, content_type, &file_name).await?;
    let row = attachment_by(&app.db, "a.id = $1", id, None).await?.ok_or(ApiError::Internal)?;
    metrics::counter!("motcua_attachments_stored_total").increment(1);
    Ok((StatusCode::CREATED, axum::Json(row.wire())).into_response())
}

/// The attachment, if `user` may see it: its owner, or staff of a branch holding a dossier
/// that refers to it (admins: any).
async fn visible_attachment(app: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<AttachmentRow> {
    let row = attachment_by(&app.db, "a.id = $1", id, None).await?.ok_or(ApiError::NotFound)?;
    if row.owner_id == user.id || user.role == Role::Admin {
        return Ok(row);
    }
    if user.role == Role::Officer {
        let branch = user.branch.clone().unwrap_or_default();
        let linked: Option<(Uuid,)> = on_db!(&app.db, read, pool => {
            sqlx::query_as(
                "SELECT da.dossier_id FROM dossier_attachments da JOIN dossiers d ON d.id = da.dossier_id \
                 WHERE da.attachment_id = $1 AND d.branch_code = $2",
            )
            .bind(id).bind(branch).fetch_optional(pool).await
        })?;
        if linked.is_some() {
            return Ok(row);
        }
    }
    Err(ApiError::NotFound)
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

/// An attachment's bytes.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/content", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
async fn attachment_content(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let row = visible_attachment(&app, &user, parse_id(&id)?).await?;
    let bytes = app.blobs.get(&row.sha256).await?.ok_or_else(|| {
        tracing::error!(sha256 = %row.sha256, "attachment recorded but its file is missing");
        ApiError::Internal
    })?;
    let content_type =
        HeaderValue::from_str(&row.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}
