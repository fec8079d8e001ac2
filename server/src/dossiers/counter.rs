//! Walk-in intake ("tiếp nhận trực tiếp"): an officer files a dossier at the counter for a
//! citizen (whose account `auth::counter` finds or makes), with the papers scanned there,
//! and receives it at once, so the receipt carries the appointment date for the result
//! (the legal due date on the working-day calendar). The values are checked by the same
//! function as a submission from the app; the filing is idempotent on the key the intake
//! form carries, so a form posted twice files one dossier.

use motcua_domain::wire::{Role, SubmitDossier};
use motcua_domain::workflow::{Action, route};
use uuid::Uuid;

use super::store::{self, InsertError};
use super::{Applied, apply_action, check_submission};
use crate::app::AppState;
use crate::auth::{AuthUser, User};
use crate::error::{ApiError, ApiResult, Conflict};

/// The note of the reception that follows a walk-in filing (the timeline's, the citizen's).
pub const COUNTER_NOTE: &str = "Tiếp nhận trực tiếp tại quầy";

/// A dossier filed at the counter.
pub(crate) struct Intake<'a> {
    /// The citizen's account (see `auth::counter::account_for`).
    pub applicant: &'a User,
    pub procedure_code: &'a str,
    /// The form version the officer's page showed.
    pub form_version: u32,
    /// The values, attachment fields holding the applicant's attachments.
    pub values: &'a serde_json::Value,
    /// The intake form's own key (made when the form was shown).
    pub key: &'a str,
}

/// Files and receives the dossier; its id. A second filing with the same key (and the
/// same values) is the first dossier.
pub(crate) async fn file_at_counter(app: &AppState, officer: &AuthUser, intake: &Intake<'_>) -> ApiResult<Uuid> {
    officer.require(&[Role::Officer])?;
    let branch = officer.branch.clone().ok_or(ApiError::Forbidden)?;
    let key = format!("counter:{}", intake.key.trim());
    if intake.key.trim().is_empty() || key.len() > 200 {
        return Err(ApiError::field("key", motcua_domain::form::FieldErrorCode::Invalid));
    }
    let req = SubmitDossier {
        procedure_code: intake.procedure_code.to_owned(),
        form_version: intake.form_version,
        values: intake.values.clone(),
        branch_code: Some(branch),
    };
    let hash = store::request_hash(&serde_json::to_value(&req).map_err(anyhow::Error::from)?);
    let applicant = intake.applicant.id;
    if let Some(id) = earlier(app, applicant, &key, &hash).await? {
        return Ok(id);
    }
    let mut fresh = false;
    let (row, legs) = loop {
        let snapshot = if fresh { app.catalogue.snapshot(&app.db).await? } else { app.catalogue.held(&app.db).await? };
        let (procedure, branch_code, attachments) = check_submission(app, &snapshot, &req, applicant).await??;
        let tracking_verifier = store::new_tracking_verifier()
            .map_err(|e| anyhow::anyhow!("no randomness for a tracking verifier: {e}"))?;
        let submission = store::Submission {
            id: Uuid::now_v7(),
            applicant_id: applicant,
            procedure_code: procedure.code.clone(),
            procedure_name: procedure.name.clone(),
            processing_days: i64::from(procedure.processing_days),
            form_version: i64::from(procedure.form.version),
            values: motcua_domain::form::normalize_values(&procedure.form, &req.values),
            branch_code,
            idempotency_key: key.clone(),
            request_hash: hash.clone(),
            attachments,
            tracking_verifier,
            catalogue_version: snapshot.version,
            legs: route(procedure.processing_days, &procedure.agency_legs),
        };
        // No quota of the citizen's: the centre files this one.
        match store::insert_submission(&app.db, &submission, &[], app.clock.now()).await {
            Ok((row, _, legs)) => break (row, legs),
            Err(InsertError::StaleCatalogue) if !fresh => fresh = true,
            Err(InsertError::StaleCatalogue) => return Err(ApiError::Overloaded { retry_after_secs: 1 }),
            Err(InsertError::Quota(claim)) => return Err(claim.refused(app.clock.now())),
            Err(InsertError::NoApplicant) => return Err(ApiError::NotFound),
            Err(InsertError::ForeignAttachment) => {
                return Err(ApiError::field("values", motcua_domain::form::FieldErrorCode::UnknownAttachment));
            }
            Err(InsertError::Db(e)) if crate::db::is_unique_violation(&e) => {
                return earlier(app, applicant, &key, &hash)
                    .await?
                    .ok_or(ApiError::Conflict(Conflict::IdempotencyConflict));
            }
            Err(InsertError::Db(e)) if crate::db::is_foreign_key_violation(&e) => {
                return Err(ApiError::field("values", motcua_domain::form::FieldErrorCode::UnknownAttachment));
            }
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
    };
    metrics::counter!("motcua_dossiers_filed_at_counter_total").increment(1);
    let applied = Applied {
        row: &row,
        legs: &legs,
        action: Action::Receive,
        note: Some(COUNTER_NOTE),
        agency: None,
        new_values: None,
    };
    apply_action(app, officer, applied).await?;
    Ok(row.id)
}

/// The dossier an earlier filing with this key made, if the values were the same.
async fn earlier(app: &AppState, applicant: Uuid, key: &str, hash: &str) -> ApiResult<Option<Uuid>> {
    match store::find_idempotent(&app.db, applicant, key).await? {
        Some((stored, id)) if stored == hash => Ok(Some(id)),
        Some(_) => Err(ApiError::Conflict(Conflict::IdempotencyConflict)),
        None => Ok(None),
    }
}
