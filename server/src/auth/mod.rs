//! Accounts and tokens: users, short-lived EdDSA access tokens (JWT, key id in the header,
//! algorithm pinned), opaque refresh tokens stored hashed and rotated on every use with
//! reuse detection, and the `AuthUser` extractor (which also refuses tokens whose family
//! was revoked, within `revocation_cache`).

pub mod counter;
pub mod keys;
pub mod passwords;
pub mod phone;
pub mod ratelimit;
pub mod revocation;
pub mod routes;
pub mod staff;
pub mod verified;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use motcua_domain::wire::{Role, UserInfo};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::{BeginWrite, Db, is_unique_violation};
use crate::error::ApiError;
use crate::on_db;
use crate::seed::hex;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The agency of an agency officer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    pub iat: i64,
    /// Not before (equal to `iat`).
    pub nbf: i64,
    pub exp: i64,
    /// The refresh-token family (the sign-in) this token belongs to: revoking the family
    /// (logout, reuse detection) ends its access tokens too.
    pub fam: String,
}

/// A stored account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub citizen_id: Option<String>,
    pub phone: String,
    pub full_name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub branch_code: Option<String>,
    pub agency_code: Option<String>,
    /// Set while an administrator has disabled the account (no sign-in).
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Citizen)
    }

    pub fn info(&self) -> UserInfo {
        UserInfo {
            id: self.id.to_string(),
            full_name: self.full_name.clone(),
            role: self.role(),
            citizen_id: self.citizen_id.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            branch: self.branch_code.clone(),
            agency: self.agency_code.clone(),
        }
    }
}

/// An account to create (already validated and normalised).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub citizen_id: Option<String>,
    pub phone: String,
    pub full_name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: Role,
    pub branch_code: Option<String>,
    /// For an agency officer (and nobody else): their agency.
    pub agency_code: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this citizen id or phone exists")]
    Exists,
    #[error("the branch or agency does not exist")]
    UnknownBranch,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const USER_COLUMNS: &str =
    "id, citizen_id, phone, full_name, email, password_hash, role, branch_code, agency_code, disabled_at";

pub async fn create_user(db: &Db, user: &NewUser) -> Result<Uuid, CreateUserError> {
    let id = Uuid::now_v7();
    let result = on_db!(db, write, pool => {
        sqlx::query(
            "INSERT INTO users (id, citizen_id, phone, full_name, email, password_hash, role, branch_code, created_at, agency_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(&user.citizen_id)
        .bind(&user.phone)
        .bind(&user.full_name)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(&user.branch_code)
        .bind(Utc::now())
        .bind(&user.agency_code)
        .execute(pool)
        .await.map(|r| r.rows_affected())
    });
    match result {
        Ok(_) => Ok(id),
        Err(e) if is_unique_violation(&e) => Err(CreateUserError::Exists),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(CreateUserError::UnknownBranch),
        Err(e) => Err(e.into()),
    }
}

pub async fn find_user(db: &Db, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)
}

/// The account a login name designates: a 12-digit citizen id, or a phone number.
pub async fn find_by_login(db: &Db, login: &str) -> Result<Option<User>, sqlx::Error> {
    let compact: String = login.chars().filter(|c| !c.is_whitespace()).collect();
    let (column, value) = if compact.len() == 12 && compact.bytes().all(|b| b.is_ascii_digit()) {
        ("citizen_id", compact)
    } else if let Some(phone) = motcua_domain::ids::normalize_phone(login) {
        ("phone", phone)
    } else {
        return Ok(None);
    };
    let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1"));
    on_db!(db, read, pool => sqlx::query_as(sql).bind(&value).fetch_optional(pool).await)
}

/// The canonical form of a login name, for throttling (so "0912 345 678" and
/// "+84912345678" count as one).
pub fn canonical_login(login: &str) -> String {
    let compact: String = login.chars().filter(|c| !c.is_whitespace()).collect();
    motcua_domain::ids::normalize_phone(&compact).unwrap_or(compact.to_lowercase())
}

/// Signs an access token for `user`, in sign-in `family`.
pub fn issue_access(app: &AppState, user: &User, family: Uuid, now: DateTime<Utc>) -> anyhow::Result<(String, u64)> {
    let ttl = app.config.access_token_ttl.as_secs();
    let claims = Claims {
        iss: app.config.issuer.clone(),
        aud: app.config.issuer.clone(),
        sub: user.id.to_string(),
        role: user.role(),
        branch: user.branch_code.clone(),
        agency: user.agency_code.clone(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: now.timestamp() + ttl as i64,
        fam: family.to_string(),
    };
    let signing = app.keys.signing();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(signing.kid.clone());
    Ok((jsonwebtoken::encode(&header, &claims, &signing.key)?, ttl))
}

/// Verifies an access token: EdDSA only, known key id, issuer, audience, expiry, not-before.
pub async fn verify_access(app: &AppState, token: &str) -> Result<Claims, ApiError> {
    const LEEWAY: i64 = 30;
    let cache_key = verified::key(token);
    if let Some(hit) = app.verified.get(&cache_key, chrono::Utc::now().timestamp(), LEEWAY)
        && app.keys.trusts(&hit.kid)
    {
        return Ok(hit.claims);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| ApiError::Unauthorized)?;
    if header.alg != Algorithm::EdDSA {
        return Err(ApiError::Unauthorized);
    }
    let kid = header.kid.ok_or(ApiError::Unauthorized)?;
    let key = app.keys.verifying(&app.db, &kid).await?.ok_or(ApiError::Unauthorized)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&app.config.issuer]);
    validation.set_audience(&[&app.config.issuer]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY as u64;
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|_| ApiError::Unauthorized)?;
    app.verified.insert(cache_key, verified::Verified { claims: claims.clone(), kid });
    Ok(claims)
}

/// The authenticated caller (a valid `Authorization: Bearer` access token).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
    pub branch: Option<String>,
    /// The sign-in (refresh token family) the access token belongs to.
    pub family: Uuid,
    /// The agency of an agency officer.
    pub agency: Option<String>,
}

impl AuthUser {
    /// Refuses callers without one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or(ApiError::Unauthorized)?;
        let claims = verify_access(app, token.trim()).await?;
        let id = Uuid::parse_str(&claims.sub).map_err(|_| ApiError::Unauthorized)?;
        let family = Uuid::parse_str(&claims.fam).map_err(|_| ApiError::Unauthorized)?;
        if app.revocations.is_revoked(&app.db, family).await? {
            return Err(ApiError::Unauthorized);
        }
        Ok(AuthUser { id, role: claims.role, branch: claims.branch, family, agency: claims.agency })
    }
}

/// A fresh opaque refresh token: 256 random bits, URL-safe.
fn new_refresh_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The successor of refresh token `presented`: HMAC-SHA256 of it under the server's
/// `refresh-successor` secret. Derived, not drawn, so that presenting the same token again
/// within the grace period gives back the same successor (only hashes are stored, so the
/// server could not otherwise return it), and only the server can compute it.
fn successor_of(secret: &[u8], presented: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"refresh-successor:");
    mac.update(presented.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Starts a new refresh-token family (a login) for `user_id`; returns the token and the
/// family id.
pub async fn start_family(app: &AppState, user_id: Uuid, now: DateTime<Utc>) -> anyhow::Result<(String, Uuid)> {
    let token = new_refresh_token()?;
    let family = Uuid::now_v7();
    let expires = now + TimeDelta::from_std(app.config.refresh_token_ttl)?;
    on_db!(&app.db, write, pool => {
        sqlx::query(
            "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(family)
        .bind(user_id)
        .bind(token_hash(&token))
        .bind(now)
        .bind(expires)
        .execute(pool)
        .await.map(|r| r.rows_affected())
    })?;
    Ok((token, family))
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    id: Uuid,
    family_id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// `used_at` and `revoked_at` of a successor token.
type SuccessorState = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// A new refresh token of the same family, for this user.
    Rotated { user_id: Uuid, family: Uuid, token: String },
    /// Unknown, expired or revoked: sign in again.
    Invalid,
    /// An already-used token outside the grace period: the family is revoked.
    ReuseDetected,
}

/// Rotates `presented`: marks it used and issues its successor (see [`successor_of`]). A
/// token presented again within the grace period (a retry after a lost response, or
/// concurrent retries) gets the *same* successor back as long as that one is unused; any
/// other reuse revokes the whole family (RFC 9700 §4.14.2).
pub async fn rotate(app: &AppState, presented: &str, now: DateTime<Utc>) -> anyhow::Result<Rotation> {
    let hash = token_hash(presented);
    let next = successor_of(&app.secrets.refresh_successor, presented);
    let next_hash = token_hash(&next);
    let grace = TimeDelta::from_std(app.config.refresh_grace)?;
    let expires = now + TimeDelta::from_std(app.config.refresh_token_ttl)?;
    on_db!(&app.db, write, pool => {
        let mut tx = pool.begin_write().await?;
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(Rotation::Invalid) };
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        let claimed = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(row.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if claimed == 1 {
            sqlx::query(
                "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(row.family_id)
            .bind(row.user_id)
            .bind(&next_hash)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated { user_id: row.user_id, family: row.family_id, token: next });
        }
        // Already used: within the grace period, and while its successor is still unused
        // and alive, the same successor goes back; otherwise this is reuse.
        let used_at: Option<DateTime<Utc>> = match row.used_at {
            Some(at) => Some(at),
            None => sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE id = $1").bind(row.id).fetch_one(&mut *tx).await?,
        };
        let successor: Option<SuccessorState> =
            sqlx::query_as("SELECT used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 AND family_id = $2")
                .bind(&next_hash)
                .bind(row.family_id)
                .fetch_optional(&mut *tx)
                .await?;
        let in_grace = used_at.is_some_and(|at| now - at <= grace);
        if in_grace && matches!(successor, Some((None, None))) {
            return Ok(Rotation::Rotated { user_id: row.user_id, family: row.family_id, token: next });
        }
        sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(row.family_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        app.revocations.mark_revoked(row.family_id);
        Ok(Rotation::ReuseDetected)
    })
}

/// Revokes the family of `presented` (logout). Unknown tokens are ignored.
pub async fn revoke_family(app: &AppState, presented: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let family: Option<Uuid> = on_db!(&app.db, write, pool => {
        sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash(presented))
            .fetch_optional(pool)
            .await
    })?;
    let Some(family) = family else { return Ok(()) };
    on_db!(&app.db, write, pool => {
        sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND family_id = $2")
            .bind(now)
            .bind(family)
            .execute(pool)
            .await.map(|r| r.rows_affected())
    })?;
    app.revocations.mark_revoked(family);
    crate::push::devices::forget_sign_in(&app.db, family).await?;
    Ok(())
}
