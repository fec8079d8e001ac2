//! The seed data compiled into the binary (fields, procedures with their forms, branches,
//! and beside them the names citizens use for each procedure, `search.json`, merged into
//! the procedures so that they travel with them) and its idempotent loading: a new seed bumps the catalogue version only for procedures
//! whose content changed, and retires procedures it no longer lists, so clients fetch
//! exactly the difference.

use std::collections::HashMap;

use anyhow::{Context, bail, ensure};
use motcua_domain::search::SearchData;
use motcua_domain::wire::{Branch, FieldInfo, Procedure};
use sha2::{Digest, Sha256};
use sqlx::types::Json;

use crate::db::{BeginWrite, Db};
use crate::on_db;

const FIELDS: &str = include_str!("../seed/fields.json");
const PROCEDURES: &str = include_str!("../seed/procedures.json");
const BRANCHES: &str = include_str!("../seed/branches.json");
const SEARCH: &str = include_str!("../seed/search.json");

/// The parsed, checked seed.
#[derive(Debug, Clone)]
pub struct Seed {
    pub fields: Vec<FieldInfo>,
    pub procedures: Vec<Procedure>,
    pub branches: Vec<Branch>,
    /// SHA-256 of the three files: unchanged seed, nothing to do.
    pub hash: String,
}

/// What loading the seed did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedOutcome {
    pub catalogue_version: i64,
    pub changed_procedures: usize,
    pub retired_procedures: usize,
}

impl Seed {
    /// The seed compiled into this binary.
    pub fn embedded() -> anyhow::Result<Seed> {
        Seed::parse_with_search(FIELDS, PROCEDURES, BRANCHES, SEARCH)
    }

    /// Parses and checks a seed whose procedures already carry their search data.
    pub fn parse(fields: &str, procedures: &str, branches: &str) -> anyhow::Result<Seed> {
        Seed::parse_with_search(fields, procedures, branches, r#"{"procedures": {}}"#)
    }

    /// Parses and checks a seed: unique codes, known fields, valid forms, one attachment
    /// slot for every required document (and none for a document the procedure lacks), and
    /// search data (`search`) only for known procedures, merged into them.
    pub fn parse_with_search(fields: &str, procedures: &str, branches: &str, search: &str) -> anyhow::Result<Seed> {
        let fields: Vec<FieldInfo> = serde_json::from_str(fields).context("seed/fields.json")?;
        let mut procedures: Vec<Procedure> = serde_json::from_str(procedures).context("seed/procedures.json")?;
        let search: SearchData = serde_json::from_str(search).context("seed/search.json")?;
        search.apply(&mut procedures).map_err(|e| anyhow::anyhow!("seed/search.json: {e}"))?;
        let branches: Vec<Branch> = serde_json::from_str(branches).context("seed/branches.json")?;
        let mut codes = std::collections::HashSet::new();
        for p in &procedures {
            ensure!(codes.insert(p.code.as_str()), "procedure {} is listed twice", p.code);
            ensure!(fields.iter().any(|f| f.code == p.field), "procedure {}: unknown field {}", p.code, p.field);
            p.form.check().with_context(|| format!("procedure {}: form", p.code))?;
            let slots = p.form.attachment_documents();
            for doc in &p.required_documents {
                ensure!(
                    slots.contains(&doc.code.as_str()),
                    "procedure {}: no attachment slot for document {}",
                    p.code,
                    doc.code
                );
            }
            for slot in slots {
                ensure!(
                    p.required_documents.iter().any(|d| d.code == slot),
                    "procedure {}: attachment slot for unknown document {slot}",
                    p.code
                );
            }
        }
        let mut branch_codes = std::collections::HashSet::new();
        for b in &branches {
            ensure!(branch_codes.insert(b.code.as_str()), "branch {} is listed twice", b.code);
            if motcua_domain::geo::LatLng::new(b.lat, b.lng).is_none() {
                bail!("branch {}: bad coordinates", b.code);
            }
        }
        let mut hasher = Sha256::new();
        for part in [fields_json(&fields)?, serde_json::to_string(&procedures)?, serde_json::to_string(&branches)?] {
            hasher.update(part.as_bytes());
        }
        let hash = hex(&hasher.finalize());
        Ok(Seed { fields, procedures, branches, hash })
    }
}

fn fields_json(fields: &[FieldInfo]) -> anyhow::Result<String> {
    Ok(serde_json::to_string(fields)?)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash that decides whether a procedure changed (its content without the version).
pub fn content_hash(p: &Procedure) -> anyhow::Result<String> {
    let mut p = p.clone();
    p.version = 0;
    Ok(hex(&Sha256::digest(serde_json::to_vec(&p)?)))
}

#[derive(sqlx::FromRow)]
struct StateRow {
    version: i64,
    seed_hash: String,
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    code: String,
    content_hash: String,
    retired: bool,
}

/// Loads `seed` into the database unless this very seed was loaded before. Safe to run
/// from many processes at once: the write transaction (and, on PostgreSQL, an advisory
/// lock) serialises them, and the second finds nothing left to do.
pub async fn apply(db: &Db, seed: &Seed) -> anyhow::Result<SeedOutcome> {
    let lock_sql = match db {
        Db::Sqlite { .. } => "SELECT 1",
        Db::Postgres(_) => "SELECT pg_advisory_xact_lock(72310001)",
    };
    let mut hashes = HashMap::new();
    for p in &seed.procedures {
        hashes.insert(p.code.clone(), content_hash(p)?);
    }
    on_db!(db, write, pool => {
        let mut tx = pool.begin_write().await?;
        sqlx::query(lock_sql).execute(&mut *tx).await?;
        let state: StateRow = sqlx::query_as("SELECT version, seed_hash FROM catalogue_state WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        if state.seed_hash == seed.hash {
            tx.commit().await?;
            return Ok(SeedOutcome { catalogue_version: state.version, changed_procedures: 0, retired_procedures: 0 });
        }
        let new_version = state.version + 1;
        for (position, f) in seed.fields.iter().enumerate() {
            sqlx::query(
                "INSERT INTO fields (code, name, name_en, position) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, position = excluded.position",
            )
            .bind(&f.code)
            .bind(&f.name)
            .bind(&f.name_en)
            .bind(position as i64)
            .execute(&mut *tx)
            .await?;
        }
        let existing: Vec<ExistingRow> = sqlx::query_as("SELECT code, content_hash, retired FROM procedures")
            .fetch_all(&mut *tx)
            .await?;
        let existing: HashMap<String, ExistingRow> = existing.into_iter().map(|r| (r.code.clone(), r)).collect();
        let mut changed = 0;
        for p in &seed.procedures {
            let hash = &hashes[&p.code];
            if existing.get(&p.code).is_some_and(|e| &e.content_hash == hash && !e.retired) {
                continue;
            }
            let mut stored = p.clone();
            stored.version = new_version;
            sqlx::query(
                "INSERT INTO procedures (code, field_code, doc, content_hash, version, retired) \
                 VALUES ($1, $2, $3, $4, $5, FALSE) \
                 ON CONFLICT (code) DO UPDATE SET field_code = excluded.field_code, \
                 doc = excluded.doc, content_hash = excluded.content_hash, version = excluded.version, retired = FALSE",
            )
            .bind(&p.code)
            .bind(&p.field)
            .bind(Json(&stored))
            .bind(hash)
            .bind(new_version)
            .execute(&mut *tx)
            .await?;
            changed += 1;
        }
        let mut retired = 0;
        for code in existing.values().filter(|e| !e.retired && !hashes.contains_key(&e.code)).map(|e| &e.code) {
            sqlx::query("UPDATE procedures SET retired = TRUE, version = $1 WHERE code = $2")
                .bind(new_version)
                .bind(code)
                .execute(&mut *tx)
                .await?;
            retired += 1;
        }
        for b in &seed.branches {
            sqlx::query(
                "INSERT INTO branches (code, doc, lat, lng) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET doc = excluded.doc, lat = excluded.lat, lng = excluded.lng",
            )
            .bind(&b.code)
            .bind(Json(b))
            .bind(b.lat)
            .bind(b.lng)
            .execute(&mut *tx)
            .await?;
        }
        let version = if changed + retired > 0 { new_version } else { state.version };
        sqlx::query("UPDATE catalogue_state SET version = $1, seed_hash = $2 WHERE id = 1")
            .bind(version)
            .bind(&seed.hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(SeedOutcome { catalogue_version: version, changed_procedures: changed, retired_procedures: retired })
    })
}
