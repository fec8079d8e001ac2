//! Counting what an account (or a guesser) may still do, atomically in the database so
//! every process shares the count: a claim is taken *before* the work it pays for, in one
//! statement, so two requests at once can never both take the last unit.
//!
//! Per-account quotas over fixed windows (a minute, an hour, a local day): filing dossiers,
//! filing field reports, starting uploads, bytes uploaded. (Attempts at secrets — passwords, codes, tracking
//! verifiers — are counted by `auth::ratelimit::claim`.)

use chrono::{DateTime, Duration, DurationRound, NaiveTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::db::Db;
use crate::error::ApiError;
use crate::on_db;

/// What is being counted, with the window it is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    DossiersPerMinute,
    DossiersPerDay,
    UploadsPerDay,
    UploadBytesPerDay,
    ReportsPerHour,
}

impl Quota {
    fn kind(self) -> &'static str {
        match self {
            Quota::DossiersPerMinute => "dossiers/min",
            Quota::DossiersPerDay => "dossiers/day",
            Quota::UploadsPerDay => "uploads/day",
            Quota::UploadBytesPerDay => "upload_bytes/day",
            Quota::ReportsPerHour => "reports/hour",
        }
    }

    /// The start of the window holding `now`, and its length.
    fn window(self, now: DateTime<Utc>) -> (DateTime<Utc>, Duration) {
        match self {
            Quota::DossiersPerMinute => {
                (now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now), TimeDelta::minutes(1))
            }
            Quota::ReportsPerHour => (now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now), TimeDelta::hours(1)),
            _ => {
                // Local (UTC+7) midnight.
                let local = crate::dossiers::store::local_date(now);
                let start = local.and_time(NaiveTime::MIN).and_utc() - TimeDelta::hours(7);
                (start, TimeDelta::days(1))
            }
        }
    }
}

/// A claim to take inside a larger transaction (see [`claim_in_tx!`]), so that the units
/// are taken if and only if the work they pay for is stored.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub quota: Quota,
    pub amount: u64,
    pub cap: u64,
}

impl Claim {
    /// The statement's binds: kind, window start, amount, cap.
    pub fn binds(&self, now: DateTime<Utc>) -> (&'static str, DateTime<Utc>, i64, i64) {
        let (start, _) = self.quota.window(now);
        (
            self.quota.kind(),
            start,
            i64::try_from(self.amount).unwrap_or(i64::MAX),
            i64::try_from(self.cap).unwrap_or(i64::MAX),
        )
    }

    /// The 429 when the claim is refused.
    pub fn refused(&self, now: DateTime<Utc>) -> ApiError {
        let (start, length) = self.quota.window(now);
        metrics::counter!("motcua_quota_refusals_total", "quota" => self.quota.kind()).increment(1);
        let wait = (start + length - now).num_seconds().max(1);
        ApiError::QuotaExceeded { retry_after_secs: u64::try_from(wait).unwrap_or(1) }
    }
}

/// The claim statement: inserts or bumps the window's counter unless that passes the cap;
/// returns a row only when the units were taken.
pub const CLAIM_SQL: &str = "INSERT INTO quota_counters (account_id, kind, window_start, used) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (account_id, kind, window_start) DO UPDATE SET used = quota_counters.used + $4 \
     WHERE quota_counters.used + $4 <= $5 RETURNING used";

/// Takes a [`Claim`] inside the caller's transaction: evaluates to `true` when taken.
#[macro_export]
macro_rules! claim_in_tx {
    ($tx:expr, $account:expr, $claim:expr, $now:expr) => {{
        let claim: &$crate::quotas::Claim = $claim;
        let (kind, start, amount, cap) = claim.binds($now);
        let taken: Option<(i64,)> = if amount > cap {
            None
        } else {
            sqlx::query_as($crate::quotas::CLAIM_SQL)
                .bind($account)
                .bind(kind)
                .bind(start)
                .bind(amount)
                .bind(cap)
                .fetch_optional(&mut *$tx)
                .await?
        };
        taken.is_some()
    }};
}

/// Takes `amount` units of `quota` for `account` if `cap` allows it; otherwise a 429 that
/// says when the window turns. Nothing is taken when refused.
pub async fn claim(
    db: &Db,
    account: Uuid,
    quota: Quota,
    amount: u64,
    cap: u64,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let claim = Claim { quota, amount, cap };
    let (kind, start, amount, cap) = claim.binds(now);
    if amount > cap {
        return Err(claim.refused(now));
    }
    let claimed: Option<(i64,)> = on_db!(db, write, pool => {
        sqlx::query_as(CLAIM_SQL)
        .bind(account).bind(kind).bind(start).bind(amount).bind(cap)
        .fetch_optional(pool).await
    })?;
    if claimed.is_some() { Ok(()) } else { Err(claim.refused(now)) }
}

/// Forgets windows that have ended (run by the janitor).
pub async fn forget_old(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let day_ago = now - TimeDelta::days(2);
    // Attempt counters drain within the hour; a day untouched means empty.
    let drained_ms = day_ago.timestamp_millis();
    on_db!(db, write, pool => async {
        let quotas = sqlx::query("DELETE FROM quota_counters WHERE window_start < $1").bind(day_ago).execute(pool).await?;
        let attempts = sqlx::query("DELETE FROM login_attempts WHERE updated_ms < $1").bind(drained_ms).execute(pool).await?;
        Ok(quotas.rows_affected() + attempts.rows_affected())
    }.await)
}
