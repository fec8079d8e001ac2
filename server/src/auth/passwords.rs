//! Password hashing with Argon2id (PHC strings), run off the async threads, a dummy
//! verification for unknown accounts so a login takes as long whether or not one exists,
//! and the [`Hasher`] that bounds how many hashes run at once (each takes about 19 MiB).
//!
//! The server's hashes run on the [`Hasher`]'s own threads, as many as it allows at once,
//! rather than on tokio's blocking pool: the allocator keeps freed Argon2 memory per thread
//! (arena), so spreading hashes over the pool's up to 512 threads leaves the process far
//! larger after a burst than the bound on concurrent hashes would say.

use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::ApiError;

use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// A hash that no password matches, verified when the account does not exist.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_blocking("motcua-dummy-password-for-timing").ok());

/// The largest Argon2 memory a stored hash may ask for (64 MiB; the default is 19 MiB).
const MAX_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// Argon2's working memory, allocated once per thread and reused by every hash on it,
    /// so memory stays at (threads × 19 MiB) however many hashes run.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs Argon2 with `params` over this thread's reusable memory.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    pwd: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> anyhow::Result<()> {
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        anyhow::bail!("argon2: {blocks} KiB of memory is more than allowed");
    }
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(pwd, salt, out, &mut memory[..blocks])
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(Algorithm::Argon2id, Version::V0x13, params.clone(), password.as_bytes(), &salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` gives `stored` (a PHC string of Argon2), compared in constant time.
fn matches(password: &str, stored: &str) -> bool {
    let check = || -> anyhow::Result<bool> {
        let phc = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("PHC string: {e}"))?;
        let algorithm = Algorithm::try_from(phc.algorithm.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let version = Version::try_from(phc.version.unwrap_or(0x13)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let params = Params::try_from(&phc).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return Ok(false) };
        let expected = expected.as_bytes();
        let mut out = vec![0u8; expected.len()];
        argon2_into(algorithm, version, params, password.as_bytes(), salt.as_ref(), &mut out)?;
        Ok(out.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
    };
    check().unwrap_or_else(|e| {
        tracing::error!(error = format!("{e:#}"), "a stored password hash could not be checked");
        false
    })
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
    /// Jobs for the hashing threads (they stop when the hasher is dropped).
    jobs: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

impl Hasher {
    pub fn new(concurrency: usize, queue_wait: Duration) -> Self {
        let concurrency = concurrency.clamp(1, Semaphore::MAX_PERMITS);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..concurrency {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("motcua-hash-{i}")).spawn(move || {
                loop {
                    let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Hasher { permits: Arc::new(Semaphore::new(concurrency)), queue_wait, jobs: tx }
    }

    /// Runs `work` on a hashing thread (the caller holds a turn, so one is free).
    async fn on_thread<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        self.jobs.send(job).map_err(|_| anyhow::anyhow!("the password hashing threads are gone"))?;
        rx.await.map_err(|_| anyhow::anyhow!("a password hashing thread stopped"))
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
        let hashed = self
            .on_thread(move || {
                let _permit = permit;
                hash_blocking(&password)
            })
            .await??;
        Ok(hashed)
    }

    /// [`verify`] within `turn` (taken by the caller, so it can claim other limits first).
    pub async fn verify(
        &self,
        turn: OwnedSemaphorePermit,
        password: String,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        self.on_thread(move || {
            let _permit = turn;
            verify_blocking(&password, stored)
        })
        .await
    }
}

fn verify_blocking(password: &str, stored: Option<String>) -> bool {
    let real = stored.is_some();
    let hash = stored.or_else(|| DUMMY_HASH.clone()).unwrap_or_default();
    let ok = matches(password, &hash);
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

    #[test]
    fn hashes_interoperate_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_blocking("mat khau 123").expect("hash");
        assert!(Argon2::default().verify_password(b"mat khau 123", ours.as_str()).is_ok(), "{ours}");
        let theirs = Argon2::default().hash_password(b"mat khau 456").expect("hash").to_string();
        assert!(matches("mat khau 456", &theirs));
        assert!(!matches("mat khau 457", &theirs));
        assert!(!matches("x", "not a phc string"));
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
