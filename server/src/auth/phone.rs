//! Registration with a verified phone: a registration is held as a *challenge* (the
//! account's details, its password hash and a hashed six-digit code sent by SMS) until the
//! code comes back; only then is the account created. Nobody can therefore hold an account
//! on someone else's phone number, and the answer to a registration is the same whether or
//! not the number already has an account: the owner of an existing account gets a notice
//! by SMS instead of a code, and that challenge can never be verified.
//!
//! Codes live `phone_code_ttl`, allow [`MAX_CODE_ATTEMPTS`] guesses (each claimed by one
//! atomic update before the comparison) and are sent at most [`SMS_PER_PHONE`] times per
//! [`SMS_WINDOW`] per number.

use std::time::Duration;

use chrono::{DateTime, TimeDelta};
use motcua_domain::form::{FieldError, FieldErrorCode};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ratelimit::{self, Counter};
use super::{CreateUserError, NewUser, User};
use crate::app::AppState;
use crate::error::{ApiError, Conflict};
use crate::on_db;
use crate::seed::hex;

/// Guesses allowed per code.
pub const MAX_CODE_ATTEMPTS: i32 = 5;
/// Messages per phone number per [`SMS_WINDOW`].
pub const SMS_PER_PHONE: u32 = 5;
pub const SMS_WINDOW: Duration = Duration::from_secs(3600);

/// A validated registration waiting for its phone.
#[derive(Debug, Clone)]
pub struct Pending {
    pub citizen_id: String,
    pub phone: String,
    pub full_name: String,
    pub email: Option<String>,
    pub password_hash: String,
}

fn code_hash(id: Uuid, code: &str) -> String {
    hex(&Sha256::digest(format!("phone-code:{id}:{code}").as_bytes()))
}

/// Six random digits.
fn new_code() -> anyhow::Result<String> {
    loop {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let n = u32::from_le_bytes(b);
        // Reject the top sliver so every code is equally likely.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

async fn phone_taken(app: &AppState, phone: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i32> = on_db!(&app.db, read, pool => {
        // A counter account (made at a walk-in intake, no password yet) is the citizen's to claim.
        sqlx::query_scalar("SELECT 1 FROM users WHERE phone = $1 AND password_hash <> $2")
            .bind(phone)
            .bind(super::counter::NO_PASSWORD)
            .fetch_optional(pool)
            .await
    })?;
    Ok(found.is_some())
}

/// Starts the verification of `pending.phone`: stores the challenge and sends the code (or,
/// when the number already has an account, a notice to its owner). Returns the
/// challenge id and its lifetime in seconds.
pub async fn start(app: &AppState, pending: Pending) -> Result<(Uuid, u64), ApiError> {
    let now = app.clock.now();
    let sms = Counter { capacity: SMS_PER_PHONE, drain: SMS_WINDOW };
    if let Err(retry_after_secs) = ratelimit::claim(&app.db, &ratelimit::sms_key(&pending.phone), sms, now).await? {
        return Err(ApiError::RateLimited { retry_after_secs });
    }
    let id = Uuid::now_v7();
    let code = new_code()?;
    let taken = phone_taken(app, &pending.phone).await?;
    let ttl = app.config.phone_code_ttl;
    let expires = now + TimeDelta::from_std(ttl).map_err(anyhow::Error::from)?;
    // A taken number gets a challenge too (same answer, same work), whose code is never sent.
    on_db!(&app.db, write, pool => {
        sqlx::query(
            "DELETE FROM phone_challenges WHERE id IN (SELECT id FROM phone_challenges WHERE expires_at < $1 LIMIT 100)",
        )
        .bind(now - TimeDelta::days(1))
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO phone_challenges (id, phone, citizen_id, full_name, email, password_hash, code_hash, attempts, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
        )
        .bind(id)
        .bind(&pending.phone)
        .bind(&pending.citizen_id)
        .bind(&pending.full_name)
        .bind(&pending.email)
        .bind(&pending.password_hash)
        .bind(code_hash(id, &code))
        .bind(now)
        .bind(expires)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    let minutes = ttl.as_secs().div_ceil(60);
    let text = if taken {
        "motcua: Có người vừa dùng số điện thoại này để đăng ký tài khoản mới. Số này đã có tài khoản: \
         nếu là bạn, hãy đăng nhập (hoặc đặt lại mật khẩu). Nếu không, bạn có thể bỏ qua tin nhắn này."
            .to_owned()
    } else {
        format!(
            "motcua: Mã xác minh số điện thoại của bạn là {code} (hiệu lực {minutes} phút). Không chia sẻ mã này với ai."
        )
    };
    app.sms.send(&pending.phone, &text).await?;
    metrics::counter!("motcua_phone_challenges_total").increment(1);
    Ok((id, ttl.as_secs()))
}

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    code_hash: String,
    phone: String,
    citizen_id: String,
    full_name: String,
    email: Option<String>,
    password_hash: String,
}

fn expired_challenge() -> ApiError {
    ApiError::Validation(vec![FieldError::new("verification_id", FieldErrorCode::Invalid)])
}

/// Verifies `code` for challenge `id`: claims one attempt atomically (unknown, used,
/// expired or exhausted challenges fail here), compares, and on a match consumes the
/// challenge and creates the account.
pub async fn verify(app: &AppState, id: &str, code: &str) -> Result<User, ApiError> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| expired_challenge())?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::field("code", FieldErrorCode::Invalid));
    }
    let now: DateTime<_> = app.clock.now();
    let row: Option<ChallengeRow> = on_db!(&app.db, write, pool => {
        sqlx::query_as(
            "UPDATE phone_challenges SET attempts = attempts + 1 \
             WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2 AND attempts < $3 \
             RETURNING code_hash, phone, citizen_id, full_name, email, password_hash",
        )
        .bind(id)
        .bind(now)
        .bind(MAX_CODE_ATTEMPTS)
        .fetch_optional(pool)
        .await
    })?;
    let row = row.ok_or_else(expired_challenge)?;
    if row.code_hash != code_hash(id, &code) {
        metrics::counter!("motcua_phone_verifications_total", "outcome" => "wrong_code").increment(1);
        return Err(ApiError::field("code", FieldErrorCode::Invalid));
    }
    let consumed = on_db!(&app.db, write, pool => {
        sqlx::query("UPDATE phone_challenges SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    if consumed == 0 {
        return Err(expired_challenge());
    }
    let new = NewUser {
        citizen_id: Some(row.citizen_id),
        phone: row.phone,
        full_name: row.full_name,
        email: row.email,
        password_hash: row.password_hash,
        role: motcua_domain::wire::Role::Citizen,
        branch_code: None,
        agency_code: None,
    };
    // The number's own code and the same citizen id: an account made for them at the
    // counter becomes theirs (with their dossiers), instead of a second account.
    let claimed = super::counter::claim(&app.db, &new).await?;
    let created = match claimed {
        Some(id) => Ok(id),
        None => super::create_user(&app.db, &new).await,
    };
    let user_id = match created {
        Ok(id) => id,
        // Only reachable with the number's own code: the citizen id is registered to
        // another phone (the number itself was free when the code was sent).
        Err(CreateUserError::Exists) => return Err(ApiError::Conflict(Conflict::AccountExists)),
        Err(CreateUserError::UnknownBranch) => {
            return Err(ApiError::internal("a citizen account was refused for an unknown branch"));
        }
        Err(CreateUserError::Db(e)) => return Err(e.into()),
    };
    metrics::counter!("motcua_phone_verifications_total", "outcome" => "verified").increment(1);
    super::find_user(&app.db, user_id).await?.ok_or_else(|| ApiError::internal("an account just created is gone"))
}
