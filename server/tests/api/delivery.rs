//! Push delivery against the FCM emulator (in process): a dossier's status change reaches
//! each of the citizen's phones once, in the phone's language, with its deep link, and
//! not when the citizen turned dossier updates off; dead tokens are deactivated and
//! refused messages dead-lettered; 429/5xx storms and dropped connections are ridden out
//! with no loss and no duplicate; a 401 renews the access token once; a dead worker's
//! jobs return after the lease; the fleet's rate limit holds; campaigns reach their
//! audience and can be cancelled before they start, page by page (a failed phone becomes
//! a job of its own; a page outlives a dead worker, splits when it grew, and is cut into
//! jobs when it never finishes); the operators' figures.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use fcm_emulator::service_account::ServiceAccount;
use fcm_emulator::{Emulator, FaultKind, FaultSpec};
use motcua_server::on_db;
use motcua_server::push::delivery::Workers;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both;
use crate::dossiers::{act, file_one};
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app_with};
use crate::push::device;

both!(
    a_status_change_reaches_each_phone_in_its_language,
    dead_tokens_are_deactivated_and_refused_messages_dead_lettered,
    storms_are_ridden_out_without_loss_or_duplicates,
    a_401_renews_the_access_token_once,
    a_dead_workers_jobs_return_after_the_lease,
    an_outbox_row_held_by_two_workers_is_fanned_out_once,
    the_fleet_rate_limit_holds,
    campaigns_reach_their_audience_and_can_be_cancelled,
    a_campaign_is_sent_by_pages_and_each_failed_phone_becomes_a_job,
    a_campaign_page_outlives_its_worker_and_its_growth,
    a_campaign_page_keeps_to_the_fleet_rate,
    the_gauges_figures_are_counted_by_one_process_at_a_time,
    the_janitor_forgets_finished_jobs_after_the_retention
);

/// The emulator and a key file it trusts.
pub(crate) struct Fcm {
    pub emulator: Emulator,
    pub key_path: PathBuf,
}

impl Drop for Fcm {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.key_path);
    }
}

pub(crate) async fn fcm() -> Fcm {
    let emulator = Emulator::start(fcm_emulator::Config::default()).await.expect("emulator");
    let account = ServiceAccount::generate("motcua-test", &emulator.token_uri()).expect("service account");
    emulator.add_service_account(&account).expect("trust the key");
    let key_path = std::env::temp_dir().join(format!("motcua-fcm-{}.json", Uuid::new_v4().simple()));
    std::fs::write(&key_path, account.to_json()).expect("key file");
    Fcm { emulator, key_path }
}

/// A server pointed at `fcm`, with quick polling, and its workers running.
async fn app_with_fcm(
    backend: Backend,
    fcm: &Fcm,
    tweak: impl FnOnce(&mut motcua_server::config::Config),
) -> (TestApp, Workers) {
    let key = fcm.key_path.clone();
    let base = fcm.emulator.base_url();
    let app = spawn_app_with(backend, |c| {
        c.push.credentials = Some(key);
        c.push.base_url = base;
        c.push.poll = Duration::from_millis(50);
        c.push.workers = 2;
        c.metrics_token = Some("prometheus-token".into());
        tweak(c);
    })
    .await;
    let workers = motcua_server::push::delivery::start(&app.state).expect("start").expect("workers");
    (app, workers)
}

/// A server pointed at `fcm` with a short `lease` and batches of `batch`, its workers not
/// started yet (the test plays a dead worker first).
async fn app_without_workers(backend: Backend, fcm: &Fcm, lease: Duration, batch: usize) -> TestApp {
    let key = fcm.key_path.clone();
    let base = fcm.emulator.base_url();
    spawn_app_with(backend, |c| {
        c.push.credentials = Some(key);
        c.push.base_url = base;
        c.push.poll = Duration::from_millis(50);
        c.push.lease = lease;
        c.push.batch = batch;
    })
    .await
}

async fn eventually(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {secs} s: {what}");
}

async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    on_db!(&app.state.db, read, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).expect(sql)
}

/// Waits until every push outbox row is fanned out and no job is waiting.
async fn drained(app: &TestApp) {
    eventually("the push queue drains", 30, async || {
        scalar(app, "SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND topic LIKE 'push.%'").await == 0
            && scalar(app, "SELECT COUNT(*) FROM push_jobs WHERE state = 'queued'").await == 0
            && scalar(app, "SELECT COUNT(*) FROM push_pages WHERE state = 'queued'").await == 0
    })
    .await;
}

/// A citizen account written directly (for scenarios with many accounts) and its phones.
async fn account_with_phones(app: &TestApp, n: usize, phones: &[(&str, &str)]) -> Uuid {
    let id = Uuid::now_v7();
    let now = Utc::now();
    on_db!(&app.state.db, write, pool => async {
        sqlx::query("INSERT INTO users (id, phone, full_name, password_hash, role, created_at) VALUES ($1, $2, 'Dân', 'x', 'citizen', $3)")
            .bind(id).bind(format!("09{n:08}")).bind(now).execute(pool).await?;
        for (token, locale) in phones {
            sqlx::query(
                "INSERT INTO devices (token, user_id, platform, app_version, locale, created_at, last_seen_at) \
                 VALUES ($1, $2, 'android', '1.0', $3, $4, $4)",
            )
            .bind(*token).bind(id).bind(*locale).bind(now).execute(pool).await?;
        }
        Ok::<_, sqlx::Error>(())
    }.await)
    .expect("account");
    id
}

/// An outbox row in the producers' contract (what the field reports will write).
async fn push_event(app: &TestApp, user: Uuid, kind: &str, id: &str, pref: &str) -> String {
    let notification_id = Uuid::now_v7().to_string();
    let payload = json!({
        "user_id": user, "notification_id": notification_id, "kind": kind, "id": id, "pref": pref,
        "title": {"vi": "Phản ánh đã được xử lý", "en": "Your report was handled"},
        "body": {"vi": "Cảm ơn bạn đã phản ánh.", "en": "Thank you for reporting."},
    });
    let now = Utc::now();
    on_db!(&app.state.db, write, pool => {
        sqlx::query("INSERT INTO outbox (id, topic, payload, created_at, available_at) VALUES ($1, 'push.report_status', $2, $3, $3)")
            .bind(Uuid::now_v7()).bind(sqlx::types::Json(payload.clone())).bind(now).execute(pool).await.map(|_| ())
    })
    .expect("outbox row");
    notification_id
}

async fn a_status_change_reaches_each_phone_in_its_language(backend: Backend) {
    let fcm = fcm().await;
    let (app, workers) = app_with_fcm(backend, &fcm, |_| {}).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let other = app.citizen("001203004568", "0912345679").await;
    let officer = app.officer("0987654321", "H26.00").await;
    expect_json(app.post_as(&citizen, "/api/v1/devices", &device("phone-vi", "vi")).await, 200).await;
    expect_json(app.post_as(&citizen, "/api/v1/devices", &device("tablet-en", "en")).await, 200).await;
    expect_json(app.post_as(&other, "/api/v1/devices", &device("someone-else", "vi")).await, 200).await;

    let dossier = file_one(&app, &citizen, "H26.00").await;
    let id = dossier["id"].as_str().expect("id").to_owned();
    let code = dossier["code"].as_str().expect("code").to_owned();
    act(&app, &officer, &id, "receive", None).await;
    drained(&app).await;

    let inbox = expect_json(app.get_as(&citizen, "/api/v1/notifications").await, 200).await;
    let received_id = inbox["items"][0]["id"].as_str().expect("newest notification").to_owned();
    for (token, title) in
        [("phone-vi", format!("Hồ sơ {code}: Đã tiếp nhận")), ("tablet-en", format!("Dossier {code}: Received"))]
    {
        let record = fcm.emulator.received(token);
        assert_eq!((record.count, record.duplicates), (2, 0), "{token}: submitted and received, once each");
        // Two notifications queued together may arrive in either order (as with FCM).
        let last = &record
            .messages
            .iter()
            .find(|m| m.message["data"]["notification_id"] == received_id.as_str())
            .expect("the reception's message")
            .message;
        assert_eq!(last["notification"]["title"], title.as_str(), "{token}");
        assert_eq!(last["data"], json!({"kind": "dossier", "id": id, "notification_id": received_id}), "{token}");
        assert_eq!(last["android"]["priority"], "high");
        assert_eq!(last["apns"]["headers"]["apns-priority"], "10");
    }
    assert!(
        fcm.emulator
            .received("tablet-en")
            .messages
            .iter()
            .all(|m| m.message["notification"]["body"].as_str().is_some_and(|b| b.starts_with("Your dossier")))
    );
    assert_eq!(fcm.emulator.received("someone-else").count, 0);
    let stats = fcm.emulator.stats();
    assert_eq!(stats.tokens_issued, 1, "one access token, cached");
    assert!(stats.http2_requests >= 4 && stats.http1_requests == 0, "{stats:?}");

    // Dossier updates turned off: the next move reaches no phone (the inbox still has it).
    let prefs = json!({"dossier_updates": false, "report_updates": true, "announcements": true});
    let put = app
        .request(Method::PUT, "/api/v1/me/notification-preferences")
        .bearer_auth(&citizen)
        .json(&prefs)
        .send()
        .await
        .expect("put");
    expect_json(put, 200).await;
    act(&app, &officer, &id, "start_processing", None).await;
    drained(&app).await;
    assert_eq!(fcm.emulator.received("phone-vi").count, 2);
    assert_eq!(fcm.emulator.received("tablet-en").count, 2);
    workers.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

async fn dead_tokens_are_deactivated_and_refused_messages_dead_lettered(backend: Backend) {
    let fcm = fcm().await;
    let (app, workers) = app_with_fcm(backend, &fcm, |_| {}).await;
    let user = account_with_phones(&app, 1, &[("dead-phone", "vi"), ("bad-message", "vi"), ("live-phone", "en")]).await;
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::Unregistered).token("dead-phone"));
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::InvalidArgument).token("bad-message").times(1));
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::SenderIdMismatch).token("live-phone").times(0));
    let nid = push_event(&app, user, "report", "r-1", "report_updates").await;
    drained(&app).await;

    let live = fcm.emulator.received("live-phone");
    assert_eq!(live.count, 1);
    assert_eq!(live.messages[0].message["data"], json!({"kind": "report", "id": "r-1", "notification_id": nid}));
    assert_eq!(live.messages[0].message["notification"]["title"], "Your report was handled");
    assert_eq!(fcm.emulator.received("dead-phone").count, 0);
    assert_eq!(fcm.emulator.received("bad-message").count, 0, "refused once, never retried");
    let errors = fcm.emulator.stats().errors;
    assert_eq!((errors.get("UNREGISTERED"), errors.get("INVALID_ARGUMENT")), (Some(&1), Some(&1)), "{errors:?}");

    let deactivated: Vec<(String, String)> = on_db!(&app.state.db, read, pool => {
        sqlx::query_as("SELECT token, deactivated_reason FROM devices WHERE deactivated_at IS NOT NULL").fetch_all(pool).await
    })
    .expect("devices");
    assert_eq!(deactivated, vec![("dead-phone".to_owned(), "UNREGISTERED".to_owned())]);

    // The next notification is not even tried on the dead token.
    push_event(&app, user, "report", "r-2", "report_updates").await;
    drained(&app).await;
    assert_eq!(fcm.emulator.stats().errors.get("UNREGISTERED"), Some(&1));
    assert_eq!(fcm.emulator.received("bad-message").count, 1);
    assert_eq!(fcm.emulator.received("live-phone").count, 2);

    let admin = admin(&app).await;
    let stats = expect_json(app.get_as(&admin, "/api/v1/ops/push/stats").await, 200).await;
    assert_eq!(stats["overall"]["sent"], 3, "{stats}");
    assert_eq!(stats["overall"]["queued"], 0, "{stats}");
    assert_eq!(stats["overall"]["failed"], json!({"INVALID_ARGUMENT": 1, "UNREGISTERED": 1}), "{stats}");
    assert_eq!(stats["tokens_deactivated"], json!({"UNREGISTERED": 1}), "{stats}");
    workers.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

async fn storms_are_ridden_out_without_loss_or_duplicates(backend: Backend) {
    let fcm = fcm().await;
    let (app, workers) = app_with_fcm(backend, &fcm, |c| c.push.max_attempts = 50).await;
    let mut tokens = Vec::new();
    let mut users = Vec::new();
    for n in 0..10 {
        let phones: Vec<String> = (0..3).map(|p| format!("storm-{n}-{p}")).collect();
        let pairs: Vec<(&str, &str)> = phones.iter().map(|t| (t.as_str(), "vi")).collect();
        users.push(account_with_phones(&app, n, &pairs).await);
        tokens.extend(phones);
    }
    // A quota storm for 1.5 s (Retry-After: 1), then a few 503s, 500s and dropped connections.
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::QuotaExceeded).for_ms(1500).retry_after(1));
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::Unavailable).times(5));
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::Internal).times(3));
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::Drop).times(3));
    let started = Instant::now();
    for user in &users {
        push_event(&app, *user, "dossier", "d-1", "dossier_updates").await;
    }
    drained(&app).await;
    for token in &tokens {
        let r = fcm.emulator.received(token);
        assert_eq!((r.count, r.duplicates), (1, 0), "{token}");
    }
    let stats = fcm.emulator.stats();
    assert!(stats.errors.get("QUOTA_EXCEEDED").copied().unwrap_or(0) >= 1, "{stats:?}");
    assert_eq!(stats.dropped, 3, "{stats:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
    let (sent, failed) = (
        scalar(&app, "SELECT COUNT(*) FROM push_jobs WHERE state = 'sent'").await,
        scalar(&app, "SELECT COUNT(*) FROM push_jobs WHERE state = 'failed'").await,
    );
    assert_eq!((sent, failed), (30, 0));
    let admin = admin(&app).await;
    let figures = expect_json(app.get_as(&admin, "/api/v1/ops/push/stats").await, 200).await;
    assert!(figures["overall"]["retries"].as_u64().is_some_and(|r| r >= 3), "{figures}");
    workers.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

async fn a_401_renews_the_access_token_once(backend: Backend) {
    let fcm = fcm().await;
    let (app, workers) = app_with_fcm(backend, &fcm, |_| {}).await;
    let user = account_with_phones(&app, 1, &[("phone", "vi")]).await;
    push_event(&app, user, "dossier", "d-1", "dossier_updates").await;
    drained(&app).await;
    fcm.emulator.revoke_access_tokens();
    push_event(&app, user, "dossier", "d-2", "dossier_updates").await;
    drained(&app).await;
    let stats = fcm.emulator.stats();
    assert_eq!(fcm.emulator.received("phone").count, 2);
    assert_eq!(stats.tokens_issued, 2, "{stats:?}");
    assert_eq!(stats.errors.get("UNAUTHENTICATED"), Some(&1), "{stats:?}");
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM push_jobs WHERE attempts > 1").await,
        0,
        "renewed within the attempt"
    );
    workers.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

async fn a_dead_workers_jobs_return_after_the_lease(backend: Backend) {
    let fcm = fcm().await;
    let lease = Duration::from_secs(2);
    let app = app_without_workers(backend, &fcm, lease, 500).await;
    let user = account_with_phones(&app, 1, &[("a", "vi"), ("b", "en")]).await;
    push_event(&app, user, "dossier", "d-1", "dossier_updates").await;
    // A worker fans out and claims the jobs, then dies before sending them.
    let now = Utc::now();
    motcua_server::push::delivery::fan_out_outbox(&app.state.db, now, lease).await.expect("fan out");
    let claimed = motcua_server::push::delivery::claim_jobs(
        &app.state.db,
        Uuid::now_v7(),
        10,
        now,
        motcua_server::push::delivery::lease_end(now, lease),
    )
    .await
    .expect("claim");
    assert_eq!(claimed.len(), 2);
    let died = Instant::now();
    let workers = motcua_server::push::delivery::start(&app.state).expect("start").expect("workers");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(fcm.emulator.stats().accepted, 0, "the jobs stay with their worker during the lease");
    drained(&app).await;
    assert!(died.elapsed() >= Duration::from_millis(1500));
    for token in ["a", "b"] {
        assert_eq!((fcm.emulator.received(token).count, fcm.emulator.received(token).duplicates), (1, 0));
    }
    workers.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

/// Two workers holding one outbox row (the first one's lease ran out while it worked):
/// the row is fanned out once, whichever commits first.
async fn an_outbox_row_held_by_two_workers_is_fanned_out_once(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let user = account_with_phones(&app, 1, &[("a", "vi"), ("b", "en"), ("c", "vi")]).await;
    push_event(&app, user, "dossier", "d-1", "dossier_updates").await;
    // A lease of zero: each of four concurrent workers may claim the row while another
    // is fanning it out.
    let db = &app.state.db;
    let rounds = futures_util::future::join_all(
        (0..4).map(|_| motcua_server::push::delivery::fan_out_outbox(db, Utc::now(), Duration::ZERO)),
    )
    .await;
    let claims: usize = rounds.into_iter().map(|r| r.expect("fan out")).sum();
    assert!(claims >= 1);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM push_jobs").await, 3, "one job per phone, whoever held the row");
    app.stop().await;
}

async fn the_fleet_rate_limit_holds(backend: Backend) {
    let fcm = fcm().await;
    let first_minute = motcua_server::push::rate::minute_of(Utc::now());
    let (app, workers) = app_with_fcm(backend, &fcm, |c| c.push.rate_per_minute = 5).await;
    let phones: Vec<String> = (0..8).map(|i| format!("r{i}")).collect();
    let pairs: Vec<(&str, &str)> = phones.iter().map(|t| (t.as_str(), "vi")).collect();
    let user = account_with_phones(&app, 1, &pairs).await;
    // A second process over the same database takes from the same allowance.
    let mut second = motcua_server::config::Config::clone(&app.config);
    second.push.workers = 2;
    let other = crate::helpers::start_on(second).await;
    let other_workers = motcua_server::push::delivery::start(&other.state).expect("start").expect("workers");
    push_event(&app, user, "dossier", "d-1", "dossier_updates").await;
    eventually("five messages sent", 10, async || fcm.emulator.stats().accepted >= 5).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let minutes = motcua_server::push::rate::minute_of(Utc::now()) - first_minute + 1;
    let accepted = fcm.emulator.stats().accepted;
    assert!(accepted <= (5 * minutes).unsigned_abs().min(8), "{accepted} sent in {minutes} minute(s)");
    if minutes == 1 {
        assert_eq!(accepted, 5);
        let waiting = scalar(&app, "SELECT COUNT(*) FROM push_jobs WHERE state = 'queued'").await;
        assert_eq!(waiting, 3, "held back for the next minute, not lost");
    }
    other_workers.stop(Duration::from_secs(5)).await;
    workers.stop(Duration::from_secs(5)).await;
    other.stop().await;
    app.stop().await;
}

pub(crate) async fn admin(app: &TestApp) -> String {
    let out = app
        .operator(&["user", "add", "--role", "admin", "--phone", "0981112233", "--name", "Quản trị"], "quantri12345\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.token("0981112233", "quantri12345").await
}

async fn campaigns_reach_their_audience_and_can_be_cancelled(backend: Backend) {
    let fcm = fcm().await;
    let (app, workers) = app_with_fcm(backend, &fcm, |_| {}).await;
    let admin = admin(&app).await;
    let a = app.citizen("001203004567", "0912345678").await;
    let b = app.citizen("001203004568", "0912345679").await;
    let c = app.citizen("001203004569", "0912345670").await;
    for (token, device_token, prefs) in [
        (
            &a,
            "a-phone",
            json!({"dossier_updates": true, "report_updates": true, "announcements": true, "ward_code": "00070"}),
        ),
        (&b, "b-phone", json!({"dossier_updates": true, "report_updates": true, "announcements": true})),
        (
            &c,
            "c-phone",
            json!({"dossier_updates": true, "report_updates": true, "announcements": false, "ward_code": "00070"}),
        ),
    ] {
        expect_json(app.post_as(token, "/api/v1/devices", &device(device_token, "vi")).await, 200).await;
        let put = app
            .request(Method::PUT, "/api/v1/me/notification-preferences")
            .bearer_auth(token)
            .json(&prefs)
            .send()
            .await
            .expect("put");
        expect_json(put, 200).await;
    }
    let b_id = expect_json(app.get_as(&b, "/api/v1/me").await, 200).await["id"].as_str().expect("id").to_owned();
    let path = "/api/v1/ops/push/campaigns";
    let campaign = |audience: Value| json!({"title": {"vi": "Thông báo", "en": "Notice"}, "body": {"vi": "Cắt điện ngày mai", "en": "Power cut tomorrow"}, "audience": audience});
    // Refused: not an administrator; bad input, every field named.
    expect_error(app.post_as(&a, path, &campaign(json!({"kind": "city"}))).await, 403, "forbidden").await;
    let bad = json!({"title": {"vi": "", "en": "x"}, "body": {"vi": "x", "en": "x".repeat(1001)},
        "audience": {"kind": "accounts", "user_ids": ["not-a-uuid"]}});
    let mut fields = expect_error(app.post_as(&admin, path, &bad).await, 422, "validation_failed").await;
    fields.sort();
    assert_eq!(fields, vec!["audience.user_ids[0]", "body.en", "title.vi"]);
    let fields = expect_error(
        app.post_as(&admin, path, &campaign(json!({"kind": "ward", "ward_code": "99999"}))).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields, vec!["audience.ward_code"]);

    let ward =
        expect_json(app.post_as(&admin, path, &campaign(json!({"kind": "ward", "ward_code": "00070"}))).await, 201)
            .await;
    let city = expect_json(app.post_as(&admin, path, &campaign(json!({"kind": "city"}))).await, 201).await;
    let listed =
        expect_json(app.post_as(&admin, path, &campaign(json!({"kind": "accounts", "user_ids": [b_id]}))).await, 201)
            .await;
    let later = json!({"title": {"vi": "Sau", "en": "Later"}, "body": {"vi": "x", "en": "x"}, "audience": {"kind": "city"},
        "scheduled_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339()});
    let later = expect_json(app.post_as(&admin, path, &later).await, 201).await;
    assert_eq!(later["state"], "scheduled");
    eventually("the campaigns are queued", 20, async || {
        scalar(&app, "SELECT COUNT(*) FROM push_campaigns WHERE state = 'queued'").await == 3
    })
    .await;
    drained(&app).await;
    let ids = |token: &str| -> Vec<String> {
        fcm.emulator
            .received(token)
            .messages
            .iter()
            .map(|m| m.message["data"]["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let (ward_id, city_id, listed_id) = (
        ward["id"].as_str().unwrap_or_default(),
        city["id"].as_str().unwrap_or_default(),
        listed["id"].as_str().unwrap_or_default(),
    );
    let mut got_a = ids("a-phone");
    got_a.sort();
    let mut want_a = vec![ward_id.to_owned(), city_id.to_owned()];
    want_a.sort();
    assert_eq!(got_a, want_a);
    let mut got_b = ids("b-phone");
    got_b.sort();
    let mut want_b = vec![city_id.to_owned(), listed_id.to_owned()];
    want_b.sort();
    assert_eq!(got_b, want_b);
    assert!(ids("c-phone").is_empty(), "announcements turned off");
    let message = &fcm.emulator.received("a-phone").messages[0].message;
    assert_eq!(message["data"]["kind"], "announcement");
    assert_eq!(message["notification"]["body"], "Cắt điện ngày mai");
    assert_eq!(message["android"]["priority"], "normal");

    // Cancel: the scheduled one, once; a started one, never.
    let later_id = later["id"].as_str().expect("id");
    let cancelled = expect_json(app.post_as(&admin, &format!("{path}/{later_id}/cancel"), &json!({})).await, 200).await;
    assert_eq!(cancelled["state"], "cancelled");
    expect_error(app.post_as(&admin, &format!("{path}/{later_id}/cancel"), &json!({})).await, 409, "campaign_started")
        .await;
    expect_error(app.post_as(&admin, &format!("{path}/{city_id}/cancel"), &json!({})).await, 409, "campaign_started")
        .await;
    expect_error(app.post_as(&admin, &format!("{path}/{}/cancel", Uuid::now_v7()), &json!({})).await, 404, "not_found")
        .await;

    let stats = expect_json(app.get_as(&admin, "/api/v1/ops/push/stats").await, 200).await;
    assert_eq!(stats["campaigns"][city_id]["sent"], 2, "{stats}");
    assert_eq!(stats["campaigns"][ward_id]["sent"], 1, "{stats}");
    assert_eq!(stats["campaigns"][later_id]["sent"], 0, "{stats}");
    expect_error(app.get_as(&a, "/api/v1/ops/push/stats").await, 403, "forbidden").await;
    motcua_server::push::stats::publish_once(&app.state.db).await.expect("gauges");
    let metrics = app.request(Method::GET, "/metrics").bearer_auth("prometheus-token").send().await.expect("metrics");
    let text = metrics.text().await.expect("text");
    assert!(text.contains("motcua_push_jobs{state=\"sent\"}"), "{text}");
    assert!(text.contains("motcua_push_campaign_jobs"), "{text}");
    let listing = expect_json(app.get_as(&admin, path).await, 200).await;
    assert_eq!(listing.as_array().map(Vec::len), Some(4));
    workers.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

/// An administrator's city-wide announcement; its id.
async fn city_campaign(app: &TestApp, admin: &str) -> String {
    let body = json!({"title": {"vi": "Thông báo", "en": "Notice"}, "body": {"vi": "Cắt điện", "en": "Power cut"},
        "audience": {"kind": "city"}});
    let created = expect_json(app.post_as(admin, "/api/v1/ops/push/campaigns", &body).await, 201).await;
    created["id"].as_str().expect("id").to_owned()
}

/// Six phones, pages of two: three pages. Only the phones whose send did not succeed get
/// rows of their own: the dead one (deactivated), the refused one (dead-lettered), and the
/// one FCM asked to retry (sent by its job later); the figures add pages and jobs up.
async fn a_campaign_is_sent_by_pages_and_each_failed_phone_becomes_a_job(backend: Backend) {
    let fcm = fcm().await;
    let (app, workers) = app_with_fcm(backend, &fcm, |c| c.push.batch = 2).await;
    let phones = ["p1", "p2", "p3", "p4", "p5", "p6"];
    account_with_phones(&app, 1, &phones.iter().map(|t| (*t, "vi")).collect::<Vec<_>>()).await;
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::Unregistered).token("p2"));
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::InvalidArgument).token("p4"));
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::Unavailable).token("p5").times(1));
    let admin = admin(&app).await;
    let id = city_campaign(&app, &admin).await;
    eventually("the campaign is cut into pages", 20, async || {
        scalar(&app, "SELECT COUNT(*) FROM push_campaigns WHERE state = 'queued'").await == 1
    })
    .await;
    drained(&app).await;
    let received: Vec<u64> = phones.iter().map(|t| fcm.emulator.received(t).count).collect();
    assert_eq!(received, vec![1, 0, 1, 0, 1, 1]);
    assert!(phones.iter().all(|t| fcm.emulator.received(t).duplicates == 0));
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM push_pages WHERE state = 'done'").await, 3);
    let rows: Vec<(String, String, Option<String>)> = on_db!(&app.state.db, read, pool => {
        sqlx::query_as("SELECT token, state, error_code FROM push_jobs ORDER BY token").fetch_all(pool).await
    })
    .expect("jobs");
    assert_eq!(
        rows,
        vec![
            ("p2".to_owned(), "failed".to_owned(), Some("UNREGISTERED".to_owned())),
            ("p4".to_owned(), "failed".to_owned(), Some("INVALID_ARGUMENT".to_owned())),
            ("p5".to_owned(), "sent".to_owned(), Some("UNAVAILABLE".to_owned())),
        ]
    );
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM devices WHERE deactivated_at IS NOT NULL").await, 1);
    let stats = expect_json(app.get_as(&admin, "/api/v1/ops/push/stats").await, 200).await;
    let figures = &stats["campaigns"][id.as_str()];
    assert_eq!(figures["sent"], 4, "{stats}");
    assert_eq!(figures["queued"], 0, "{stats}");
    assert_eq!(figures["failed"], json!({"INVALID_ARGUMENT": 1, "UNREGISTERED": 1}), "{stats}");
    assert_eq!(figures["retries"], 1, "{stats}");
    assert_eq!(stats["overall"]["sent"], 4, "{stats}");
    workers.stop(Duration::from_secs(5)).await;
    motcua_server::janitor::run_once(&app.state, Utc::now()).await.expect("janitor");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM push_pages").await, 3, "kept within the retention");
    motcua_server::janitor::run_once(&app.state, Utc::now() + chrono::Duration::days(8)).await.expect("janitor");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM push_pages").await, 0, "done pages forgotten after the retention");
    app.stop().await;
}

/// Pages of two, cut before any worker runs. The first page is held by a worker that
/// died (its lease runs): nobody sends it until the lease ends; meanwhile three phones were
/// registered inside its range, so it holds five, over twice a batch: four are sent and
/// the last becomes a page of its own. The second page was claimed three times without
/// finishing: it is cut into one job per phone. Every phone gets its message once.
async fn a_campaign_page_outlives_its_worker_and_its_growth(backend: Backend) {
    let fcm = fcm().await;
    let lease = Duration::from_secs(2);
    let app = app_without_workers(backend, &fcm, lease, 2).await;
    let user = account_with_phones(&app, 1, &[("a1", "vi"), ("a2", "vi"), ("a3", "en")]).await;
    city_campaign(&app, &admin(&app).await).await;
    let db = &app.state.db;
    while motcua_server::push::campaigns::fan_out_step(db, Utc::now(), lease, 2).await.expect("fan out") {}
    let pages: Vec<(String, String, i64)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT after_token, last_token, phones FROM push_pages ORDER BY last_token").fetch_all(pool).await
    })
    .expect("pages");
    assert_eq!(pages, vec![(String::new(), "a2".to_owned(), 2), ("a2".to_owned(), "a3".to_owned(), 1)]);
    let held_until = Utc::now() + chrono::Duration::from_std(lease).expect("lease");
    on_db!(db, write, pool => async {
        sqlx::query("UPDATE push_pages SET claim = $1, attempts = 1, available_at = $2 WHERE last_token = 'a2'")
            .bind(Uuid::now_v7()).bind(held_until).execute(pool).await?;
        sqlx::query("UPDATE push_pages SET attempts = 3 WHERE last_token = 'a3'").execute(pool).await?;
        for token in ["a11", "a12", "a13"] {
            sqlx::query(
                "INSERT INTO devices (token, user_id, platform, app_version, locale, created_at, last_seen_at) \
                 VALUES ($1, $2, 'ios', '1.0', 'vi', $3, $3)",
            )
            .bind(token).bind(user).bind(Utc::now()).execute(pool).await?;
        }
        Ok::<_, sqlx::Error>(())
    }.await)
    .expect("a dead worker's page");
    let died = Instant::now();
    let workers = motcua_server::push::delivery::start(&app.state).expect("start").expect("workers");
    eventually("the never-finished page is sent as jobs", 10, async || fcm.emulator.received("a3").count == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fcm.emulator.received("a1").count, 0, "the page stays with its worker during the lease");
    drained(&app).await;
    assert!(died.elapsed() >= Duration::from_millis(1500));
    for token in ["a1", "a11", "a12", "a13", "a2", "a3"] {
        let got = fcm.emulator.received(token);
        assert_eq!((got.count, got.duplicates), (1, 0), "{token}");
    }
    let pages: Vec<(String, String, i64)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT after_token, last_token, sent FROM push_pages ORDER BY after_token").fetch_all(pool).await
    })
    .expect("pages");
    assert_eq!(
        pages,
        vec![
            (String::new(), "a2".to_owned(), 4),
            ("a13".to_owned(), "a2".to_owned(), 1),
            ("a2".to_owned(), "a3".to_owned(), 0),
        ]
    );
    let jobs: Vec<(String, String)> = on_db!(db, read, pool => {
        sqlx::query_as("SELECT token, state FROM push_jobs").fetch_all(pool).await
    })
    .expect("jobs");
    assert_eq!(jobs, vec![("a3".to_owned(), "sent".to_owned())]);
    workers.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

/// A page of five phones with an allowance of three a minute: three are sent, two wait
/// as jobs of their own for the next minute, none is lost.
async fn a_campaign_page_keeps_to_the_fleet_rate(backend: Backend) {
    let fcm = fcm().await;
    let first_minute = motcua_server::push::rate::minute_of(Utc::now());
    let (app, workers) = app_with_fcm(backend, &fcm, |c| c.push.rate_per_minute = 3).await;
    let phones = [("q1", "vi"), ("q2", "vi"), ("q3", "en"), ("q4", "vi"), ("q5", "vi")];
    account_with_phones(&app, 1, &phones).await;
    city_campaign(&app, &admin(&app).await).await;
    eventually("three messages sent", 10, async || fcm.emulator.stats().accepted >= 3).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let minutes = motcua_server::push::rate::minute_of(Utc::now()) - first_minute + 1;
    let accepted = fcm.emulator.stats().accepted;
    assert!(accepted <= (3 * minutes).unsigned_abs().min(5), "{accepted} sent in {minutes} minute(s)");
    if minutes == 1 {
        assert_eq!(accepted, 3);
        let waiting = scalar(&app, "SELECT COUNT(*) FROM push_jobs WHERE state = 'queued' AND attempts = 0").await;
        assert_eq!(waiting, 2, "held back for the next minute, not lost");
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM push_pages WHERE state = 'done'").await, 1);
    }
    workers.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

/// Four processes refreshing their gauges at once: one counts the jobs, the others read
/// what it wrote; nobody counts again within the interval, someone does after it.
async fn the_gauges_figures_are_counted_by_one_process_at_a_time(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let db = &app.state.db;
    let now = Utc::now();
    let at_once = futures_util::future::join_all((0..4).map(|_| motcua_server::push::stats::shared(db, now))).await;
    let counted = at_once.iter().filter(|r| matches!(r, Ok(Some((_, true))))).count();
    assert_eq!(
        counted,
        1,
        "{:?}",
        at_once.iter().map(|r| r.as_ref().map(|f| f.as_ref().map(|f| f.1))).collect::<Vec<_>>()
    );
    assert!(at_once.iter().all(|r| r.is_ok()));
    account_with_phones(&app, 1, &[("g1", "vi")]).await;
    on_db!(db, write, pool => {
        sqlx::query(
            "INSERT INTO push_jobs (id, outbox_id, token, notification_id, message, state, attempts, available_at, created_at, finished_at) \
             VALUES ($1, NULL, 'g1', 'n-1', '{}', 'sent', 1, $2, $2, $2)",
        )
        .bind(Uuid::now_v7()).bind(now).execute(pool).await.map(|_| ())
    })
    .expect("a sent job");
    let read = |secs: i64| motcua_server::push::stats::shared(db, now + chrono::Duration::seconds(secs));
    let (figures, counted) = read(1).await.expect("figures").expect("written");
    assert_eq!((figures.overall.sent, counted), (0, false), "read, not counted again, within the interval");
    let (figures, counted) = read(16).await.expect("figures").expect("written");
    assert_eq!((figures.overall.sent, counted), (1, true), "counted again after it");
    let (figures, counted) = read(17).await.expect("figures").expect("written");
    assert_eq!((figures.overall.sent, counted), (1, false));
    app.stop().await;
}

async fn the_janitor_forgets_finished_jobs_after_the_retention(backend: Backend) {
    let fcm = fcm().await;
    let (app, workers) = app_with_fcm(backend, &fcm, |_| {}).await;
    let user = account_with_phones(&app, 1, &[("kept", "vi"), ("gone", "vi")]).await;
    fcm.emulator.add_fault(FaultSpec::new(FaultKind::Unavailable).token("kept"));
    push_event(&app, user, "dossier", "d-1", "dossier_updates").await;
    eventually("one sent, one retrying", 20, async || {
        scalar(&app, "SELECT COUNT(*) FROM push_jobs WHERE state = 'sent'").await == 1
            && scalar(&app, "SELECT COUNT(*) FROM push_jobs WHERE state = 'queued' AND attempts > 0").await == 1
    })
    .await;
    workers.stop(Duration::from_secs(5)).await;
    let now = Utc::now();
    let done = motcua_server::janitor::run_once(&app.state, now).await.expect("janitor");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM push_jobs").await, 2, "kept within the retention ({done:?})");
    motcua_server::janitor::run_once(&app.state, now + chrono::Duration::days(8)).await.expect("janitor");
    let left: Vec<(String, String)> = on_db!(&app.state.db, read, pool => {
        sqlx::query_as("SELECT token, state FROM push_jobs").fetch_all(pool).await
    })
    .expect("jobs");
    assert_eq!(left, vec![("kept".to_owned(), "queued".to_owned())], "a waiting job is never forgotten");
    app.stop().await;
}
