//! Which sign-ins (refresh-token families) are revoked, as seen by access tokens: each
//! process asks the database about a family at most once per `revocation_cache` and
//! remembers a revocation for good, so an access token of a revoked family stops working
//! within that time on every process (at once on the process that revoked it). The memory
//! is bounded: two generations of entries, the older dropped whole when the newer is full.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::db::Db;
use crate::on_db;

/// Entries of one generation (the cache holds at most twice this many).
const GENERATION_CAP: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Seen {
    revoked: bool,
    at: Instant,
}

#[derive(Debug, Default)]
struct Generations {
    current: HashMap<Uuid, Seen>,
    previous: HashMap<Uuid, Seen>,
}

#[derive(Debug)]
pub struct Revocations {
    ttl: Duration,
    seen: Mutex<Generations>,
}

impl Revocations {
    pub fn new(ttl: Duration) -> Self {
        Revocations { ttl, seen: Mutex::new(Generations::default()) }
    }

    fn remember(&self, family: Uuid, seen: Seen) {
        let retired = {
            let mut g = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let retired = if g.current.len() >= GENERATION_CAP {
                let current = std::mem::take(&mut g.current);
                Some(std::mem::replace(&mut g.previous, current))
            } else {
                None
            };
            g.current.insert(family, seen);
            retired
        };
        drop(retired);
    }

    fn cached(&self, family: Uuid) -> Option<Seen> {
        let g = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        g.current.get(&family).or_else(|| g.previous.get(&family)).copied()
    }

    /// This process revoked `family` itself.
    pub fn mark_revoked(&self, family: Uuid) {
        self.remember(family, Seen { revoked: true, at: Instant::now() });
    }

    /// Whether `family` is revoked (from the cache when fresh enough).
    pub async fn is_revoked(&self, db: &Db, family: Uuid) -> Result<bool, sqlx::Error> {
        if let Some(seen) = self.cached(family)
            && (seen.revoked || seen.at.elapsed() < self.ttl)
        {
            return Ok(seen.revoked);
        }
        let found: Option<i32> = on_db!(db, read, pool => {
            sqlx::query_scalar("SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NOT NULL LIMIT 1")
                .bind(family)
                .fetch_optional(pool)
                .await
        })?;
        let revoked = found.is_some();
        self.remember(family, Seen { revoked, at: Instant::now() });
        Ok(revoked)
    }
}
