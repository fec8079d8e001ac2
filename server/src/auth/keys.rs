//! Ed25519 signing keys for access tokens: kept in the database so every server process
//! signs with the same key and verifies any process's tokens; published as a JWKS.
//!
//! The first process to start on an empty database creates a key. An operator rotates with
//! `motcua-server keys rotate` (a new key signs from then on; the previous ones keep
//! verifying until the tokens they signed have expired, then are retired); every process
//! reloads the key set every `key_reload`, and at once when a token names an unknown key id.
//!
//! Also here: [`ServerSecrets`], random secrets shared by every process through the database.

use std::collections::HashMap;
use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::on_db;

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410), followed by the 32-byte seed.
const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

#[derive(Clone)]
pub struct SigningMaterial {
    pub kid: String,
    pub key: EncodingKey,
}

/// One public key of the JWKS document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

pub struct KeyRing {
    signing: RwLock<SigningMaterial>,
    verifying: RwLock<HashMap<String, (DecodingKey, Jwk)>>,
    /// When the key set was last reloaded for an unknown kid (at most every 10 s, so
    /// tokens with made-up key ids cannot turn into database load).
    last_reload: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("kid", &self.signing().kid).finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    secret: Vec<u8>,
    created_at: DateTime<Utc>,
}

fn material(secret: &[u8]) -> anyhow::Result<(EncodingKey, DecodingKey, String)> {
    let seed: [u8; 32] = secret.try_into().map_err(|_| anyhow::anyhow!("a signing key must be 32 bytes"))?;
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(&seed);
    Ok((EncodingKey::from_ed_der(&der), DecodingKey::from_ed_der(&public), URL_SAFE_NO_PAD.encode(public)))
}

async fn load(db: &Db) -> anyhow::Result<Vec<KeyRow>> {
    Ok(on_db!(db, read, pool => {
        sqlx::query_as("SELECT kid, secret, created_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid")
            .fetch_all(pool)
            .await
    })?)
}

fn newest_signing(rows: &[KeyRow]) -> anyhow::Result<SigningMaterial> {
    let newest = rows.first().ok_or_else(|| anyhow::anyhow!("no signing key"))?;
    let (encoding, _, _) = material(&newest.secret)?;
    tracing::debug!(kid = %newest.kid, created_at = %newest.created_at, "signing key loaded");
    Ok(SigningMaterial { kid: newest.kid.clone(), key: encoding })
}

fn random_32() -> anyhow::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(seed)
}

fn new_kid(now: DateTime<Utc>) -> String {
    format!("k{}", now.format("%Y%m%d%H%M%S%f"))
}

/// Rotates the signing key (the operators' `keys rotate`): adds a new key, which every
/// process signs with after its next reload, and retires the keys that were superseded more
/// than `keep_verifying` ago (no token they signed is still valid). Returns the new key id
/// and the retired ones.
pub async fn rotate(
    db: &Db,
    now: DateTime<Utc>,
    keep_verifying: std::time::Duration,
) -> anyhow::Result<(String, Vec<String>)> {
    let kid = new_kid(now);
    let seed = random_32()?;
    let rows = load(db).await?;
    // rows are newest first: a key was superseded when the one before it in the list was made.
    let cutoff = now - chrono::TimeDelta::from_std(keep_verifying)?;
    let mut retired = Vec::new();
    for pair in rows.windows(2) {
        if pair[0].created_at <= cutoff {
            retired.push(pair[1].kid.clone());
        }
    }
    on_db!(db, write, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO signing_keys (kid, secret, created_at) VALUES ($1, $2, $3)")
            .bind(&kid)
            .bind(seed.as_slice())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for old in &retired {
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE kid = $2").bind(now).bind(old).execute(&mut *tx).await?;
        }
        tx.commit().await
    })?;
    Ok((kid, retired))
}

/// Random secrets shared by every server process (kept in the database, made once).
#[derive(Clone)]
pub struct ServerSecrets {
    /// Keys the HMAC that derives a refresh token's successor.
    pub refresh_successor: Vec<u8>,
}

impl std::fmt::Debug for ServerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSecrets").finish_non_exhaustive()
    }
}

impl ServerSecrets {
    pub async fn load_or_create(db: &Db) -> anyhow::Result<ServerSecrets> {
        let name = "refresh-successor";
        let seed = random_32()?;
        let secret: Vec<u8> = on_db!(db, write, pool => {
            sqlx::query("INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(seed.as_slice())
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT secret FROM server_secrets WHERE name = $1").bind(name).fetch_one(pool).await
        })?;
        Ok(ServerSecrets { refresh_successor: secret })
    }
}

fn verifying_map(rows: &[KeyRow]) -> anyhow::Result<HashMap<String, (DecodingKey, Jwk)>> {
    let mut map = HashMap::new();
    for row in rows {
        let (_, decoding, x) = material(&row.secret)?;
        let jwk = Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x,
            kid: row.kid.clone(),
            use_: "sig".into(),
            alg: "EdDSA".into(),
        };
        map.insert(row.kid.clone(), (decoding, jwk));
    }
    Ok(map)
}

impl KeyRing {
    /// Loads the active keys, creating the first one on an empty database. Processes
    /// starting together make one key between them: the check and the insert are one
    /// write transaction (serialised by SQLite's write lock, on PostgreSQL by an advisory
    /// lock), so no process signs with a key the others have not loaded.
    pub async fn load_or_create(db: &Db) -> anyhow::Result<KeyRing> {
        let mut rows = load(db).await?;
        if rows.is_empty() {
            let seed = random_32()?;
            let kid = new_kid(Utc::now());
            let lock_sql = match db {
                Db::Sqlite { .. } => "SELECT 1",
                Db::Postgres(_) => "SELECT pg_advisory_xact_lock(72310002)",
            };
            on_db!(db, write, pool => async {
                let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
                sqlx::query(lock_sql).execute(&mut *tx).await?;
                let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM signing_keys").fetch_one(&mut *tx).await?;
                if keys == 0 {
                    sqlx::query("INSERT INTO signing_keys (kid, secret, created_at) VALUES ($1, $2, $3)")
                        .bind(&kid)
                        .bind(seed.as_slice())
                        .bind(Utc::now())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }.await)?;
            rows = load(db).await?;
        }
        Ok(KeyRing {
            signing: RwLock::new(newest_signing(&rows)?),
            verifying: RwLock::new(verifying_map(&rows)?),
            last_reload: std::sync::Mutex::new(None),
        })
    }

    /// The key new tokens are signed with.
    pub fn signing(&self) -> SigningMaterial {
        self.signing.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reloads the active keys: the newest signs, all verify (retired ones no longer do).
    pub async fn reload(&self, db: &Db) -> anyhow::Result<()> {
        let rows = load(db).await?;
        if rows.is_empty() {
            anyhow::bail!("no active signing key in the database");
        }
        let signing = newest_signing(&rows)?;
        let map = verifying_map(&rows)?;
        *self.verifying.write().unwrap_or_else(|e| e.into_inner()) = map;
        *self.signing.write().unwrap_or_else(|e| e.into_inner()) = signing;
        Ok(())
    }

    /// The verification key for `kid`, reloading the key set once when it is unknown.
    pub async fn verifying(&self, db: &Db, kid: &str) -> anyhow::Result<Option<DecodingKey>> {
        if let Some((key, _)) = self.verifying.read().unwrap_or_else(|e| e.into_inner()).get(kid) {
            return Ok(Some(key.clone()));
        }
        {
            let mut last = self.last_reload.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(10)) {
                return Ok(None);
            }
            *last = Some(std::time::Instant::now());
        }
        let rows = load(db).await?;
        let map = verifying_map(&rows)?;
        let found = map.get(kid).map(|(k, _)| k.clone());
        *self.verifying.write().unwrap_or_else(|e| e.into_inner()) = map;
        Ok(found)
    }

    /// Whether `kid` is among the keys this process currently verifies with (no reload).
    pub fn trusts(&self, kid: &str) -> bool {
        self.verifying.read().unwrap_or_else(|e| e.into_inner()).contains_key(kid)
    }

    pub fn jwks(&self) -> Jwks {
        let map = self.verifying.read().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<Jwk> = map.values().map(|(_, jwk)| jwk.clone()).collect();
        keys.sort_by(|a, b| b.kid.cmp(&a.kid));
        Jwks { keys }
    }
}
