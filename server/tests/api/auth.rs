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
    tokens_not_yet_valid_are_refused,
    refresh_rotates_and_reuse_revokes_the_family,
    retry_within_grace_is_not_reuse,
    logout_revokes,
    access_tokens_of_a_revoked_family_die,
    registration_never_reveals_a_taken_number,
    an_account_exists_only_after_its_phone_is_verified,
    verification_attempts_are_claimed_atomically,
    login_never_reveals_whether_an_account_exists,
    concurrent_wrong_passwords_cannot_lock_out_the_owner,
    many_networks_meet_the_account_ceiling,
    password_hashing_is_bounded,
    address_rate_limit,
    operator_cli_creates_staff,
    signing_key_rotation,
    personal_answers_are_not_cached
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

/// Presentations of one refresh token within the grace period (a retry after a lost
/// response; here six at once) all get the same successor back, not six live tokens.
async fn retry_within_grace_is_not_reuse(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.refresh_grace = std::time::Duration::from_secs(60)).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let first = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    let answers = futures_join((0..6).map(|_| {
        let app = &app;
        let first = first.clone();
        async move { expect_json(refresh(app, &first).await, 200).await }
    }))
    .await;
    let successors: std::collections::BTreeSet<String> =
        answers.iter().map(|a| a["refresh_token"].as_str().expect("refresh").to_owned()).collect();
    assert_eq!(successors.len(), 1, "one successor for every presentation: {successors:?}");
    let successor = successors.into_iter().next().expect("one");
    assert_ne!(successor, first);
    // The phone never saw the answers (cut) and retries once more: still the same one.
    let retried = expect_json(refresh(&app, &first).await, 200).await;
    assert_eq!(retried["refresh_token"], successor.as_str());
    let next = expect_json(refresh(&app, &successor).await, 200).await;
    // The successor is used now: presenting its parent again is reuse, and ends the family.
    expect_error(refresh(&app, &first).await, 401, "unauthorized").await;
    expect_error(refresh(&app, next["refresh_token"].as_str().expect("refresh")).await, 401, "unauthorized").await;
    app.stop().await;
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("finished")).collect()
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

/// A registration with a number that already has an account answers exactly like one with
/// a free number (no 409); the owner gets a notice by SMS, and no code that could verify.
async fn registration_never_reveals_a_taken_number(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(CCCD, "0912345678", "matkhau123").await;
    let fresh = app.start_registration("079303001234", "0987654321", "matkhau456").await;
    let taken = app.start_registration("079303001235", "+84912345678", "matkhau456").await;
    let keys = |v: &Value| v.as_object().expect("object").keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&fresh), keys(&taken), "same shape: {fresh} / {taken}");
    assert_eq!(fresh["expires_in"], taken["expires_in"]);
    let notice = app.sms.sent_to("0912345678");
    assert_eq!(notice.len(), 2, "a code at registration, then a notice: {notice:?}");
    assert!(app.last_code("0912345678").is_none(), "the notice carries no code: {notice:?}");
    assert!(notice[1].contains("đã có tài khoản"), "{}", notice[1]);
    // No code can verify that challenge: every guess is just a wrong code.
    let guess = app
        .post_json(
            "/api/v1/auth/register/verify",
            &json!({"verification_id": taken["verification_id"], "code": "000000"}),
        )
        .await;
    assert_eq!(expect_error(guess, 422, "validation_failed").await, vec!["code"]);
    // A citizen id registered to another phone is told only to the verified owner of the new phone.
    let same_id = app.start_registration(CCCD, "0977000111", "matkhau456").await;
    let code = app.last_code("0977000111").expect("code");
    let verified = app
        .post_json(
            "/api/v1/auth/register/verify",
            &json!({"verification_id": same_id["verification_id"], "code": code}),
        )
        .await;
    expect_error(verified, 409, "account_exists").await;
    app.stop().await;
}

async fn an_account_exists_only_after_its_phone_is_verified(backend: Backend) {
    let app = spawn_app(backend).await;
    let challenge = app.start_registration(CCCD, "0912345678", "matkhau123").await;
    expect_error(login(&app, "0912345678", "matkhau123").await, 401, "bad_credentials").await;
    let code = app.last_code("0912345678").expect("a code by SMS");
    let wrong = if code == "123456" { "654321" } else { "123456" };
    let id = challenge["verification_id"].clone();
    let bad = app.post_json("/api/v1/auth/register/verify", &json!({"verification_id": id, "code": wrong})).await;
    assert_eq!(expect_error(bad, 422, "validation_failed").await, vec!["code"]);
    let good = app.post_json("/api/v1/auth/register/verify", &json!({"verification_id": id, "code": code})).await;
    let tokens = expect_json(good, 201).await;
    assert_eq!(tokens["user"]["phone"], "0912345678");
    expect_json(me(&app, tokens["access_token"].as_str().expect("token")).await, 200).await;
    expect_json(login(&app, "0912345678", "matkhau123").await, 200).await;
    // A code verifies once.
    let again = app.post_json("/api/v1/auth/register/verify", &json!({"verification_id": id, "code": code})).await;
    assert_eq!(expect_error(again, 422, "validation_failed").await, vec!["verification_id"]);
    // An expired code does not verify.
    let late = app.start_registration("079303001234", "0987654321", "matkhau456").await;
    let late_code = app.last_code("0987654321").expect("code");
    app.clock.set(app.clock.now_utc() + chrono::TimeDelta::minutes(11));
    let expired = app
        .post_json(
            "/api/v1/auth/register/verify",
            &json!({"verification_id": late["verification_id"], "code": late_code}),
        )
        .await;
    assert_eq!(expect_error(expired, 422, "validation_failed").await, vec!["verification_id"]);
    app.stop().await;
}

/// Twenty concurrent guesses of one code: at most five are compared, and after them even
/// the right code is refused.
async fn verification_attempts_are_claimed_atomically(backend: Backend) {
    let app = spawn_app(backend).await;
    let challenge = app.start_registration(CCCD, "0912345678", "matkhau123").await;
    let code = app.last_code("0912345678").expect("code");
    let id = challenge["verification_id"].clone();
    let guesses: Vec<String> =
        (0..20u32).map(|i| format!("{:06}", (code.parse::<u32>().expect("digits") + 1 + i) % 1_000_000)).collect();
    let answers = futures_join(guesses.iter().map(|g| {
        let app = &app;
        let body = json!({"verification_id": id, "code": g});
        async move {
            expect_error(app.post_json("/api/v1/auth/register/verify", &body).await, 422, "validation_failed").await
        }
    }))
    .await;
    let compared = answers.iter().filter(|paths| paths == &&vec!["code".to_owned()]).count();
    assert_eq!(compared, 5, "exactly the allowed guesses were compared: {answers:?}");
    let right = app.post_json("/api/v1/auth/register/verify", &json!({"verification_id": id, "code": code})).await;
    assert_eq!(expect_error(right, 422, "validation_failed").await, vec!["verification_id"]);
    app.stop().await;
}

/// Wrong password and unknown account answer alike, and are throttled alike.
async fn login_never_reveals_whether_an_account_exists(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.login_free_failures = 3).await;
    app.register(CCCD, "0912345678", "matkhau123").await;
    let wrong = expect_json(login(&app, CCCD, "sai-mat-khau1").await, 401).await;
    let unknown = expect_json(login(&app, "079303001234", "sai-mat-khau1").await, 401).await;
    assert_eq!(wrong, unknown, "same body for a wrong password and a missing account");
    assert_eq!(wrong["error"]["code"], "bad_credentials");
    for who in [CCCD, "079303001234"] {
        expect_json(login(&app, who, "sai-mat-khau2").await, 401).await;
        expect_json(login(&app, who, "sai-mat-khau3").await, 401).await;
        let locked = login(&app, who, "matkhau123").await;
        assert!(locked.headers().get("retry-after").is_some());
        expect_error(locked, 429, "rate_limited").await;
    }
    app.stop().await;
}

async fn login_from(app: &crate::helpers::TestApp, ip: &str, login: &str, password: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/auth/login")
        .header("x-forwarded-for", ip)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .expect("request")
}

/// Forty wrong passwords at once from one network: only the allowed number are checked,
/// the rest are refused before any password check; the owner still signs in from their own
/// network, and the guesser's network may try again once its counter drains.
async fn concurrent_wrong_passwords_cannot_lock_out_the_owner(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.login_free_failures = 6;
        c.login_account_ceiling = 100;
        c.login_drain = std::time::Duration::from_secs(600);
        c.trust_forwarded_for = true;
        c.hash_queue_wait = std::time::Duration::from_secs(60);
    })
    .await;
    app.register(CCCD, "0912345678", "matkhau123").await;
    let attacker = "203.0.113.7";
    let answers = futures_join((0..40).map(|i| {
        let app = &app;
        async move { login_from(app, attacker, "0912345678", &format!("doan-sai-{i}")).await.status().as_u16() }
    }))
    .await;
    let checked = answers.iter().filter(|s| **s == 401).count();
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + refused, 40, "{answers:?}");
    assert!(checked <= 6, "at most the allowed attempts were checked: {checked} ({answers:?})");
    // The owner, from home (another network, another IPv6 /64 or IPv4 address), is not locked out.
    expect_json(login_from(&app, "198.51.100.20", "0912345678", "matkhau123").await, 200).await;
    expect_json(login_from(&app, "2001:db8:aa:bb::1", CCCD, "matkhau123").await, 200).await;
    // The guesser's network is, even with the right password, until its counter drains.
    expect_error(login_from(&app, attacker, "0912345678", "matkhau123").await, 429, "rate_limited").await;
    app.clock.set(app.clock.now_utc() + chrono::TimeDelta::seconds(120));
    expect_json(login_from(&app, attacker, "0912345678", "matkhau123").await, 200).await;
    app.stop().await;
}

/// Guesses spread over many networks meet the per-account ceiling.
async fn many_networks_meet_the_account_ceiling(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.login_free_failures = 3;
        c.login_account_ceiling = 8;
        c.trust_forwarded_for = true;
    })
    .await;
    app.register(CCCD, "0912345678", "matkhau123").await;
    let mut statuses = Vec::new();
    for net in 1..=4 {
        for i in 0..3 {
            let r = login_from(&app, &format!("203.0.113.{net}"), CCCD, &format!("sai-{net}-{i}")).await;
            statuses.push(r.status().as_u16());
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 8, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 4, "{statuses:?}");
    app.stop().await;
}

/// With one hashing turn and no queue, concurrent logins beyond it get a typed 503 with
/// Retry-After instead of piling up on the blocking pool.
async fn password_hashing_is_bounded(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.hash_concurrency = 1;
        c.hash_queue_wait = std::time::Duration::ZERO;
    })
    .await;
    let answers = futures_join((0..24).map(|i| {
        let app = &app;
        async move {
            let r = login(app, &format!("09123450{i:02}"), "khong-dung-1").await;
            let retry = r.headers().get("retry-after").is_some();
            (r.status().as_u16(), retry, r.json::<Value>().await.expect("json")["error"]["code"].clone())
        }
    }))
    .await;
    let overloaded: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(!overloaded.is_empty(), "{answers:?}");
    assert!(overloaded.iter().all(|(_, retry, code)| *retry && code == "overloaded"), "{answers:?}");
    assert!(answers.iter().all(|(s, _, _)| *s == 401 || *s == 503), "{answers:?}");
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
    let add = |extra: &[&str]| {
        let mut args = vec!["user", "add", "--role", "officer", "--branch", "H26.01", "--phone", "0987654321"];
        args.extend_from_slice(&["--name", "Cán bộ Một"]);
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    // A password on the command line is refused (it would show in `ps` and the history).
    let argv = add(&["--password", "canbo12345"]);
    let on_cli = app.operator(&argv.iter().map(String::as_str).collect::<Vec<_>>(), "");
    assert!(!on_cli.status.success());
    assert!(
        String::from_utf8_lossy(&on_cli.stderr).contains("--password"),
        "{}",
        String::from_utf8_lossy(&on_cli.stderr)
    );
    let argv = add(&[]);
    let out = app.operator(&argv.iter().map(String::as_str).collect::<Vec<_>>(), "canbo12345\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tokens = expect_json(login(&app, "0987654321", "canbo12345").await, 200).await;
    assert_eq!(tokens["user"]["role"], "officer");
    assert_eq!(tokens["user"]["branch"], "H26.01");

    let duplicate =
        app.operator(&["user", "add", "--role", "admin", "--phone", "0987654321", "--name", "X"], "canbo12345\n");
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    let no_branch = app.operator(
        &["user", "add", "--role", "officer", "--branch", "H99.99", "--phone", "0987000000", "--name", "X"],
        "canbo12345\n",
    );
    assert!(!no_branch.status.success());
    let weak = app.operator(&["user", "add", "--role", "admin", "--phone", "0987000001", "--name", "X"], "123\n");
    assert!(!weak.status.success());
    // For automation: the environment variable.
    let automated = std::process::Command::new(env!("CARGO_BIN_EXE_motcua-server"))
        .args(["user", "add", "--role", "admin", "--phone", "0987000002", "--name", "Quản trị"])
        .env("DATABASE_URL", &app.database_url)
        .env("MOTCUA_BLOB_DIR", &app.config.blob_dir)
        .env("MOTCUA_USER_PASSWORD", "quantri12345")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert!(automated.status.success(), "{}", String::from_utf8_lossy(&automated.stderr));
    expect_json(login(&app, "0987000002", "quantri12345").await, 200).await;
    app.stop().await;
}

/// A token whose `nbf` lies in the future is refused, though correctly signed.
async fn tokens_not_yet_valid_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let token = tokens["access_token"].as_str().expect("token");
    let payload = token.split('.').nth(1).expect("payload");
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("claims");
    assert_eq!(claims["nbf"], claims["iat"], "nbf is set");
    let signing = app.state.keys.signing();
    let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
    header.kid = Some(signing.kid.clone());
    let resigned = jsonwebtoken::encode(&header, &claims, &signing.key).expect("sign");
    expect_json(me(&app, &resigned).await, 200).await;
    claims["nbf"] = json!(claims["iat"].as_i64().expect("iat") + 3600);
    let early = jsonwebtoken::encode(&header, &claims, &signing.key).expect("sign");
    expect_error(me(&app, &early).await, 401, "unauthorized").await;
    app.stop().await;
}

/// After logout (or reuse detection) the family's access tokens stop working: at once on
/// the process that revoked, within `revocation_cache` on the others.
async fn access_tokens_of_a_revoked_family_die(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut other_config = app.config.clone();
    other_config.revocation_cache = std::time::Duration::from_millis(200);
    let other = crate::helpers::start_on(other_config).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let access = tokens["access_token"].as_str().expect("token");
    let second_login = expect_json(login(&app, CCCD, "matkhau123").await, 200).await;
    expect_json(me(&other, access).await, 200).await;
    let response = app.post_json("/api/v1/auth/logout", &json!({"refresh_token": tokens["refresh_token"]})).await;
    assert_eq!(response.status(), 204);
    expect_error(me(&app, access).await, 401, "unauthorized").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    expect_error(me(&other, access).await, 401, "unauthorized").await;
    // Another sign-in of the same person lives on.
    expect_json(me(&app, second_login["access_token"].as_str().expect("token")).await, 200).await;
    other.stop().await;
    app.stop().await;
}

/// `keys rotate`: new tokens are signed with the new key on every process after its
/// reload; tokens of the old key keep working until the key is retired.
async fn signing_key_rotation(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.key_reload = std::time::Duration::from_millis(100)).await;
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let old = tokens["access_token"].as_str().expect("token").to_owned();
    let old_kid = jsonwebtoken::decode_header(&old).expect("header").kid.expect("kid");
    let out = app.operator(&["keys", "rotate"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let new_kid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_ne!(new_kid, old_kid);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let fresh = expect_json(login(&app, CCCD, "matkhau123").await, 200).await;
    let fresh_kid = jsonwebtoken::decode_header(fresh["access_token"].as_str().expect("token")).expect("h").kid;
    assert_eq!(fresh_kid.as_deref(), Some(new_kid.as_str()), "signed with the new key");
    expect_json(me(&app, &old).await, 200).await;
    let jwks = expect_json(app.get("/.well-known/jwks.json").await, 200).await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 2);
    // Once no token of the old key can be valid any more, a rotation retires it.
    let later = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let (_, retired) = motcua_server::auth::keys::rotate(&app.state.db, later, std::time::Duration::from_secs(960))
        .await
        .expect("rotate");
    assert_eq!(retired, vec![old_kid]);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    expect_error(me(&app, &old).await, 401, "unauthorized").await;
    app.stop().await;
}

/// Every answer says `nosniff`; personal ones say `no-store`, the public catalogue does not.
async fn personal_answers_are_not_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let header =
        |r: &reqwest::Response, name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let tokens = app.register(CCCD, "0912345678", "matkhau123").await;
    let token = tokens["access_token"].as_str().expect("token");
    for path in ["/api/v1/me", "/api/v1/dossiers", "/api/v1/notifications"] {
        let r = app.get_as(token, path).await;
        assert_eq!(header(&r, "cache-control").as_deref(), Some("no-store"), "{path}");
        assert_eq!(header(&r, "x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
    let signed_in = login(&app, CCCD, "matkhau123").await;
    assert_eq!(header(&signed_in, "cache-control").as_deref(), Some("no-store"));
    for path in ["/healthz", "/api/v1/procedures", "/khong-co", "/api/v1/procedures/0.000"] {
        let r = app.get(path).await;
        assert_eq!(header(&r, "x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_ne!(header(&r, "cache-control").as_deref(), Some("no-store"), "{path}");
    }
    app.stop().await;
}
