//! The emulator as FCM's clients meet it: the token endpoint's checks of the JWT-bearer
//! assertion, the bearer token on `messages:send` (including the quoted form `fcm-rs`
//! 0.2.0 sends), FCM's validation and error bodies, each fault, HTTP/1.1 and h2c, and the
//! control API over HTTP.

use std::time::{SystemTime, UNIX_EPOCH};

use fcm_emulator::service_account::ServiceAccount;
use fcm_emulator::{Config, Emulator, FCM_SCOPE, FaultKind, FaultSpec};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("time").as_secs()
}

fn assertion(account: &ServiceAccount, claims: Value) -> String {
    let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes()).expect("key");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).expect("sign")
}

fn claims(account: &ServiceAccount, aud: &str) -> Value {
    let t = now();
    json!({"iss": account.client_email, "scope": FCM_SCOPE, "aud": aud, "iat": t, "exp": t + 3600})
}

async fn ask_token(client: &reqwest::Client, emulator: &Emulator, assertion: &str) -> (u16, Value) {
    let response = client
        .post(emulator.token_uri())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type={GRANT}&assertion={assertion}"))
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn setup() -> (Emulator, ServiceAccount, reqwest::Client) {
    let emulator = Emulator::start(Config::default()).await.expect("start");
    let account = ServiceAccount::generate("demo", &emulator.token_uri()).expect("key");
    emulator.add_service_account(&account).expect("trust");
    (emulator, account, reqwest::Client::new())
}

async fn access_token(emulator: &Emulator, account: &ServiceAccount, client: &reqwest::Client) -> String {
    let (status, body) = ask_token(client, emulator, &assertion(account, claims(account, &emulator.token_uri()))).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn the_token_endpoint_checks_the_assertion() {
    let (emulator, account, client) = setup().await;
    let aud = emulator.token_uri();
    let (status, body) = ask_token(&client, &emulator, &assertion(&account, claims(&account, &aud))).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);

    let t = now();
    let refused = [
        (
            json!({"iss": account.client_email, "scope": FCM_SCOPE, "aud": "https://oauth2.googleapis.com/token", "iat": t, "exp": t + 3600}),
            "invalid_grant",
        ),
        (
            json!({"iss": account.client_email, "scope": "https://www.googleapis.com/auth/drive", "aud": aud, "iat": t, "exp": t + 3600}),
            "invalid_scope",
        ),
        (
            json!({"iss": account.client_email, "scope": FCM_SCOPE, "aud": aud, "iat": t - 7200, "exp": t - 3600}),
            "invalid_grant",
        ),
        (
            json!({"iss": account.client_email, "scope": FCM_SCOPE, "aud": aud, "iat": t, "exp": t + 7200}),
            "invalid_grant",
        ),
        (
            json!({"iss": "someone@else.iam.gserviceaccount.com", "scope": FCM_SCOPE, "aud": aud, "iat": t, "exp": t + 3600}),
            "invalid_grant",
        ),
        (json!({"scope": FCM_SCOPE, "aud": aud, "iat": t, "exp": t + 3600}), "invalid_grant"),
    ];
    for (claims, error) in refused {
        let (status, body) = ask_token(&client, &emulator, &assertion(&account, claims.clone())).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(error)), "{claims} → {body}");
    }
    // Signed by a key the emulator was not given; or with a shared secret instead of RS256.
    let stranger = ServiceAccount::generate("demo", &aud).expect("key");
    let (status, body) = ask_token(&client, &emulator, &assertion(&stranger, claims(&account, &aud))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let hs =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(&account, &aud), &EncodingKey::from_secret(b"s"))
            .expect("hs");
    let (status, _) = ask_token(&client, &emulator, &hs).await;
    assert_eq!(status, 400);
    let response =
        client.post(emulator.token_uri()).body("grant_type=client_credentials").send().await.expect("request");
    assert_eq!(response.status(), 400);
    assert_eq!(emulator.stats().tokens_issued, 1);
}

fn send_url(emulator: &Emulator, project: &str) -> String {
    format!("{}/v1/projects/{project}/messages:send", emulator.base_url())
}

#[tokio::test]
async fn the_bearer_token_must_be_sent_as_rfc_6750_says() {
    let (emulator, account, client) = setup().await;
    let token = access_token(&emulator, &account, &client).await;
    let message = json!({"message": {"token": "device", "notification": {"title": "t", "body": "b"}}});
    let ok = client.post(send_url(&emulator, "demo")).bearer_auth(&token).json(&message).send().await.expect("send");
    assert_eq!(ok.status(), 200);
    assert!(
        ok.json::<Value>().await.expect("json")["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("projects/demo/messages/"))
    );

    // fcm-rs 0.2.0 (src/client.rs) sends `.header("Authorization", format!("Bearer {:?}", token_str))`:
    // the token Debug-formatted, inside quotes. FCM (and so the emulator) refuses it.
    let quoted = format!("Bearer {token:?}");
    assert!(quoted.starts_with("Bearer \"ya29."));
    let refused = client
        .post(send_url(&emulator, "demo"))
        .header("authorization", quoted)
        .json(&message)
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(body["error"]["code"], 401);

    let other_project =
        client.post(send_url(&emulator, "other")).bearer_auth(&token).json(&message).send().await.expect("send");
    assert_eq!(other_project.status(), 403);
    emulator.revoke_access_tokens();
    let revoked =
        client.post(send_url(&emulator, "demo")).bearer_auth(&token).json(&message).send().await.expect("send");
    assert_eq!(revoked.status(), 401);
    assert_eq!(emulator.received("device").count, 1);
}

#[tokio::test]
async fn messages_are_validated_and_faults_answer_like_fcm() {
    let (emulator, account, _) = setup().await;
    // HTTP/2 without TLS, as the server's client speaks to the emulator.
    let client = reqwest::Client::builder().http2_prior_knowledge().build().expect("client");
    let token = access_token(&emulator, &account, &client).await;
    let send = async |body: Value| {
        let response = client.post(send_url(&emulator, "demo")).bearer_auth(&token).json(&body).send().await;
        match response {
            Ok(r) => {
                let status = r.status().as_u16();
                let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
                Some((status, retry, r.json::<Value>().await.expect("json")))
            }
            Err(_) => None,
        }
    };
    let (status, _, body) = send(json!({"message": {"token": "a", "data": {"n": 1}}})).await.expect("answer");
    assert_eq!(status, 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(body["error"]["details"][0]["@type"], "type.googleapis.com/google.firebase.fcm.v1.FcmError");
    assert_eq!(body["error"]["details"][0]["errorCode"], "INVALID_ARGUMENT");

    let cases = [
        (FaultKind::Unregistered, 404, "NOT_FOUND", "UNREGISTERED"),
        (FaultKind::InvalidArgument, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
        (FaultKind::SenderIdMismatch, 403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"),
        (FaultKind::QuotaExceeded, 429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
        (FaultKind::Unavailable, 503, "UNAVAILABLE", "UNAVAILABLE"),
        (FaultKind::Internal, 500, "INTERNAL", "INTERNAL"),
    ];
    for (kind, status, grpc, code) in cases {
        emulator.add_fault(FaultSpec::new(kind).token("victim").times(1).retry_after(7));
        let (got, retry, body) = send(json!({"message": {"token": "victim"}})).await.expect("answer");
        assert_eq!(
            (got, body["error"]["status"].as_str(), body["error"]["details"][0]["errorCode"].as_str()),
            (status, Some(grpc), Some(code))
        );
        assert_eq!(retry.as_deref(), Some("7"));
        let (after, _, _) = send(json!({"message": {"token": "victim"}})).await.expect("answer");
        assert_eq!(after, 200, "a fault for one time hits once");
    }
    // A token fault leaves other tokens alone; a dropped connection gives no answer.
    emulator.add_fault(FaultSpec::new(FaultKind::Unregistered).token("gone"));
    assert_eq!(send(json!({"message": {"token": "fine"}})).await.expect("answer").0, 200);
    assert_eq!(send(json!({"message": {"token": "gone"}})).await.expect("answer").0, 404);
    emulator.add_fault(FaultSpec::new(FaultKind::Drop).times(1));
    assert!(send(json!({"message": {"token": "fine"}})).await.is_none());
    emulator.add_fault(FaultSpec::new(FaultKind::Delay).delay(300).times(1));
    let started = std::time::Instant::now();
    assert_eq!(send(json!({"message": {"token": "fine"}})).await.expect("answer").0, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    let stats = emulator.stats();
    assert_eq!((stats.dropped, stats.http1_requests), (1, 0));
    assert!(stats.http2_requests >= 15);
    assert_eq!(emulator.received("victim").count, 6);
    assert_eq!(emulator.received("fine").count, 2);
}

#[tokio::test]
async fn the_control_api_drives_the_emulator_over_http() {
    let emulator = Emulator::start(Config::default()).await.expect("start");
    let account = ServiceAccount::generate("demo", &emulator.token_uri()).expect("key");
    let client = reqwest::Client::builder().http1_only().build().expect("client");
    let base = emulator.base_url();
    let added = client
        .post(format!("{base}/control/accounts"))
        .json(&json!({"client_email": account.client_email, "public_key_pem": account.public_key_pem().expect("pem"), "project_id": "demo"}))
        .send()
        .await
        .expect("add");
    assert_eq!(added.status(), 204);
    let token = access_token(&emulator, &account, &client).await;
    let fault = client
        .post(format!("{base}/control/faults"))
        .json(&json!({"kind": "UNREGISTERED", "token": "dead", "times": 1}))
        .send()
        .await
        .expect("fault");
    assert_eq!(fault.status(), 204);
    let message = |t: &str| json!({"message": {"token": t, "data": {"notification_id": "n1"}}});
    let dead =
        client.post(send_url(&emulator, "demo")).bearer_auth(&token).json(&message("dead")).send().await.expect("send");
    assert_eq!(dead.status(), 404);
    for _ in 0..2 {
        let ok = client
            .post(send_url(&emulator, "demo"))
            .bearer_auth(&token)
            .json(&message("live:1"))
            .send()
            .await
            .expect("send");
        assert_eq!(ok.status(), 200);
    }
    let record: Value =
        client.get(format!("{base}/control/messages/live:1")).send().await.expect("get").json().await.expect("json");
    assert_eq!((record["count"].as_u64(), record["duplicates"].as_u64()), (Some(2), Some(1)));
    assert_eq!(record["messages"][0]["message"]["data"]["notification_id"], "n1");
    let stats: Value =
        client.get(format!("{base}/control/stats")).send().await.expect("get").json().await.expect("json");
    assert_eq!(stats["errors"]["UNREGISTERED"], 1);
    assert_eq!(stats["http1_requests"], 3);
    assert_eq!(client.post(format!("{base}/control/reset")).send().await.expect("reset").status(), 204);
    assert_eq!(emulator.stats().accepted, 0);
}
