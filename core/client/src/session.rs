//! Where tokens live: the [`TokenStore`] trait the app implements over the platform's
//! secure storage (Android Keystore, iOS Keychain), with an in-memory and a file
//! implementation for tests and tools.

use std::path::PathBuf;
use std::sync::Mutex;

/// The tokens of the signed-in account. Its `Debug` shows the expiry times, never the
/// tokens (records get logged).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at_ms: i64,
    pub refresh_expires_at_ms: i64,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |t: &str| format!("<{} characters>", t.chars().count());
        f.debug_struct("StoredTokens")
            .field("access_token", &hidden(&self.access_token))
            .field("refresh_token", &hidden(&self.refresh_token))
            .field("access_expires_at_ms", &self.access_expires_at_ms)
            .field("refresh_expires_at_ms", &self.refresh_expires_at_ms)
            .finish()
    }
}

/// Secure storage of the session's tokens. Calls are short and synchronous.
pub trait TokenStore: Send + Sync {
    fn load(&self) -> Option<StoredTokens>;
    fn save(&self, tokens: StoredTokens);
    fn clear(&self);
}

/// Tokens in memory only (lost when the process ends).
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<StoredTokens>>,
}

impl MemoryTokenStore {
    pub fn new() -> MemoryTokenStore {
        MemoryTokenStore::default()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Option<StoredTokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn save(&self, tokens: StoredTokens) {
        *self.tokens.lock().unwrap_or_else(|e| e.into_inner()) = Some(tokens);
    }

    fn clear(&self) {
        *self.tokens.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Tokens in a JSON file (tests and desktop tools; NOT secure storage). Writes go to a
/// temporary file renamed over the old one, so a crash never leaves half a file.
#[derive(Debug)]
pub struct FileTokenStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileTokenStore {
    pub fn new(path: impl Into<PathBuf>) -> FileTokenStore {
        FileTokenStore { path: path.into(), lock: Mutex::new(()) }
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> Option<StoredTokens> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = std::fs::read(&self.path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn save(&self, tokens: StoredTokens) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = self.path.with_extension("tmp");
        let written = serde_json::to_vec(&tokens)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            tracing::error!(error = %e, "could not save the session tokens");
        }
    }

    fn clear(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(error = %e, "could not remove the session tokens");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let t = StoredTokens {
            access_token: "eyJhbGciOi.secret".into(),
            refresh_token: "r-secret".into(),
            access_expires_at_ms: 1,
            refresh_expires_at_ms: 2,
        };
        let printed = format!("{t:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("access_expires_at_ms: 1") && printed.contains("<17 characters>"), "{printed}");
    }
}
