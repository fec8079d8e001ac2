//! Bad input of every kind gets a 4xx in the one error shape, naming the field, in
//! Vietnamese (English on request) — never a 500.

use reqwest::Method;
use serde_json::json;

use crate::both;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app, spawn_app_with};

both!(
    malformed_and_mistyped_json,
    unknown_routes_and_methods,
    oversized_and_non_json_bodies,
    registration_lists_every_problem,
    english_on_request
);

async fn malformed_and_mistyped_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let broken = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json")
        .body("{\"login\": \"0912")
        .send()
        .await
        .expect("request");
    expect_error(broken, 400, "bad_request").await;
    let wrong_type = app.post_json("/api/v1/auth/login", &json!({"login": 912345678, "password": "x"})).await;
    assert_eq!(expect_error(wrong_type, 422, "validation_failed").await, vec!["login"]);
    let missing = app.post_json("/api/v1/auth/login", &json!({"login": "0912345678"})).await;
    assert_eq!(expect_error(missing, 422, "validation_failed").await, vec!["password"]);
    let not_object = app.post_json("/api/v1/auth/register", &json!([1, 2, 3])).await;
    expect_error(not_object, 422, "validation_failed").await;
    // A query parameter given twice is named.
    let twice = app.get("/api/v1/catalogue/changes?since=0&lang=vi&lang=en").await;
    assert_eq!(expect_error(twice, 400, "bad_request").await, vec!["lang"]);
    let twice = app.get("/api/v1/procedures?q=a&q=b").await;
    assert_eq!(expect_error(twice, 400, "bad_request").await, vec!["q"]);
    app.stop().await;
}

async fn unknown_routes_and_methods(backend: Backend) {
    let app = spawn_app(backend).await;
    expect_error(app.get("/api/v1/khong-co").await, 404, "not_found").await;
    let wrong_method = app.request(Method::DELETE, "/api/v1/procedures").send().await.expect("request");
    expect_error(wrong_method, 405, "method_not_allowed").await;
    let no_token = app.get("/api/v1/me").await;
    assert_eq!(no_token.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    expect_error(no_token, 401, "unauthorized").await;
    app.stop().await;
}

async fn oversized_and_non_json_bodies(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.max_body_bytes = 4096).await;
    let big = json!({"login": "x".repeat(10_000), "password": "y"});
    expect_error(app.post_json("/api/v1/auth/login", &big).await, 413, "payload_too_large").await;
    let text = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "text/plain")
        .body("login=1")
        .send()
        .await
        .expect("request");
    expect_error(text, 415, "unsupported_media_type").await;
    app.stop().await;
}

async fn registration_lists_every_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"citizen_id": "12345", "phone": "12", "full_name": "", "password": "ngan", "email": "khong-phai-email"}),
        )
        .await;
    let body = expect_json(response, 422).await;
    let fields = body["error"]["fields"].as_array().expect("fields");
    let paths: Vec<&str> = fields.iter().map(|f| f["path"].as_str().expect("path")).collect();
    assert_eq!(paths, vec!["citizen_id", "phone", "full_name", "password", "email"]);
    let message = fields[0]["message"].as_str().expect("message");
    assert!(message.contains("Số căn cước"), "one term for the identity card: {message}");
    assert!(!message.contains("CCCD"), "Vietnamese message: {message}");
    assert!(body["error"]["message"].as_str().expect("message").contains("hợp lệ"), "{body}");

    // A province code that does not exist (000) is not a CCCD.
    let response = app
        .post_json("/api/v1/auth/register", &json!({"citizen_id": "000203004567", "phone": "0912345678", "full_name": "Lê Thị Bình", "password": "matkhau123"}))
        .await;
    assert_eq!(expect_error(response, 422, "validation_failed").await, vec!["citizen_id"]);
    app.stop().await;
}

async fn english_on_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .request(Method::GET, "/api/v1/procedures/0.000")
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers().get("content-language").and_then(|v| v.to_str().ok()), Some("en"));
    let body = expect_json(response, 404).await;
    assert_eq!(body["error"]["message"], "Not found.");
    let vi = expect_json(app.get("/api/v1/procedures/0.000").await, 404).await;
    assert_eq!(vi["error"]["message"], "Không tìm thấy nội dung yêu cầu.");
    app.stop().await;
}
