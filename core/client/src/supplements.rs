//! Answers to supplement requests: what the officer asked for (read from the dossier's
//! timeline), and the answer as a draft of the dossier's values that the citizen edits and
//! attaches files to offline, then submits like a dossier (outbox item, idempotency key,
//! retries, park reasons) to the dossier's `/supplement`.

use motcua_domain::form::{FieldError, FieldErrorCode, FieldKind};
use motcua_domain::i18n::Lang;
use motcua_domain::wire::{Attachment, Dossier};
use motcua_domain::workflow::DossierStatus;
use serde_json::{Map, Value};

use crate::catalogue;
use crate::drafts::{self, now};
use crate::error::{Error, FieldIssue, Result};
use crate::events::Events;
use crate::http::Api;
use crate::model::{Draft, SupplementRequest};
use crate::store::Store;

/// The longest note the server takes with an answer.
const MAX_NOTE: usize = 2_000;

/// The officer's open request of a dossier waiting for a supplement: the newest
/// `request_supplement` (or an agency's) entry of its timeline.
pub(crate) fn request_of(d: &Dossier) -> Option<SupplementRequest> {
    if d.status != DossierStatus::SupplementRequested {
        return None;
    }
    let entry = d
        .timeline
        .iter()
        .rev()
        .find(|t| matches!(t.action.as_str(), "request_supplement" | "agency_request_supplement"))?;
    Some(SupplementRequest {
        note: entry.note.clone().unwrap_or_default(),
        requested_at_ms: entry.at.timestamp_millis(),
        by_agency: entry.action == "agency_request_supplement",
        requested_by: entry.actor_name.clone(),
    })
}

/// Starts (or resumes) the answer to a dossier's supplement request: a draft on the
/// procedure's current form holding the dossier's values, whose files are the dossier's
/// (already on the server). Works offline from the cached dossier; online it reads the
/// dossier fresh first. `Conflict` (`no_supplement_requested`) when none is open.
pub(crate) async fn start(
    store: &Store,
    api: &Api,
    events: &Events,
    dossier_id: &str,
    note: Option<&str>,
    lang: Lang,
) -> Result<Draft> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        let e = FieldError::new("note", FieldErrorCode::TooLong).with_limit(MAX_NOTE);
        return Err(Error::Validation(vec![FieldIssue::from_domain(&e, lang)]));
    }
    // The freshest dossier there is (the cache when offline).
    drafts_free_refresh(store, api, events, dossier_id).await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM drafts WHERE supplement_for = $1 AND state != 'sent'")
            .bind(dossier_id)
            .fetch_optional(store.read())
            .await?;
    if let Some(id) = existing {
        if note.is_some() {
            sqlx::query("UPDATE drafts SET supplement_note = $1 WHERE id = $2 AND state = 'editing'")
                .bind(note)
                .bind(&id)
                .execute(store.write())
                .await?;
        }
        return drafts::load(store, &id, lang).await;
    }
    let doc: Option<Option<String>> = sqlx::query_scalar("SELECT detail FROM dossiers WHERE id = $1")
        .bind(dossier_id)
        .fetch_optional(store.read())
        .await?;
    let d: Dossier = serde_json::from_str(&doc.flatten().ok_or(Error::NotFound("dossier"))?)?;
    if request_of(&d).is_none() {
        return Err(Error::Conflict("no_supplement_requested"));
    }
    // What the server knows of the dossier's files (names for the list); offline, none.
    let mut known: Vec<Attachment> = Vec::new();
    for id in attachment_ids(&d.values) {
        match api.get::<Attachment>(&format!("/api/v1/attachments/{id}")).await {
            Ok(a) => known.push(a),
            Err(e) if e.is_transient() => break,
            Err(_) => {}
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let at = now();
    let mut tx = store.begin().await?;
    let p = catalogue::procedure(&mut tx, &d.procedure_code).await?.ok_or(Error::Conflict("procedure_retired"))?;
    sqlx::query(
        "INSERT INTO drafts (id, procedure_code, procedure_name, form_version, state, branch_code, created_at,
                             updated_at, supplement_for, supplement_note)
         VALUES ($1, $2, $3, $4, 'editing', $5, $6, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&p.code)
    .bind(&p.name)
    .bind(i64::from(p.form.version))
    .bind(&d.branch_code)
    .bind(&at)
    .bind(dossier_id)
    .bind(note)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO draft_forms (draft_id, form) VALUES ($1, $2)")
        .bind(&id)
        .bind(serde_json::to_string(&p.form)?)
        .execute(&mut *tx)
        .await?;
    let values = d.values.as_object().cloned().unwrap_or_default();
    for field in &p.form.fields {
        let Some(value) = values.get(&field.key) else { continue };
        let value = if matches!(field.kind, FieldKind::Attachment { .. }) {
            // Each file already on the server becomes a draft file that needs no upload.
            let mut locals = Vec::new();
            for remote in value.as_array().into_iter().flatten().filter_map(Value::as_str) {
                let local = uuid::Uuid::new_v4().to_string();
                let meta = known.iter().find(|a| a.id == remote);
                sqlx::query(
                    "INSERT INTO draft_files (id, draft_id, field_key, file_name, size, sha256, attachment_id, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&local)
                .bind(&id)
                .bind(&field.key)
                .bind(meta.map(|a| a.file_name.as_str()).unwrap_or_default())
                .bind(meta.map(|a| i64::try_from(a.size).unwrap_or(i64::MAX)).unwrap_or(0))
                .bind(meta.map(|a| a.sha256.as_str()).unwrap_or_default())
                .bind(remote)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                locals.push(Value::String(local));
            }
            Value::Array(locals)
        } else {
            value.clone()
        };
        sqlx::query("INSERT INTO draft_values (draft_id, key, value) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(&field.key)
            .bind(value.to_string())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    drafts::load(store, &id, lang).await
}

/// Reads the dossier from the server into the cache when online (offline: the cache stays).
async fn drafts_free_refresh(store: &Store, api: &Api, events: &Events, dossier_id: &str) -> Result<()> {
    match crate::dossiers::get(store, api, events, dossier_id).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_transient() => Ok(()),
        Err(e) => Err(e),
    }
}

fn attachment_ids(values: &Value) -> Vec<String> {
    values
        .as_object()
        .map(Map::values)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| uuid::Uuid::parse_str(s).is_ok())
        .take(50)
        .map(str::to_owned)
        .collect()
}
