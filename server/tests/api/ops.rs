//! Health, readiness, metrics, the OpenAPI document and the offline Swagger UI; several
//! server processes over one database.

use serde_json::Value;

use crate::both;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app, spawn_app_with, start_on};

both!(
    health_and_readiness,
    metrics_count_requests,
    openapi_document_describes_every_route,
    swagger_ui_is_served_offline,
    processes_share_keys_and_seed,
    processes_starting_together_make_one_key
);

async fn health_and_readiness(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(expect_json(app.get("/healthz").await, 200).await["status"], "ok");
    assert_eq!(expect_json(app.get("/readyz").await, 200).await["status"], "ready");
    let response = app.get("/healthz").await;
    assert!(response.headers().get("x-request-id").is_some(), "every response carries a request id");
    app.state.db.close().await;
    let body = expect_json(app.get("/readyz").await, 503).await;
    assert_eq!(body["error"]["code"], "unavailable");
    app.stop().await;
}

/// `/metrics` is not public: without a configured token it is not served on the API
/// address; with one, it needs that token.
async fn metrics_count_requests(backend: Backend) {
    let closed = spawn_app(backend).await;
    expect_error(closed.get("/metrics").await, 404, "not_found").await;
    closed.stop().await;
    let app = spawn_app_with(backend, |c| c.metrics_token = Some("bi-mat-cua-prometheus".into())).await;
    app.get("/api/v1/procedures?q=khai+sinh").await;
    expect_error(app.get("/metrics").await, 401, "unauthorized").await;
    expect_error(app.get_as("doan-bua", "/metrics").await, 401, "unauthorized").await;
    let response = app.get_as("bi-mat-cua-prometheus", "/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(text.contains("motcua_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/procedures\""), "{text}");
    app.stop().await;
}

async fn openapi_document_describes_every_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = expect_json(app.get("/openapi.json").await, 200).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/procedures",
        "/api/v1/procedures/{code}",
        "/api/v1/catalogue/changes",
        "/api/v1/fields",
        "/api/v1/branches",
        "/api/v1/auth/register",
        "/api/v1/auth/register/verify",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/.well-known/jwks.json",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is missing from the OpenAPI document");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    app.stop().await;
}

async fn swagger_ui_is_served_offline(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/docs/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    assert!(html.contains("swagger"), "{html}");
    let initializer = app.get("/docs/swagger-initializer.js").await.text().await.expect("js");
    assert!(initializer.contains("/openapi.json"), "{initializer}");
    app.stop().await;
}

/// Processes started together on an empty database make one signing key between them
/// (each making its own left each process publishing and signing with a different set).
async fn processes_starting_together_make_one_key(backend: Backend) {
    let (url, scratch) = crate::helpers::fresh_database(backend).await;
    let first = crate::helpers::start_owned(backend, &url, scratch.clone()).await;
    // The first start migrated the database; empty the key table again, then race.
    motcua_server::on_db!(&first.state.db, write, pool => {
        sqlx::query("DELETE FROM signing_keys").execute(pool).await.map(|r| r.rows_affected())
    })
    .expect("delete");
    let config = first.config.clone();
    let started = futures_util::future::join_all((0..4).map(|_| start_on(config.clone()))).await;
    let keys = motcua_server::on_db!(&first.state.db, read, pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM signing_keys").fetch_one(pool).await
    })
    .expect("count");
    assert_eq!(keys, 1, "one key for processes starting together");
    let jwks: Vec<Value> = futures_util::future::join_all(
        started.iter().map(|s| async { expect_json(s.get("/.well-known/jwks.json").await, 200).await }),
    )
    .await;
    assert!(jwks.iter().all(|k| k == &jwks[0] && k["keys"].as_array().map(Vec::len) == Some(1)), "{jwks:?}");
    for s in started {
        s.stop().await;
    }
    first.stop().await;
}

/// Two server processes over one database: the seed is loaded once, and a token signed
/// by one is accepted by the other (the signing key lives in the database).
async fn processes_share_keys_and_seed(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = start_on(first.config.clone()).await;
    let tokens = first.register("001203004567", "0912345678", "matkhau123").await;
    let token = tokens["access_token"].as_str().expect("token");
    let me = second.request(reqwest::Method::GET, "/api/v1/me").bearer_auth(token).send().await.expect("request");
    assert_eq!(expect_json(me, 200).await["phone"], "0912345678");
    let a = expect_json(first.get("/api/v1/procedures").await, 200).await;
    let b = expect_json(second.get("/api/v1/procedures").await, 200).await;
    assert_eq!(a["catalogue_version"], b["catalogue_version"]);
    assert_eq!(a["catalogue_version"], 1, "the seed was loaded exactly once");
    second.stop().await;
    first.stop().await;
}

/// The real binary on its defaults (a fresh SQLite file in its working directory):
/// it serves, and on SIGTERM it drains and exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_and_stops_gracefully_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("motcua-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_motcua-server"))
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env("MOTCUA_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn motcua-server");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await
            && r.status() == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "the server never became ready");
    let page: Value = client
        .get(format!("http://127.0.0.1:{port}/api/v1/procedures?q=khai%20sinh"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(page["total"].as_u64().is_some_and(|n| n > 0));
    assert!(dir.join("motcua.db").exists(), "the default database file is created in the working directory");
    let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("join").expect("wait");
    assert!(output.status.success(), "exit status {:?}", output.status);
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(logs.contains("\"request_id\""), "JSON logs carry the request id: {logs}");
    assert!(logs.contains("shutdown requested") && logs.contains("motcua-server stopped"), "{logs}");
    std::fs::remove_dir_all(&dir).ok();
}
