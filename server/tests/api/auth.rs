//! Accounts and tokens: registration, login by CCCD or phone, EdDSA access tokens checked
//! against the JWKS, refresh rotation with reuse detection, logout, rate limits, and the
//! operators' `user add` command.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app, spawn_app_with};

both!(
    register_login_and_me,
    access_tokens_are_eddsa_and_verifiable_by_jwks,
    forged_tokens_are_refused,
    refresh_rotates_and_reuse_revokes_the_family,
    retry_within_grace_is_not_reuse,
    logout_revokes,
    duplicate_registration_is_a_conflict,
    login_never_reveals_whether_an_account_exists,
    address_rate_limit,
    operator_cli_creates_staff
);

const CCCD: &str = "001203004567";

async fn me(app: &crate::helpers::TestApp, token: &str) -> reqwest::Response {
    app.request(Method::GET, "/api/v1/me").bearer_auth(token).send().await.expect("request")
}

async fn login(app: &crate::helpers::TestApp, login: &str, password: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/login", &json!({"login": login, "password": password})).await
}

async fn register_login_and_me(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokens = app.register(CCCD, "+84 912 345 678", "matkhau123").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["user"]["role"], "citizen");
    assert_eq!(tokens["user"]["phone"], "0912345678", "phone stored in canonical form");
    let by_cccd = expect_json(login(&app, CCCD, "matkhau123").await, 200).await;
    let by_phone = expect_json(login(&app, "0912.345.678", "matkhau123").await, 200).await;
    for t in [&tokens, &by_cccd, &by_phone] {
        let user = expect_json(me(&app, t["access_token"].as_str().expect("token")).await, 200).await;
        assert_eq!(user["citizen_id"], CCCD);
        assert_eq!(user["full_name"], "Nguyễn Văn An");
    }
    app.stop().await;
}

async fn access_tokens_are_eddsa_and_verifiable_by_jwks(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let token = tokens["access_token"].as_str().expect("token");
    let header = jsonwebtoken::decode_header(token).expect("header");
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.expect("kid");
    let jwks = expect_json(app.get("/.well-known/jwks.json").await, 200).await;
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the token's key is published")
        .clone();
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().expect("x")).expect("key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["motcua"]);
    let claims =
        jsonwebtoken::decode::<Value>(token, &key, &validation).expect("verifies with the published key").claims;
    assert_eq!(claims["sub"], tokens["user"]["id"]);
    assert_eq!(claims["role"], "citizen");
    let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 900, "access tokens are short-lived");
    app.stop().await;
}

async fn forged_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let token = tokens["access_token"].as_str().expect("token");
    let parts: Vec<&str> = token.split('.').collect();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("claims");

    // The same claims with role admin: the signature no longer matches.
    let mut elevated = claims.clone();
    elevated["role"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(elevated.to_string()), parts[2]);
    expect_error(me(&app, &tampered).await, 401, "unauthorized").await;

    // alg "none" and an HMAC token keyed with the public key: algorithm is pinned.
    let header = jsonwebtoken::decode_header(token).expect("header");
    let none =
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": header.kid}).to_string()), parts[1]);
    expect_error(me(&app, &none).await, 401, "unauthorized").await;
    let jwks = expect_json(app.get("/.well-known/jwks.json").await, 200).await;
    let x = jwks["keys"][0]["x"].as_str().expect("x").to_owned();
    let mut hs = jsonwebtoken::Header::new(Algorithm::HS256);
    hs.kid = header.kid.clone();
    let hmac =
        jsonwebtoken::encode(&hs, &claims, &jsonwebtoken::EncodingKey::from_secret(x.as_bytes())).expect("encode");
    expect_error(me(&app, &hmac).await, 401, "unauthorized").await;

    // Expired.
    let mut old = claims.clone();
    old["exp"] = json!(1_000_000);
    let expired = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(old.to_string()), parts[2]);
    expect_error(me(&app, &expired).await, 401, "unauthorized").await;
    expect_error(me(&app, "not.a.token").await, 401, "unauthorized").await;
    app.stop().await;
}

async fn refresh(app: &crate::helpers::TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": token})).await
}

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.refresh_grace = std::time::Duration::ZERO).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let first = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    let rotated = expect_json(refresh(&app, &first).await, 200).await;
    let second = rotated["refresh_token"].as_str().expect("refresh").to_owned();
    assert_ne!(first, second, "rotated on every use");
    expect_json(me(&app, rotated["access_token"].as_str().expect("access")).await, 200).await;

    // Someone presents the used token again: the whole family dies, the thief's and ours.
    expect_error(refresh(&app, &first).await, 401, "unauthorized").await;
    expect_error(refresh(&app, &second).await, 401, "unauthorized").await;

    // A separate login (another family) is unaffected.
    let other = expect_json(login(&app, CCCD, "matkhau123").await, 200).await;
    expect_json(refresh(&app, other["refresh_token"].as_str().expect("refresh")).await, 200).await;
    expect_error(refresh(&app, "khong-phai-token").await, 401, "unauthorized").await;
    app.stop().await;
}

async fn retry_within_grace_is_not_reuse(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.refresh_grace = std::time::Duration::from_secs(60)).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let first = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    let lost = expect_json(refresh(&app, &first).await, 200).await;
    // The phone never saw `lost` (the response was cut) and retries with `first`.
    let retried = expect_json(refresh(&app, &first).await, 200).await;
    expect_json(refresh(&app, retried["refresh_token"].as_str().expect("refresh")).await, 200).await;
    assert_ne!(lost["refresh_token"], retried["refresh_token"]);
    app.stop().await;
}

async fn logout_revokes(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let token = tokens["refresh_token"].as_str().expect("refresh");
    let response = app.post_json("/api/v1/auth/logout", &json!({"refresh_token": token})).await;
    assert_eq!(response.status(), 204);
    expect_error(refresh(&app, token).await, 401, "unauthorized").await;
    let again = app.post_json("/api/v1/auth/logout", &json!({"refresh_token": token})).await;
    assert_eq!(again.status(), 204, "logout is idempotent");
    app.stop().await;
}

async fn duplicate_registration_is_a_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(CCCD, "0912345678", "matkhau123").await;
    let same_id = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"citizen_id": CCCD, "phone": "0987654321", "full_name": "Trần Bình", "password": "matkhau456"}),
        )
        .await;
    expect_error(same_id, 409, "account_exists").await;
    let same_phone = app
        .post_json("/api/v1/auth/register", &json!({"citizen_id": "079303001234", "phone": "+84912345678", "full_name": "Trần Bình", "password": "matkhau456"}))
        .await;
    expect_error(same_phone, 409, "account_exists").await;
    app.stop().await;
}

/// Wrong password and unknown account answer alike; after the free failures both are
/// throttled alike (Retry-After), and the right password waits too.
async fn login_never_reveals_whether_an_account_exists(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.login_free_failures = 2).await;
    app.register(CCCD, "0912345678", "matkhau123").await;
    let wrong = expect_json(login(&app, CCCD, "sai-mat-khau1").await, 401).await;
    let unknown = expect_json(login(&app, "079303001234", "sai-mat-khau1").await, 401).await;
    assert_eq!(wrong, unknown, "same body for a wrong password and a missing account");
    assert_eq!(wrong["error"]["code"], "bad_credentials");

    expect_json(login(&app, CCCD, "sai-mat-khau2").await, 401).await;
    expect_json(login(&app, "079303001234", "sai-mat-khau2").await, 401).await;
    // Two free failures; the third locks the name for 1 s, then 2 s, 4 s...
    for who in [CCCD, "079303001234"] {
        expect_json(login(&app, who, "sai-mat-khau3").await, 401).await;
        let locked = login(&app, who, "matkhau123").await;
        assert!(locked.headers().get("retry-after").is_some());
        expect_error(locked, 429, "rate_limited").await;
    }
    // The phone of the same account is the same login name only if typed as that phone:
    // throttling is per login name, so the CCCD lock does not reveal the phone's account.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    expect_json(login(&app, CCCD, "matkhau123").await, 200).await;
    app.stop().await;
}

async fn address_rate_limit(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.auth_rate_per_min = 3).await;
    for _ in 0..3 {
        expect_json(login(&app, "0900000000", "khong-dung-1").await, 401).await;
    }
    let limited = login(&app, "0900000000", "khong-dung-1").await;
    let wait: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");
    expect_error(limited, 429, "rate_limited").await;
    app.stop().await;
}

async fn operator_cli_creates_staff(backend: Backend) {
    let app = spawn_app(backend).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_motcua-server"))
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("MOTCUA_BLOB_DIR", &app.config.blob_dir)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run motcua-server")
    };
    let out = run(&[
        "user",
        "add",
        "--role",
        "officer",
        "--branch",
        "H26.01",
        "--phone",
        "0987654321",
        "--name",
        "Cán bộ Một",
        "--password",
        "canbo12345",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tokens = expect_json(login(&app, "0987654321", "canbo12345").await, 200).await;
    assert_eq!(tokens["user"]["role"], "officer");
    assert_eq!(tokens["user"]["branch"], "H26.01");

    let duplicate =
        run(&["user", "add", "--role", "admin", "--phone", "0987654321", "--name", "X", "--password", "canbo12345"]);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    let no_branch = run(&[
        "user",
        "add",
        "--role",
        "officer",
        "--branch",
        "H99.99",
        "--phone",
        "0987000000",
        "--name",
        "X",
        "--password",
        "canbo12345",
    ]);
    assert!(!no_branch.status.success());
    let weak = run(&["user", "add", "--role", "admin", "--phone", "0987000001", "--name", "X", "--password", "123"]);
    assert!(!weak.status.success());
    app.stop().await;
}
