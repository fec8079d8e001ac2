//! The local SQLite store: one WAL database in the app's directory, one writer connection
//! and a small pool of read-only connections, the fresh schema and the upgrades from every
//! older schema version (tracked in `PRAGMA user_version`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, Transaction};

use crate::error::{Error, Result};

/// The schema a fresh store gets, in one step.
const SCHEMA: &str = include_str!("../schema.sql");

/// One step of the schema history: applied to a store at `version - 1`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

/// Every schema version ever released, in order. Append only.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, sql: include_str!("../migrations/0001_init.sql") },
    Migration { version: 2, sql: include_str!("../migrations/0002_my_dossiers.sql") },
    Migration { version: 3, sql: include_str!("../migrations/0003_search_in_domain.sql") },
    Migration { version: 4, sql: include_str!("../migrations/0004_push.sql") },
    Migration { version: 5, sql: include_str!("../migrations/0005_reports.sql") },
    Migration { version: 6, sql: include_str!("../migrations/0006_supplements.sql") },
    Migration { version: 7, sql: include_str!("../migrations/0007_catalogue_lang.sql") },
];

/// The schema version this build writes.
pub(crate) const LATEST: i64 = 7;

const DB_FILE: &str = "motcua.db";
const FILES_DIR: &str = "files";

/// The store: a writer and readers over one database file, plus the attachment files.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    write: SqlitePool,
    read: SqlitePool,
    dir: PathBuf,
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
}

impl Store {
    /// Opens (creating or upgrading) the store in `dir`.
    pub(crate) async fn open(dir: &Path) -> Result<Store> {
        tokio::fs::create_dir_all(dir.join(FILES_DIR)).await?;
        let opts = options(&dir.join(DB_FILE));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        {
            let mut conn = write.acquire().await?;
            upgrade(&mut conn).await?;
        }
        let read = SqlitePoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Store { write, read, dir: dir.to_path_buf() })
    }

    /// The pool to read with (never writes).
    pub(crate) fn read(&self) -> &SqlitePool {
        &self.read
    }

    /// The single writer connection, for a one-statement write.
    pub(crate) fn write(&self) -> &SqlitePool {
        &self.write
    }

    /// A write transaction (the only writer, so no lock upgrade can fail).
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Where the copy of an attached file lives.
    pub(crate) fn file_path(&self, file_id: &str) -> PathBuf {
        self.dir.join(FILES_DIR).join(file_id)
    }

    /// A file of the store's directory (beside the database), e.g. a cached list.
    pub(crate) fn dir_file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub(crate) fn files_dir(&self) -> PathBuf {
        self.dir.join(FILES_DIR)
    }

    pub(crate) async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Brings the schema to [`LATEST`]: the fresh schema on an empty database, else every
/// missing migration, all in one transaction with the version bump.
pub(crate) async fn upgrade(conn: &mut SqliteConnection) -> Result<()> {
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut *tx).await?;
    if version == LATEST {
        return Ok(());
    }
    if version > LATEST {
        return Err(Error::StoreTooNew { found: version, known: LATEST });
    }
    if version == 0 {
        sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
    } else {
        for m in MIGRATIONS.iter().filter(|m| m.version > version) {
            tracing::info!(from = m.version - 1, to = m.version, "upgrading the client store");
            sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
        }
    }
    // PRAGMA takes no bound parameters; LATEST is a constant.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PRAGMA user_version = {LATEST}"))).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A comparable description of a database's schema: every `sqlite_master` object with its
/// columns, indexed columns and foreign keys (read through pragmas, so that a column added
/// by `ALTER TABLE` compares equal to one declared in `CREATE TABLE`).
#[cfg(test)]
type ColumnInfo = (i64, String, String, i64, Option<String>, i64, i64);
#[cfg(test)]
type ForeignKeyInfo = (i64, i64, String, String, Option<String>, String, String);

#[cfg(test)]
pub(crate) async fn schema_fingerprint(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    let objects: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for (kind, name, table, sql) in objects {
        let sql = sql.unwrap_or_default();
        let flat = sql.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
        match kind.as_str() {
            "table" => {
                out.push(format!("table {name} without_rowid={}", flat.ends_with("WITHOUT ROWID")));
                let cols: Vec<ColumnInfo> = sqlx::query_as(
                    "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?)",
                )
                .bind(&name)
                .fetch_all(&mut *conn)
                .await?;
                for c in cols {
                    out.push(format!("  column {name}.{:?}", c));
                }
                let fks: Vec<ForeignKeyInfo> = sqlx::query_as(
                    "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?)",
                )
                .bind(&name)
                .fetch_all(&mut *conn)
                .await?;
                for f in fks {
                    out.push(format!("  fk {name}.{:?}", f));
                }
                // CHECK constraints only show in the SQL text.
                for check in flat.match_indices("CHECK").map(|(i, _)| &flat[i..]) {
                    let end = check.find(')').map_or(check.len(), |e| e + 1);
                    out.push(format!("  check {name} {}", &check[..end]));
                }
            }
            "index" => {
                out.push(format!("index {name} on {table} sql={flat}"));
                let cols: Vec<(i64, i64, Option<String>, i64, String, i64)> =
                    sqlx::query_as("SELECT seqno, cid, name, \"desc\", coll, \"key\" FROM pragma_index_xinfo(?)")
                        .bind(&name)
                        .fetch_all(&mut *conn)
                        .await?;
                for c in cols {
                    out.push(format!("  indexed {name}.{:?}", c));
                }
            }
            _ => out.push(format!("{kind} {name} on {table} sql={flat}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    async fn memory() -> SqliteConnection {
        SqliteConnection::connect("sqlite::memory:").await.unwrap()
    }

    /// A database exactly as a store of `version` was, built from the history.
    async fn at_version(version: i64) -> SqliteConnection {
        let mut conn = memory().await;
        for m in MIGRATIONS.iter().filter(|m| m.version <= version) {
            sqlx::raw_sql(m.sql).execute(&mut conn).await.unwrap();
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PRAGMA user_version = {version}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    }

    /// Rows an old store holds, so upgrades run over data, not over empty tables.
    async fn populate_v1(conn: &mut SqliteConnection) {
        sqlx::raw_sql(
            "INSERT INTO catalogue_state (id, version, etag) VALUES (1, 7, '\"c7-0\"');
             INSERT INTO procedures (code, name, field_code, name_folded, search_text, form_version, version, doc)
                 VALUES ('1.001193', 'Đăng ký khai sinh', 'ho_tich', 'dang ky khai sinh', 'dang ky khai sinh', 1, 7, '{}');
             INSERT INTO drafts (id, procedure_code, procedure_name, form_version, state, created_at, updated_at)
                 VALUES ('d1', '1.001193', 'Đăng ký khai sinh', 1, 'editing', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             INSERT INTO draft_forms (draft_id, form) VALUES ('d1', '{\"version\":1,\"fields\":[]}');
             INSERT INTO draft_values (draft_id, key, value) VALUES ('d1', 'full_name', '\"Nguyễn Văn An\"');
             INSERT INTO outbox (id, draft_id, idempotency_key, state, next_attempt_at, created_at, updated_at)
                 VALUES ('o1', 'd1', 'k1', 'pending', 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
        )
        .execute(conn)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn history_is_numbered_without_gaps_and_ends_at_latest() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().unwrap().version, LATEST);
        // Every file in migrations/ is in the history (none forgotten).
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let files = std::fs::read_dir(dir).unwrap().count();
        assert_eq!(files, MIGRATIONS.len());
    }

    #[tokio::test]
    async fn every_old_version_upgrades_to_exactly_the_fresh_schema() {
        let mut fresh = memory().await;
        upgrade(&mut fresh).await.unwrap();
        let want = schema_fingerprint(&mut fresh).await.unwrap();
        assert!(want.iter().any(|l| l.starts_with("table drafts")), "{want:#?}");
        for version in 1..LATEST {
            let mut old = at_version(version).await;
            if version == 1 {
                populate_v1(&mut old).await;
            }
            upgrade(&mut old).await.unwrap();
            let got = schema_fingerprint(&mut old).await.unwrap();
            assert_eq!(got, want, "upgrade from version {version}");
            let v: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut old).await.unwrap();
            assert_eq!(v, LATEST);
            let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut old).await.unwrap();
            assert_eq!(integrity, "ok");
        }
        // The history applied in full is the fresh schema too.
        let mut replayed = at_version(LATEST).await;
        assert_eq!(schema_fingerprint(&mut replayed).await.unwrap(), want);
    }

    #[tokio::test]
    async fn upgrade_keeps_the_data_of_an_old_store() {
        let mut old = at_version(1).await;
        populate_v1(&mut old).await;
        upgrade(&mut old).await.unwrap();
        let (state, dossier): (String, Option<String>) =
            sqlx::query_as("SELECT state, dossier_id FROM drafts WHERE id = 'd1'").fetch_one(&mut old).await.unwrap();
        assert_eq!(state, "editing");
        assert_eq!(dossier, None);
        let value: String = sqlx::query_scalar("SELECT value FROM draft_values").fetch_one(&mut old).await.unwrap();
        assert_eq!(value, "\"Nguyễn Văn An\"");
        let key: String = sqlx::query_scalar("SELECT idempotency_key FROM outbox").fetch_one(&mut old).await.unwrap();
        assert_eq!(key, "k1");
        let cached: (String, i64) = sqlx::query_as("SELECT name, version FROM procedures WHERE code = '1.001193'")
            .fetch_one(&mut old)
            .await
            .unwrap();
        assert_eq!(cached, ("Đăng ký khai sinh".to_owned(), 7), "the cached catalogue survives version 3");
    }

    #[tokio::test]
    async fn the_fingerprint_sees_a_difference() {
        let mut fresh = memory().await;
        upgrade(&mut fresh).await.unwrap();
        let before = schema_fingerprint(&mut fresh).await.unwrap();
        sqlx::raw_sql("ALTER TABLE dossiers ADD COLUMN extra TEXT").execute(&mut fresh).await.unwrap();
        assert_ne!(schema_fingerprint(&mut fresh).await.unwrap(), before);
    }

    #[tokio::test]
    async fn a_store_from_a_newer_app_is_refused() {
        let mut conn = memory().await;
        upgrade(&mut conn).await.unwrap();
        sqlx::raw_sql("PRAGMA user_version = 99").execute(&mut conn).await.unwrap();
        assert!(matches!(upgrade(&mut conn).await, Err(Error::StoreTooNew { found: 99, known: LATEST })));
    }
}
