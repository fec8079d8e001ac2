//! Rate limits of login and registration.
//!
//! - Per client address: an in-memory token bucket in each process (so with N processes
//!   behind a balancer the effective limit is up to N times the configured one; the edge
//!   proxy is the place for a global cap — see ARCHITECTURE.md).
//! - Per account: failed logins counted in the database under a hash of the login name,
//!   whether or not such an account exists (so the answer never tells), shared by every
//!   process; after `free` failures each further one doubles the wait, up to 15 minutes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use crate::db::{BeginWrite, Db};
use crate::on_db;
use crate::seed::hex;

/// Longest wait imposed on one login name.
const MAX_LOCK_SECS: i64 = 15 * 60;
/// Buckets kept before idle ones are dropped.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug)]
pub struct AddressLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl AddressLimiter {
    pub fn new(per_minute: u32) -> Self {
        AddressLimiter { per_minute: f64::from(per_minute.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// [`AddressLimiter::check`] as the API's 429 (with its `Retry-After`).
    pub fn admit(&self, ip: IpAddr) -> Result<(), crate::error::ApiError> {
        self.check(ip).map_err(|retry_after_secs| crate::error::ApiError::RateLimited { retry_after_secs })
    }

    /// Takes one token for `ip`; `Err(seconds)` says how long until the next one.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let rate = self.per_minute / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let capacity = self.per_minute;
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < capacity);
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.per_minute, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil() as u64)
        }
    }
}

/// The throttle key of a login name (never stored in clear).
pub fn login_key(login: &str) -> String {
    hex(&Sha256::digest(format!("login:{login}").as_bytes()))
}

#[derive(sqlx::FromRow)]
struct ThrottleRow {
    locked_until: Option<DateTime<Utc>>,
}

/// Seconds the login name must still wait, if it is locked.
pub async fn locked_for(db: &Db, key: &str, now: DateTime<Utc>) -> Result<Option<u64>, sqlx::Error> {
    let row: Option<ThrottleRow> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT locked_until FROM login_throttle WHERE key = $1").bind(key).fetch_optional(pool).await
    })?;
    Ok(row
        .and_then(|r| r.locked_until)
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1) as u64))
}

/// Counts one failed login (one atomic upsert, safe under concurrent attempts from many
/// processes); returns the failures so far.
pub async fn record_failure(db: &Db, key: &str, free: u32, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    on_db!(db, write, pool => {
        let mut tx = pool.begin_write().await?;
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES ($1, 1, NULL, $2) \
             ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1, updated_at = excluded.updated_at \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(wait) = lock_secs(failures, free) {
            sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE key = $2")
                .bind(now + TimeDelta::seconds(wait))
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(failures)
    })
}

/// After `free` failures, each further failure doubles the wait: 1 s, 2 s, 4 s, ... 15 min.
fn lock_secs(failures: i64, free: u32) -> Option<i64> {
    let over = failures - i64::from(free);
    (over > 0).then(|| 1i64.checked_shl((over - 1).min(30) as u32).unwrap_or(MAX_LOCK_SECS).min(MAX_LOCK_SECS))
}

/// Forgets the failures of a login name after a successful login.
pub async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    on_db!(db, write, pool => sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_doubles_up_to_fifteen_minutes() {
        assert_eq!(lock_secs(5, 5), None);
        assert_eq!(lock_secs(6, 5), Some(1));
        assert_eq!(lock_secs(7, 5), Some(2));
        assert_eq!(lock_secs(10, 5), Some(16));
        assert_eq!(lock_secs(40, 5), Some(MAX_LOCK_SECS));
    }

    #[test]
    fn bucket_empties_then_refuses() {
        let limiter = AddressLimiter::new(3);
        let ip = IpAddr::from([10, 0, 0, 1]);
        assert!(limiter.check(ip).is_ok());
        assert!(limiter.check(ip).is_ok());
        assert!(limiter.check(ip).is_ok());
        let wait = limiter.check(ip).expect_err("fourth attempt within a minute");
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.check(IpAddr::from([10, 0, 0, 2])).is_ok(), "other addresses are not affected");
    }
}
