//! The HTTP transport: a deliberately small trait (bytes in, bytes out) that an app may
//! implement with its platform stack (OkHttp, URLSession), and the built-in one on reqwest
//! with rustls over `ring`.

use std::sync::Arc;
use std::time::Duration;

/// One header (names compare case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PATCH`, ...
    pub method: String,
    /// Absolute URL.
    pub url: String,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }
}

/// The request never got an HTTP answer (no network, DNS, refused, timed out, TLS).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("request failed: {reason}")]
    Failed { reason: String },
}

/// Sends one request and returns the answer, whatever its status. Implementations must
/// not follow redirects to other hosts, retry, or interpret the status: the client does.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The built-in transport: reqwest with rustls on `ring`, the platform's certificate roots.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// A transport with the given overall timeout per request.
    pub fn new(timeout: Duration) -> Result<ReqwestTransport, TransportError> {
        // reqwest is built without a default crypto provider; `ring` keeps the library small.
        // An error only means a provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| TransportError::Failed { reason: e.to_string() })?;
        Ok(ReqwestTransport { client })
    }

    pub fn shared(timeout: Duration) -> Result<Arc<dyn Transport>, TransportError> {
        Ok(Arc::new(ReqwestTransport::new(timeout)?))
    }
}

#[async_trait::async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let failed = |e: reqwest::Error| TransportError::Failed { reason: without_url(&e) };
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| TransportError::Failed { reason: "bad method".to_owned() })?;
        let mut builder = self.client.request(method, &request.url);
        for h in &request.headers {
            builder = builder.header(h.name.as_str(), h.value.as_str());
        }
        let response = builder.body(request.body).send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                value.to_str().ok().map(|v| HttpHeader { name: name.as_str().to_owned(), value: v.to_owned() })
            })
            .collect();
        let body = response.bytes().await.map_err(failed)?.to_vec();
        Ok(HttpResponse { status, headers, body })
    }
}

/// The error text without the URL (which may carry ids).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the body was cut"
    } else {
        "request failed"
    };
    kind.to_owned()
}
