//! Dossiers: submission (idempotent, validated by the shared form validator), the
//! officers' workflow over the shared state machine, the citizen's side (list, detail,
//! supplement, withdraw, rating), public tracking by receipt code, and statistics.
//!
//! Inter-agency handling (một cửa liên thông) goes through the same transitions: the branch
//! forwards (`forward`), the agency decides its leg (`agency_approve`, `agency_refuse`,
//! `agency_request_supplement`), and its queue is `GET /dossiers` for an agency officer.
//!
//! Who sees what: a citizen only their own dossiers; an officer only those of their
//! branch; an agency officer those forwarded to their agency (now or before); an admin
//! everything. Anything else is a 404 (existence is not revealed).

pub mod counter;
pub mod public;
pub mod result;
pub mod stats;
pub mod store;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use motcua_domain::form::{FieldDef, FieldError, FieldErrorCode, FieldKind, validate};
use motcua_domain::wire::{
    Dossier, DossierList, ErrorBody, Procedure, Rating, Role, SubmitDossier, SupplementAnswer, TransitionRequest,
};
use motcua_domain::workflow::{
    Action, Caller, DossierStatus, LegState, Request, TransitionError, at_risk_before, route, step,
};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use self::store::{Actor, Change, Cursor, DossierRow, InsertError, LegRow, Move, RateOutcome, Scope, local_date};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::catalogue::Snapshot;
use crate::db::is_unique_violation;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::extract::{ApiJson, ApiQuery, ParamErrors};
use crate::quotas::{Claim, Quota};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit, list))
        .routes(routes!(get_dossier))
        .routes(routes!(take_action))
        .routes(routes!(answer_supplement))
        .routes(routes!(assign))
        .routes(routes!(rate))
        .merge(result::router())
        .merge(public::router())
        .merge(stats::router())
}

/// Longest note on a transition.
const MAX_NOTE: usize = 2000;

async fn actor(app: &AppState, user: &AuthUser) -> ApiResult<Actor> {
    let account = crate::auth::find_user(&app.db, user.id).await?.ok_or(ApiError::Unauthorized)?;
    Ok(Actor { id: user.id, role: account.role(), name: account.full_name })
}

/// The dossier `raw_id` and its route, if `user` may see it.
pub(crate) async fn visible(app: &AppState, user: &AuthUser, raw_id: &str) -> ApiResult<(DossierRow, Vec<LegRow>)> {
    let id = Uuid::parse_str(raw_id).map_err(|_| ApiError::NotFound)?;
    let row = store::find(&app.db, id).await?.ok_or(ApiError::NotFound)?;
    let legs = store::legs(&app.db, &row).await?;
    if may_see(user, &row, &legs) { Ok((row, legs)) } else { Err(ApiError::NotFound) }
}

/// Who may see a dossier: its applicant, its branch's officers, the officers of an agency
/// it was forwarded to (a pending leg is not yet theirs to see), admins.
fn may_see(user: &AuthUser, row: &DossierRow, legs: &[LegRow]) -> bool {
    match user.role {
        Role::Citizen => row.applicant_id == user.id,
        Role::Officer => user.branch.as_deref() == Some(row.branch_code.as_str()),
        Role::AgencyOfficer => legs
            .iter()
            .any(|l| user.agency.as_deref() == Some(l.agency_code.as_str()) && l.state != LegState::Pending.as_str()),
        Role::Admin => true,
    }
}

/// The dossier as `user` sees it: for a citizen, an agency's steps name the agency, not
/// its officer (the centre is the citizen's one counterpart); an agency, outside the
/// centre, does not get the receipt's tracking verifier.
fn shown(user: &AuthUser, mut dossier: Dossier) -> Dossier {
    match user.role {
        Role::Citizen => {
            if !result::released(dossier.status) {
                dossier.result_document = None;
            }
            for entry in dossier.timeline.iter_mut().filter(|e| e.actor_role == Role::AgencyOfficer) {
                entry.actor_name = entry.agency_name.clone();
            }
        }
        Role::AgencyOfficer => dossier.tracking_verifier = None,
        Role::Officer | Role::Admin => {}
    }
    dossier
}

/// Attachment ids referred to by the top-level attachment fields of `values`, with the
/// path of each (values of other kinds are the validator's business).
fn attachment_refs(fields: &[FieldDef], values: &serde_json::Value) -> Vec<(String, String)> {
    let mut refs = Vec::new();
    for field in fields {
        if let FieldKind::Attachment { .. } = field.kind
            && let Some(items) = values.get(&field.key).and_then(|v| v.as_array())
        {
            for (i, item) in items.iter().enumerate() {
                if let Some(id) = item.as_str() {
                    refs.push((format!("{}[{i}]", field.key), id.to_owned()));
                }
            }
        }
    }
    refs
}

/// Validates `values` against the procedure's form; returns the attachment references
/// (path, id) it names. Whose attachments they are is checked by [`check_owned`], or, on
/// the submission's fast path, by the insert itself.
fn validate_values(
    app: &AppState,
    procedure: &Procedure,
    values: &serde_json::Value,
    errors: &mut Vec<FieldError>,
) -> Vec<(String, String)> {
    let today = local_date(app.clock.now());
    errors.extend(validate(&procedure.form, values, today).into_iter().map(|mut e| {
        e.path = if e.path.is_empty() { "values".to_owned() } else { format!("values.{}", e.path) };
        e
    }));
    attachment_refs(&procedure.form.fields, values)
}

/// Checks in one query that every referenced attachment is the applicant's; returns the
/// distinct ids, and records an error at the path of each that is not.
async fn check_owned(
    app: &AppState,
    refs: Vec<(String, String)>,
    applicant: Uuid,
    errors: &mut Vec<FieldError>,
) -> ApiResult<Vec<Uuid>> {
    let parsed: Vec<Uuid> = refs.iter().filter_map(|(_, raw)| Uuid::parse_str(raw).ok()).collect();
    let owned = crate::attachments::owned_attachments(&app.db, applicant, &parsed).await?;
    let mut ids = Vec::new();
    for (path, raw) in refs {
        match Uuid::parse_str(&raw).ok().filter(|id| owned.contains(id)) {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => errors.push(FieldError::new(format!("values.{path}"), FieldErrorCode::UnknownAttachment)),
        }
    }
    Ok(ids)
}

/// The distinct attachment ids of `refs`, if every one is a well-formed id (their owner is
/// then checked by the insert); `None` sends the caller to [`check_owned`].
fn distinct_ids(refs: &[(String, String)]) -> Option<Vec<Uuid>> {
    let mut ids = Vec::new();
    for (_, raw) in refs {
        let id = Uuid::parse_str(raw).ok()?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Some(ids)
}

/// The head office takes dossiers of any procedure when the citizen names no branch.
const HEAD_OFFICE: &str = "H26.00";

/// File a dossier. Send an `Idempotency-Key` (e.g. a UUID made when the citizen pressed
/// "submit"): a retry with the same key and body returns the same dossier, never a second.
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = SubmitDossier, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per submission, 1-200 characters")),
    responses(
        (status = 201, description = "Filed", body = Dossier),
        (status = 200, description = "A retry of an earlier submission with the same key: the same dossier", body = Dossier),
        (status = 401, body = ErrorBody), (status = 403, description = "Staff cannot file dossiers", body = ErrorBody),
        (status = 409, description = "The key was used with a different body", body = ErrorBody),
        (status = 422, description = "Every field error at once (paths under `values.`)", body = ErrorBody),
    ))]
async fn submit(
    State(app): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    user.require(&[Role::Citizen])?;
    let key = crate::extract::idempotency_key(&headers)?;
    let hash = store::request_hash(&raw);
    let req: SubmitDossier = crate::extract::parse_value(raw)?;
    let now = app.clock.now();
    let q = &app.config.quotas;
    // Taken in the insert's own transaction: concurrent submissions cannot all pass the
    // last unit, and a submission that is not stored costs nothing.
    let claims = [
        Claim { quota: Quota::DossiersPerMinute, amount: 1, cap: u64::from(q.dossiers_per_minute) },
        Claim { quota: Quota::DossiersPerDay, amount: 1, cap: u64::from(q.dossiers_per_day) },
    ];
    // Validated against the catalogue this process holds; the insert checks in its own
    // transaction that no other version landed meanwhile (from any process), and if one
    // did, the submission is validated again against the current catalogue, once.
    let mut fresh = false;
    let (row, actor, legs) = loop {
        // A retry is recognised by its key when its insert collides (below), or here when
        // it would not pass validation any more (a form changed since the first attempt):
        // either way it gets its dossier back, and a first attempt pays no look-up for it.
        let snapshot = if fresh { app.catalogue.snapshot(&app.db).await? } else { app.catalogue.held(&app.db).await? };
        let (procedure, branch_code, attachments) = match check_submission(&app, &snapshot, &req, user.id).await? {
            Ok(checked) => checked,
            Err(refusal) => {
                return match replay(&app, user.id, &key, &hash).await? {
                    Some(response) => Ok(response),
                    None => Err(refusal),
                };
            }
        };
        let tracking_verifier = store::new_tracking_verifier()
            .map_err(|e| anyhow::anyhow!("no randomness for a tracking verifier: {e}"))?;
        let submission = store::Submission {
            id: Uuid::now_v7(),
            applicant_id: user.id,
            procedure_code: procedure.code.clone(),
            procedure_name: procedure.name.clone(),
            processing_days: i64::from(procedure.processing_days),
            form_version: i64::from(procedure.form.version),
            // Addresses copied from pre-2025 papers are stored in today's units.
            values: motcua_domain::form::normalize_values(&procedure.form, &req.values),
            branch_code: branch_code.clone(),
            idempotency_key: key.clone(),
            request_hash: hash.clone(),
            attachments,
            tracking_verifier,
            catalogue_version: snapshot.version,
            legs: route(procedure.processing_days, &procedure.agency_legs),
        };
        match store::insert_submission(&app.db, &submission, &claims, now).await {
            Ok(stored) => break stored,
            Err(InsertError::StaleCatalogue) if !fresh => fresh = true,
            // Two catalogue versions landed during one request: the client retries.
            Err(InsertError::StaleCatalogue) => return Err(ApiError::Overloaded { retry_after_secs: 1 }),
            Err(InsertError::Quota(claim)) => return Err(claim.refused(now)),
            Err(InsertError::NoApplicant) => return Err(ApiError::Unauthorized),
            // Not the applicant's (or collected by the janitor meanwhile): list which.
            Err(InsertError::ForeignAttachment) => {
                let mut errors = Vec::new();
                let refs = attachment_refs(&procedure.form.fields, &req.values);
                check_owned(&app, refs, user.id, &mut errors).await?;
                if errors.is_empty() {
                    errors.push(FieldError::new("values", FieldErrorCode::UnknownAttachment));
                }
                return Err(ApiError::Validation(errors));
            }
            // A concurrent retry with the same key won the race: answer as its replay.
            Err(InsertError::Db(e)) if is_unique_violation(&e) => {
                return replay(&app, user.id, &key, &hash)
                    .await?
                    .ok_or(ApiError::Conflict(Conflict::IdempotencyConflict));
            }
            // An attachment collected by the janitor between the check and the insert.
            Err(InsertError::Db(e)) if crate::db::is_foreign_key_violation(&e) => {
                return Err(ApiError::field("values", FieldErrorCode::UnknownAttachment));
            }
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
    };
    metrics::counter!("motcua_dossiers_submitted_total").increment(1);
    let timeline = vec![store::submitted_entry(&actor, now)];
    Ok((StatusCode::CREATED, axum::Json(row.full(timeline, &legs, local_date(now)))).into_response())
}

/// What a submission is checked against: the procedure (current form), the branch, and
/// the applicant's attachments. `Ok(Err(refusal))` lists every problem at once.
async fn check_submission(
    app: &AppState,
    snapshot: &Snapshot,
    req: &SubmitDossier,
    applicant: Uuid,
) -> ApiResult<Result<(Arc<Procedure>, String, Vec<Uuid>), ApiError>> {
    let mut errors = Vec::new();
    let Some(procedure) = snapshot.get(&req.procedure_code).cloned() else {
        return Ok(Err(ApiError::field("procedure_code", FieldErrorCode::Invalid)));
    };
    if req.form_version != procedure.form.version {
        errors.push(FieldError::new("form_version", FieldErrorCode::OutdatedForm).with_limit(procedure.form.version));
    }
    let branch_code = req.branch_code.clone().unwrap_or_else(|| HEAD_OFFICE.to_owned());
    match app.branches.get(&app.db).await?.iter().find(|b| b.code == branch_code) {
        None => errors.push(FieldError::new("branch_code", FieldErrorCode::Invalid)),
        // A receiving point takes boundary-free procedures only.
        // So do the wards' service points (their own ward procedures are filed with the
        // ward, not through the centre).
        Some(b) if !b.kind.accepts(procedure.boundary_free) => {
            errors.push(FieldError::new("branch_code", FieldErrorCode::Invalid))
        }
        Some(_) => {}
    }
    let refs = validate_values(app, &procedure, &req.values, &mut errors);
    // Valid values: the insert itself checks whose attachments they are (no round trip
    // before it). Otherwise every problem is listed at once, foreign attachments included.
    if errors.is_empty()
        && let Some(ids) = distinct_ids(&refs)
    {
        return Ok(Ok((procedure, branch_code, ids)));
    }
    check_owned(app, refs, applicant, &mut errors).await?;
    if !errors.is_empty() {
        return Ok(Err(ApiError::Validation(errors)));
    }
    Err(ApiError::internal("a submission with problems was refused without naming any"))
}

/// The earlier answer to the same idempotency key, if any (409 if the body differs).
async fn replay(app: &AppState, owner: Uuid, key: &str, hash: &str) -> ApiResult<Option<Response>> {
    let Some((stored_hash, dossier_id)) = store::find_idempotent(&app.db, owner, key).await? else { return Ok(None) };
    if stored_hash != hash {
        return Err(ApiError::Conflict(Conflict::IdempotencyConflict));
    }
    let row = store::find(&app.db, dossier_id)
        .await?
        .ok_or_else(|| ApiError::internal("an idempotency key names a dossier that is gone"))?;
    Ok(Some((StatusCode::OK, axum::Json(store::load_full(&app.db, &row, app.clock.now()).await?)).into_response()))
}

/// Query of `GET /api/v1/dossiers`.
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only dossiers in this state.
    #[param(value_type = Option<DossierStatus>)]
    status: Option<String>,
    /// Admins: only this branch.
    branch: Option<String>,
    /// Admins: the queue of this agency (its dossiers under way there, most overdue leg first).
    agency: Option<String>,
    /// The `next_cursor` of the previous page.
    after: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    per_page: Option<String>,
}

/// A citizen's own dossiers (newest first); for an officer, the queue of their branch
/// (overdue first, then at risk, on time, not yet received, paused, closed; earliest due
/// date first within each); for an agency officer, the queue of their agency (the dossiers
/// forwarded to it and under way there, ordered likewise by each leg's own due date, then
/// those paused by its supplement requests); for an admin, every branch (or `agency=`).
/// Paged by key: follow `next_cursor` with `after=`.
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = DossierList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(app): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<axum::Json<DossierList>> {
    let mut errors = ParamErrors::default();
    let per_page: u32 = errors.parse("per_page", &q.per_page).unwrap_or(50);
    if !(1..=200).contains(&per_page) {
        errors.push("per_page", FieldErrorCode::TooLarge, 200);
    }
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    let parsed_status = status.and_then(DossierStatus::parse);
    if status.is_some() && parsed_status.is_none() {
        errors.push("status", FieldErrorCode::InvalidOption, "");
    }
    let after = q.after.as_deref().filter(|a| !a.is_empty());
    let cursor = after.and_then(Cursor::decode);
    if after.is_some() && cursor.is_none() {
        errors.push("after", FieldErrorCode::Invalid, "");
    }
    errors.finish()?;
    let scope = list_scope(&user, q.branch.as_deref(), q.agency.as_deref());
    let today = local_date(app.clock.now());
    let risk = at_risk_before(store::calendar(), today);
    let (rows, more) = store::list(
        &app.db,
        &scope,
        store::Filters { status: parsed_status, procedure: None },
        cursor.as_ref(),
        per_page,
        today,
        risk,
    )
    .await?;
    let next_cursor = if more { rows.last().map(|r| r.cursor().encode()) } else { None };
    Ok(axum::Json(DossierList { items: rows.iter().map(|r| r.summary(today)).collect(), next_cursor }))
}

/// Whose dossiers `user`'s list shows (the API's and the web console's): a citizen their
/// own, an officer their branch's queue, an agency officer their agency's; an admin every
/// branch, or the `branch` or `agency` they name.
pub(crate) fn list_scope(user: &AuthUser, branch: Option<&str>, agency: Option<&str>) -> Scope {
    match user.role {
        Role::Citizen => Scope::Applicant(user.id),
        Role::Officer => Scope::Branch(user.branch.clone().unwrap_or_default()),
        Role::AgencyOfficer => Scope::Agency(user.agency.clone().unwrap_or_default()),
        Role::Admin => match (branch.filter(|b| !b.is_empty()), agency.filter(|a| !a.is_empty())) {
            (Some(b), _) => Scope::Branch(b.to_owned()),
            (None, Some(a)) => Scope::Agency(a.to_owned()),
            (None, None) => Scope::All,
        },
    }
}

/// One dossier with its timeline, due date and deadline state.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}", tag = "dossiers", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Dossier), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_dossier(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Dossier>> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let (row, timeline, legs) = store::find_with_timeline(&app.db, id).await?.ok_or(ApiError::NotFound)?;
    if !may_see(&user, &row, &legs) {
        return Err(ApiError::NotFound);
    }
    let mut dossier = row.full(timeline, &legs, local_date(app.clock.now()));
    dossier.result_document = result::document(&app.db, &row).await?;
    Ok(axum::Json(shown(&user, dossier)))
}

/// What an action is applied to and with: the dossier (already visible to the caller)
/// and its route, the action, its note, the agency named when forwarding, and a
/// supplement's new values.
pub(crate) struct Applied<'a> {
    pub row: &'a DossierRow,
    pub legs: &'a [LegRow],
    pub action: Action,
    pub note: Option<&'a str>,
    pub agency: Option<&'a str>,
    pub new_values: Option<(&'a serde_json::Value, u32, &'a [Uuid])>,
}

/// Applies an action: the domain's `step` decides whether it is legal (for this caller,
/// on this route) and how the clocks move; the store writes it in one transaction with
/// the moved leg, its timeline entry, notification and outbox row.
pub(crate) async fn apply_action(app: &AppState, user: &AuthUser, a: Applied<'_>) -> ApiResult<Dossier> {
    apply_action_once(app, user, a, None).await
}

/// [`apply_action`], recording `once` (idempotency key, request hash) in the same
/// transaction when given.
async fn apply_action_once(
    app: &AppState,
    user: &AuthUser,
    a: Applied<'_>,
    once: Option<(&str, &str)>,
) -> ApiResult<Dossier> {
    let Applied { row, legs, action, note, agency, new_values } = a;
    // The row and its legs were read apart: a move in between changed both (one
    // transaction), and the revision check of the write would not see stale legs.
    if !store::legs_match(row, legs) {
        return Err(ApiError::Conflict(Conflict::ConcurrentUpdate));
    }
    let from = row.status();
    let now = app.clock.now();
    let route: Vec<_> = legs.iter().map(LegRow::leg).collect();
    let caller = Caller { role: user.role, applicant: row.applicant_id == user.id, agency: user.agency.as_deref() };
    let request = Request { action, caller, agency };
    let moved = step(store::calendar(), from, row.clock(), &route, request, local_date(now));
    let moved = match moved {
        Ok(moved) => moved,
        Err(TransitionError::Forbidden { .. }) => return Err(ApiError::Forbidden),
        Err(TransitionError::Illegal { from, action }) => return Err(ApiError::IllegalTransition { from, action }),
        Err(TransitionError::LegsPending) => return Err(ApiError::Conflict(Conflict::AgencyLegsPending)),
        Err(TransitionError::AgencyRefused) => return Err(ApiError::Conflict(Conflict::AgencyRefused)),
        Err(TransitionError::NoLegLeft) => return Err(ApiError::Conflict(Conflict::NoAgencyLeg)),
        Err(TransitionError::NotNextAgency) => return Err(ApiError::field("agency", FieldErrorCode::InvalidOption)),
    };
    let actor = actor(app, user).await?;
    let moved_leg = moved.leg.and_then(|i| Some((i, moved.legs.get(i)?, legs.get(i)?)));
    let mv = Move {
        to: moved.to,
        clock: moved.clock,
        received_at: if action == Action::Receive { Some(now) } else { row.received_at },
        decided_at: if moved.clock.decided_on != row.clock().decided_on { Some(now) } else { row.decided_at },
        closed_at: if action.closes() { Some(now) } else { row.closed_at },
        values: new_values,
        leg: moved_leg.map(|(i, leg, _)| (i, leg)),
        once: once.map(|(key, hash)| (user.id, key, hash)),
    };
    // An inter-agency step names its agency in the timeline and the citizen's notification.
    let named = matches!(action, Action::Forward) || action.by_agency();
    let change = Change {
        dossier: row,
        action: action.as_str(),
        from: Some(from),
        to: moved.to,
        actor: &actor,
        note,
        at: now,
        agency: moved_leg
            .filter(|_| named)
            .map(|(_, _, stored)| (stored.agency_code.as_str(), stored.agency_name.as_str())),
    };
    if !store::apply_move(&app.db, row, &mv, &change).await? {
        return Err(ApiError::Conflict(Conflict::ConcurrentUpdate));
    }
    metrics::counter!("motcua_dossier_transitions_total", "action" => action.as_str()).increment(1);
    let row =
        store::find(&app.db, row.id).await?.ok_or_else(|| ApiError::internal("a dossier just updated is gone"))?;
    Ok(shown(user, store::load_full(&app.db, &row, now).await?))
}

pub(crate) fn check_note(action: Action, note: Option<&str>) -> ApiResult<Option<String>> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if action.needs_note() && note.is_none() {
        return Err(ApiError::field("note", FieldErrorCode::Required));
    }
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(ApiError::Validation(vec![FieldError::new("note", FieldErrorCode::TooLong).with_limit(MAX_NOTE)]));
    }
    Ok(note.map(str::to_owned))
}

/// Move a dossier along the workflow. Officers: receive, start_processing,
/// request_supplement (note: what to add), forward (to the next agency of the procedure's
/// route; `agency` may name it), approve (once every agency did its part), reject (note:
/// the reason), return_result. Agency officers, on a dossier at their agency:
/// agency_approve (note: the result), agency_refuse (note: the reason),
/// agency_request_supplement (note: what to add; the clock stops). The applicant:
/// withdraw (before a decision), answer_supplement.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/transitions", tag = "dossiers", request_body = TransitionRequest,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = Dossier),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not this role's action, or the dossier is at another agency", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not possible from the current state (named in the answer), agencies still to act or one refused, or changed concurrently", body = ErrorBody),
        (status = 422, description = "A needed note is missing, or `agency` is not the next one of the route", body = ErrorBody),
    ))]
async fn take_action(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TransitionRequest>,
) -> ApiResult<axum::Json<Dossier>> {
    if req.action.carries_values() {
        // Answering a supplement restarts the legal clock: only with the supplied values,
        // validated, through `/supplement`.
        return Err(ApiError::field("action", FieldErrorCode::InvalidOption));
    }
    let (row, legs) = visible(&app, &user, &id).await?;
    let note = check_note(req.action, req.note.as_deref())?;
    let agency = req.agency.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let applied =
        Applied { row: &row, legs: &legs, action: req.action, note: note.as_deref(), agency, new_values: None };
    Ok(axum::Json(apply_action(&app, &user, applied).await?))
}

/// The applicant answers a supplement request with corrected values (validated again in
/// full against the procedure's current form); the clock starts again. With an
/// `Idempotency-Key` (the offline client sends one per answer), a retry of the same answer
/// gets the dossier again instead of a conflict; the same key with another body is a 409.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/supplement", tag = "dossiers", request_body = SupplementAnswer,
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Unique per answer, 1-200 characters: a retry is answered once")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Dossier), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
async fn answer_supplement(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SupplementAnswer>,
) -> ApiResult<axum::Json<Dossier>> {
    let (row, legs) = visible(&app, &user, &id).await?;
    if row.applicant_id != user.id {
        return Err(ApiError::Forbidden);
    }
    let once = match headers.get("idempotency-key") {
        None => None,
        Some(_) => {
            let key = crate::extract::idempotency_key(&headers)?;
            let body =
                serde_json::to_value(&req).map_err(|_| ApiError::internal("a parsed answer did not serialize"))?;
            Some((key, store::request_hash(&serde_json::json!({"supplement": body}))))
        }
    };
    if let Some((key, hash)) = &once
        && let Some((stored_hash, dossier_id)) = store::find_idempotent(&app.db, user.id, key).await?
    {
        if stored_hash != *hash || dossier_id != row.id {
            return Err(ApiError::Conflict(Conflict::IdempotencyConflict));
        }
        let row =
            store::find(&app.db, row.id).await?.ok_or_else(|| ApiError::internal("an answered dossier is gone"))?;
        return Ok(axum::Json(shown(&user, store::load_full(&app.db, &row, app.clock.now()).await?)));
    }
    if row.status() != DossierStatus::SupplementRequested {
        return Err(ApiError::IllegalTransition { from: row.status(), action: Action::AnswerSupplement });
    }
    let note = check_note(Action::AnswerSupplement, req.note.as_deref())?;
    let snapshot = app.catalogue.snapshot(&app.db).await?;
    let procedure = snapshot.get(&row.procedure_code).cloned().ok_or(ApiError::Conflict(Conflict::ProcedureRetired))?;
    let mut errors = Vec::new();
    let refs = validate_values(&app, &procedure, &req.values, &mut errors);
    let ids = check_owned(&app, refs, user.id, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let version = procedure.form.version;
    let values = motcua_domain::form::normalize_values(&procedure.form, &req.values);
    let applied = Applied {
        row: &row,
        legs: &legs,
        action: Action::AnswerSupplement,
        note: note.as_deref(),
        agency: None,
        new_values: Some((&values, version, &ids)),
    };
    let once = once.as_ref().map(|(key, hash)| (key.as_str(), hash.as_str()));
    Ok(axum::Json(apply_action_once(&app, &user, applied, once).await?))
}

/// `POST /api/v1/dossiers/{id}/assign`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AssignRequest {
    /// The officer to assign (of the dossier's branch); absent: the caller.
    #[serde(default)]
    pub officer_id: Option<String>,
}

/// Assign a dossier to an officer of its branch (recorded in the timeline).
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/assign", tag = "dossiers", request_body = AssignRequest,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = Dossier), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
async fn assign(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<axum::Json<Dossier>> {
    user.require(&[Role::Officer, Role::Admin])?;
    let (row, _) = visible(&app, &user, &id).await?;
    let officer_id = match req.officer_id.as_deref() {
        Some(raw) => Uuid::parse_str(raw).map_err(|_| ApiError::field("officer_id", FieldErrorCode::Invalid))?,
        None => user.id,
    };
    let officer = crate::auth::find_user(&app.db, officer_id).await?;
    let Some(officer) =
        officer.filter(|o| o.role() == Role::Officer && o.branch_code.as_deref() == Some(&row.branch_code))
    else {
        return Err(ApiError::field("officer_id", FieldErrorCode::Invalid));
    };
    let actor = actor(&app, &user).await?;
    let now = app.clock.now();
    let note = format!("Phân công cho {}", officer.full_name);
    let status = row.status();
    let change = Change {
        dossier: &row,
        action: "assign",
        from: Some(status),
        to: status,
        actor: &actor,
        note: Some(&note),
        at: now,
        agency: None,
    };
    if !store::assign(&app.db, &row, officer.id, &change).await? {
        return Err(ApiError::Conflict(Conflict::ConcurrentUpdate));
    }
    let row =
        store::find(&app.db, row.id).await?.ok_or_else(|| ApiError::internal("a dossier just updated is gone"))?;
    Ok(axum::Json(shown(&user, store::load_full(&app.db, &row, now).await?)))
}

/// Rate the service once the result was returned: 1 to 5, with an optional comment.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/rating", tag = "dossiers", request_body = Rating,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = Dossier), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Not returned yet, or already rated", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
async fn rate(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Rating>,
) -> ApiResult<axum::Json<Dossier>> {
    let (row, _) = visible(&app, &user, &id).await?;
    if row.applicant_id != user.id {
        return Err(ApiError::Forbidden);
    }
    let mut errors = Vec::new();
    if !(1..=5).contains(&req.score) {
        errors.push(
            FieldError::new("score", if req.score < 1 { FieldErrorCode::TooSmall } else { FieldErrorCode::TooLarge })
                .with_limit(if req.score < 1 { 1 } else { 5 }),
        );
    }
    let comment = req.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 1000) {
        errors.push(FieldError::new("comment", FieldErrorCode::TooLong).with_limit(1000));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if row.status() != DossierStatus::ResultReturned {
        return Err(ApiError::Conflict(Conflict::NotReturnedYet));
    }
    let now = app.clock.now();
    let actor = actor(&app, &user).await?;
    let status = row.status();
    let change = Change {
        dossier: &row,
        action: "rate",
        from: Some(status),
        to: status,
        actor: &actor,
        note: comment,
        at: now,
        agency: None,
    };
    match store::rate(&app.db, &row, req.score, comment, &change).await? {
        RateOutcome::Rated => {}
        RateOutcome::AlreadyRated => return Err(ApiError::Conflict(Conflict::AlreadyRated)),
        RateOutcome::ChangedMeanwhile => return Err(ApiError::Conflict(Conflict::ConcurrentUpdate)),
    }
    metrics::counter!("motcua_ratings_total", "score" => req.score.to_string()).increment(1);
    let row =
        store::find(&app.db, row.id).await?.ok_or_else(|| ApiError::internal("a dossier just updated is gone"))?;
    Ok(axum::Json(shown(&user, store::load_full(&app.db, &row, now).await?)))
}
