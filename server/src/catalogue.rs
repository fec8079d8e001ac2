//! The catalogue of procedures: search (the domain's [`search::Index`], the same code the
//! phone runs offline), one procedure with its form, and the changes since a client's
//! catalogue version, with ETags.
//!
//! Each process keeps a snapshot of the (small, rarely changing) catalogue in memory and
//! checks the one-row catalogue version on every request, so a new seed loaded by any
//! process is seen by all of them at once. The changes come bilingual, or in the phone's
//! language (`lang`: each text once, shared form fields once); the whole catalogue in one
//! language, every new phone's first download, is built and compressed once per version.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use motcua_domain::form::FieldErrorCode;
use motcua_domain::i18n::Lang;
use motcua_domain::search;
use motcua_domain::wire::{CatalogueChanges, FieldInfo, Procedure, ProcedurePage, ProcedureSummary};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, ParamErrors};
use crate::on_db;

/// The in-memory snapshot of one catalogue version.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub version: i64,
    pub fields: Vec<FieldInfo>,
    /// Live (not retired) procedures, ordered by code.
    procedures: Vec<Arc<Procedure>>,
    by_code: HashMap<String, usize>,
    index: search::Index,
}

/// What a search found, best first.
#[derive(Debug)]
pub struct Found<'a> {
    pub procedures: Vec<&'a Procedure>,
    /// Nothing covered the query: these are the nearest procedures.
    pub nearest: bool,
    pub fields: Vec<&'a FieldInfo>,
}

impl Snapshot {
    /// Every live procedure, ordered by code.
    pub fn procedures(&self) -> &[Arc<Procedure>] {
        &self.procedures
    }

    pub fn get(&self, code: &str) -> Option<&Arc<Procedure>> {
        self.by_code.get(code).map(|&i| &self.procedures[i])
    }

    /// The domain's search over this catalogue (in `field` when given).
    pub fn search(&self, query: &str, field: Option<&str>) -> Found<'_> {
        let results = self.index.search(query, field);
        Found {
            procedures: results.hits.iter().map(|&i| self.procedures[i].as_ref()).collect(),
            nearest: results.nearest,
            fields: results.fields.iter().filter_map(|c| self.fields.iter().find(|f| &f.code == c)).collect(),
        }
    }
}

/// The per-process catalogue cache.
#[derive(Debug, Default)]
pub struct Catalogue {
    current: RwLock<Arc<Snapshot>>,
    /// The whole catalogue in each language, as sent (at most one per language).
    whole: tokio::sync::Mutex<Vec<Arc<Whole>>>,
}

/// The whole catalogue in one language (`since=0&lang=`), the answer every new phone asks
/// for and the largest the server sends: built and compressed once per catalogue version
/// and language, at the highest levels (gzip 9, brotli 11: slow, but once), then sent as
/// is (tower-http's compression leaves an answer that has a `Content-Encoding` alone).
#[derive(Debug)]
pub struct Whole {
    version: i64,
    lang: Lang,
    identity: Bytes,
    gzip: Bytes,
    br: Bytes,
}

/// The gzip level and brotli quality (window 2^22) of [`Whole`].
pub const WHOLE_GZIP_LEVEL: u32 = 9;
pub const WHOLE_BROTLI_QUALITY: u32 = 11;

/// `body` compressed with gzip and brotli at the levels of [`Whole`].
pub fn compress_whole(body: &[u8]) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(WHOLE_GZIP_LEVEL));
    gz.write_all(body)?;
    let gzip = gz.finish()?;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 64 * 1024, WHOLE_BROTLI_QUALITY, 22);
        w.write_all(body)?;
        w.flush()?;
    }
    Ok((gzip, br))
}

impl Whole {
    /// The answer in the best coding the request accepts (brotli, gzip, or none).
    fn response(&self, headers: &HeaderMap) -> Response {
        let (coding, body) = if accepts(headers, "br") {
            (Some("br"), self.br.clone())
        } else if accepts(headers, "gzip") {
            (Some("gzip"), self.gzip.clone())
        } else {
            (None, self.identity.clone())
        };
        let mut response = body.into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(coding) = coding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        response
    }
}

/// Whether `Accept-Encoding` accepts `coding` (by name, with a q-value above 0).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            name.eq_ignore_ascii_case(coding) && q > 0.0
        },
    )
}

#[derive(sqlx::FromRow)]
struct DocRow {
    doc: Json<Procedure>,
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    code: String,
    version: i64,
    doc: Json<Procedure>,
    retired: bool,
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    code: String,
    name: String,
    name_en: String,
}

async fn catalogue_version(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, read, pool => sqlx::query_scalar("SELECT version FROM catalogue_state WHERE id = 1").fetch_one(pool).await)
}

async fn load_fields(db: &Db) -> Result<Vec<FieldInfo>, sqlx::Error> {
    let rows: Vec<FieldRow> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT code, name, name_en FROM fields ORDER BY position").fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(|r| FieldInfo { code: r.code, name: r.name, name_en: r.name_en }).collect())
}

impl Catalogue {
    /// The snapshot of the current catalogue version, reloaded if another version landed.
    pub async fn snapshot(&self, db: &Db) -> Result<Arc<Snapshot>, sqlx::Error> {
        let version = catalogue_version(db).await?;
        self.snapshot_at(db, version).await
    }

    /// The snapshot this process holds, without asking the database which version is
    /// current: for a writer that checks [`Snapshot::version`] inside its own transaction
    /// (a dossier submission does), which saves a round trip per request and makes the
    /// check atomic with the write. Loaded on first use.
    pub async fn held(&self, db: &Db) -> Result<Arc<Snapshot>, sqlx::Error> {
        {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            if current.version > 0 {
                return Ok(current.clone());
            }
        }
        self.snapshot(db).await
    }

    async fn snapshot_at(&self, db: &Db, version: i64) -> Result<Arc<Snapshot>, sqlx::Error> {
        {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            if current.version == version && version > 0 {
                return Ok(current.clone());
            }
        }
        let rows: Vec<DocRow> = on_db!(db, read, pool => {
            sqlx::query_as("SELECT doc FROM procedures WHERE retired = FALSE ORDER BY code").fetch_all(pool).await
        })?;
        let fields = load_fields(db).await?;
        let procedures: Vec<Arc<Procedure>> = rows.into_iter().map(|r| Arc::new(r.doc.0)).collect();
        let by_code = procedures.iter().enumerate().map(|(i, p)| (p.code.clone(), i)).collect();
        let index = search::Index::new(procedures.iter().map(|p| search::SearchDoc::from(p.as_ref())), &fields);
        let snapshot = Arc::new(Snapshot { version, fields, procedures, by_code, index });
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = snapshot.clone();
        Ok(snapshot)
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_procedures))
        .routes(routes!(get_procedure))
        .routes(routes!(catalogue_changes))
        .routes(routes!(list_fields))
        .merge(crate::search_log::router())
}

/// The last page number a search accepts (far beyond any catalogue; keeps offsets small).
const MAX_PAGE: u32 = 10_000;

/// Query of `GET /api/v1/procedures`.
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcedureQuery {
    /// Words to find as citizens type them: with or without diacritics, colloquial names
    /// (`so do`, `bang lai`), run-together words, a typo (`dang ky khai sinh`). When
    /// nothing covers the query, the nearest procedures are listed (`nearest`), never an
    /// empty page for a query that names a procedure.
    q: Option<String>,
    /// Code of a field of procedures (`ho_tich`, `dat_dai`, ...).
    field: Option<String>,
    /// Page number, from 1 to 10000.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    page: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

/// Answers 304 when the client already holds `etag`.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

fn with_etag(etag: String, headers: &HeaderMap, body: impl IntoResponse) -> Response {
    let mut response =
        if not_modified(headers, &etag) { StatusCode::NOT_MODIFIED.into_response() } else { body.into_response() };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Search the catalogue of procedures.
#[utoipa::path(get, path = "/api/v1/procedures", tag = "catalogue", params(ProcedureQuery),
    responses(
        (status = 200, description = "One page of matching procedures, best first", body = ProcedurePage,
            headers(("ETag" = String, description = "Changes with the catalogue version"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "An unreadable query string (e.g. a repeated parameter)", body = motcua_domain::wire::ErrorBody),
        (status = 422, description = "A bad parameter", body = motcua_domain::wire::ErrorBody),
    ))]
async fn list_procedures(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ProcedureQuery>,
) -> ApiResult<Response> {
    let mut errors = ParamErrors::default();
    let page: u32 = errors.parse("page", &q.page).unwrap_or(1);
    let per_page: u32 = errors.parse("per_page", &q.per_page).unwrap_or(20);
    if page == 0 {
        errors.push("page", FieldErrorCode::TooSmall, 1);
    } else if page > MAX_PAGE {
        errors.push("page", FieldErrorCode::TooLarge, MAX_PAGE);
    }
    if !(1..=100).contains(&per_page) {
        errors.push(
            "per_page",
            if per_page == 0 { FieldErrorCode::TooSmall } else { FieldErrorCode::TooLarge },
            if per_page == 0 { 1 } else { 100 },
        );
    }
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 200) {
        errors.push("q", FieldErrorCode::TooLong, 200);
    }
    errors.finish()?;
    let snapshot = app.catalogue.snapshot(&app.db).await?;
    let field = q.field.as_deref().filter(|f| !f.is_empty());
    let query = q.q.as_deref().unwrap_or_default();
    let found = snapshot.search(query, field);
    if page == 1 {
        crate::search_log::write_later(&app, app.search_log.searched(query, found.nearest));
    }
    let total = found.procedures.len() as u64;
    let items: Vec<ProcedureSummary> = found
        .procedures
        .into_iter()
        .skip(((page - 1) as usize).saturating_mul(per_page as usize))
        .take(per_page as usize)
        .map(ProcedureSummary::from)
        .collect();
    let fields = found.fields.into_iter().cloned().collect();
    let body = ProcedurePage {
        items,
        page,
        per_page,
        total,
        catalogue_version: snapshot.version,
        nearest: found.nearest,
        fields,
    };
    Ok(with_etag(format!("\"c{}\"", snapshot.version), &headers, axum::Json(body)))
}

/// Query of `GET /api/v1/procedures/{code}`.
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpenQuery {
    /// The search whose results led here, if any: counted (folded, without personal data)
    /// so that operators see which searches lead nowhere.
    q: Option<String>,
}

/// One procedure with its required documents and form.
#[utoipa::path(get, path = "/api/v1/procedures/{code}", tag = "catalogue",
    params(("code" = String, Path, description = "Procedure code, e.g. 1.001193"), OpenQuery),
    responses(
        (status = 200, body = Procedure, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "An unreadable query string (e.g. a repeated parameter)", body = motcua_domain::wire::ErrorBody),
        (status = 404, body = motcua_domain::wire::ErrorBody),
        (status = 422, description = "A bad parameter", body = motcua_domain::wire::ErrorBody),
    ))]
async fn get_procedure(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<OpenQuery>,
) -> ApiResult<Response> {
    let mut errors = ParamErrors::default();
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 200) {
        errors.push("q", FieldErrorCode::TooLong, 200);
    }
    errors.finish()?;
    let snapshot = app.catalogue.snapshot(&app.db).await?;
    let procedure = snapshot.get(&code).ok_or(ApiError::NotFound)?.clone();
    if let Some(query) = q.q.as_deref() {
        crate::search_log::write_later(&app, app.search_log.opened(query));
    }
    let etag = format!("\"p{}-{}\"", procedure.code, procedure.version);
    Ok(with_etag(etag, &headers, axum::Json(procedure.as_ref().clone())))
}

/// Query of `GET /api/v1/catalogue/changes`.
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The catalogue version the client holds (0 or absent: everything).
    #[param(value_type = Option<i64>, minimum = 0)]
    since: Option<String>,
    /// The app's language, `vi` or `en`: the answer carries each text once, in that
    /// language (English falling back to Vietnamese where a text has none), and the form
    /// fields shared by several procedures once (`shared_fields`). Absent: every text in
    /// both languages, as before. A phone that changes its language fetches everything
    /// again (`since=0`) in the new one.
    #[param(value_type = Option<String>, pattern = "^(vi|en)$")]
    lang: Option<String>,
}

/// What changed in the catalogue after the client's version: changed procedures in full,
/// codes of retired ones, and the fields; with `lang`, in that language only, shared form
/// fields sent once.
#[utoipa::path(get, path = "/api/v1/catalogue/changes", tag = "catalogue", params(ChangesQuery),
    responses(
        (status = 200, body = CatalogueChanges, headers(("ETag" = String))),
        (status = 304, description = "Nothing changed since the ETag the client holds"),
        (status = 400, description = "An unreadable query string (e.g. a repeated parameter)", body = motcua_domain::wire::ErrorBody),
        (status = 422, body = motcua_domain::wire::ErrorBody),
    ))]
async fn catalogue_changes(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> ApiResult<Response> {
    let mut errors = ParamErrors::default();
    let since: i64 = errors.parse("since", &q.since).unwrap_or(0);
    if since < 0 {
        errors.push("since", FieldErrorCode::TooSmall, 0);
    }
    let lang = match q.lang.as_deref() {
        None => None,
        Some("vi") => Some(Lang::Vi),
        Some("en") => Some(Lang::En),
        Some(_) => {
            errors.push("lang", FieldErrorCode::InvalidOption, "vi, en");
            None
        }
    };
    errors.finish()?;
    let version = catalogue_version(&app.db).await?;
    if let (0, Some(lang)) = (since, lang) {
        let whole = app.catalogue.whole(&app.db, version, lang).await?;
        let etag = format!("\"c{}-0-{}\"", whole.version, lang.as_str());
        return Ok(with_etag(etag, &headers, whole.response(&headers)));
    }
    let body = changes(&app.db, version, since, lang).await?;
    let version = body.version;
    let Some(lang) = lang else {
        return Ok(with_etag(format!("\"c{version}-{since}\""), &headers, axum::Json(body)));
    };
    let packed = motcua_domain::wire::catalogue::pack(&body)
        .map_err(|_| ApiError::internal("catalogue answer not serializable"))?;
    Ok(with_etag(format!("\"c{version}-{since}-{}\"", lang.as_str()), &headers, axum::Json(packed)))
}

/// The changes after `since` (`version`: the catalogue version read before), in `lang`
/// when given.
async fn changes(db: &Db, version: i64, since: i64, lang: Option<Lang>) -> ApiResult<CatalogueChanges> {
    let rows: Vec<ChangeRow> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT code, version, doc, retired FROM procedures WHERE version > $1 ORDER BY code").bind(since).fetch_all(pool).await
    })?;
    let mut procedures = Vec::new();
    let mut retired = Vec::new();
    let mut newest = version;
    for row in rows {
        newest = newest.max(row.version);
        if row.retired {
            retired.push(row.code);
        } else if let Some(lang) = lang {
            procedures.push(row.doc.0.in_language(lang));
        } else {
            procedures.push(row.doc.0);
        }
    }
    // Rows written after the version was read belong to a newer version: report the
    // highest version actually included so the client never skips anything.
    let version = newest;
    let fields = load_fields(db).await?;
    Ok(CatalogueChanges { version, since, lang, fields, procedures, retired, shared_fields: Vec::new() })
}

impl Catalogue {
    /// The whole catalogue in `lang` at `version` (or newer), built and compressed on the
    /// first request for it; requests meanwhile wait for that one build.
    async fn whole(&self, db: &Db, version: i64, lang: Lang) -> ApiResult<Arc<Whole>> {
        let mut held = self.whole.lock().await;
        if let Some(w) = held.iter().find(|w| w.lang == lang && w.version >= version) {
            return Ok(w.clone());
        }
        let body = changes(db, version, 0, Some(lang)).await?;
        let version = body.version;
        let packed = motcua_domain::wire::catalogue::pack(&body)
            .and_then(|v| serde_json::to_vec(&v))
            .map_err(|_| ApiError::internal("catalogue answer not serializable"))?;
        let whole = tokio::task::spawn_blocking(move || {
            let (gzip, br) = compress_whole(&packed)?;
            Ok::<_, std::io::Error>(Whole { version, lang, identity: packed.into(), gzip: gzip.into(), br: br.into() })
        })
        .await
        .map_err(|_| ApiError::internal("catalogue compression stopped"))?
        .map_err(|_| ApiError::internal("catalogue compression failed"))?;
        let whole = Arc::new(whole);
        held.retain(|w| w.lang != lang);
        held.push(whole.clone());
        Ok(whole)
    }
}

/// The fields (lĩnh vực) of procedures.
#[utoipa::path(get, path = "/api/v1/fields", tag = "catalogue",
    responses((status = 200, body = Vec<FieldInfo>)))]
async fn list_fields(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<FieldInfo>>> {
    let snapshot = app.catalogue.snapshot(&app.db).await?;
    Ok(axum::Json(snapshot.fields.clone()))
}
