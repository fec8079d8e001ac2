//! The application: shared state, the router of every resource, the middleware stack, the
//! OpenAPI document with its offline Swagger UI, and health/readiness/metrics endpoints.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use motcua_domain::wire::{ErrorBody, Health};
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::ServiceBuilderExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::MakeRequestUuid;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::keys::{KeyRing, ServerSecrets};
use crate::auth::passwords::Hasher;
use crate::auth::ratelimit::AddressLimiter;
use crate::auth::revocation::Revocations;
use crate::blobs::BlobStore;
use crate::catalogue::Catalogue;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::Db;
use crate::extract::{control_characters_layer, error_shape_layer, language_layer};

/// Everything a handler may need; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub catalogue: Arc<Catalogue>,
    /// This process's copy of the branches (see `branches::BranchCache`).
    pub branches: Arc<crate::branches::BranchCache>,
    /// Counts of searches not yet written (see `search_log`).
    pub search_log: Arc<crate::search_log::SearchLog>,
    pub keys: Arc<KeyRing>,
    pub limiter: Arc<AddressLimiter>,
    /// Public dossier look-ups per client address (separate from the login limit).
    pub public_limiter: Arc<AddressLimiter>,
    pub blobs: Arc<dyn BlobStore>,
    /// The workflow's clock (deadlines, timeline; also login counters and phone codes).
    pub clock: Arc<dyn Clock>,
    pub metrics: PrometheusHandle,
    /// Bounds concurrent password hashing.
    pub hasher: Arc<Hasher>,
    /// Where verification codes go (the log in development; a memory sink in tests).
    pub sms: Arc<dyn crate::sms::SmsSender>,
    /// Revoked sign-ins, as seen by access tokens.
    pub revocations: Arc<Revocations>,
    /// Access tokens this process already verified (see `auth::verified`).
    pub verified: Arc<crate::auth::verified::VerifiedTokens>,
    pub secrets: Arc<ServerSecrets>,
}

impl AppState {
    /// Builds the state over a migrated database: loads the seed (once per seed version)
    /// and the signing keys.
    pub async fn new(config: Config, db: Db) -> anyhow::Result<AppState> {
        let seed = crate::seed::Seed::embedded()?;
        crate::reports::places::check()?;
        let outcome = crate::seed::apply(&db, &seed).await?;
        tracing::info!(
            catalogue_version = outcome.catalogue_version,
            changed = outcome.changed_procedures,
            retired = outcome.retired_procedures,
            "catalogue seed checked"
        );
        let filled = crate::dossiers::store::backfill_clock(&db).await?;
        if filled > 0 {
            tracing::info!(filled, "filled the working days taken of dossiers decided before they were recorded");
        }
        let keys = KeyRing::load_or_create(&db).await?;
        let secrets = ServerSecrets::load_or_create(&db).await?;
        let blobs = crate::blobs::open(config.blob_url.as_deref(), &config.blob_dir).await?;
        Ok(AppState {
            limiter: Arc::new(AddressLimiter::new(config.auth_rate_per_min)),
            public_limiter: Arc::new(AddressLimiter::new(config.public_rate_per_min)),
            blobs,
            clock: Arc::new(SystemClock),
            hasher: Arc::new(Hasher::new(config.hash_concurrency, config.hash_queue_wait)),
            sms: Arc::new(crate::sms::DevSms { dir: config.sms_dir.clone() }),
            revocations: Arc::new(Revocations::new(config.revocation_cache)),
            verified: Arc::default(),
            secrets: Arc::new(secrets),
            config: Arc::new(config),
            db,
            catalogue: Arc::new(Catalogue::default()),
            branches: Arc::new(crate::branches::BranchCache::default()),
            search_log: Arc::default(),
            keys: Arc::new(keys),
            metrics: crate::telemetry::prometheus(),
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        description = "Một cửa: the citizen app and one-stop public administration service center. \
            Every error answers `{\"error\": {\"code\", \"message\", \"fields\"}}` with a Vietnamese message \
            (English with `Accept-Language: en`).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags(
        (name = "catalogue", description = "Procedures (thủ tục hành chính) and their forms"),
        (name = "branches", description = "Service points of the center"),
        (name = "auth", description = "Accounts and tokens"),
        (name = "attachments", description = "Files of dossiers: resumable uploads, content-addressed storage"),
        (name = "dossiers", description = "Filing, workflow, deadlines, tracking, figures"),
        (name = "notifications", description = "The citizen's inbox"),
        (name = "push", description = "Push notifications: phones, preferences, announcements, delivery figures"),
        (name = "reports", description = "Field reports (phản ánh hiện trường): filing with photos, routing to the ward, handling, following, figures, the public map"),
        (name = "open311", description = "Open311 GeoReport v2 over field reports (`.json` or `.xml`; the standard's error shape)"),
        (name = "ops", description = "Health, readiness, metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "metrics",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(app: &AppState) -> Self {
        app.config.clone()
    }
}

/// The routes and their OpenAPI document. Upload routes take bodies up to the upload
/// limit; every other route up to the JSON limit (the innermost limit wins).
pub fn api(config: &Config) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let upload_limit = usize::try_from(config.max_upload_bytes).unwrap_or(usize::MAX).saturating_add(64 * 1024);
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_endpoint))
        .merge(crate::catalogue::router())
        .merge(crate::branches::router())
        .merge(crate::agencies::router())
        .merge(crate::auth::routes::router())
        .merge(crate::dossiers::router())
        .merge(crate::notifications::router())
        .merge(crate::push::router())
        .merge(crate::reports::router())
        .merge(crate::reports::open311::router())
        .merge(crate::attachments::router().layer(DefaultBodyLimit::max(upload_limit)))
        .split_for_parts();
    crate::extract::document_rejections(&mut openapi);
    crate::error::describe_responses(&mut openapi);
    unique_operation_ids(&mut openapi);
    (router, openapi)
}

/// OpenAPI requires unique operation ids, and utoipa takes them from handler names, so
/// two modules' `list` would clash: an id used more than once gets its tag as a prefix
/// (`dossiers_list`, `notifications_list`).
fn unique_operation_ids(openapi: &mut utoipa::openapi::OpenApi) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for item in openapi.paths.paths.values() {
        for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch].into_iter().flatten() {
            if let Some(id) = &op.operation_id {
                *seen.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for item in openapi.paths.paths.values_mut() {
        for op in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            let tag = op.tags.as_ref().and_then(|t| t.first()).cloned();
            if let (Some(id), Some(tag)) = (&mut op.operation_id, tag)
                && seen.get(id.as_str()).is_some_and(|n| *n > 1)
            {
                *id = format!("{tag}_{id}");
            }
        }
    }
}

/// The OpenAPI document alone (for `motcua-server openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api(&Config::default()).1
}

/// The complete service with its middleware.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The service with `extra` routes behind the same middleware (benchmarks add a baseline
/// endpoint this way, so it is measured under exactly the same stack).
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let config = state.config.clone();
    let (routes, openapi) = api(&config);
    let routes = routes
        .merge(extra)
        .merge(crate::console::router(&config))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(|| async { crate::error::ApiError::NotFound })
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn(track_metrics))
        .with_state(state);
    routes.layer(
        ServiceBuilder::new()
            .set_x_request_id(MakeRequestUuid)
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %request_id)
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)))
            .propagate_x_request_id()
            .layer(
                CompressionLayer::new()
                    .gzip(true)
                    .br(true)
                    .quality(CompressionLevel::Precise(5))
                    .compress_when(JsonAnswers),
            )
            .layer(middleware::from_fn(security_headers))
            .layer(middleware::from_fn(language_layer))
            .layer(middleware::from_fn(error_shape_layer))
            .layer(middleware::from_fn(control_characters_layer))
            .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, config.request_timeout))
            .layer(CatchPanicLayer::new()),
    )
}

/// Which answers are compressed (brotli or gzip, as the client accepts; level 5, fast
/// enough for the 13 MB of a first catalogue sync): JSON of more than
/// 1 KiB (the first catalogue sync is 1.5 MB of it), never the bytes of an attachment or a
/// photo (already compressed, and served as they were stored), HTML or XML.
#[derive(Clone, Copy, Debug)]
struct JsonAnswers;

impl Predicate for JsonAnswers {
    fn should_compress<B: axum::body::HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        let json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        json && SizeAbove::new(1024).should_compress(response)
    }
}

/// Paths whose answers are personal: never stored by a browser, proxy or shared cache.
const PERSONAL_PREFIXES: [&str; 10] = [
    "/api/v1/reports",
    "/api/v1/place-follows",
    "/api/v1/auth/",
    "/api/v1/me",
    "/api/v1/dossiers",
    "/api/v1/attachments",
    "/api/v1/uploads",
    "/api/v1/notifications",
    "/api/v1/public/dossiers",
    "/api/v1/devices",
];

/// `X-Content-Type-Options: nosniff` on every answer; `Cache-Control: no-store` on personal
/// data (whatever a handler said).
async fn security_headers(req: Request, next: Next) -> Response {
    let personal = PERSONAL_PREFIXES.iter().any(|p| req.uri().path().starts_with(p));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if personal {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let labels = [("method", method), ("route", route), ("status", response.status().as_u16().to_string())];
    metrics::counter!("motcua_http_requests_total", &labels).increment(1);
    metrics::histogram!("motcua_http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    response
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok".into() })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn readyz(State(app): State<AppState>) -> Response {
    match app.db.ping().await {
        Ok(()) => axum::Json(Health { status: "ready".into() }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            crate::error::ApiError::Unavailable.into_response()
        }
    }
}

/// Prometheus metrics (text exposition format). On the API address it needs the metrics
/// token (`MOTCUA_METRICS_TOKEN`) as a bearer token, and answers 404 when none is configured;
/// `MOTCUA_METRICS_ADDR` serves it on an address of its own without a token.
#[utoipa::path(get, path = "/metrics", tag = "ops", security(("metrics" = [])),
    responses(
        (status = 200, content_type = "text/plain", body = String),
        (status = 401, description = "Missing or wrong metrics token", body = ErrorBody),
        (status = 404, description = "No metrics token is configured: metrics are not served here", body = ErrorBody),
    ))]
async fn metrics_endpoint(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = app.config.metrics_token.as_deref() else {
        return crate::error::ApiError::NotFound.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if !constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return crate::error::ApiError::Unauthorized.into_response();
    }
    render_metrics(&app.metrics)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn render_metrics(handle: &PrometheusHandle) -> Response {
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}

/// The router of the separate metrics address (`MOTCUA_METRICS_ADDR`): `/metrics` only.
pub fn metrics_router(handle: PrometheusHandle) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(move || async move { render_metrics(&handle) }))
        .layer(middleware::from_fn(security_headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks of the OpenAPI schema that a Rust test can make without the validator
    /// (`cargo xtask openapi` runs openapi-spec-validator on the whole document).
    #[test]
    fn every_response_is_described_and_every_operation_id_unique() {
        let doc = serde_json::to_value(openapi()).expect("json");
        let mut ids = std::collections::HashSet::new();
        let mut responses = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let id = op["operationId"].as_str().expect("operationId");
                assert!(ids.insert(id.to_owned()), "{method} {path}: operationId {id} is used twice");
                for (status, response) in op["responses"].as_object().expect("responses") {
                    responses += 1;
                    let described = response["description"].as_str().is_some_and(|d| !d.trim().is_empty());
                    assert!(described, "{method} {path} {status}: no description");
                }
            }
        }
        assert!(responses > 100, "{responses}");
        assert!(ids.contains("dossiers_list") && ids.contains("notifications_list"));
    }

    #[test]
    fn form_values_are_described_by_shape() {
        let doc = serde_json::to_value(openapi()).expect("json");
        let schemas = &doc["components"]["schemas"];
        for body in ["SubmitDossier", "SupplementAnswer", "Dossier"] {
            assert_eq!(schemas[body]["properties"]["values"]["$ref"], "#/components/schemas/FormValues", "{body}");
        }
        assert_eq!(schemas["FormValues"]["additionalProperties"]["$ref"], "#/components/schemas/FormValue");
        let shapes = schemas["FormValue"]["anyOf"].to_string();
        for shape in ["AddressValue", "attachment", "group", "checkbox", "date"] {
            assert!(shapes.contains(shape), "{shape}");
        }
        assert!(schemas["AddressValue"]["properties"]["ward_code"].is_object());
        // The form language itself, not `{"type": "object"}`.
        assert_eq!(schemas["Procedure"]["properties"]["form"]["$ref"], "#/components/schemas/FormDefinition");
        let items = &schemas["FormDefinition"]["properties"]["fields"]["items"]["anyOf"];
        assert_eq!(items[0]["$ref"], "#/components/schemas/FormFieldDef");
        assert!(items[1]["properties"]["shared"].is_object(), "a shared field's reference (catalogue in one language)");
        assert!(schemas["FormFieldDef"]["properties"]["visible_when"].is_object());
        assert!(schemas["FormText"]["anyOf"].is_array());
    }
}
