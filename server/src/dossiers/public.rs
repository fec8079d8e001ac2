//! Public tracking: anyone holding the receipt follows a dossier by its code and the
//! verifier printed beside it (8 letters and digits; dossiers filed before verifiers
//! existed use the last 4 digits of the applicant's phone), without logging in. The answer
//! carries no personal data. Look-ups are limited per address, and every attempt at a code
//! is counted *before* the verifier is checked (5 per code, draining over a quarter hour; a
//! right answer gives its attempt back), so concurrent guesses cannot slip past the count.

use axum::extract::{Path, State};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{ErrorBody, PublicDossier, PublicStep};
use motcua_domain::workflow::Action;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, local_date};
use crate::app::AppState;
use crate::auth::ratelimit;
use crate::error::{ApiError, ApiResult, current_lang};
use crate::extract::{ApiQuery, ClientIp};

/// Attempts at one code: 5, draining over a quarter of an hour (the same atomic counter as
/// login attempts, `auth::ratelimit::claim`).
const GUESSES: ratelimit::Counter = ratelimit::Counter { capacity: 5, drain: std::time::Duration::from_secs(15 * 60) };

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(track))
}

#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackQuery {
    /// The verifier printed on the receipt (older receipts: the last 4 digits of the
    /// applicant's phone number).
    #[param(required = true, min_length = 4, max_length = 16)]
    verifier: Option<String>,
}

/// Follow a dossier by its receipt code.
#[utoipa::path(get, path = "/api/v1/public/dossiers/{code}", tag = "dossiers", params(("code" = String, Path), TrackQuery),
    responses(
        (status = 200, body = PublicDossier),
        (status = 404, description = "No such code, or the verifier does not match (not told apart)", body = ErrorBody),
        (status = 422, description = "The verifier is missing", body = ErrorBody),
        (status = 429, description = "Too many look-ups or wrong guesses", body = ErrorBody),
    ))]
async fn track(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<TrackQuery>,
) -> ApiResult<axum::Json<PublicDossier>> {
    app.public_limiter.admit(ip)?;
    let verifier = q.verifier.as_deref().map(str::trim).filter(|v| !v.is_empty());
    let Some(verifier) = verifier else {
        return Err(ApiError::field("verifier", motcua_domain::form::FieldErrorCode::Required));
    };
    if verifier.chars().count() > 16 {
        return Err(ApiError::Validation(vec![
            motcua_domain::form::FieldError::new("verifier", motcua_domain::form::FieldErrorCode::TooLong)
                .with_limit(16),
        ]));
    }
    let now = app.clock.now();
    let code = code.trim().to_uppercase();
    let key = format!("track:{code}");
    ratelimit::claim(&app.db, &key, GUESSES, now)
        .await?
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let row = store::find_by_code(&app.db, &code).await?;
    let Some(row) = row.filter(|r| store::verifier_matches(r, verifier)) else {
        return Err(ApiError::NotFound);
    };
    ratelimit::refund(&app.db, &key).await?;
    let lang = current_lang();
    let timeline = store::timeline(&app.db, row.id).await?;
    let legs = store::legs(&app.db, &row).await?;
    let steps = timeline
        .into_iter()
        .filter(|e| e.from != Some(e.to))
        .map(|e| PublicStep {
            at: e.at,
            status: e.to,
            status_label: e.to.label(lang).to_owned(),
            // An inter-agency step in plain words, naming the agency (never an officer).
            description: e.agency_name.as_deref().and_then(|agency| {
                let action = Action::ALL.into_iter().find(|a| a.as_str() == e.action)?;
                Some(action.describe(Some(agency), lang))
            }),
        })
        .collect();
    let status = row.status();
    Ok(axum::Json(PublicDossier {
        code: row.code.clone(),
        procedure_name: row.procedure_name.clone(),
        status,
        status_label: status.label(if lang == Lang::En { Lang::En } else { Lang::Vi }).to_owned(),
        submitted_at: row.submitted_at,
        received_at: row.received_at,
        due_date: row.due_date,
        deadline: row.deadline(local_date(now)),
        steps,
        legs: legs.iter().map(|l| l.wire(local_date(now))).collect(),
    }))
}
