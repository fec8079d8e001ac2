//! The server API as the client speaks it: URLs, JSON bodies, the error shape, and the
//! session (bearer token, one refresh on expiry or 401, then "signed out").

use std::sync::Arc;

use motcua_domain::i18n::Lang;
use motcua_domain::wire::{ErrorBody, RefreshRequest, TokenResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::events::Events;
use crate::session::{StoredTokens, TokenStore};
use crate::transport::{HttpHeader, HttpRequest, HttpResponse, Transport};

/// Access tokens this close to expiry are refreshed before use.
const EXPIRY_SKEW_MS: i64 = 30_000;

pub(crate) struct Api {
    base: String,
    transport: Arc<dyn Transport>,
    tokens: Arc<dyn TokenStore>,
    refresh_lock: tokio::sync::Mutex<()>,
    events: Arc<Events>,
    lang: Lang,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn header(name: &str, value: impl Into<String>) -> HttpHeader {
    HttpHeader { name: name.to_owned(), value: value.into() }
}

impl Api {
    pub(crate) fn new(
        base_url: &str,
        transport: Arc<dyn Transport>,
        tokens: Arc<dyn TokenStore>,
        events: Arc<Events>,
        lang: Lang,
    ) -> Api {
        Api {
            base: base_url.trim_end_matches('/').to_owned(),
            transport,
            tokens,
            refresh_lock: tokio::sync::Mutex::new(()),
            events,
            lang,
        }
    }

    pub(crate) fn lang(&self) -> Lang {
        self.lang
    }

    pub(crate) fn tokens(&self) -> &Arc<dyn TokenStore> {
        &self.tokens
    }

    /// One request without credentials; any status comes back.
    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        mut headers: Vec<HttpHeader>,
        body: Vec<u8>,
    ) -> Result<HttpResponse> {
        headers.push(header("Accept-Language", self.lang.as_str()));
        let request = HttpRequest { method: method.to_owned(), url: format!("{}{path}", self.base), headers, body };
        Ok(self.transport.send(request).await?)
    }

    /// One request as the signed-in account: refreshes an expired access token first, and
    /// once more on a 401; a refused refresh signs out (tokens cleared, listener told).
    pub(crate) async fn send_authed(
        &self,
        method: &str,
        path: &str,
        headers: Vec<HttpHeader>,
        body: Vec<u8>,
    ) -> Result<HttpResponse> {
        let mut tokens = self.tokens.load().ok_or(Error::SignedOut)?;
        if tokens.access_expires_at_ms - EXPIRY_SKEW_MS <= now_ms() {
            tokens = self.refresh(&tokens).await?;
        }
        let with_token = |t: &StoredTokens| {
            let mut h = headers.clone();
            h.push(header("Authorization", format!("Bearer {}", t.access_token)));
            h
        };
        let response = self.send(method, path, with_token(&tokens), body.clone()).await?;
        if response.status != 401 {
            return Ok(response);
        }
        let tokens = self.refresh(&tokens).await?;
        let response = self.send(method, path, with_token(&tokens), body).await?;
        if response.status == 401 {
            self.signed_out();
            return Err(Error::SignedOut);
        }
        Ok(response)
    }

    /// Exchanges the refresh token, once for all concurrent callers holding `stale`.
    async fn refresh(&self, stale: &StoredTokens) -> Result<StoredTokens> {
        let _guard = self.refresh_lock.lock().await;
        let current = self.tokens.load().ok_or(Error::SignedOut)?;
        if current.access_token != stale.access_token && current.access_expires_at_ms - EXPIRY_SKEW_MS > now_ms() {
            return Ok(current);
        }
        let body = serde_json::to_vec(&RefreshRequest { refresh_token: current.refresh_token.clone() })?;
        let response =
            self.send("POST", "/api/v1/auth/refresh", vec![header("Content-Type", "application/json")], body).await?;
        if matches!(response.status, 400 | 401 | 403) {
            self.signed_out();
            return Err(Error::SignedOut);
        }
        let answer: TokenResponse = decode(check(response)?)?;
        let tokens = stored_tokens(&answer);
        self.tokens.save(tokens.clone());
        Ok(tokens)
    }

    fn signed_out(&self) {
        self.tokens.clear();
        self.events.signed_out();
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        decode(check(self.send_authed("GET", path, Vec::new(), Vec::new()).await?)?)
    }

    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        mut headers: Vec<HttpHeader>,
    ) -> Result<(u16, T)> {
        headers.push(header("Content-Type", "application/json"));
        let response = check(self.send_authed("POST", path, headers, serde_json::to_vec(body)?).await?)?;
        let status = response.status;
        Ok((status, decode(response)?))
    }
}

pub(crate) fn stored_tokens(answer: &TokenResponse) -> StoredTokens {
    let now = now_ms();
    let secs = |s: u64| i64::try_from(s).unwrap_or(i64::MAX / 2_000).saturating_mul(1000);
    StoredTokens {
        access_token: answer.access_token.clone(),
        refresh_token: answer.refresh_token.clone(),
        access_expires_at_ms: now.saturating_add(secs(answer.expires_in)),
        refresh_expires_at_ms: now.saturating_add(secs(answer.refresh_expires_in)),
    }
}

/// Passes a 2xx (or 304) answer through; turns any other into [`Error::Http`].
pub(crate) fn check(response: HttpResponse) -> Result<HttpResponse> {
    if (200..300).contains(&response.status) || response.status == 304 {
        return Ok(response);
    }
    let retry_after_secs = response.header("Retry-After").and_then(|v| v.trim().parse::<u64>().ok());
    let (code, message, fields) = match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(body) => (body.error.code, body.error.message, body.error.fields),
        Err(_) => (format!("http_{}", response.status), String::new(), Vec::new()),
    };
    Err(Error::Http { status: response.status, code, message, fields, retry_after_secs })
}

pub(crate) fn decode<T: DeserializeOwned>(response: HttpResponse) -> Result<T> {
    serde_json::from_slice(&response.body).map_err(|e| Error::BadResponse(e.to_string()))
}
