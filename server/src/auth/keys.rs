//! Ed25519 signing keys for access tokens: kept in the database so every server process
//! signs with the same key and verifies any process's tokens; published as a JWKS.
//!
//! The first process to start on an empty database creates a key; a process that meets a
//! token with an unknown key id reloads the key set once (another process rotated).

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
    signing: SigningMaterial,
    verifying: RwLock<HashMap<String, (DecodingKey, Jwk)>>,
    /// When the key set was last reloaded for an unknown kid (at most every 10 s, so
    /// tokens with made-up key ids cannot turn into database load).
    last_reload: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("kid", &self.signing.kid).finish_non_exhaustive()
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
    /// Loads the active keys, creating the first one on an empty database.
    pub async fn load_or_create(db: &Db) -> anyhow::Result<KeyRing> {
        let mut rows = load(db).await?;
        if rows.is_empty() {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let kid = format!("k{}", Utc::now().format("%Y%m%d%H%M%S%f"));
            on_db!(db, write, pool => {
                sqlx::query("INSERT INTO signing_keys (kid, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (kid) DO NOTHING")
                    .bind(&kid)
                    .bind(seed.as_slice())
                    .bind(Utc::now())
                    .execute(pool)
                    .await.map(|r| r.rows_affected())
            })?;
            rows = load(db).await?;
        }
        let newest = rows.first().ok_or_else(|| anyhow::anyhow!("no signing key after creating one"))?;
        let (encoding, _, _) = material(&newest.secret)?;
        tracing::debug!(kid = %newest.kid, created_at = %newest.created_at, "signing key loaded");
        Ok(KeyRing {
            signing: SigningMaterial { kid: newest.kid.clone(), key: encoding },
            verifying: RwLock::new(verifying_map(&rows)?),
            last_reload: std::sync::Mutex::new(None),
        })
    }

    pub fn signing(&self) -> &SigningMaterial {
        &self.signing
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

    pub fn jwks(&self) -> Jwks {
        let map = self.verifying.read().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<Jwk> = map.values().map(|(_, jwk)| jwk.clone()).collect();
        keys.sort_by(|a, b| b.kid.cmp(&a.kid));
        Jwks { keys }
    }
}
