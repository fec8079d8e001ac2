//! The fleet-wide send rate: messages per minute, counted in one database row per minute
//! (`push_rate`) and claimed in batches before sending, so the limit holds across every
//! worker of every process.

use chrono::{DateTime, Utc};

use crate::db::Db;
use crate::on_db;

/// The minute `now` falls in (minutes since the epoch).
pub fn minute_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(60)
}

/// When the minute after `now`'s begins.
pub fn next_minute(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp((minute_of(now) + 1) * 60, 0).unwrap_or(now)
}

/// Takes up to `want` sends from this minute's allowance of `limit`; returns how many
/// were granted (0 when the minute is used up). Each attempt is one atomic statement.
pub async fn claim(db: &Db, limit: u64, want: u64, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let minute = minute_of(now);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut want = i64::try_from(want).unwrap_or(i64::MAX).min(limit);
    for _ in 0..3 {
        if want <= 0 {
            return Ok(0);
        }
        let taken: Option<(i64,)> = on_db!(db, write, pool => {
            sqlx::query_as(
                "INSERT INTO push_rate (minute, used) VALUES ($1, $2) ON CONFLICT (minute) DO UPDATE \
                 SET used = push_rate.used + $2 WHERE push_rate.used + $2 <= $3 RETURNING used",
            )
            .bind(minute).bind(want).bind(limit)
            .fetch_optional(pool).await
        })?;
        if taken.is_some() {
            return Ok(want.unsigned_abs());
        }
        let used: Option<i64> = on_db!(db, write, pool => {
            sqlx::query_scalar("SELECT used FROM push_rate WHERE minute = $1").bind(minute).fetch_optional(pool).await
        })?;
        want = want.min(limit - used.unwrap_or(0));
    }
    Ok(0)
}

/// Gives back `unused` sends of the minute of `now` (claimed but not sent).
pub async fn refund(db: &Db, unused: u64, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    if unused == 0 {
        return Ok(());
    }
    let unused = i64::try_from(unused).unwrap_or(i64::MAX);
    on_db!(db, write, pool => {
        sqlx::query("UPDATE push_rate SET used = CASE WHEN used > $1 THEN used - $1 ELSE 0 END WHERE minute = $2")
            .bind(unused).bind(minute_of(at))
            .execute(pool).await.map(|_| ())
    })
}
