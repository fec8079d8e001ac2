//! fcm-emulator: Firebase Cloud Messaging HTTP v1 on loopback, faithful enough that the
//! real FCM client can be pointed at it.
//!
//! - `POST /token`: the OAuth 2 JWT-bearer grant. The RS256 assertion is checked against
//!   the public key of a registered service account, with its audience (this endpoint's
//!   URL, the key file's `token_uri`), scope (`firebase.messaging`), `iat` and `exp`.
//! - `POST /v1/projects/{project}/messages:send`: the bearer token, the project, and the
//!   message as FCM validates it ([`message::check`]); FCM's error bodies
//!   (`{"error": {"code", "message", "status", "details": [FcmError]}}`).
//! - Faults on demand ([`FaultSpec`]): an FCM error for one token or for every request,
//!   a number of times or for a while; slow answers; dropped connections.
//! - A record of what each token received, and counters ([`Stats`]).
//! - `/control/...`: the same over HTTP, for tests that run the binary.
//!
//! HTTP/1.1 and HTTP/2 (h2c with prior knowledge) on the same port.

pub mod message;
pub mod service_account;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tower::ServiceExt;

/// The OAuth scope that grants sending messages.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const CLOUD_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// How the emulator runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// Lifetime of the access tokens it issues.
    pub access_token_ttl: Duration,
    /// Concurrent HTTP/2 streams per connection (Google's front ends allow 100).
    pub max_concurrent_streams: u32,
    /// Keep the bodies of received messages (the latest `record_limit` per token);
    /// counts are kept either way.
    pub record_bodies: bool,
    pub record_limit: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            access_token_ttl: Duration::from_secs(3600),
            max_concurrent_streams: 100,
            record_bodies: true,
            record_limit: 100,
        }
    }
}

/// An FCM error or another misbehaviour to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FaultKind {
    /// 404: the token is no longer valid (app uninstalled, token rotated).
    Unregistered,
    /// 400.
    InvalidArgument,
    /// 403: the token belongs to another sender.
    SenderIdMismatch,
    /// 429 with `Retry-After`.
    QuotaExceeded,
    /// 503.
    Unavailable,
    /// 500.
    Internal,
    /// 401: APNs certificate or key problem.
    ThirdPartyAuthError,
    /// Answer normally, after `delay_ms`.
    Delay,
    /// Close the connection (HTTP/1.1) or reset the stream (HTTP/2) without an answer.
    Drop,
}

impl FaultKind {
    /// HTTP status, gRPC status name, and FCM error code.
    fn answer(self) -> (StatusCode, &'static str, &'static str, &'static str) {
        match self {
            FaultKind::Unregistered => {
                (StatusCode::NOT_FOUND, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
            }
            FaultKind::InvalidArgument => (
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
            ),
            FaultKind::SenderIdMismatch => {
                (StatusCode::FORBIDDEN, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch")
            }
            FaultKind::QuotaExceeded => (
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "QUOTA_EXCEEDED",
                "Quota exceeded for quota metric 'Send messages' and limit 'Send messages per minute'.",
            ),
            FaultKind::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.")
            }
            FaultKind::Internal => {
                (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "INTERNAL", "Internal error encountered.")
            }
            FaultKind::ThirdPartyAuthError => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "THIRD_PARTY_AUTH_ERROR",
                "Auth error from APNS or Web Push Service",
            ),
            FaultKind::Delay | FaultKind::Drop => (StatusCode::OK, "", "", ""),
        }
    }
}

/// A fault to inject (`POST /control/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// Only messages to this token (every message when absent). Token faults come first.
    #[serde(default)]
    pub token: Option<String>,
    /// How many requests it hits (every one while it lasts when absent).
    #[serde(default)]
    pub times: Option<u64>,
    /// How long it lasts from now (for ever when absent).
    #[serde(default)]
    pub for_ms: Option<u64>,
    /// `Retry-After` of a QUOTA_EXCEEDED or UNAVAILABLE answer.
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    /// The wait of a `DELAY`.
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

impl FaultSpec {
    pub fn new(kind: FaultKind) -> FaultSpec {
        FaultSpec { kind, token: None, times: None, for_ms: None, retry_after_secs: None, delay_ms: None }
    }
    pub fn token(mut self, token: &str) -> FaultSpec {
        self.token = Some(token.to_owned());
        self
    }
    pub fn times(mut self, n: u64) -> FaultSpec {
        self.times = Some(n);
        self
    }
    pub fn for_ms(mut self, ms: u64) -> FaultSpec {
        self.for_ms = Some(ms);
        self
    }
    pub fn retry_after(mut self, secs: u64) -> FaultSpec {
        self.retry_after_secs = Some(secs);
        self
    }
    pub fn delay(mut self, ms: u64) -> FaultSpec {
        self.delay_ms = Some(ms);
        self
    }
}

struct Fault {
    spec: FaultSpec,
    left: Option<u64>,
    until: Option<Instant>,
}

/// A message a token received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// The message name FCM answered (`projects/{p}/messages/{id}`).
    pub name: String,
    pub at_unix_ms: u64,
    pub message: Value,
}

/// What a token received: how many messages, and the latest bodies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub count: u64,
    /// Messages whose `data.notification_id` this token had already received.
    pub duplicates: u64,
    pub messages: Vec<Received>,
}

/// Counters since the start (or the last reset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Messages accepted (answered 200, `validate_only` excluded).
    pub accepted: u64,
    /// Answers other than 200 to `messages:send`, by FCM error code (or gRPC status when
    /// FCM gives no code, e.g. `UNAUTHENTICATED`).
    pub errors: BTreeMap<String, u64>,
    /// Connections dropped on purpose.
    pub dropped: u64,
    /// Messages received again by a token that already had their `data.notification_id`.
    pub duplicates: u64,
    pub tokens_issued: u64,
    pub token_refusals: u64,
    pub http1_requests: u64,
    pub http2_requests: u64,
    /// Distinct tokens that received something.
    pub tokens: u64,
}

struct Account {
    key: DecodingKey,
    project_id: String,
}

struct Shared {
    config: Config,
    base_url: String,
    accounts: RwLock<HashMap<String, Account>>,
    access_tokens: Mutex<HashMap<String, (SystemTime, String)>>,
    faults: Mutex<Vec<Fault>>,
    records: Mutex<HashMap<String, (TokenRecord, HashSet<String>)>>,
    errors: Mutex<BTreeMap<String, u64>>,
    accepted: AtomicU64,
    dropped: AtomicU64,
    duplicates: AtomicU64,
    tokens_issued: AtomicU64,
    token_refusals: AtomicU64,
    http1: AtomicU64,
    http2: AtomicU64,
    next_id: AtomicU64,
}

/// Marks a response that must not be sent: the connection (or stream) is dropped instead.
#[derive(Clone, Copy)]
struct DropConnection;

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("addr", &self.addr).finish()
    }
}

impl Emulator {
    /// Binds `config.addr` and serves until stopped.
    pub async fn start(config: Config) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            config,
            accounts: RwLock::default(),
            access_tokens: Mutex::default(),
            faults: Mutex::default(),
            records: Mutex::default(),
            errors: Mutex::default(),
            accepted: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            token_refusals: AtomicU64::new(0),
            http1: AtomicU64::new(0),
            http2: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
        });
        let router = router(shared.clone());
        let (stop, stopped) = oneshot::channel();
        let streams = shared.config.max_concurrent_streams;
        tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http2().max_concurrent_streams(streams);
            let builder = Arc::new(builder);
            let mut stopped = std::pin::pin!(stopped);
            loop {
                let (stream, _) = tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    },
                };
                let _ = stream.set_nodelay(true);
                let builder = builder.clone();
                let router = router.clone();
                tokio::spawn(async move {
                    let service = tower::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let router = router.clone();
                        async move {
                            let Ok(response) = router.oneshot(req).await;
                            if response.extensions().get::<DropConnection>().is_some() {
                                return Err(std::io::Error::other("connection dropped by a fault"));
                            }
                            Ok(response)
                        }
                    });
                    let _ = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).await;
                });
            }
        });
        Ok(Emulator { addr, shared, stop: Some(stop) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port`: the FCM base URL to configure.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The OAuth token endpoint (the key file's `token_uri`).
    pub fn token_uri(&self) -> String {
        token_uri(&self.shared.base_url)
    }

    /// Trusts assertions signed by the key whose public half is `public_key_pem`, for
    /// `client_email`, sending for `project_id`.
    pub fn add_account(&self, client_email: &str, public_key_pem: &str, project_id: &str) -> anyhow::Result<()> {
        add_account(&self.shared, client_email, public_key_pem, project_id)
    }

    /// Trusts the key of `account` (its public half is derived from the private key).
    pub fn add_service_account(&self, account: &service_account::ServiceAccount) -> anyhow::Result<()> {
        self.add_account(&account.client_email, &account.public_key_pem()?, &account.project_id)
    }

    pub fn add_fault(&self, spec: FaultSpec) {
        add_fault(&self.shared, spec);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Forgets every access token issued: the next send with one gets a 401.
    pub fn revoke_access_tokens(&self) {
        lock(&self.shared.access_tokens).clear();
    }

    /// What `token` received.
    pub fn received(&self, token: &str) -> TokenRecord {
        lock(&self.shared.records).get(token).map(|(r, _)| r.clone()).unwrap_or_default()
    }

    pub fn stats(&self) -> Stats {
        stats(&self.shared)
    }

    /// Forgets records and counters (faults and accounts stay).
    pub fn reset(&self) {
        reset(&self.shared);
    }

    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn token_uri(base: &str) -> String {
    format!("{base}/token")
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn add_account(shared: &Shared, client_email: &str, public_key_pem: &str, project_id: &str) -> anyhow::Result<()> {
    let key = DecodingKey::from_rsa_pem(public_key_pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("not an RSA public key in PEM: {e}"))?;
    shared
        .accounts
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(client_email.to_owned(), Account { key, project_id: project_id.to_owned() });
    Ok(())
}

fn add_fault(shared: &Shared, spec: FaultSpec) {
    let until = spec.for_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
    let left = spec.times;
    lock(&shared.faults).push(Fault { spec, left, until });
}

/// The fault that hits a message to `token` now, if any (token faults first), counted.
fn take_fault(shared: &Shared, token: Option<&str>) -> Option<FaultSpec> {
    let mut faults = lock(&shared.faults);
    let now = Instant::now();
    faults.retain(|f| f.left != Some(0) && f.until.is_none_or(|u| u > now));
    let pick = faults
        .iter()
        .position(|f| f.spec.token.is_some() && f.spec.token.as_deref() == token)
        .or_else(|| faults.iter().position(|f| f.spec.token.is_none()))?;
    let fault = &mut faults[pick];
    if let Some(left) = &mut fault.left {
        *left -= 1;
    }
    Some(fault.spec.clone())
}

fn stats(shared: &Shared) -> Stats {
    Stats {
        accepted: shared.accepted.load(Ordering::Relaxed),
        errors: lock(&shared.errors).clone(),
        dropped: shared.dropped.load(Ordering::Relaxed),
        duplicates: shared.duplicates.load(Ordering::Relaxed),
        tokens_issued: shared.tokens_issued.load(Ordering::Relaxed),
        token_refusals: shared.token_refusals.load(Ordering::Relaxed),
        http1_requests: shared.http1.load(Ordering::Relaxed),
        http2_requests: shared.http2.load(Ordering::Relaxed),
        tokens: lock(&shared.records).len() as u64,
    }
}

fn reset(shared: &Shared) {
    lock(&shared.records).clear();
    lock(&shared.errors).clear();
    for counter in [
        &shared.accepted,
        &shared.dropped,
        &shared.duplicates,
        &shared.tokens_issued,
        &shared.token_refusals,
        &shared.http1,
        &shared.http2,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/token", post(token))
        .route("/v1/projects/{project}/messages:send", post(send))
        .route("/control/faults", post(control_add_fault).delete(control_clear_faults))
        .route("/control/accounts", post(control_add_account))
        .route("/control/revoke-access-tokens", post(control_revoke))
        .route("/control/messages/{token}", get(control_messages))
        .route("/control/stats", get(control_stats))
        .route("/control/reset", post(control_reset))
        .with_state(shared)
}

// ---- OAuth 2 token endpoint ----------------------------------------------------------

#[derive(Deserialize)]
struct Assertion {
    iss: String,
    scope: String,
    aud: String,
    iat: u64,
    exp: u64,
}

fn oauth_error(error: &str, description: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error, "error_description": description}))).into_response()
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = match serde_urlencoded_pairs(&body) {
        Some(f) => f,
        None => return oauth_error("invalid_request", "The request body is not form-encoded."),
    };
    let refused = |error: &str, description: &str| {
        shared.token_refusals.fetch_add(1, Ordering::Relaxed);
        oauth_error(error, description)
    };
    if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return refused("unsupported_grant_type", "Invalid grant_type.");
    }
    let Some(assertion) = form.get("assertion") else {
        return refused("invalid_request", "Missing required parameter: assertion");
    };
    match jsonwebtoken::decode_header(assertion) {
        Ok(h) if h.alg == Algorithm::RS256 => {}
        _ => return refused("invalid_grant", "Invalid JWT: the algorithm must be RS256."),
    }
    let audience = token_uri(&shared.base_url);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    validation.leeway = 0;
    let claims = {
        let accounts = shared.accounts.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut found = None;
        let mut last = "Invalid JWT Signature.".to_owned();
        for (email, account) in accounts.iter() {
            match jsonwebtoken::decode::<Assertion>(assertion, &account.key, &validation) {
                Ok(data) if &data.claims.iss == email => {
                    found = Some((data.claims, account.project_id.clone()));
                    break;
                }
                Ok(_) => last = "Invalid JWT: the issuer is not the key's service account.".to_owned(),
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    match e.kind() {
                        ErrorKind::InvalidSignature => {}
                        ErrorKind::ExpiredSignature => last = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".to_owned(),
                        ErrorKind::InvalidAudience => last = format!("Invalid JWT: the audience must be {audience}."),
                        other => last = format!("Invalid JWT: {other:?}"),
                    }
                }
            }
        }
        match found {
            Some(found) => found,
            None => return refused("invalid_grant", &last),
        }
    };
    let (claims, project) = claims;
    let now = now_unix();
    if claims.exp <= claims.iat || claims.exp - claims.iat > 3600 || claims.iat > now + 60 || claims.aud != audience {
        return refused(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    if !claims.scope.split(' ').any(|s| s == FCM_SCOPE || s == CLOUD_SCOPE) {
        return refused("invalid_scope", "The scope does not grant firebase.messaging.");
    }
    let access = format!("ya29.{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let ttl = shared.config.access_token_ttl;
    lock(&shared.access_tokens).insert(access.clone(), (SystemTime::now() + ttl, project));
    shared.tokens_issued.fetch_add(1, Ordering::Relaxed);
    axum::Json(json!({"access_token": access, "expires_in": ttl.as_secs(), "token_type": "Bearer"})).into_response()
}

/// `application/x-www-form-urlencoded` pairs (what axum's `Form` would give, without
/// its rejection texts).
fn serde_urlencoded_pairs(body: &[u8]) -> Option<HashMap<String, String>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k)?, percent_decode(v)?);
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

// ---- messages:send -----------------------------------------------------------------

fn fcm_error(status: StatusCode, grpc: &str, message: &str, code: Option<&str>) -> Response {
    let mut error = json!({"code": status.as_u16(), "message": message, "status": grpc});
    if let Some(code) = code {
        error["details"] = json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]);
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn count_error(shared: &Shared, code: &str) {
    *lock(&shared.errors).entry(code.to_owned()).or_default() += 1;
}

async fn send(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if version == Version::HTTP_2 {
        shared.http2.fetch_add(1, Ordering::Relaxed);
    } else {
        shared.http1.fetch_add(1, Ordering::Relaxed);
    }
    // The bearer token, exactly as RFC 6750 spells it.
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let granted = bearer.and_then(|token| {
        let tokens = lock(&shared.access_tokens);
        tokens.get(token).filter(|(expires, _)| *expires > SystemTime::now()).map(|(_, project)| project.clone())
    });
    let Some(granted) = granted else {
        count_error(&shared, "UNAUTHENTICATED");
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            None,
        );
    };
    if granted != project {
        count_error(&shared, "PERMISSION_DENIED");
        return fcm_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Permission 'cloudmessaging.messages.create' denied on resource.",
            None,
        );
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            count_error(&shared, "INVALID_ARGUMENT");
            return fcm_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                &format!("Invalid JSON payload received. {e}"),
                None,
            );
        }
    };
    let checked = match message::check(&body) {
        Ok(c) => c,
        Err(text) => {
            count_error(&shared, "INVALID_ARGUMENT");
            return fcm_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &text, Some("INVALID_ARGUMENT"));
        }
    };
    let token = match &checked.target {
        message::Target::Token(t) => Some(t.as_str()),
        _ => None,
    };
    if let Some(fault) = take_fault(&shared, token) {
        match fault.kind {
            FaultKind::Delay => tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(1000))).await,
            FaultKind::Drop => {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                let mut response = StatusCode::OK.into_response();
                response.extensions_mut().insert(DropConnection);
                return response;
            }
            kind => {
                let (status, grpc, code, text) = kind.answer();
                count_error(&shared, code);
                let mut response = fcm_error(status, grpc, text, Some(code));
                if let Some(secs) = fault.retry_after_secs {
                    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                return response;
            }
        }
    }
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let name = format!(
        "projects/{project}/messages/{}",
        if checked.validate_only { "fake_message_id".to_owned() } else { format!("0:{id}") }
    );
    if !checked.validate_only {
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        let key = match &checked.target {
            message::Target::Token(t) => t.clone(),
            message::Target::Topic(t) => format!("/topics/{t}"),
            message::Target::Condition(c) => format!("condition:{c}"),
        };
        let notification_id =
            checked.message.pointer("/data/notification_id").and_then(Value::as_str).map(str::to_owned);
        let mut records = lock(&shared.records);
        let (record, seen) = records.entry(key).or_default();
        record.count += 1;
        if let Some(nid) = notification_id
            && !seen.insert(nid)
        {
            record.duplicates += 1;
            shared.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        if shared.config.record_bodies {
            if record.messages.len() >= shared.config.record_limit.max(1) {
                record.messages.remove(0);
            }
            let at_unix_ms =
                SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default();
            record.messages.push(Received { name: name.clone(), at_unix_ms, message: checked.message });
        }
    }
    axum::Json(json!({ "name": name })).into_response()
}

// ---- control API -------------------------------------------------------------------

async fn control_add_fault(State(shared): State<Arc<Shared>>, axum::Json(spec): axum::Json<FaultSpec>) -> StatusCode {
    add_fault(&shared, spec);
    StatusCode::NO_CONTENT
}

async fn control_clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    lock(&shared.faults).clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct NewAccount {
    client_email: String,
    public_key_pem: String,
    project_id: String,
}

async fn control_add_account(State(shared): State<Arc<Shared>>, axum::Json(a): axum::Json<NewAccount>) -> Response {
    match add_account(&shared, &a.client_email, &a.public_key_pem, &a.project_id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn control_revoke(State(shared): State<Arc<Shared>>) -> StatusCode {
    lock(&shared.access_tokens).clear();
    StatusCode::NO_CONTENT
}

async fn control_messages(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> axum::Json<TokenRecord> {
    axum::Json(lock(&shared.records).get(&token).map(|(r, _)| r.clone()).unwrap_or_default())
}

async fn control_stats(State(shared): State<Arc<Shared>>) -> axum::Json<Stats> {
    axum::Json(stats(&shared))
}

async fn control_reset(State(shared): State<Arc<Shared>>) -> StatusCode {
    reset(&shared);
    StatusCode::NO_CONTENT
}
