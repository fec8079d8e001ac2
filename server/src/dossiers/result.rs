//! The result document of a dossier (the signed decision or certificate): an officer of
//! the dossier's branch attaches a file they uploaded (through the same upload machinery
//! as every paper) once the dossier is decided, the timeline records it, and the applicant
//! downloads it once the result is returned (or the dossier rejected). The API and the
//! web console call the same functions here, so the rule is in one place.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use motcua_domain::form::FieldErrorCode;
use motcua_domain::wire::{AttachResult, Dossier, ErrorBody, ResultDocument, Role};
use motcua_domain::workflow::DossierStatus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::store::{self, Change, DossierRow};
use super::{actor, shown, visible};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{BeginWrite, Db};
use crate::error::{ApiError, ApiResult, Conflict};
use crate::extract::ApiJson;
use crate::on_db;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(attach, download))
}

/// The timeline action of attaching a result document.
pub const ATTACH_ACTION: &str = "attach_result";

/// The states in which a result document may be attached (or replaced): decided, not
/// yet handed back.
pub(crate) fn attachable(status: DossierStatus) -> bool {
    matches!(status, DossierStatus::Approved | DossierStatus::Rejected)
}

/// Whether the applicant may have the document: the result was returned, or the refusal
/// is final.
pub(crate) fn released(status: DossierStatus) -> bool {
    matches!(status, DossierStatus::ResultReturned | DossierStatus::Rejected)
}

#[derive(sqlx::FromRow)]
struct ResultRow {
    attachment_id: Uuid,
    sha256: String,
    size: i64,
    content_type: String,
    file_name: String,
    attached_at: DateTime<Utc>,
}

impl ResultRow {
    fn wire(&self) -> ResultDocument {
        ResultDocument {
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            size: u64::try_from(self.size).unwrap_or_default(),
            attached_at: self.attached_at,
        }
    }
}

async fn result_row(db: &Db, dossier: Uuid) -> sqlx::Result<Option<ResultRow>> {
    on_db!(db, read, pool => {
        sqlx::query_as(
            "SELECT r.attachment_id, a.sha256, b.size, b.content_type, a.file_name, r.attached_at \
             FROM dossier_results r JOIN attachments a ON a.id = r.attachment_id JOIN blobs b ON b.sha256 = a.sha256 \
             WHERE r.dossier_id = $1",
        )
        .bind(dossier)
        .fetch_optional(pool)
        .await
    })
}

/// The dossier's result document, if one is attached (whoever asks: [`super::shown`]
/// hides it from the applicant until it is released). Only a decided dossier can have
/// one (attached while approved or rejected, kept when the result is returned): the
/// others cost no query.
pub async fn document(db: &Db, dossier: &super::store::DossierRow) -> sqlx::Result<Option<ResultDocument>> {
    if !may_have_one(dossier.status()) {
        return Ok(None);
    }
    Ok(result_row(db, dossier.id).await?.map(|r| r.wire()))
}

/// The statuses in which a dossier can hold a result document: where one is attached, and
/// where an approved dossier goes next (the workflow leads nowhere else from them).
fn may_have_one(status: DossierStatus) -> bool {
    attachable(status) || status == DossierStatus::ResultReturned
}

/// Attaches `attachment` (the caller's own upload) as the result document of dossier
/// `raw_id`: an officer of its branch (or an admin), while it is decided and not handed
/// back. The state and revision are checked by the write itself, with the timeline entry.
pub(crate) async fn attach_result(
    app: &AppState,
    user: &AuthUser,
    raw_id: &str,
    attachment: &str,
    revision: Option<i64>,
) -> ApiResult<Dossier> {
    user.require(&[Role::Officer, Role::Admin])?;
    let (row, _) = visible(app, user, raw_id).await?;
    if revision.is_some_and(|r| r != row.revision) {
        return Err(ApiError::Conflict(Conflict::ConcurrentUpdate));
    }
    let attachment_id =
        Uuid::parse_str(attachment.trim()).map_err(|_| ApiError::field("attachment_id", FieldErrorCode::Invalid))?;
    if crate::attachments::owned_attachments(&app.db, user.id, &[attachment_id]).await?.is_empty() {
        return Err(ApiError::field("attachment_id", FieldErrorCode::UnknownAttachment));
    }
    if !attachable(row.status()) {
        return Err(ApiError::Conflict(Conflict::ResultNotAttachable));
    }
    let file_name = crate::attachments::details(app, user, &attachment_id.to_string()).await?.file_name;
    let actor = actor(app, user).await?;
    let now = app.clock.now();
    let status = row.status();
    let change = Change {
        dossier: &row,
        action: ATTACH_ACTION,
        from: Some(status),
        to: status,
        actor: &actor,
        note: Some(&file_name),
        at: now,
        agency: None,
    };
    if !store_result(&app.db, &row, attachment_id, user.id, &change).await? {
        // Moved on (returned, say) or changed meanwhile: say which from a fresh read.
        let fresh = store::find(&app.db, row.id).await?.ok_or(ApiError::NotFound)?;
        return Err(ApiError::Conflict(if attachable(fresh.status()) {
            Conflict::ConcurrentUpdate
        } else {
            Conflict::ResultNotAttachable
        }));
    }
    metrics::counter!("motcua_result_documents_attached_total").increment(1);
    let row =
        store::find(&app.db, row.id).await?.ok_or_else(|| ApiError::internal("a dossier just updated is gone"))?;
    Ok(shown(user, store::load_full(&app.db, &row, now).await?))
}

/// Writes the result in one transaction: the dossier's revision moves only if it is still
/// at the revision read and in an attachable state; then the result row (replacing an
/// earlier one), the link that keeps the file (and shows it to the branch), the timeline.
async fn store_result(
    db: &Db,
    row: &DossierRow,
    attachment: Uuid,
    by: Uuid,
    change: &Change<'_>,
) -> sqlx::Result<bool> {
    on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE dossiers SET updated_at = $1, revision = revision + 1 \
             WHERE id = $2 AND revision = $3 AND status IN ('approved', 'rejected')",
        )
        .bind(change.at).bind(row.id).bind(row.revision)
        .execute(&mut *tx).await?.rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO dossier_results (dossier_id, attachment_id, attached_by, attached_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (dossier_id) DO UPDATE SET attachment_id = $2, attached_by = $3, attached_at = $4",
        )
        .bind(row.id).bind(attachment).bind(by).bind(change.at)
        .execute(&mut *tx).await?;
        sqlx::query("INSERT INTO dossier_attachments (dossier_id, attachment_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(row.id).bind(attachment)
            .execute(&mut *tx).await?;
        crate::record_change!(tx, change);
        tx.commit().await?;
        Ok(true)
    }.await)
}

/// The bytes of the result document of dossier `raw_id` as a download (`attachment`,
/// with its file name): for whoever sees the dossier; the applicant once it is released.
pub(crate) async fn result_file(app: &AppState, user: &AuthUser, raw_id: &str) -> ApiResult<Response> {
    let (row, _) = visible(app, user, raw_id).await?;
    let result = result_row(&app.db, row.id).await?.ok_or(ApiError::NotFound)?;
    if user.role == Role::Citizen && !released(row.status()) {
        return Err(ApiError::Conflict(Conflict::NotReturnedYet));
    }
    let bytes = app.blobs.get(&result.sha256).await?.ok_or_else(|| {
        tracing::error!(attachment = %result.attachment_id, "result document recorded but its file is missing");
        ApiError::Internal
    })?;
    let content_type =
        HeaderValue::from_str(&result.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = crate::attachments::content_disposition("attachment", &result.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        bytes,
    )
        .into_response())
}

/// Attach the result document (an officer of the dossier's branch, or an admin): first
/// upload the file (`POST /api/v1/attachments`), then name it here. Possible while the
/// dossier is approved or rejected; attaching again replaces it until the result is
/// returned. The timeline records each attachment.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/result", tag = "dossiers", request_body = AttachResult,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = Dossier), (status = 401, body = ErrorBody),
        (status = 403, description = "Not an officer", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not decided yet, already returned, or changed concurrently", body = ErrorBody),
        (status = 422, description = "`attachment_id` is not the caller's upload", body = ErrorBody),
    ))]
async fn attach(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AttachResult>,
) -> ApiResult<axum::Json<Dossier>> {
    Ok(axum::Json(attach_result(&app, &user, &id, &req.attachment_id, None).await?))
}

/// Download the result document (as a file to save). The applicant may once the result
/// is returned (or the dossier rejected); staff who see the dossier, once it is attached.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/result", tag = "dossiers",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 404, description = "No such dossier for the caller, or no document", body = ErrorBody),
        (status = 409, description = "The result is not returned yet", body = ErrorBody),
    ))]
async fn download(State(app): State<AppState>, user: AuthUser, Path(id): Path<String>) -> ApiResult<Response> {
    result_file(&app, &user, &id).await
}

#[cfg(test)]
mod tests {
    use motcua_domain::wire::Role;
    use motcua_domain::workflow::{Action, Caller, DossierStatus, transition_on};

    use super::may_have_one;

    /// A dossier holding a result document keeps it wherever the workflow takes it, so
    /// skipping the look-up elsewhere never hides one.
    #[test]
    fn every_status_reachable_from_an_attachable_one_may_have_one() {
        for from in DossierStatus::ALL.into_iter().filter(|s| super::attachable(*s)) {
            assert!(may_have_one(from), "{from:?}");
            for action in Action::ALL {
                for caller in [Caller::new(Role::Officer, false), Caller::new(Role::Citizen, true)] {
                    if let Ok((to, _)) = transition_on(from, &[], action, caller, None) {
                        assert!(may_have_one(to), "{from:?} --{action:?}--> {to:?}");
                    }
                }
            }
        }
        assert!(!may_have_one(DossierStatus::InProcessing));
    }
}
