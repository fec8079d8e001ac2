//! The foreign traits the app implements (token storage, an optional HTTP stack, the
//! event listener), each with the adapter that plugs it into the matching
//! `motcua-client` trait. Adapters only forward calls.

use std::sync::Arc;

use motcua_client::{DossierStatusChange, HttpRequest, HttpResponse, OutboxEvent, StoredTokens, TransportError};

use crate::MotcuaError;

/// Secure storage of the session's tokens (Android Keystore, iOS Keychain). The calls are
/// short and synchronous.
#[uniffi::export(with_foreign)]
pub trait TokenStore: Send + Sync {
    fn load(&self) -> Option<StoredTokens>;
    fn save(&self, tokens: StoredTokens);
    fn clear(&self);
}

/// The app's HTTP stack (OkHttp, URLSession), if it does not want the built-in one.
/// `send` is called on a worker thread and may block until the answer is in: it returns
/// every answer whatever its status, never retries and never follows redirects, and throws
/// `Network` when no answer came (no network, refused, timed out, TLS).
#[uniffi::export(with_foreign)]
pub trait Transport: Send + Sync {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, MotcuaError>;
}

/// What happens in the background. Called on the client's threads: return quickly.
#[uniffi::export(with_foreign)]
pub trait EventListener: Send + Sync {
    fn on_outbox_event(&self, event: OutboxEvent);
    fn on_dossier_status_changed(&self, change: DossierStatusChange);
    fn on_signed_out(&self);
}

/// The token stores written in Rust, for apps and tools that want one: in memory (lost
/// when the process ends), or in a JSON file (desktop tools and tests; NOT secure storage:
/// a phone app keeps its tokens in the Keystore/Keychain through its own `TokenStore`).
struct RustTokens(Box<dyn motcua_client::TokenStore>);

impl TokenStore for RustTokens {
    fn load(&self) -> Option<StoredTokens> {
        self.0.load()
    }
    fn save(&self, tokens: StoredTokens) {
        self.0.save(tokens)
    }
    fn clear(&self) {
        self.0.clear()
    }
}

/// Tokens kept in memory only.
#[uniffi::export]
pub fn memory_token_store() -> Arc<dyn TokenStore> {
    Arc::new(RustTokens(Box::new(motcua_client::MemoryTokenStore::new())))
}

/// Tokens kept in a JSON file at `path` (written atomically; not secure storage).
#[uniffi::export]
pub fn file_token_store(path: String) -> Arc<dyn TokenStore> {
    Arc::new(RustTokens(Box::new(motcua_client::FileTokenStore::new(path))))
}

pub(crate) struct AppTokens(pub Arc<dyn TokenStore>);

impl motcua_client::TokenStore for AppTokens {
    fn load(&self) -> Option<StoredTokens> {
        self.0.load()
    }
    fn save(&self, tokens: StoredTokens) {
        self.0.save(tokens)
    }
    fn clear(&self) {
        self.0.clear()
    }
}

pub(crate) struct AppTransport(pub Arc<dyn Transport>);

#[async_trait::async_trait]
impl motcua_client::Transport for AppTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let app = self.0.clone();
        match tokio::task::spawn_blocking(move || app.send(request)).await {
            Ok(answer) => answer.map_err(|e| TransportError::Failed { reason: e.to_string() }),
            Err(_) => Err(TransportError::Failed { reason: "the app's transport panicked".to_owned() }),
        }
    }
}

pub(crate) struct AppListener(pub Arc<dyn EventListener>);

impl motcua_client::ClientListener for AppListener {
    fn on_outbox_event(&self, event: OutboxEvent) {
        self.0.on_outbox_event(event)
    }
    fn on_dossier_status_changed(&self, change: DossierStatusChange) {
        self.0.on_dossier_status_changed(change)
    }
    fn on_signed_out(&self) {
        self.0.on_signed_out()
    }
}
