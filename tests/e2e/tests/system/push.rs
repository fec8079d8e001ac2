//! Push notifications end to end: a citizen's client files a dossier, its phone is
//! registered, an officer moves the dossier and the emulator records exactly one
//! notification for that phone with the right text and deep link; a dead token is
//! deactivated after UNREGISTERED; a 429 storm is ridden out with no loss and no
//! duplicate; two server processes over one PostgreSQL deliver each job once.

use std::sync::Arc;

use motcua_client::{Client, ClientConfig, FieldValue, MemoryTokenStore, TokenStore};
use motcua_e2e::{Backend, Emulator, Scratch, Server, eventually};
use serde_json::{Value, json};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(motcua_e2e::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(motcua_e2e::Backend::Postgres).await
                }
            )*
        }
    };
}

both!(
    an_officers_move_reaches_the_citizens_phone_once,
    a_dead_token_is_deactivated,
    a_429_storm_is_ridden_out_without_loss_or_duplicate
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_over_one_postgresql_deliver_each_job_once() {
    two_processes(Backend::Postgres).await;
}

/// The seed procedure with a simple form and one attachment slot (`tep_de_nghi`).
const PROCEDURE: &str = "1.004189";

/// A citizen signed up through the client library, and the client's token store.
pub(crate) async fn citizen_client(
    server: &Server,
    scratch: &Scratch,
    cid: &str,
    phone: &str,
) -> (Arc<Client>, Arc<MemoryTokenStore>) {
    let tokens = Arc::new(MemoryTokenStore::new());
    let data_dir = scratch.dir.join(format!("phone-{phone}"));
    std::fs::create_dir_all(&data_dir).expect("client dir");
    let client = Client::open(ClientConfig::new(&server.base_url, data_dir.to_string_lossy()), tokens.clone())
        .await
        .expect("client");
    let pending =
        client.register(cid.into(), phone.into(), "Nguyễn Văn An".into(), "matkhau123".into()).await.expect("register");
    client.verify_phone(pending.verification_id, server.code_for(phone)).await.expect("verify the phone");
    (client, tokens)
}

/// Files a dossier of [`PROCEDURE`] through the client (draft, file, outbox, sync).
async fn file_dossier(client: &Client, scratch: &Scratch) -> String {
    client.sync_catalogue().await.expect("catalogue");
    let draft = client.create_draft(PROCEDURE.into()).await.expect("draft");
    let id = draft.summary.id.clone();
    let text = |s: &str| FieldValue::Text { value: s.to_owned() };
    let choice = |s: &str| FieldValue::Choice { value: s.to_owned() };
    let address = FieldValue::Address {
        province: "Hà Nội".into(),
        ward: "Phường Hoàn Kiếm".into(),
        ward_code: None,
        district: None,
        street: Some("12 Hàng Bài".into()),
    };
    let values = [
        ("ho_ten", text("Nguyễn Văn An")),
        ("so_cccd", text("001203004567")),
        ("dien_thoai", text("0912345678")),
        ("noi_cu_tru", address),
        ("noi_dung", FieldValue::Choices { values: vec!["thuong_tru".into()] }),
        ("muc_dich", choice("hoc_tap")),
        ("hinh_thuc_nhan", choice("truc_tiep")),
        ("cam_doan", FieldValue::Bool { value: true }),
    ];
    for (k, v) in values {
        client.set_field(id.clone(), k.into(), Some(v)).await.expect("set field");
    }
    let scan = scratch.dir.join(format!("scan-{id}.png"));
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(id.as_bytes());
    std::fs::write(&scan, png).expect("scan");
    client
        .attach_file(id.clone(), "tep_de_nghi".into(), scan.to_string_lossy().into(), "scan.png".into())
        .await
        .expect("attach");
    client.submit_draft(id).await.expect("submit");
    let report = client.sync_outbox().await.expect("sync");
    assert_eq!(report.sent, 1, "{report:?}");
    let items = client.outbox().await.expect("outbox");
    items.iter().find_map(|i| i.dossier_id.clone()).expect("the dossier's id")
}

pub(crate) fn access_token(tokens: &MemoryTokenStore) -> String {
    tokens.load().expect("signed in").access_token
}

/// Registers one more phone for the signed-in citizen over HTTP (a client holds one; these
/// scenarios give an account several).
async fn register_phone(server: &Server, access: &str, token: &str, locale: &str) {
    let body = json!({"token": token, "platform": "android", "app_version": "1.0.0", "locale": locale});
    let (status, answer) = server.call("POST", "/api/v1/devices", Some(access), Some(&body)).await;
    assert_eq!(status, 200, "{answer}");
}

/// Waits until every push outbox row is fanned out and no job waits.
async fn drained(scratch: &Scratch) {
    eventually("the push queue drains", 60, async || {
        scratch.count("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND topic LIKE 'push.%'").await == 0
            && scratch.count("SELECT COUNT(*) FROM push_jobs WHERE state = 'queued'").await == 0
            && scratch.count("SELECT COUNT(*) FROM push_pages WHERE state = 'queued'").await == 0
    })
    .await;
}

async fn move_dossier(server: &Server, officer: &str, dossier: &str, action: &str) -> Value {
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v1/dossiers/{dossier}/transitions"),
            Some(officer),
            Some(&json!({"action": action})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn an_officers_move_reaches_the_citizens_phone_once(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let emulator = Emulator::start(&scratch).await;
    let server = Server::start(&scratch, &emulator, &[]).await;
    let (client, _tokens) = citizen_client(&server, &scratch, "001203004567", "0912345678").await;
    let dossier = file_dossier(&client, &scratch).await;
    // The submission's own notification is delivered (to no phone yet) before the phone
    // is registered, so the officer's move is the only message the phone can get.
    drained(&scratch).await;
    let phone_token = "e2e-phone:APA91bHun4MxP5egoKMwt2KZFBaFUH";
    // The app hands FCM's token to the client, which registers it for the account.
    let registration = client
        .register_device(phone_token.to_owned(), "android".to_owned(), "1.0.0".to_owned())
        .await
        .expect("register the phone");
    assert!(registration.sent, "{registration:?}");
    let officer = server.staff("officer", "0987654321").await.expect("officer");
    let moved = move_dossier(&server, &officer, &dossier, "receive").await;
    let code = moved["code"].as_str().expect("code").to_owned();

    eventually("the phone receives the notification", 30, async || emulator.received(phone_token).await["count"] == 1)
        .await;
    drained(&scratch).await;
    let record = emulator.received(phone_token).await;
    assert_eq!((record["count"].as_u64(), record["duplicates"].as_u64()), (Some(1), Some(0)), "{record}");
    let message = &record["messages"][0]["message"];
    assert_eq!(message["token"], phone_token);
    assert_eq!(message["notification"]["title"], format!("Hồ sơ {code}: Đã tiếp nhận"));
    assert!(message["notification"]["body"].as_str().is_some_and(|b| b.contains("đã được tiếp nhận")), "{message}");
    let inbox = client.refresh_notifications().await.expect("notifications");
    let newest = inbox.iter().find(|n| n.status.as_ref().is_some_and(|s| *s == "received")).expect("the inbox entry");
    assert_eq!(message["data"], json!({"kind": "dossier", "id": dossier, "notification_id": newest.id}));
    // The phone opens the dossier from the notification's data, and shows it once even if
    // FCM hands it over twice.
    let data: std::collections::HashMap<String, String> =
        serde_json::from_value(message["data"].clone()).expect("string data");
    let opened = client.receive_push(data.clone()).await.expect("receive").expect("shown");
    assert_eq!(opened.target, motcua_client::PushTarget::Dossier { dossier_id: dossier.clone() });
    assert_eq!(client.receive_push(data).await.expect("receive again"), None);
    let stats = emulator.stats().await;
    assert_eq!(stats["tokens_issued"], 1, "{stats}");
    assert!(stats["http2_requests"].as_u64().is_some_and(|n| n >= 1), "HTTP/2: {stats}");
}

async fn a_dead_token_is_deactivated(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let emulator = Emulator::start(&scratch).await;
    let server = Server::start(&scratch, &emulator, &[]).await;
    let (client, tokens) = citizen_client(&server, &scratch, "001203004567", "0912345678").await;
    let access = access_token(&tokens);
    register_phone(&server, &access, "uninstalled-app", "vi").await;
    register_phone(&server, &access, "current-phone", "en").await;
    emulator.fault(json!({"kind": "UNREGISTERED", "token": "uninstalled-app"})).await;
    let dossier = file_dossier(&client, &scratch).await;
    drained(&scratch).await;
    let (status, devices) = server.call("GET", "/api/v1/devices", Some(&access), None).await;
    assert_eq!(status, 200);
    let listed: Vec<&str> = devices.as_array().expect("list").iter().filter_map(|d| d["token"].as_str()).collect();
    assert_eq!(listed, vec!["current-phone"], "the dead token is no longer targeted");
    assert_eq!(scratch.count("SELECT COUNT(*) FROM devices WHERE deactivated_reason = 'UNREGISTERED'").await, 1);

    // The next move reaches the live phone only; FCM is not asked about the dead token again.
    let officer = server.staff("officer", "0987654321").await.expect("officer");
    move_dossier(&server, &officer, &dossier, "receive").await;
    drained(&scratch).await;
    assert_eq!(emulator.received("current-phone").await["count"], 2);
    assert_eq!(emulator.received("uninstalled-app").await["count"], 0);
    assert_eq!(emulator.stats().await["errors"]["UNREGISTERED"], 1);
    let admin = server.staff("admin", "0981112233").await.expect("admin");
    let (_, figures) = server.call("GET", "/api/v1/ops/push/stats", Some(&admin), None).await;
    assert_eq!(figures["tokens_deactivated"]["UNREGISTERED"], 1, "{figures}");
    assert_eq!(figures["overall"]["failed"]["UNREGISTERED"], 1, "{figures}");
}

async fn a_429_storm_is_ridden_out_without_loss_or_duplicate(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let emulator = Emulator::start(&scratch).await;
    let server = Server::start(&scratch, &emulator, &[("MOTCUA_PUSH_MAX_ATTEMPTS", "50")]).await;
    let (client, tokens) = citizen_client(&server, &scratch, "001203004567", "0912345678").await;
    let access = access_token(&tokens);
    let phones: Vec<String> = (0..12).map(|i| format!("storm-phone-{i}")).collect();
    for (i, phone) in phones.iter().enumerate() {
        register_phone(&server, &access, phone, if i % 2 == 0 { "vi" } else { "en" }).await;
    }
    // Every send refused with 429 for two seconds (Retry-After: 1), then some 503s.
    emulator.fault(json!({"kind": "QUOTA_EXCEEDED", "for_ms": 2000, "retry_after_secs": 1})).await;
    emulator.fault(json!({"kind": "UNAVAILABLE", "times": 4})).await;
    let dossier = file_dossier(&client, &scratch).await;
    let officer = server.staff("officer", "0987654321").await.expect("officer");
    move_dossier(&server, &officer, &dossier, "receive").await;
    drained(&scratch).await;
    for phone in &phones {
        let record = emulator.received(phone).await;
        assert_eq!((record["count"].as_u64(), record["duplicates"].as_u64()), (Some(2), Some(0)), "{phone}: {record}");
    }
    let stats = emulator.stats().await;
    assert!(stats["errors"]["QUOTA_EXCEEDED"].as_u64().is_some_and(|n| n >= 1), "{stats}");
    assert_eq!(stats["accepted"], 24, "{stats}");
    assert_eq!(scratch.count("SELECT COUNT(*) FROM push_jobs WHERE state <> 'sent'").await, 0);
}

/// Counts this process's accepted sends from its Prometheus metrics.
fn sent_by(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with("motcua_push_sent_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse::<f64>().ok())
        .map_or(0, |n| n as u64)
}

async fn two_processes(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    // Each answer takes 20 ms, so a batch keeps its worker busy and both processes get work.
    let emulator = Emulator::start(&scratch).await;
    emulator.fault(json!({"kind": "DELAY", "delay_ms": 20})).await;
    let env = [("MOTCUA_PUSH_BATCH", "4"), ("MOTCUA_PUSH_WORKERS", "2")];
    let first = Server::start(&scratch, &emulator, &env).await;
    let second = Server::start(&scratch, &emulator, &env).await;
    let mut phones = Vec::new();
    for (n, (cid, phone)) in
        [("001203004567", "0912345678"), ("001203004568", "0912345679"), ("001203004569", "0912345670")]
            .into_iter()
            .enumerate()
    {
        let access = first.citizen(cid, phone).await;
        for i in 0..20 {
            let token = format!("fleet-{n}-{i}");
            register_phone(if i % 2 == 0 { &first } else { &second }, &access, &token, "vi").await;
            phones.push(token);
        }
    }
    let admin = first.staff("admin", "0981112233").await.expect("admin");
    let campaign = json!({"title": {"vi": "Thông báo", "en": "Notice"}, "body": {"vi": "Lịch tiếp dân", "en": "Office hours"},
        "audience": {"kind": "city"}});
    let (status, created) = second.call("POST", "/api/v1/ops/push/campaigns", Some(&admin), Some(&campaign)).await;
    assert_eq!(status, 201, "{created}");
    eventually("the campaign reaches every phone", 60, async || emulator.stats().await["accepted"] == 60).await;
    drained(&scratch).await;
    for phone in &phones {
        let record = emulator.received(phone).await;
        assert_eq!((record["count"].as_u64(), record["duplicates"].as_u64()), (Some(1), Some(0)), "{phone}");
    }
    assert_eq!(emulator.stats().await["accepted"], 60);
    let (a, b) = (sent_by(&first.metrics().await), sent_by(&second.metrics().await));
    assert_eq!(a + b, 60, "each job sent by exactly one process");
    assert!(a > 0 && b > 0, "both processes delivered: {a} and {b}");
    let (_, figures) = first.call("GET", "/api/v1/ops/push/stats", Some(&admin), None).await;
    let id = created["id"].as_str().expect("id");
    assert_eq!(figures["campaigns"][id]["sent"], 60, "{figures}");
}
