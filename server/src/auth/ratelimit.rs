//! Rate limits of login, registration and verification.
//!
//! - Per client network (an IPv4 address, or the /64 of an IPv6 address, which one
//!   subscriber usually holds whole): an in-memory token bucket in each process (so with N
//!   processes behind a balancer the effective limit is up to N times the configured one;
//!   the edge proxy is the place for a global cap — see ARCHITECTURE.md). Its memory is
//!   bounded by two generations of buckets that are swapped, never scanned.
//! - Per login name: decaying attempt counters in the database, shared by every process,
//!   under a hash of the name whether or not such an account exists (so the answer never
//!   tells). An attempt is *claimed* by one atomic upsert before the password is checked,
//!   so concurrent guesses cannot all get through. Two counters are claimed: one per name
//!   and client network (small: a stranger's guesses never lock the owner out from
//!   elsewhere) and one per name alone (a much higher ceiling against guessing from many
//!   networks). Both drain continuously: a full counter is empty again after
//!   [`LoginThrottle::drain`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::on_db;
use crate::seed::hex;

/// Buckets of one generation before it is retired early (the limiter then holds at most
/// twice this many).
const GENERATION_CAP: usize = 50_000;

/// The network a client address stands for in rate limits: an IPv4 address as is, an
/// IPv6 address by its /64 (IPv4-mapped IPv6 addresses count as their IPv4 address).
pub fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

#[derive(Debug, Default)]
struct Generations {
    current: HashMap<IpAddr, (f64, Instant)>,
    previous: HashMap<IpAddr, (f64, Instant)>,
    started: Option<Instant>,
}

/// A token bucket per client network: `per_minute` attempts, refilled continuously.
///
/// Buckets live in two generations: lookups move a bucket into the current one; the
/// previous one is dropped whole when the current one is a minute old (its buckets were
/// idle for a minute, so they were full: forgetting them changes nothing) or holds
/// [`GENERATION_CAP`] buckets (then a flood of new addresses may forget a partly used
/// bucket, which errs towards letting a request through). Every operation is O(1)
/// amortised and the memory is bounded; the dropped generation is freed outside the lock.
#[derive(Debug)]
pub struct AddressLimiter {
    per_minute: f64,
    buckets: Mutex<Generations>,
}

impl AddressLimiter {
    pub fn new(per_minute: u32) -> Self {
        AddressLimiter { per_minute: f64::from(per_minute.max(1)), buckets: Mutex::new(Generations::default()) }
    }

    /// [`AddressLimiter::check`] as the API's 429 (with its `Retry-After`).
    pub fn admit(&self, ip: IpAddr) -> Result<(), crate::error::ApiError> {
        self.check(ip).map_err(|retry_after_secs| crate::error::ApiError::RateLimited { retry_after_secs })
    }

    /// Takes one token for the network of `ip`; `Err(seconds)` says how long until the next one.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.check_at(network_of(ip), Instant::now())
    }

    fn check_at(&self, key: IpAddr, now: Instant) -> Result<(), u64> {
        let rate = self.per_minute / 60.0;
        let mut retired = HashMap::new();
        let outcome = {
            let mut g = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
            let started = *g.started.get_or_insert(now);
            if now.duration_since(started) >= Duration::from_secs(60) || g.current.len() >= GENERATION_CAP {
                let current = std::mem::take(&mut g.current);
                retired = std::mem::replace(&mut g.previous, current);
                g.started = Some(now);
            }
            let bucket = match g.current.get(&key) {
                Some(b) => *b,
                None => g.previous.remove(&key).unwrap_or((self.per_minute, now)),
            };
            let (mut tokens, at) = bucket;
            tokens = (tokens + now.duration_since(at).as_secs_f64() * rate).min(self.per_minute);
            let outcome = if tokens >= 1.0 {
                tokens -= 1.0;
                Ok(())
            } else {
                Err(((1.0 - tokens) / rate).ceil() as u64)
            };
            g.current.insert(key, (tokens, now));
            outcome
        };
        drop(retired);
        outcome
    }

    /// Buckets held (both generations).
    pub fn tracked(&self) -> usize {
        let g = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        g.current.len() + g.previous.len()
    }
}

/// The throttle key of a login name alone (never stored in clear).
pub fn login_key(login: &str) -> String {
    hex(&Sha256::digest(format!("login:{login}").as_bytes()))
}

/// The throttle key of a login name tried from one client network.
pub fn login_network_key(login: &str, ip: IpAddr) -> String {
    hex(&Sha256::digest(format!("login:{login}@{}", network_of(ip)).as_bytes()))
}

/// The throttle key of verification codes sent to one phone number.
pub fn sms_key(phone: &str) -> String {
    hex(&Sha256::digest(format!("sms:{phone}").as_bytes()))
}

/// A decaying attempt counter: at most `capacity` attempts, draining completely in `drain`.
#[derive(Debug, Clone, Copy)]
pub struct Counter {
    pub capacity: u32,
    pub drain: Duration,
}

impl Counter {
    fn per_ms(&self) -> f64 {
        f64::from(self.capacity.max(1)) / (self.drain.as_millis().max(1) as f64)
    }
}

/// The counters a login claims (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    /// Per login name and client network.
    pub per_network: Counter,
    /// Per login name, from anywhere.
    pub per_account: Counter,
}

/// Claims one attempt on `key`: one atomic upsert that drains the counter to `now`, adds
/// one and keeps the change only if the result is within the capacity. `Ok(())` means the
/// attempt may proceed; `Err(seconds)` how long until one would be allowed.
pub async fn claim(db: &Db, key: &str, counter: Counter, now: DateTime<Utc>) -> Result<Result<(), u64>, sqlx::Error> {
    const DRAINED: &str = "(CASE WHEN login_attempts.score - ($2 - login_attempts.updated_ms) * $3 > 0 \
         THEN login_attempts.score - ($2 - login_attempts.updated_ms) * $3 ELSE 0 END)";
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO login_attempts (key, score, updated_ms) VALUES ($1, 1.0, $2) \
         ON CONFLICT (key) DO UPDATE SET score = {DRAINED} + 1.0, updated_ms = $2 \
         WHERE {DRAINED} + 1.0 <= $4 RETURNING score"
    ));
    let now_ms = now.timestamp_millis();
    let per_ms = counter.per_ms();
    let claimed: Option<f64> = on_db!(db, write, pool => {
        sqlx::query_scalar(sql)
            .bind(key)
            .bind(now_ms)
            .bind(per_ms)
            .bind(f64::from(counter.capacity.max(1)))
            .fetch_optional(pool)
            .await
    })?;
    if claimed.is_some() {
        return Ok(Ok(()));
    }
    let row: Option<(f64, i64)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT score, updated_ms FROM login_attempts WHERE key = $1").bind(key).fetch_optional(pool).await
    })?;
    let wait_ms = row.map_or(0.0, |(score, at)| {
        let drained = (score - (now_ms - at) as f64 * per_ms).max(0.0);
        (drained + 1.0 - f64::from(counter.capacity.max(1))) / per_ms
    });
    Ok(Err(((wait_ms / 1000.0).ceil() as u64).max(1)))
}

/// Gives back one claimed attempt on `key` (a successful login, or an attempt that was not
/// made after all).
pub async fn refund(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    on_db!(db, write, pool => {
        sqlx::query("UPDATE login_attempts SET score = CASE WHEN score > 1.0 THEN score - 1.0 ELSE 0 END WHERE key = $1")
            .bind(key)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Forgets `key` (a successful login clears its own network's counter).
pub async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    on_db!(db, write, pool => sqlx::query("DELETE FROM login_attempts WHERE key = $1").bind(key).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

// --- failure counting of the public dossier look-up ------------------------------------
// (kept for `dossiers::public` until it moves to [`claim`]; the login no longer uses it)

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn ipv6_addresses_of_one_slash_64_share_a_bucket() {
        let limiter = AddressLimiter::new(2);
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(b).is_ok());
        assert!(limiter.check(a).is_err(), "the /64 has used its two attempts");
        assert!(limiter.check(other).is_ok(), "another /64 is another client");
        let mapped: IpAddr = "::ffff:10.0.0.9".parse().expect("ip");
        assert_eq!(network_of(mapped), IpAddr::from([10, 0, 0, 9]));
    }

    #[test]
    fn memory_is_bounded_under_a_flood_of_addresses() {
        let limiter = AddressLimiter::new(5);
        let start = Instant::now();
        let flood = 3 * GENERATION_CAP + 17;
        for i in 0..flood {
            let ip = IpAddr::from((0x0a00_0000u32 + i as u32).to_be_bytes());
            assert!(limiter.check_at(ip, start).is_ok());
        }
        assert!(limiter.tracked() <= 2 * GENERATION_CAP, "{}", limiter.tracked());
        // A bucket in use survives a generation change forced by a flood of new addresses.
        let busy = IpAddr::from([192, 168, 0, 1]);
        for _ in 0..5 {
            assert!(limiter.check_at(busy, start).is_ok());
        }
        for i in 0..GENERATION_CAP {
            let ip = IpAddr::from((0x0b00_0000u32 + i as u32).to_be_bytes());
            assert!(limiter.check_at(ip, start).is_ok());
        }
        assert!(limiter.check_at(busy, start).is_err(), "still empty after the swap");
    }
}
