//! What citizens search for and do not find: counts of folded queries for operators, so
//! that they can add the names citizens use to `seed/search.json`.
//!
//! No personal data: a query is counted under its [`search::log_key`] (folded, words with
//! five digits or more masked, at most 100 characters). Each process adds up counts in
//! memory and writes them in the background in one transaction every [`FLUSH_EVERY`] or
//! as soon as it holds [`FLUSH_AT`] distinct queries (its bound), so a search never waits
//! for a write; the table keeps at most [`MAX_ROWS`] queries (a new query is not added
//! beyond that; known ones keep counting). Counts of the last seconds of a process that
//! dies are lost.
//!
//! *Found nothing*: the search was answered with only the nearest procedures (nothing
//! covered the query, [`search::Results::nearest`]). *Led nowhere*: a query that was
//! searched and from whose results no procedure was ever opened; the app (or the web
//! page) says which search led to a procedure by passing it as `q` to
//! `GET /api/v1/procedures/{code}`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::State;
use chrono::{DateTime, Utc};
use motcua_domain::form::FieldErrorCode;
use motcua_domain::search;
use motcua_domain::wire::{ErrorBody, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{BeginWrite, Db};
use crate::error::ApiResult;
use crate::extract::{ApiQuery, ParamErrors};
use crate::on_db;

/// Most distinct queries kept in the table.
pub const MAX_ROWS: i64 = 10_000;
/// A process writes its counts at least this often (when it searches)...
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);
/// ... or as soon as it holds this many distinct queries (so it never holds more).
pub const FLUSH_AT: usize = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    searches: i64,
    empty: i64,
    opened: i64,
}

/// The per-process counts not yet written.
#[derive(Debug)]
pub struct SearchLog {
    pending: Mutex<(HashMap<String, Counts>, Instant)>,
}

impl Default for SearchLog {
    fn default() -> Self {
        SearchLog { pending: Mutex::new((HashMap::new(), Instant::now())) }
    }
}

/// Counts taken out of memory, to be written.
#[derive(Debug)]
pub struct Batch(Vec<(String, Counts)>);

impl SearchLog {
    fn add(&self, query: &str, counts: Counts) -> Option<Batch> {
        let key = search::log_key(query)?;
        let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let (pending, since) = &mut *guard;
        if let Some(c) = pending.get_mut(&key) {
            c.searches += counts.searches;
            c.empty += counts.empty;
            c.opened += counts.opened;
        } else {
            pending.insert(key, counts);
        }
        if pending.len() >= FLUSH_AT || since.elapsed() >= FLUSH_EVERY {
            *since = Instant::now();
            return Some(Batch(std::mem::take(pending).into_iter().collect()));
        }
        None
    }

    /// Counts one search; `nearest`: it found nothing that covered the query. Returns the
    /// counts to write when they are due.
    pub fn searched(&self, query: &str, nearest: bool) -> Option<Batch> {
        self.add(query, Counts { searches: 1, empty: i64::from(nearest), opened: 0 })
    }

    /// Counts a procedure opened from the results of `query`.
    pub fn opened(&self, query: &str) -> Option<Batch> {
        self.add(query, Counts { searches: 0, empty: 0, opened: 1 })
    }

    /// Takes every pending count.
    pub fn take(&self) -> Batch {
        let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        guard.1 = Instant::now();
        Batch(std::mem::take(&mut guard.0).into_iter().collect())
    }
}

/// Writes `batch` in one transaction: known queries add to their counts; a new query is
/// inserted only while the table holds fewer than [`MAX_ROWS`] (check and insert are one
/// statement).
pub async fn write(db: &Db, batch: Batch, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    if batch.0.is_empty() {
        return Ok(());
    }
    on_db!(db, write, pool => {
        let mut tx = pool.begin_write().await?;
        for (query, c) in &batch.0 {
            let updated = sqlx::query(
                "UPDATE search_queries SET searches = searches + $2, empty = empty + $3, opened = opened + $4, \
                 last_seen = $5 WHERE query = $1",
            )
            .bind(query)
            .bind(c.searches)
            .bind(c.empty)
            .bind(c.opened)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                sqlx::query(
                    "INSERT INTO search_queries (query, searches, empty, opened, first_seen, last_seen) \
                     SELECT $1, $2, $3, $4, $5, $5 WHERE (SELECT COUNT(*) FROM search_queries) < $6 \
                     ON CONFLICT (query) DO UPDATE SET searches = search_queries.searches + excluded.searches, \
                     empty = search_queries.empty + excluded.empty, opened = search_queries.opened + excluded.opened, \
                     last_seen = excluded.last_seen",
                )
                .bind(query)
                .bind(c.searches)
                .bind(c.empty)
                .bind(c.opened)
                .bind(now)
                .bind(MAX_ROWS)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await
    })
}

/// Writes `batch` in the background (a search never waits for it).
pub fn write_later(app: &AppState, batch: Option<Batch>) {
    if let Some(batch) = batch {
        let (db, now) = (app.db.clone(), app.clock.now());
        tokio::spawn(async move {
            if let Err(e) = write(&db, batch, now).await {
                tracing::warn!(error = %e, "search counts not written");
            }
        });
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_queries))
}

/// Which queries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// Queries that found nothing covering them at least once, most such searches first.
    Empty,
    /// Queries from whose results no procedure was ever opened, most searched first.
    Nowhere,
    /// Every query, most searched first.
    All,
}

/// Query of `GET /api/v1/admin/search-queries`.
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQueriesQuery {
    /// `empty` (default), `nowhere` or `all`.
    #[param(value_type = Option<QueryKind>, inline)]
    kind: Option<String>,
    /// Page number, from 1 to 10000.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    page: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

/// The counts of one folded query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct SearchQueryStat {
    /// The folded query (no diacritics, numbers of five digits or more masked as `#`).
    pub query: String,
    pub searches: i64,
    /// Searches answered with only the nearest procedures.
    pub empty: i64,
    /// Procedures opened from its results.
    pub opened: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// One page of query counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchQueryPage {
    pub items: Vec<SearchQueryStat>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

/// Searches that found nothing or led nowhere (administrators only), so that operators
/// can add the names citizens use. This process's pending counts are written first.
#[utoipa::path(get, path = "/api/v1/admin/search-queries", tag = "catalogue", params(SearchQueriesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of folded queries with their counts", body = SearchQueryPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 422, description = "A bad parameter", body = ErrorBody),
    ))]
async fn search_queries(
    State(app): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<SearchQueriesQuery>,
) -> ApiResult<axum::Json<SearchQueryPage>> {
    user.require(&[Role::Admin])?;
    let mut errors = ParamErrors::default();
    let kind = match q.kind.as_deref().unwrap_or("empty") {
        "empty" => QueryKind::Empty,
        "nowhere" => QueryKind::Nowhere,
        "all" => QueryKind::All,
        _ => {
            errors.push("kind", FieldErrorCode::InvalidOption, "empty, nowhere, all");
            QueryKind::Empty
        }
    };
    let page: u32 = errors.parse("page", &q.page).unwrap_or(1);
    let per_page: u32 = errors.parse("per_page", &q.per_page).unwrap_or(20);
    if page == 0 {
        errors.push("page", FieldErrorCode::TooSmall, 1);
    } else if page > 10_000 {
        errors.push("page", FieldErrorCode::TooLarge, 10_000);
    }
    if per_page == 0 {
        errors.push("per_page", FieldErrorCode::TooSmall, 1);
    } else if per_page > 100 {
        errors.push("per_page", FieldErrorCode::TooLarge, 100);
    }
    errors.finish()?;
    write(&app.db, app.search_log.take(), app.clock.now()).await?;
    let (filter, order) = match kind {
        QueryKind::Empty => ("empty > 0", "empty DESC, query"),
        QueryKind::Nowhere => ("opened = 0 AND searches > 0", "searches DESC, query"),
        QueryKind::All => ("TRUE", "searches DESC, query"),
    };
    let list = sqlx::AssertSqlSafe(format!(
        "SELECT query, searches, empty, opened, first_seen, last_seen FROM search_queries \
         WHERE {filter} ORDER BY {order} LIMIT $1 OFFSET $2"
    ));
    let count = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM search_queries WHERE {filter}"));
    let offset = i64::from(page - 1) * i64::from(per_page);
    let (items, total): (Vec<SearchQueryStat>, i64) = on_db!(&app.db, read, pool => {
        let items = sqlx::query_as(list).bind(i64::from(per_page)).bind(offset).fetch_all(pool).await?;
        let total = sqlx::query_scalar(count).fetch_one(pool).await?;
        (items, total)
    });
    Ok(axum::Json(SearchQueryPage { items, page, per_page, total: u64::try_from(total).unwrap_or(0) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_under_folded_keys_and_are_bounded() {
        let log = SearchLog::default();
        assert!(log.searched("Sổ đỏ", true).is_none());
        assert!(log.searched("so do", false).is_none());
        assert!(log.opened("SO DO").is_none());
        assert!(log.searched("  ", true).is_none(), "an empty query is not counted");
        let batch = log.take();
        assert_eq!(batch.0, vec![("so do".to_owned(), Counts { searches: 2, empty: 1, opened: 1 })]);
        assert!(log.take().0.is_empty());
        let mut due = None;
        for n in 0..FLUSH_AT {
            due = log.searched(&format!("tu khoa {n}"), false);
        }
        assert_eq!(due.map(|b| b.0.len()), Some(FLUSH_AT), "written once FLUSH_AT queries are held");
    }
}
