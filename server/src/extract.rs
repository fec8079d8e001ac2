//! Request plumbing: JSON and query extractors that answer bad input with the API's error
//! shape (naming the field), the request-language layer, the layer that gives every bare
//! error response (404 of an unknown route, 405, 413, a caught panic) the same JSON shape,
//! and the client address used by rate limits.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use motcua_domain::form::{FieldError, FieldErrorCode};
use motcua_domain::i18n::Lang;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, LANG};

/// A JSON body, deserialized with the path of any bad field reported back.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(vec![FieldError::new("", FieldErrorCode::Invalid)])
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Deserializes `bytes`, turning serde's complaint into a field error at the right path.
/// A string anywhere in the body (a value or a key) holding a control character other
/// than a line break or a tab is refused with a 422 naming it: such bytes are never what
/// a person typed, and PostgreSQL cannot store a NUL in text.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => parse_value(value),
        Err(_) => {
            let de = &mut serde_json::Deserializer::from_slice(bytes);
            serde_path_to_error::deserialize::<_, T>(de).map_err(rejection)
        }
    }
}

/// Reads an already-parsed JSON value as `T` (no second trip through text), with the same
/// field errors as [`parse_json`] (control characters included).
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if let Some(path) = control_character_path(&value, String::new()) {
        return Err(ApiError::Validation(vec![FieldError::new(path, FieldErrorCode::ControlCharacter)]));
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(rejection)
}

/// Whether `text` holds a character nobody types into a form: C0/C1 controls and DEL,
/// except line breaks and tabs.
/// The request's `Idempotency-Key` (trimmed, 1 to 200 characters), or the 422 naming it:
/// one rule for every endpoint that files something once.
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::field("Idempotency-Key", motcua_domain::form::FieldErrorCode::Required));
    }
    Ok(key.to_owned())
}

pub fn has_control_character(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// The path (`a.b[2]`) of the first string in `value` with a control character, if any.
fn control_character_path(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => has_control_character(s).then_some(path),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| control_character_path(item, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            if has_control_character(key) { Some(at) } else { control_character_path(item, at) }
        }),
        _ => None,
    }
}

/// The API error for serde's complaint, at the path it names.
fn rejection(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let mut path = err.path().to_string();
    if path == "." {
        path.clear();
    }
    let inner = err.into_inner();
    if !inner.is_data() {
        return ApiError::BadRequest(vec![FieldError::new(path, FieldErrorCode::Invalid)]);
    }
    let text = inner.to_string();
    let named = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(|name| if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") })
    };
    let error = if let Some(field) = named("missing field `") {
        FieldError::new(field, FieldErrorCode::Required)
    } else if let Some(field) = named("unknown field `") {
        FieldError::new(field, FieldErrorCode::UnknownField)
    } else {
        FieldError::new(path, FieldErrorCode::WrongType)
    };
    ApiError::Validation(vec![error])
}

/// Documents, on every operation of the assembled document, what the extractors here answer
/// before any handler runs, where the operation does not say it already: a JSON body can be
/// unreadable (400), too large (413), not JSON (415) or hold a field of the wrong type (422);
/// a query string can be unreadable (400, e.g. a repeated parameter).
pub fn document_rejections(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
    const BODY: [(&str, &str); 4] = [
        ("400", "The body is not readable JSON of this shape"),
        ("413", "The body is too large"),
        ("415", "The body is not `application/json`"),
        ("422", "A field of the body has the wrong type"),
    ];
    const QUERY: [(&str, &str); 1] = [("400", "An unreadable query string (e.g. a repeated parameter)")];
    // `control_characters_layer` refuses a path holding a control character, whatever the route.
    const PATH: [(&str, &str); 1] = [("422", "A path parameter holds a control character")];
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let json_body = matches!(&operation.request_body, Some(RefOr::T(body))
                if body.content.keys().any(|mime| mime == "application/json" || mime.ends_with("+json")));
            let query = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
            let path = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
            let statuses: &[(&str, &str)] = if json_body {
                &BODY
            } else if query {
                &QUERY
            } else {
                &[]
            };
            let path_statuses: &[(&str, &str)] = if path { &PATH } else { &[] };
            for (status, description) in statuses.iter().chain(path_statuses) {
                operation.responses.responses.entry((*status).to_owned()).or_insert_with(|| {
                    let body = Content::new(Some(Ref::from_schema_name("ErrorBody")));
                    RefOr::T(ResponseBuilder::new().description(*description).content("application/json", body).build())
                });
            }
        }
    }
}

/// A query string whose fields are all optional strings: handlers parse and validate each
/// one themselves, so a bad value becomes a field error that names the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| ApiError::BadRequest(vec![FieldError::new("", FieldErrorCode::Invalid)]))?;
        let bad: Vec<FieldError> = pairs
            .iter()
            .filter(|(name, value)| has_control_character(name) || has_control_character(value))
            .map(|(name, _)| FieldError::new(name.clone(), FieldErrorCode::ControlCharacter))
            .collect();
        if !bad.is_empty() {
            return Err(ApiError::Validation(bad));
        }
        // A parameter given twice (`?lang=vi&lang=en`) is named: which one was meant is
        // the caller's to say.
        let mut seen = std::collections::HashSet::new();
        if let Some((name, _)) = pairs.iter().find(|(name, _)| !seen.insert(name.as_str())) {
            return Err(ApiError::BadRequest(vec![FieldError::new(name.clone(), FieldErrorCode::Invalid)]));
        }
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|_| ApiError::BadRequest(vec![FieldError::new("", FieldErrorCode::Invalid)]))
    }
}

/// Collects every bad query parameter before answering, like the form validator does.
#[derive(Debug, Default)]
pub struct ParamErrors(pub Vec<FieldError>);

impl ParamErrors {
    /// Parses an optional parameter; a present but unparsable value (an empty one too, as
    /// in `?page=`: the document says a number) is recorded.
    pub fn parse<T: std::str::FromStr>(&mut self, name: &str, raw: &Option<String>) -> Option<T> {
        match raw.as_deref()?.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.0.push(FieldError::new(name, FieldErrorCode::WrongType));
                None
            }
        }
    }

    /// Records an out-of-range value.
    pub fn push(&mut self, name: &str, code: FieldErrorCode, limit: impl ToString) {
        self.0.push(FieldError::new(name, code).with_limit(limit.to_string()));
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.0)) }
    }
}

/// Refuses a request whose path, once percent-decoded, holds a control character (e.g.
/// `/public/dossiers/H26%00`): a 422 naming `path`, before any handler or database sees it.
pub async fn control_characters_layer(req: Request, next: Next) -> Response {
    if percent_decoded_has_control(req.uri().path()) {
        return ApiError::Validation(vec![FieldError::new("path", FieldErrorCode::ControlCharacter)]).into_response();
    }
    next.run(req).await
}

fn percent_decoded_has_control(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                decoded.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    has_control_character(&String::from_utf8_lossy(&decoded))
}

/// Sets the language of the request from `Accept-Language` for everything inside it.
pub async fn language_layer(req: Request, next: Next) -> Response {
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default();
    let mut response = LANG.scope(lang, next.run(req)).await;
    response.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.as_str()));
    response
}

/// Gives the API's JSON error shape to error responses made outside the handlers (unknown
/// route, wrong method, body limit, timeout, panic): nothing leaves without it.
pub async fn error_shape_layer(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // JSON already, the XML errors of the Open311 face (its standard's shape), or the web
    // console's error pages.
    let shaped =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("text/xml") || v.starts_with("text/html")
        });
    if shaped {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized,
        StatusCode::FORBIDDEN => ApiError::Forbidden,
        StatusCode::TOO_MANY_REQUESTS => ApiError::RateLimited { retry_after_secs: 1 },
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            ApiError::Unavailable
        }
        s if s.is_server_error() => ApiError::Internal,
        _ => ApiError::BadRequest(Vec::new()),
    };
    let mut shaped = error.into_response();
    *shaped.status_mut() = status;
    shaped
}

/// The address a request came from: the socket peer, or (behind a trusted reverse proxy)
/// the right-most `X-Forwarded-For` entry, which the proxy itself appended.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp
where
    crate::app::AppState: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = <crate::app::AppState as axum::extract::FromRef<S>>::from_ref(state);
        if app.config.trust_forwarded_for
            && let Some(ip) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back()
        {
            return Ok(ClientIp(ip));
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(peer.unwrap_or(IpAddr::from([127, 0, 0, 1]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extractor_rejections_are_documented_where_the_extractors_are_used() {
        let mut openapi = crate::app::openapi();
        document_rejections(&mut openapi);
        let responses = |path: &str, get: bool| {
            let item = &openapi.paths.paths[path];
            let operation = if get { item.get.as_ref() } else { item.post.as_ref() };
            operation.expect("operation").responses.responses.keys().cloned().collect::<Vec<_>>()
        };
        let login = responses("/api/v1/auth/login", false);
        for status in ["400", "413", "415", "422"] {
            assert!(login.contains(&status.to_owned()), "login documents {status}: {login:?}");
        }
        assert!(responses("/api/v1/fields", true).iter().all(|s| s == "200"));
        assert!(responses("/api/v1/procedures", true).contains(&"400".to_owned()));
    }

    /// The generator on its own: an operation whose annotation names no error at all gets
    /// every status its extractors can answer, each described and shaped as `ErrorBody`.
    #[test]
    fn the_generator_documents_an_operation_that_names_no_error() {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
        use utoipa::openapi::request_body::RequestBodyBuilder;
        use utoipa::openapi::{Content, OpenApiBuilder, PathsBuilder, ResponseBuilder};
        let body = RequestBodyBuilder::new()
            .content("application/json", Content::new(None::<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>))
            .build();
        let post = OperationBuilder::new()
            .request_body(Some(body))
            .response("200", ResponseBuilder::new().description("ok"))
            .build();
        let get = OperationBuilder::new()
            .parameter(ParameterBuilder::new().name("q").parameter_in(ParameterIn::Query))
            .response("200", ResponseBuilder::new().description("ok"))
            .build();
        let item = OperationBuilder::new()
            .parameter(ParameterBuilder::new().name("id").parameter_in(ParameterIn::Path))
            .response("200", ResponseBuilder::new().description("ok"))
            .build();
        let paths = PathsBuilder::new()
            .path("/bare", PathItem::new(HttpMethod::Post, post))
            .path("/query", PathItem::new(HttpMethod::Get, get))
            .path("/item/{id}", PathItem::new(HttpMethod::Get, item))
            .build();
        let mut openapi = OpenApiBuilder::new().paths(paths).build();
        document_rejections(&mut openapi);
        let statuses = |path: &str| {
            let item = &openapi.paths.paths[path];
            let operation = item.post.as_ref().or(item.get.as_ref()).expect("operation");
            operation.responses.responses.keys().cloned().collect::<Vec<_>>()
        };
        for status in ["200", "400", "413", "415", "422"] {
            assert!(statuses("/bare").contains(&status.to_owned()), "{status}: {:?}", statuses("/bare"));
        }
        assert_eq!(statuses("/query"), vec!["200".to_owned(), "400".to_owned()]);
        // A control character in the path is refused before any handler (schemathesis found
        // the 422 undocumented on `GET /dossiers/{id}` and the attachments).
        assert_eq!(statuses("/item/{id}"), vec!["200".to_owned(), "422".to_owned()]);
    }
}
