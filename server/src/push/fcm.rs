//! The FCM HTTP v1 client: a service-account key file, the OAuth 2 JWT-bearer grant (an
//! RS256 assertion posted to the key's `token_uri`), the access token cached and renewed
//! before it expires (one renewal at a time; a 401 renews once), and `messages:send` over
//! HTTP/2, each answer sorted into what the delivery workers must do with it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

/// The OAuth scope that lets a service account send messages.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// An access token is renewed when less than this is left of it.
const RENEW_BEFORE: Duration = Duration::from_secs(300);
const GRANT_TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

/// The fields of a service-account key file this client uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    pub project_id: String,
    pub client_email: String,
    #[serde(default)]
    pub private_key_id: Option<String>,
    pub private_key: String,
    pub token_uri: String,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<ServiceAccountKey> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a service-account key file", path.display()))
    }
}

/// What FCM (or the way to it) answered to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; FCM's name for the message.
    Sent(String),
    /// The registration token is dead (`UNREGISTERED`, `SENDER_ID_MISMATCH`, or
    /// `INVALID_ARGUMENT` about the token): deactivate it, do not retry.
    TokenDead(String),
    /// FCM refuses the message itself (`INVALID_ARGUMENT`): dead letter, no retry.
    Rejected(String),
    /// Worth another try later: 429, 5xx, 401 after a renewal, timeouts, broken
    /// connections. The code, and FCM's `Retry-After` if it gave one.
    Retry { code: String, retry_after: Option<Duration> },
}

#[derive(Clone)]
struct Cached {
    value: Arc<str>,
    renew_at: Instant,
}

/// A client for one Firebase project. Cheap to share (`Arc`).
pub struct FcmClient {
    /// One HTTP client per connection: HTTP/2 multiplexes each one's requests (FCM's
    /// front ends allow about 100 streams per connection).
    http: Vec<reqwest::Client>,
    key: ServiceAccountKey,
    signing: EncodingKey,
    send_url: String,
    token: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for FcmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmClient").field("send_url", &self.send_url).field("key", &self.key).finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize, Default)]
struct ErrorAnswer {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

impl ErrorBody {
    /// FCM's `errorCode` from the `FcmError` detail, else the gRPC status.
    fn code(&self) -> String {
        self.details
            .iter()
            .filter(|d| d["@type"].as_str().is_some_and(|t| t.ends_with("google.firebase.fcm.v1.FcmError")))
            .find_map(|d| d["errorCode"].as_str().map(str::to_owned))
            .unwrap_or_else(|| if self.status.is_empty() { "UNKNOWN".to_owned() } else { self.status.clone() })
    }
}

impl FcmClient {
    /// A client for `key`, sending to `base_url` (`https://fcm.googleapis.com`, or the
    /// emulator). HTTP/2 unless `http1`: on a plain `http://` base with prior knowledge
    /// (h2c), on `https://` negotiated by ALPN.
    pub fn new(
        key: ServiceAccountKey,
        base_url: &str,
        http1: bool,
        timeout: Duration,
        connections: usize,
    ) -> anyhow::Result<FcmClient> {
        let signing = EncodingKey::from_rsa_pem(key.private_key.as_bytes())
            .context("the service account's private_key is not an RSA key in PEM")?;
        let http = (0..connections.max(1))
            .map(|_| {
                let mut builder = reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout)
                    .pool_idle_timeout(Duration::from_secs(90))
                    .http2_adaptive_window(true)
                    .tcp_nodelay(true);
                if http1 {
                    builder = builder.http1_only();
                } else if base_url.starts_with("http://") {
                    builder = builder.http2_prior_knowledge();
                }
                builder.build().context("building the HTTP client")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let send_url = format!("{}/v1/projects/{}/messages:send", base_url.trim_end_matches('/'), key.project_id);
        Ok(FcmClient { http, key, signing, send_url, token: tokio::sync::Mutex::new(None) })
    }

    pub fn project_id(&self) -> &str {
        &self.key.project_id
    }

    /// A valid access token: the cached one, or a new one when it is about to expire.
    async fn access_token(&self) -> anyhow::Result<Arc<str>> {
        let mut cached = self.token.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.value.clone());
        }
        let fresh = self.fetch_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Drops the cached token if it is still `stale` (another task may have renewed it).
    async fn forget_token(&self, stale: &Arc<str>) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|c| Arc::ptr_eq(&c.value, stale)) {
            *cached = None;
        }
    }

    async fn fetch_token(&self) -> anyhow::Result<Cached> {
        let now = chrono::Utc::now().timestamp();
        let claims = Assertion {
            iss: &self.key.client_email,
            scope: SCOPE,
            aud: &self.key.token_uri,
            iat: now,
            exp: now + 3600,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key.private_key_id.clone();
        let assertion = jsonwebtoken::encode(&header, &claims, &self.signing).context("signing the OAuth assertion")?;
        let started = Instant::now();
        let response = self.http[0]
            .post(&self.key.token_uri)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("grant_type={GRANT_TYPE}&assertion={assertion}"))
            .send()
            .await
            .context("asking for an FCM access token")?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            metrics::counter!("motcua_push_token_requests_total", "outcome" => "refused").increment(1);
            anyhow::bail!(
                "the token endpoint refused the assertion ({status}): {}",
                text.chars().take(300).collect::<String>()
            );
        }
        let answer: TokenAnswer = response.json().await.context("reading the access token")?;
        metrics::counter!("motcua_push_token_requests_total", "outcome" => "ok").increment(1);
        let lifetime = Duration::from_secs(answer.expires_in);
        let renew_in = lifetime.saturating_sub(RENEW_BEFORE.min(lifetime / 2));
        Ok(Cached { value: answer.access_token.into(), renew_at: started + renew_in })
    }

    /// Sends one message (its JSON, as queued) on connection `lane`; a 401 renews the
    /// access token and tries once more.
    pub async fn send_json(&self, lane: usize, message_json: &str) -> Outcome {
        let http = &self.http[lane % self.http.len()];
        let body = format!("{{\"message\":{message_json}}}");
        for renewed in [false, true] {
            let token = match self.access_token().await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "no FCM access token");
                    return Outcome::Retry { code: "AUTH_TOKEN".to_owned(), retry_after: None };
                }
            };
            let sent = http
                .post(&self.send_url)
                .bearer_auth(&*token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    let code = if e.is_timeout() { "TIMEOUT" } else { "CONNECTION" };
                    tracing::debug!(error = %e, code, "sending to FCM failed");
                    return Outcome::Retry { code: code.to_owned(), retry_after: None };
                }
            };
            let status = response.status();
            if status.is_success() {
                #[derive(Deserialize)]
                struct Name {
                    name: String,
                }
                return match response.json::<Name>().await {
                    Ok(n) => Outcome::Sent(n.name),
                    // Accepted, but the answer was cut: FCM has the message.
                    Err(_) => Outcome::Sent(String::new()),
                };
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let error = match response.bytes().await {
                Ok(bytes) => serde_json::from_slice::<ErrorAnswer>(&bytes).unwrap_or_default().error,
                Err(_) => ErrorBody::default(),
            };
            let code = error.code();
            if status == StatusCode::UNAUTHORIZED && code != "THIRD_PARTY_AUTH_ERROR" {
                self.forget_token(&token).await;
                if !renewed {
                    metrics::counter!("motcua_push_token_renewals_total", "reason" => "401").increment(1);
                    continue;
                }
                return Outcome::Retry { code: "UNAUTHENTICATED".to_owned(), retry_after: None };
            }
            return classify(status, code, &error.message, retry_after);
        }
        Outcome::Retry { code: "UNAUTHENTICATED".to_owned(), retry_after: None }
    }
}

/// What a refusal means for the job and the token.
fn classify(status: StatusCode, code: String, message: &str, retry_after: Option<Duration>) -> Outcome {
    match code.as_str() {
        "UNREGISTERED" | "SENDER_ID_MISMATCH" => Outcome::TokenDead(code),
        "INVALID_ARGUMENT" if message.contains("registration token") => Outcome::TokenDead(code),
        "INVALID_ARGUMENT" => Outcome::Rejected(code),
        _ if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
            Outcome::Retry { code, retry_after }
        }
        // APNs credentials of the project (401), or anything unforeseen: try again later
        // rather than lose the message; the attempts are bounded.
        _ => Outcome::Retry { code, retry_after },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_sorted() {
        let s = |n: u16| StatusCode::from_u16(n).expect("status");
        assert_eq!(classify(s(404), "UNREGISTERED".into(), "", None), Outcome::TokenDead("UNREGISTERED".into()));
        assert_eq!(
            classify(s(403), "SENDER_ID_MISMATCH".into(), "", None),
            Outcome::TokenDead("SENDER_ID_MISMATCH".into())
        );
        assert_eq!(
            classify(
                s(400),
                "INVALID_ARGUMENT".into(),
                "The registration token is not a valid FCM registration token",
                None
            ),
            Outcome::TokenDead("INVALID_ARGUMENT".into())
        );
        assert_eq!(
            classify(s(400), "INVALID_ARGUMENT".into(), "Invalid data", None),
            Outcome::Rejected("INVALID_ARGUMENT".into())
        );
        let wait = Some(Duration::from_secs(7));
        assert_eq!(
            classify(s(429), "QUOTA_EXCEEDED".into(), "", wait),
            Outcome::Retry { code: "QUOTA_EXCEEDED".into(), retry_after: wait }
        );
        assert!(matches!(classify(s(503), "UNAVAILABLE".into(), "", None), Outcome::Retry { .. }));
        assert!(matches!(classify(s(500), "INTERNAL".into(), "", None), Outcome::Retry { .. }));
    }
}
