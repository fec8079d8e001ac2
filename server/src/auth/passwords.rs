//! Password hashing with Argon2id (PHC strings), run off the async threads, a dummy
//! verification for unknown accounts so a login takes as long whether or not one exists,
//! and the [`Hasher`] that bounds how many hashes run at once (each takes about 19 MiB).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A hash that no password matches, verified when the account does not exist.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_blocking("motcua-dummy-password-for-timing").ok());

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// Hashes `password` with Argon2id default parameters and a random salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

/// Whether `password` matches `stored` (a PHC string). With `None`, spends the same time
/// on a dummy hash and answers false.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || verify_blocking(&password, stored)).await.map_err(Into::into)
}

/// Runs password hashes with at most `concurrency` at once. A caller that cannot get a turn
/// within `queue_wait` is answered 503 with `Retry-After` (the server is overloaded; the
/// phone retries), instead of queueing without bound on the blocking pool.
#[derive(Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    queue_wait: Duration,
}

impl Hasher {
    pub fn new(concurrency: usize, queue_wait: Duration) -> Self {
        Hasher { permits: Arc::new(Semaphore::new(concurrency.max(1))), queue_wait }
    }

    /// The default concurrency: twice the cores this process may use.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
    }

    /// A turn to hash, or the 503 that says to come back.
    pub async fn turn(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let overloaded = || {
            metrics::counter!("motcua_password_hash_rejected_total").increment(1);
            ApiError::Overloaded { retry_after_secs: 1 }
        };
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        match tokio::time::timeout(self.queue_wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(overloaded()),
        }
    }

    /// [`hash`] within a turn.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let permit = self.turn().await?;
        let hashed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_blocking(&password)
        })
        .await
        .map_err(anyhow::Error::from)??;
        Ok(hashed)
    }

    /// [`verify`] within `turn` (taken by the caller, so it can claim other limits first).
    pub async fn verify(
        &self,
        turn: OwnedSemaphorePermit,
        password: String,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        tokio::task::spawn_blocking(move || {
            let _permit = turn;
            verify_blocking(&password, stored)
        })
        .await
        .map_err(Into::into)
    }
}

fn verify_blocking(password: &str, stored: Option<String>) -> bool {
    let real = stored.is_some();
    let hash = stored.or_else(|| DUMMY_HASH.clone()).unwrap_or_default();
    let ok = Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip() -> anyhow::Result<()> {
        let h = hash("correct horse 1".into()).await?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse 1".into(), Some(h.clone())).await?);
        assert!(!verify("wrong".into(), Some(h)).await?);
        assert!(!verify("motcua-dummy-password-for-timing".into(), None).await?);
        Ok(())
    }

    #[tokio::test]
    async fn a_full_hasher_answers_overloaded() {
        let hasher = Hasher::new(1, Duration::from_millis(20));
        let held = hasher.turn().await.expect("the only turn");
        let refused = hasher.turn().await.expect_err("no second turn while the first is held");
        assert!(matches!(refused, ApiError::Overloaded { retry_after_secs: 1 }), "{refused:?}");
        drop(held);
        assert!(hasher.turn().await.is_ok(), "the turn comes back");
    }
}
