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
        // brotli and gzip: asked for and decoded here (the server compresses its JSON
        // answers; the first catalogue sync shrinks more than ten times).
        let client = reqwest::Client::builder()
            .gzip(true)
            .brotli(true)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The built-in transport asks for gzip and hands the app the decoded body.
    #[tokio::test]
    async fn gzip_answers_are_asked_for_and_decoded() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let body = br#"{"procedures": ["a", "b", "c"]}"#.repeat(50);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body).unwrap_or_else(|e| panic!("{e}"));
        let zipped = gz.finish().unwrap_or_else(|e| panic!("{e}"));
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap_or_else(|e| panic!("{e}"));
            let mut request = vec![0_u8; 4096];
            let n = socket.read(&mut request).await.unwrap_or_else(|e| panic!("{e}"));
            let request = String::from_utf8_lossy(&request[..n]).to_lowercase();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                zipped.len()
            );
            socket.write_all(head.as_bytes()).await.unwrap_or_else(|e| panic!("{e}"));
            socket.write_all(&zipped).await.unwrap_or_else(|e| panic!("{e}"));
            request
        });
        let transport = ReqwestTransport::new(Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"));
        let request =
            HttpRequest { method: "GET".into(), url: format!("http://{addr}/api/v1/x"), headers: vec![], body: vec![] };
        let response = transport.send(request).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.body, body, "decoded");
        let seen = server.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(seen.contains("accept-encoding: gzip, br") || (seen.contains("gzip") && seen.contains("br")), "{seen}");
    }
}
