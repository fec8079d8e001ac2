//! The offline catalogue: sync by changes since the held version (ETag, 304), in the app's
//! language (each text once; another language fetches the whole catalogue again), the
//! cached procedures and fields, and search with the domain's [`search::Index`], the same
//! code the server runs.

use std::sync::Arc;

use motcua_domain::search;
use motcua_domain::wire::catalogue::unpack;
use motcua_domain::wire::{CatalogueChanges, FieldInfo, OnlineLevel, Procedure};
use sqlx::SqliteConnection;

use crate::drafts;
use crate::error::{Error, Result};
use crate::http::{Api, check, header};
use crate::model::{CatalogueSyncReport, ProcedureDetail, ProcedureField, ProcedureItem};
use crate::store::Store;

/// The in-memory search index over the cached catalogue, rebuilt after a sync.
#[derive(Debug, Default)]
pub(crate) struct Index {
    items: Vec<ProcedureItem>,
    index: search::Index,
}

impl Index {
    pub(crate) async fn load(store: &Store) -> Result<Index> {
        let docs: Vec<String> =
            sqlx::query_scalar("SELECT doc FROM procedures ORDER BY code").fetch_all(store.read()).await?;
        let procedures: Vec<Procedure> =
            docs.iter().map(|d| serde_json::from_str(d)).collect::<std::result::Result<_, _>>()?;
        let fields: Vec<FieldInfo> = fields(store)
            .await?
            .into_iter()
            .map(|f| FieldInfo { code: f.code, name: f.name, name_en: f.name_en })
            .collect();
        let index = search::Index::new(procedures.iter().map(search::SearchDoc::from), &fields);
        Ok(Index { items: procedures.iter().map(item).collect(), index })
    }

    /// The domain's search (in `field` if given), best first; when nothing covers the
    /// query, the nearest procedures, marked `nearest`. `limit` 0: every hit.
    pub(crate) fn search(&self, query: &str, field: Option<&str>, limit: usize) -> Vec<ProcedureItem> {
        let limit = if limit == 0 { usize::MAX } else { limit };
        let results = self.index.search_top(query, field, limit);
        results.hits.into_iter().map(|i| ProcedureItem { nearest: results.nearest, ..self.items[i].clone() }).collect()
    }
}

pub(crate) fn item(p: &Procedure) -> ProcedureItem {
    ProcedureItem {
        code: p.code.clone(),
        name: p.name.clone(),
        name_en: p.name_en.clone(),
        field: p.field.clone(),
        agency: p.agency.clone(),
        processing_days: p.processing_days,
        fee_vnd: p.fee_vnd,
        fee_online_vnd: p.online_fee_vnd(),
        online_level: crate::model::OnlineLevel::from_code(match p.online_level {
            OnlineLevel::Full => "full",
            OnlineLevel::Partial => "partial",
        }),
        boundary_free: p.boundary_free,
        version: p.version,
        nearest: false,
    }
}

pub(crate) async fn version(store: &Store) -> Result<(i64, Option<String>)> {
    let (version, etag, _) = state(store).await?;
    Ok((version, etag))
}

/// The held catalogue version, its ETag, and the language it was fetched in.
async fn state(store: &Store) -> Result<(i64, Option<String>, Option<String>)> {
    let row: Option<(i64, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT version, etag, lang FROM catalogue_state WHERE id = 1")
            .fetch_optional(store.read())
            .await?;
    Ok(row.unwrap_or((0, None, None)))
}

/// Fetches what changed since the held version, in the app's language (each text once),
/// and applies it, with the migration of affected drafts, in one transaction. A catalogue
/// held in another language (or bilingual, from an older build) is fetched again whole,
/// and replaces the held one; until then the phone shows what it has.
pub(crate) async fn sync(store: &Store, api: &Api) -> Result<CatalogueSyncReport> {
    let lang = api.lang();
    let (held, etag, held_lang) = state(store).await?;
    let (since, etag) = if held_lang.as_deref() == Some(lang.as_str()) { (held, etag) } else { (0, None) };
    let headers = etag.map(|e| vec![header("If-None-Match", e)]).unwrap_or_default();
    let path = format!("/api/v1/catalogue/changes?since={since}&lang={}", lang.as_str());
    let response = check(api.send("GET", &path, headers, Vec::new()).await?)?;
    if response.status == 304 {
        return Ok(CatalogueSyncReport {
            version: since,
            changed: 0,
            retired: 0,
            not_modified: true,
            drafts_migrated: 0,
        });
    }
    let etag = response.header("ETag").map(str::to_owned);
    let changes: CatalogueChanges = unpack(&response.body).map_err(Error::BadResponse)?;
    let now = chrono::Utc::now().to_rfc3339();
    let mut tx = store.begin().await?;
    if since == 0 {
        // A whole catalogue: what it does not hold is gone (or was held in another language).
        sqlx::query("DELETE FROM procedures").execute(&mut *tx).await?;
    }
    // Many rows a statement (a first sync brings thousands of procedures).
    for chunk in changes.procedures.chunks(200) {
        let docs: Vec<String> = chunk.iter().map(serde_json::to_string).collect::<std::result::Result<_, _>>()?;
        let mut q =
            sqlx::QueryBuilder::new("INSERT INTO procedures (code, name, field_code, form_version, version, doc) ");
        q.push_values(chunk.iter().zip(&docs), |mut row, (p, doc)| {
            row.push_bind(&p.code)
                .push_bind(&p.name)
                .push_bind(&p.field)
                .push_bind(i64::from(p.form.version))
                .push_bind(p.version)
                .push_bind(doc);
        });
        q.push(
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, field_code = excluded.field_code, \
             form_version = excluded.form_version, version = excluded.version, doc = excluded.doc",
        );
        q.build().execute(&mut *tx).await?;
    }
    for code in &changes.retired {
        sqlx::query("DELETE FROM procedures WHERE code = $1").bind(code).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM fields").execute(&mut *tx).await?;
    for (position, f) in changes.fields.iter().enumerate() {
        sqlx::query("INSERT INTO fields (code, name, name_en, position) VALUES ($1, $2, $3, $4)")
            .bind(&f.code)
            .bind(&f.name)
            .bind(&f.name_en)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO catalogue_state (id, version, etag, synced_at, lang) VALUES (1, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, etag = excluded.etag,
             synced_at = excluded.synced_at, lang = excluded.lang",
    )
    .bind(changes.version)
    .bind(etag)
    .bind(&now)
    .bind(lang.as_str())
    .execute(&mut *tx)
    .await?;
    // Only the procedures someone has a draft of concern the drafts (one query to know them).
    let drafted: std::collections::HashSet<String> = sqlx::query_scalar("SELECT DISTINCT procedure_code FROM drafts")
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    let mut migrated = 0;
    for p in changes.procedures.iter().filter(|p| drafted.contains(&p.code)) {
        if since == 0 {
            // The drafts keep a copy of their form: on the same form version (the same
            // rules), take the texts of the catalogue just fetched, so they show in its
            // language.
            sqlx::query(
                "UPDATE draft_forms SET form = $1 WHERE draft_id IN
                     (SELECT id FROM drafts WHERE procedure_code = $2 AND form_version = $3)",
            )
            .bind(serde_json::to_string(&p.form)?)
            .bind(&p.code)
            .bind(i64::from(p.form.version))
            .execute(&mut *tx)
            .await?;
        }
        migrated += drafts::migrate_editing_drafts(&mut tx, &p.code, &p.form).await?;
    }
    tx.commit().await?;
    Ok(CatalogueSyncReport {
        version: changes.version,
        changed: u32::try_from(changes.procedures.len()).unwrap_or(u32::MAX),
        retired: u32::try_from(changes.retired.len()).unwrap_or(u32::MAX),
        not_modified: false,
        drafts_migrated: migrated,
    })
}

/// The cached procedure, in full.
pub(crate) async fn procedure(conn: &mut SqliteConnection, code: &str) -> Result<Option<Procedure>> {
    let doc: Option<String> =
        sqlx::query_scalar("SELECT doc FROM procedures WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?;
    Ok(doc.map(|d| serde_json::from_str(&d)).transpose()?)
}

pub(crate) async fn detail(store: &Store, code: &str) -> Result<ProcedureDetail> {
    let mut conn = store.read().acquire().await?;
    let p = procedure(&mut conn, code).await?.ok_or(Error::NotFound("procedure"))?;
    Ok(ProcedureDetail {
        item: item(&p),
        form_version: p.form.version,
        form_json: serde_json::to_string(&p.form)?,
        procedure_json: serde_json::to_string(&p)?,
    })
}

pub(crate) async fn fields(store: &Store) -> Result<Vec<ProcedureField>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT code, name, name_en FROM fields ORDER BY position").fetch_all(store.read()).await?;
    Ok(rows.into_iter().map(|(code, name, name_en)| ProcedureField { code, name, name_en }).collect())
}

/// The shared, lazily rebuilt index.
#[derive(Debug, Default)]
pub(crate) struct IndexCache {
    current: tokio::sync::RwLock<Option<Arc<Index>>>,
}

impl IndexCache {
    pub(crate) async fn get(&self, store: &Store) -> Result<Arc<Index>> {
        if let Some(index) = self.current.read().await.as_ref() {
            return Ok(index.clone());
        }
        let mut slot = self.current.write().await;
        if let Some(index) = slot.as_ref() {
            return Ok(index.clone());
        }
        let index = Arc::new(Index::load(store).await?);
        *slot = Some(index.clone());
        Ok(index)
    }

    pub(crate) async fn invalidate(&self) {
        *self.current.write().await = None;
    }
}
