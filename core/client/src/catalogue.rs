//! The offline catalogue: sync by changes since the held version (ETag, 304), the cached
//! procedures and fields, and search with the server's folding and ranking.

use std::sync::Arc;

use motcua_domain::text;
use motcua_domain::wire::{CatalogueChanges, OnlineLevel, Procedure};
use sqlx::SqliteConnection;

use crate::drafts;
use crate::error::{Error, Result};
use crate::http::{Api, check, decode, header};
use crate::model::{CatalogueSyncReport, ProcedureDetail, ProcedureField, ProcedureItem};
use crate::store::Store;

/// The in-memory search index over the cached catalogue, rebuilt after a sync.
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    item: ProcedureItem,
    search_text: String,
    name_folded: String,
}

impl Index {
    pub(crate) async fn load(store: &Store) -> Result<Index> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT doc, search_text, name_folded FROM procedures ORDER BY code")
                .fetch_all(store.read())
                .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for (doc, search_text, name_folded) in rows {
            let p: Procedure = serde_json::from_str(&doc)?;
            entries.push(Entry { item: item(&p), search_text, name_folded });
        }
        Ok(Index { entries })
    }

    /// Procedures matching every folded word of `query` (in `field` if given), best first:
    /// the server's rule (`text::matches` on name+code+agency, ranked by `text::score` of
    /// the name, then by name).
    pub(crate) fn search(&self, query: &str, field: Option<&str>, limit: usize) -> Vec<ProcedureItem> {
        let query = text::fold(query);
        let mut hits: Vec<(u32, &Entry)> = self
            .entries
            .iter()
            .filter(|e| field.is_none_or(|f| e.item.field == f))
            .filter(|e| query.is_empty() || text::matches(&e.search_text, &query))
            .map(|e| (if query.is_empty() { 0 } else { text::score(&e.name_folded, &query) }, e))
            .collect();
        hits.sort_by(|(sa, a), (sb, b)| sb.cmp(sa).then_with(|| a.name_folded.cmp(&b.name_folded)));
        let limit = if limit == 0 { usize::MAX } else { limit };
        hits.into_iter().take(limit).map(|(_, e)| e.item.clone()).collect()
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
        online_full: p.online_level == OnlineLevel::Full,
        boundary_free: p.boundary_free,
        version: p.version,
    }
}

/// The text search looks in: exactly what the server indexes.
pub(crate) fn search_text(p: &Procedure) -> String {
    text::fold(&format!("{} {} {}", p.name, p.code, p.agency))
}

pub(crate) async fn version(store: &Store) -> Result<(i64, Option<String>)> {
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT version, etag FROM catalogue_state WHERE id = 1").fetch_optional(store.read()).await?;
    Ok(row.unwrap_or((0, None)))
}

/// Fetches what changed since the held version and applies it, with the migration of
/// affected drafts, in one transaction.
pub(crate) async fn sync(store: &Store, api: &Api) -> Result<CatalogueSyncReport> {
    let (since, etag) = version(store).await?;
    let headers = etag.map(|e| vec![header("If-None-Match", e)]).unwrap_or_default();
    let response =
        check(api.send("GET", &format!("/api/v1/catalogue/changes?since={since}"), headers, Vec::new()).await?)?;
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
    let changes: CatalogueChanges = decode(response)?;
    let now = chrono::Utc::now().to_rfc3339();
    let mut tx = store.begin().await?;
    for p in &changes.procedures {
        sqlx::query(
            "INSERT INTO procedures (code, name, field_code, name_folded, search_text, form_version, version, doc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, field_code = excluded.field_code,
                 name_folded = excluded.name_folded, search_text = excluded.search_text,
                 form_version = excluded.form_version, version = excluded.version, doc = excluded.doc",
        )
        .bind(&p.code)
        .bind(&p.name)
        .bind(&p.field)
        .bind(text::fold(&p.name))
        .bind(search_text(p))
        .bind(i64::from(p.form.version))
        .bind(p.version)
        .bind(serde_json::to_string(p)?)
        .execute(&mut *tx)
        .await?;
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
        "INSERT INTO catalogue_state (id, version, etag, synced_at) VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, etag = excluded.etag, synced_at = excluded.synced_at",
    )
    .bind(changes.version)
    .bind(etag)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let mut migrated = 0;
    for p in &changes.procedures {
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
