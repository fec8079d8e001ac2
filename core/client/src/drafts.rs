//! Drafts: create for a procedure, autosave one field per small transaction, attach files
//! (copied into the store, SHA-256), resume, list, delete, live validation with the shared
//! validator, and the migration to a new form version that keeps every dropped value.

use std::path::Path;

use chrono::NaiveDate;
use motcua_domain::files::{MAX_ATTACHMENT_BYTES, SNIFF_BYTES, is_heif, sniff};
use motcua_domain::form::{FieldError, FieldErrorCode, FieldKind, FormDef, migrate_values, validate};
use motcua_domain::i18n::Lang;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::catalogue;
use crate::error::{Error, FieldIssue, Result};
use crate::forms;
use crate::model::{Draft, DraftFile, DraftState, DraftSummary, DroppedField, FieldValue, FormView};
use crate::store::Store;

/// Today in Vietnam (UTC+7), the day validation rules such as "not in the future" use.
pub(crate) fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp_millis()).unwrap_or(0)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    procedure_code: String,
    procedure_name: String,
    form_version: i64,
    form: String,
    state: String,
    branch_code: Option<String>,
    dropped: String,
    server_errors: String,
    created_at: String,
    updated_at: String,
    dossier_id: Option<String>,
    file_count: i64,
    retired: bool,
    supplement_for: Option<String>,
}

const SELECT: &str = "SELECT d.id, d.procedure_code, d.procedure_name, d.form_version,
        (SELECT form FROM draft_forms WHERE draft_id = d.id) AS form, d.state, d.branch_code,
        d.dropped, d.server_errors, d.created_at, d.updated_at, d.dossier_id,
        (SELECT COUNT(*) FROM draft_files f WHERE f.draft_id = d.id) AS file_count,
        NOT EXISTS (SELECT 1 FROM procedures p WHERE p.code = d.procedure_code) AS retired, d.supplement_for
    FROM drafts d";

fn summary(r: &Row) -> Result<DraftSummary> {
    let dropped: Vec<DroppedField> = serde_json::from_str(&r.dropped)?;
    Ok(DraftSummary {
        id: r.id.clone(),
        procedure_code: r.procedure_code.clone(),
        procedure_name: r.procedure_name.clone(),
        form_version: u32::try_from(r.form_version).unwrap_or(0),
        state: DraftState::parse(&r.state),
        created_at_ms: ms(&r.created_at),
        updated_at_ms: ms(&r.updated_at),
        file_count: u32::try_from(r.file_count).unwrap_or(u32::MAX),
        dropped_count: u32::try_from(dropped.len()).unwrap_or(u32::MAX),
        procedure_retired: r.retired,
        dossier_id: r.dossier_id.clone(),
        supplement_for: r.supplement_for.clone(),
    })
}

/// The draft's values as one JSON object.
pub(crate) async fn values(conn: &mut SqliteConnection, draft_id: &str) -> Result<Map<String, Value>> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM draft_values WHERE draft_id = $1")
        .bind(draft_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Map::new();
    for (k, v) in rows {
        out.insert(k, serde_json::from_str(&v)?);
    }
    Ok(out)
}

async fn put_value(conn: &mut SqliteConnection, draft_id: &str, key: &str, value: &Value) -> Result<()> {
    if value.is_null() {
        sqlx::query("DELETE FROM draft_values WHERE draft_id = $1 AND key = $2")
            .bind(draft_id)
            .bind(key)
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO draft_values (draft_id, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (draft_id, key) DO UPDATE SET value = excluded.value",
        )
        .bind(draft_id)
        .bind(key)
        .bind(value.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Issues of `values` under `form`, then the server's remaining ones (not already listed).
pub(crate) fn issues(form: &FormDef, values: Map<String, Value>, server: &str, lang: Lang) -> Result<Vec<FieldIssue>> {
    let mut out: Vec<FieldIssue> =
        validate(form, &Value::Object(values), today()).iter().map(|e| FieldIssue::from_domain(e, lang)).collect();
    let server: Vec<FieldIssue> = serde_json::from_str(server)?;
    for s in server {
        if !out.iter().any(|o| o.path == s.path && o.code == s.code) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Parsed forms by (procedure code, form version): autosave validates on every change and
/// a 200-field form should not be parsed each time.
#[derive(Debug, Default)]
pub(crate) struct FormCache {
    forms: std::sync::Mutex<std::collections::HashMap<(String, i64), std::sync::Arc<FormDef>>>,
}

impl FormCache {
    async fn get(
        &self,
        conn: &mut SqliteConnection,
        draft_id: &str,
        code: &str,
        version: i64,
    ) -> Result<std::sync::Arc<FormDef>> {
        let key = (code.to_owned(), version);
        if let Some(form) = self.forms.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(form.clone());
        }
        let form: String = sqlx::query_scalar("SELECT form FROM draft_forms WHERE draft_id = $1")
            .bind(draft_id)
            .fetch_one(conn)
            .await?;
        let form = std::sync::Arc::new(serde_json::from_str::<FormDef>(&form)?);
        self.forms.lock().unwrap_or_else(|e| e.into_inner()).insert(key, form.clone());
        Ok(form)
    }
}

/// Marks the draft changed if it is editable, returning its procedure code, form version
/// and server errors; otherwise tells why not.
async fn touch_editable(conn: &mut SqliteConnection, draft_id: &str) -> Result<(String, i64, String)> {
    let row: Option<(String, i64, String)> = sqlx::query_as(
        "UPDATE drafts SET updated_at = $1 WHERE id = $2 AND state = 'editing'
         RETURNING procedure_code, form_version, server_errors",
    )
    .bind(now())
    .bind(draft_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => Ok(r),
        None => {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM drafts WHERE id = $1").bind(draft_id).fetch_optional(conn).await?;
            Err(if exists.is_some() { Error::Conflict("draft_not_editable") } else { Error::NotFound("draft") })
        }
    }
}

pub(crate) async fn create(store: &Store, procedure_code: &str, lang: Lang) -> Result<Draft> {
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = store.begin().await?;
    let p = catalogue::procedure(&mut tx, procedure_code).await?.ok_or(Error::NotFound("procedure"))?;
    let at = now();
    sqlx::query(
        "INSERT INTO drafts (id, procedure_code, procedure_name, form_version, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'editing', $5, $5)",
    )
    .bind(&id)
    .bind(&p.code)
    .bind(&p.name)
    .bind(i64::from(p.form.version))
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO draft_forms (draft_id, form) VALUES ($1, $2)")
        .bind(&id)
        .bind(serde_json::to_string(&p.form)?)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    load(store, &id, lang).await
}

pub(crate) async fn list(store: &Store) -> Result<Vec<DraftSummary>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY d.updated_at DESC, d.id")))
        .fetch_all(store.read())
        .await?;
    rows.iter().map(summary).collect()
}

pub(crate) async fn load(store: &Store, draft_id: &str, lang: Lang) -> Result<Draft> {
    let mut conn = store.read().acquire().await?;
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE d.id = $1")))
        .bind(draft_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("draft"))?;
    let values = values(&mut conn, draft_id).await?;
    let files = files(&mut conn, draft_id).await?;
    let form: FormDef = serde_json::from_str(&row.form)?;
    let values_json = Value::Object(values.clone()).to_string();
    let issues = issues(&form, values, &row.server_errors, lang)?;
    Ok(Draft {
        summary: summary(&row)?,
        branch_code: row.branch_code.clone(),
        form_json: row.form.clone(),
        values_json,
        files,
        dropped: serde_json::from_str(&row.dropped)?,
        issues,
    })
}

pub(crate) async fn files(conn: &mut SqliteConnection, draft_id: &str) -> Result<Vec<DraftFile>> {
    let rows: Vec<(String, String, String, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, field_key, file_name, size, sha256, attachment_id FROM draft_files WHERE draft_id = $1
         ORDER BY created_at, id",
    )
    .bind(draft_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, field_key, file_name, size, sha256, attachment)| DraftFile {
            id,
            field_key,
            file_name,
            size: u64::try_from(size).unwrap_or(0),
            sha256,
            uploaded: attachment.is_some(),
        })
        .collect())
}

/// Drops the server's errors about `key` (the citizen just changed it).
fn without_errors_for(server_errors: &str, key: &str) -> Result<Option<String>> {
    if server_errors == "[]" {
        return Ok(None);
    }
    let mut list: Vec<FieldIssue> = serde_json::from_str(server_errors)?;
    let before = list.len();
    list.retain(|i| {
        !(i.path == key || i.path.starts_with(&format!("{key}.")) || i.path.starts_with(&format!("{key}[")))
    });
    Ok((list.len() != before).then(|| serde_json::to_string(&list)).transpose()?)
}

/// Autosave of one field: one small transaction. The typed value must fit the field's
/// kind (`None` clears it); attachment fields are refused (files go through
/// [`attach_file`] and [`remove_file`]). Returns the live validation.
pub(crate) async fn set_field(
    store: &Store,
    draft_id: &str,
    key: &str,
    value: Option<&FieldValue>,
    lang: Lang,
    forms: &FormCache,
) -> Result<Vec<FieldIssue>> {
    let mut tx = store.begin().await?;
    let (code, version, mut server_errors) = touch_editable(&mut tx, draft_id).await?;
    let form = forms.get(&mut tx, draft_id, &code, version).await?;
    let Some(def) = form.field(key) else {
        return Err(Error::Validation(vec![FieldIssue::from_domain(
            &motcua_domain::form::FieldError::new(key, motcua_domain::form::FieldErrorCode::UnknownField),
            lang,
        )]));
    };
    if matches!(def.kind, FieldKind::Attachment { .. }) {
        return Err(Error::Validation(vec![forms::attachment_refusal(key, lang)]));
    }
    let json = match value {
        None => Value::Null,
        Some(v) => forms::to_json(def, v, key, lang).map_err(|i| Error::Validation(vec![i]))?,
    };
    put_value(&mut tx, draft_id, key, &json).await?;
    if let Some(remaining) = without_errors_for(&server_errors, key)? {
        sqlx::query("UPDATE drafts SET server_errors = $1 WHERE id = $2")
            .bind(&remaining)
            .bind(draft_id)
            .execute(&mut *tx)
            .await?;
        server_errors = remaining;
    }
    let values = values(&mut tx, draft_id).await?;
    tx.commit().await?;
    issues(&form, values, &server_errors, lang)
}

/// The draft as a form to render (see [`FormView`]).
pub(crate) async fn form_view(store: &Store, draft_id: &str, lang: Lang) -> Result<FormView> {
    let mut conn = store.read().acquire().await?;
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE d.id = $1")))
        .bind(draft_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("draft"))?;
    let values = values(&mut conn, draft_id).await?;
    let files = files(&mut conn, draft_id).await?;
    let form: FormDef = serde_json::from_str(&row.form)?;
    let all = issues(&form, values.clone(), &row.server_errors, lang)?;
    let fields =
        forms::view_fields(&forms::ViewInput { form: &form, values: &values, issues: &all, files: &files, lang });
    let state = DraftState::parse(&row.state);
    Ok(FormView {
        draft_id: row.id,
        procedure_code: row.procedure_code,
        procedure_name: row.procedure_name,
        form_version: u32::try_from(row.form_version).unwrap_or(0),
        state,
        editable: state == DraftState::Editing,
        branch_code: row.branch_code,
        fields,
        issues: all,
    })
}

/// Picks the service point (`None`: the head office). Checked offline against the cached
/// list of points: an unknown code, or a point that does not take the draft's procedure,
/// is a field issue on `branch_code` now rather than a parked submission later.
pub(crate) async fn set_branch(store: &Store, draft_id: &str, branch_code: Option<&str>, lang: Lang) -> Result<()> {
    let mut tx = store.begin().await?;
    let (procedure_code, _, _) = touch_editable(&mut tx, draft_id).await?;
    if let Some(code) = branch_code {
        crate::branches::check_for_draft(store, &mut tx, &procedure_code, code, lang).await?;
    }
    sqlx::query("UPDATE drafts SET branch_code = $1 WHERE id = $2")
        .bind(branch_code)
        .bind(draft_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn validate_draft(store: &Store, draft_id: &str, lang: Lang) -> Result<Vec<FieldIssue>> {
    Ok(load(store, draft_id, lang).await?.issues)
}

/// A copied file: its size, lower-case hex SHA-256 and first bytes (for its type).
pub(crate) struct Copied {
    pub size: u64,
    pub sha256: String,
    pub head: Vec<u8>,
}

/// Copies `source` to `dest` while hashing it; stops with `Ok(None)` as soon as more than
/// `max_bytes` were read (the partial copy is left for the caller to remove).
pub(crate) async fn copy_hashing(source: &Path, dest: &Path, max_bytes: u64) -> Result<Option<Copied>> {
    let mut input = tokio::fs::File::open(source).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::IsADirectory => {
            Error::FileNotFound(source.display().to_string())
        }
        _ => Error::Io(e),
    })?;
    let mut output = tokio::fs::File::create(dest).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0_u8; 64 * 1024];
    let mut size = 0_u64;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    loop {
        let n = input.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > max_bytes {
            return Ok(None);
        }
        if head.len() < SNIFF_BYTES {
            head.extend_from_slice(&buf[..n.min(SNIFF_BYTES - head.len())]);
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n]).await?;
    }
    output.sync_all().await?;
    Ok(Some(Copied { size, sha256: hex(&hasher.finalize()), head }))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attachment_ids(value: Option<&Value>) -> Vec<Value> {
    value.and_then(Value::as_array).cloned().unwrap_or_default()
}

/// A refusal of the file attached to `field_key`.
pub(crate) fn file_refusal(field_key: &str, code: FieldErrorCode, lang: Lang) -> Error {
    let mut e = FieldError::new(field_key, code);
    let message = match (code, lang) {
        (FieldErrorCode::TooLarge, Lang::Vi) => {
            format!("Tệp quá lớn: tối đa {} MB.", MAX_ATTACHMENT_BYTES / (1024 * 1024))
        }
        (FieldErrorCode::TooLarge, Lang::En) => {
            format!("The file is too large: at most {} MB.", MAX_ATTACHMENT_BYTES / (1024 * 1024))
        }
        _ => String::new(),
    };
    if code == FieldErrorCode::TooLarge {
        e = e.with_limit(MAX_ATTACHMENT_BYTES);
    }
    let mut issue = FieldIssue::from_domain(&e, lang);
    if !message.is_empty() {
        issue.message = message;
    }
    Error::Validation(vec![issue])
}

/// Copies a file into the store and adds it to an attachment field. Checked now, with a
/// field error on `field_key`: the field is an attachment slot, the file is a PDF, JPEG,
/// PNG or WebP by its content (`invalid_file_type`, HEIC `unsupported_image`), at most
/// 10 MB (`too_large`), and the field has room for it (`too_many_files`, counted in the
/// transaction that adds it).
pub(crate) async fn attach_file(
    store: &Store,
    draft_id: &str,
    field_key: &str,
    source: &Path,
    file_name: &str,
    lang: Lang,
) -> Result<DraftFile> {
    if file_name.trim().is_empty() {
        return Err(Error::Invalid("file name is empty"));
    }
    let max_files = {
        let mut conn = store.read().acquire().await?;
        let form: Option<String> = sqlx::query_scalar("SELECT form FROM draft_forms WHERE draft_id = $1")
            .bind(draft_id)
            .fetch_optional(&mut *conn)
            .await?;
        let form: FormDef = serde_json::from_str(&form.ok_or(Error::NotFound("draft"))?)?;
        match form.field(field_key).map(|f| &f.kind) {
            Some(FieldKind::Attachment { max_files, .. }) => *max_files,
            Some(_) => return Err(Error::Invalid("not an attachment field")),
            None => return Err(file_refusal(field_key, FieldErrorCode::UnknownField, lang)),
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let dest = store.file_path(&id);
    let partial = dest.with_extension("part");
    let partial_path = partial.clone();
    let refuse = |code| async move {
        let _ = tokio::fs::remove_file(&partial_path).await;
        file_refusal(field_key, code, lang)
    };
    let Copied { size, sha256, head } = match copy_hashing(source, &partial, MAX_ATTACHMENT_BYTES).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(refuse(FieldErrorCode::TooLarge).await),
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    if sniff(&head).is_none() {
        let code = if is_heif(&head) { FieldErrorCode::UnsupportedImage } else { FieldErrorCode::InvalidFileType };
        return Err(refuse(code).await);
    }
    tokio::fs::rename(&partial, &dest).await?;
    let saved = async {
        let mut tx = store.begin().await?;
        touch_editable(&mut tx, draft_id).await?;
        if let Some(max) = max_files {
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM draft_files WHERE draft_id = $1 AND field_key = $2")
                    .bind(draft_id)
                    .bind(field_key)
                    .fetch_one(&mut *tx)
                    .await?;
            if count >= i64::from(max) {
                return Err(Error::Validation(vec![FieldIssue::from_domain(
                    &FieldError::new(field_key, FieldErrorCode::TooManyFiles).with_limit(max),
                    lang,
                )]));
            }
        }
        sqlx::query(
            "INSERT INTO draft_files (id, draft_id, field_key, file_name, size, sha256, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(draft_id)
        .bind(field_key)
        .bind(file_name)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(&sha256)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let current = values(&mut tx, draft_id).await?;
        let mut ids = attachment_ids(current.get(field_key));
        ids.push(Value::String(id.clone()));
        put_value(&mut tx, draft_id, field_key, &Value::Array(ids)).await?;
        tx.commit().await?;
        Ok::<_, Error>(())
    }
    .await;
    if let Err(e) = saved {
        let _ = tokio::fs::remove_file(&dest).await;
        return Err(e);
    }
    Ok(DraftFile {
        id,
        field_key: field_key.to_owned(),
        file_name: file_name.to_owned(),
        size,
        sha256,
        uploaded: false,
    })
}

pub(crate) async fn remove_file(store: &Store, draft_id: &str, file_id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    touch_editable(&mut tx, draft_id).await?;
    let field: Option<String> =
        sqlx::query_scalar("DELETE FROM draft_files WHERE id = $1 AND draft_id = $2 RETURNING field_key")
            .bind(file_id)
            .bind(draft_id)
            .fetch_optional(&mut *tx)
            .await?;
    let field = field.ok_or(Error::NotFound("file"))?;
    let current = values(&mut tx, draft_id).await?;
    let ids: Vec<Value> =
        attachment_ids(current.get(&field)).into_iter().filter(|v| v.as_str() != Some(file_id)).collect();
    put_value(&mut tx, draft_id, &field, &if ids.is_empty() { Value::Null } else { Value::Array(ids) }).await?;
    tx.commit().await?;
    let _ = tokio::fs::remove_file(store.file_path(file_id)).await;
    Ok(())
}

pub(crate) async fn delete(store: &Store, draft_id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM drafts WHERE id = $1").bind(draft_id).fetch_optional(&mut *tx).await?;
    let state = DraftState::parse(&state.ok_or(Error::NotFound("draft"))?);
    if state == DraftState::Queued {
        return Err(Error::Conflict("draft_queued"));
    }
    let file_ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM draft_files WHERE draft_id = $1").bind(draft_id).fetch_all(&mut *tx).await?;
    sqlx::query("DELETE FROM drafts WHERE id = $1").bind(draft_id).execute(&mut *tx).await?;
    tx.commit().await?;
    for id in file_ids {
        let _ = tokio::fs::remove_file(store.file_path(&id)).await;
    }
    Ok(())
}

/// Moves the editing drafts of `procedure_code` to `new_form` if they are on another
/// version: kept values stay, dropped ones are appended to the draft's dropped list.
pub(crate) async fn migrate_editing_drafts(
    conn: &mut SqliteConnection,
    procedure_code: &str,
    new_form: &FormDef,
) -> Result<u32> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT d.id, f.form, d.dropped FROM drafts d JOIN draft_forms f ON f.draft_id = d.id
         WHERE d.procedure_code = $1 AND d.state = 'editing' AND d.form_version != $2",
    )
    .bind(procedure_code)
    .bind(i64::from(new_form.version))
    .fetch_all(&mut *conn)
    .await?;
    let mut count = 0;
    for (id, old_form, dropped) in rows {
        let old_form: FormDef = serde_json::from_str(&old_form)?;
        let old_values = values(&mut *conn, &id).await?;
        let migrated = migrate_values(&old_form, new_form, &Value::Object(old_values), today());
        sqlx::query("DELETE FROM draft_values WHERE draft_id = $1").bind(&id).execute(&mut *conn).await?;
        for (key, value) in &migrated.kept {
            put_value(&mut *conn, &id, key, value).await?;
        }
        let mut all: Vec<DroppedField> = serde_json::from_str(&dropped)?;
        all.extend(migrated.dropped.iter().map(|d| DroppedField {
            path: d.path.clone(),
            value_json: d.value.to_string(),
            reason: d.reason.as_str().to_owned(),
            form_version: new_form.version,
        }));
        sqlx::query("UPDATE drafts SET form_version = $1, dropped = $2, updated_at = $3 WHERE id = $4")
            .bind(i64::from(new_form.version))
            .bind(serde_json::to_string(&all)?)
            .bind(now())
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE draft_forms SET form = $1 WHERE draft_id = $2")
            .bind(serde_json::to_string(new_form)?)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        count += 1;
    }
    Ok(count)
}

/// Removes copies of files that no draft (of a dossier or of a report) refers to (left by
/// a crash during `attach_file` or `add_report_photo`).
pub(crate) async fn remove_orphan_files(store: &Store) -> Result<()> {
    let known: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT id FROM draft_files UNION ALL SELECT id FROM report_draft_photos")
            .fetch_all(store.read())
            .await?
            .into_iter()
            .collect();
    let mut dir = tokio::fs::read_dir(store.files_dir()).await?;
    while let Some(entry) = dir.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !known.contains(&name) {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
    Ok(())
}
