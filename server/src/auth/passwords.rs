//! Password hashing with Argon2id (PHC strings), run off the async threads, and a dummy
//! verification for unknown accounts so a login takes as long whether or not one exists.

use std::sync::LazyLock;

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
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let hash = stored.or_else(|| DUMMY_HASH.clone()).unwrap_or_default();
        let ok = Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok();
        ok && real
    })
    .await
    .map_err(Into::into)
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
}
