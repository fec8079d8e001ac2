//! The dossier lifecycle end to end over HTTP: upload, idempotent submission, the officers'
//! workflow with a supplement, deadlines across a holiday with the clock stopped while a
//! supplement is requested, notifications and the push outbox, rating, public tracking,
//! figures — and who may see what.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use motcua_domain::wire::Procedure;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::forms::valid_values;
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app};

both!(
    lifecycle_from_upload_to_rating,
    retries_never_duplicate,
    a_form_changed_meanwhile_is_caught_by_the_insert,
    codes_are_unique_under_concurrency,
    validation_lists_every_problem,
    workflow_refuses_illegal_moves,
    nobody_sees_anothers_dossiers,
    a_receiving_point_takes_boundary_free_procedures_only
);

pub(crate) const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

pub(crate) fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Days off of April–May 2027, written out by hand from the decree pattern (Hùng Kings
/// day Fri 16 Apr; 30 Apr; 1 May is a Saturday, so Mon 3 May is in lieu).
fn off_2027(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        || [day("2027-04-16"), day("2027-04-30"), day("2027-05-03")].contains(&d)
}

/// The `n`-th working day after `start`, counted by hand.
fn nth_working_day_after(start: NaiveDate, n: u32) -> NaiveDate {
    let mut d = start;
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().expect("date");
        if !off_2027(d) {
            left -= 1;
        }
    }
    d
}

/// A procedure with a deadline of several working days, boundary-free, with at least one
/// required paper (so attachments are exercised).
pub(crate) async fn pick_procedure(app: &TestApp) -> Procedure {
    let changes = expect_json(app.get("/api/v1/catalogue/changes").await, 200).await;
    let all: Vec<Procedure> = serde_json::from_value(changes["procedures"].clone()).expect("procedures");
    all.into_iter()
        .filter(|p| (5..=15).contains(&p.processing_days) && p.boundary_free)
        .find(|p| p.form.attachment_documents().len() >= 2)
        .expect("a procedure with 5-15 working days and two papers")
}

pub(crate) async fn upload_whole(app: &TestApp, token: &str, bytes: &[u8], name: &str) -> String {
    let response = app
        .request(Method::POST, &format!("/api/v1/attachments?name={name}"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body = expect_json(response, if status == 200 { 200 } else { 201 }).await;
    body["id"].as_str().expect("id").to_owned()
}

/// Values for `procedure` with a fresh PNG in every attachment slot.
pub(crate) async fn values_for(app: &TestApp, token: &str, procedure: &Procedure, today: NaiveDate) -> Value {
    let mut slots = Vec::new();
    valid_values(&procedure.form, today, &mut |doc| {
        slots.push(doc.to_owned());
        vec![]
    });
    let mut ids = std::collections::HashMap::new();
    for (i, doc) in slots.iter().enumerate() {
        let mut bytes = PNG.to_vec();
        bytes.extend_from_slice(format!("{doc}-{i}-{token}").as_bytes());
        ids.insert(doc.clone(), upload_whole(app, token, &bytes, &format!("{doc}.png")).await);
    }
    valid_values(&procedure.form, today, &mut |doc| vec![ids[doc].clone()])
}

pub(crate) async fn submit(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/dossiers")
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request")
}

pub(crate) async fn act(app: &TestApp, token: &str, id: &str, action: &str, note: Option<&str>) -> Value {
    let response = app
        .post_as(token, &format!("/api/v1/dossiers/{id}/transitions"), &json!({"action": action, "note": note}))
        .await;
    expect_json(response, 200).await
}

async fn lifecycle_from_upload_to_rating(backend: Backend) {
    let app = spawn_app(backend).await;
    // Tuesday 13 April 2027, 09:00 in Hanoi.
    app.clock.set(at("2027-04-13T02:00:00Z"));
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987654321", "H26.00").await;
    let procedure = pick_procedure(&app).await;
    let values = values_for(&app, &citizen, &procedure, day("2027-04-13")).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values, "branch_code": "H26.00"});

    // Submitted twice with the same key (a retry after a lost response): one dossier.
    let first = expect_json(submit(&app, &citizen, "k-1", &body).await, 201).await;
    let retry = expect_json(submit(&app, &citizen, "k-1", &body).await, 200).await;
    assert_eq!(first["id"], retry["id"]);
    let id = first["id"].as_str().expect("id").to_owned();
    let code = first["code"].as_str().expect("code").to_owned();
    assert_eq!(code, "H26.00-270413-0001");
    assert_eq!(first["status"], "submitted");
    assert_eq!(first["deadline"], "not_started");

    // Received on the 13th: the deadline counts working days, skipping Fri 16 April.
    let days = procedure.processing_days;
    let received = act(&app, &officer, &id, "receive", None).await;
    let due = nth_working_day_after(day("2027-04-13"), days);
    assert_eq!(received["due_date"], json!(due.to_string()), "{days} working days from 13 April 2027");
    act(&app, &officer, &id, "start_processing", None).await;

    // Wed 14: a supplement is requested; the citizen answers on Tue 20. The clock stood
    // still for 15, 19 and 20 April (16 is a holiday): three working days.
    app.clock.set(at("2027-04-14T03:00:00Z"));
    let paused =
        act(&app, &officer, &id, "request_supplement", Some("Bổ sung bản sao giấy chứng sinh rõ nét hơn")).await;
    assert_eq!(paused["deadline"], "paused");
    app.clock.set(at("2027-04-20T03:00:00Z"));
    let answered = app
        .post_as(
            &citizen,
            &format!("/api/v1/dossiers/{id}/supplement"),
            &json!({"values": values, "note": "Đã bổ sung"}),
        )
        .await;
    let answered = expect_json(answered, 200).await;
    assert_eq!(answered["status"], "in_processing");
    let new_due = nth_working_day_after(day("2027-04-13"), days + 3);
    assert_eq!(answered["due_date"], json!(new_due.to_string()));

    // Approved Wed 21, returned Thu 22, rated 5.
    app.clock.set(at("2027-04-21T03:00:00Z"));
    act(&app, &officer, &id, "approve", None).await;
    app.clock.set(at("2027-04-22T03:00:00Z"));
    let returned = act(&app, &officer, &id, "return_result", None).await;
    assert_eq!(returned["status"], "result_returned");
    assert_eq!(returned["deadline"], "on_time");
    let rated = app
        .post_as(&citizen, &format!("/api/v1/dossiers/{id}/rating"), &json!({"score": 5, "comment": "Nhanh, chu đáo"}))
        .await;
    assert_eq!(expect_json(rated, 200).await["rating"]["score"], 5);
    let twice = app.post_as(&citizen, &format!("/api/v1/dossiers/{id}/rating"), &json!({"score": 1})).await;
    expect_error(twice, 409, "already_rated").await;

    // The timeline keeps every step, who and when.
    let dossier = expect_json(app.get_as(&citizen, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    let steps: Vec<(&str, &str)> = dossier["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| (e["action"].as_str().expect("action"), e["to"].as_str().expect("to")))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("submit", "submitted"),
            ("receive", "received"),
            ("start_processing", "in_processing"),
            ("request_supplement", "supplement_requested"),
            ("answer_supplement", "in_processing"),
            ("approve", "approved"),
            ("return_result", "result_returned"),
            ("rate", "result_returned"),
        ]
    );
    assert_eq!(dossier["timeline"][3]["note"], "Bổ sung bản sao giấy chứng sinh rõ nét hơn");
    assert_eq!(dossier["timeline"][1]["actor_role"], "officer");

    // One notification per status change, each with its push outbox row.
    let inbox = expect_json(app.get_as(&citizen, "/api/v1/notifications").await, 200).await;
    assert_eq!(inbox["items"].as_array().map(Vec::len), Some(7));
    assert_eq!(inbox["unread"], 7);
    assert!(inbox["items"][0]["title"].as_str().expect("title").contains(&code));
    let first_note = inbox["items"][0]["id"].as_str().expect("id").to_owned();
    let read = app
        .request(Method::POST, &format!("/api/v1/notifications/{first_note}/read"))
        .bearer_auth(&citizen)
        .send()
        .await
        .expect("request");
    assert_eq!(read.status(), 204);
    assert_eq!(expect_json(app.get_as(&citizen, "/api/v1/notifications").await, 200).await["unread"], 6);
    let outbox = outbox_rows(&app).await;
    assert_eq!(outbox, 7, "every notification has its push outbox row");

    // Anyone with the receipt follows it, with the verifier printed on it; no personal data.
    let verifier = dossier["tracking_verifier"].as_str().expect("a verifier on the receipt").to_owned();
    assert_eq!(verifier.len(), 8, "{verifier}");
    let public = app.get(&format!("/api/v1/public/dossiers/{code}?verifier={verifier}")).await;
    let text = public.text().await.expect("body");
    let public: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(public["status"], "result_returned");
    assert_eq!(public["status_label"], "Đã trả kết quả");
    assert_eq!(public["steps"].as_array().map(Vec::len), Some(7));
    for secret in ["Nguyễn Văn An", "0912345678", "001203004567", verifier.as_str()] {
        assert!(!text.contains(secret), "public answer leaks {secret}: {text}");
    }
    expect_error(app.get(&format!("/api/v1/public/dossiers/{code}?verifier=0000")).await, 404, "not_found").await;
    expect_error(app.get("/api/v1/public/dossiers/H26.00-270413-9999?verifier=5678").await, 404, "not_found").await;
    // The last digits of the phone are no verifier for a dossier that has its own.
    expect_error(app.get(&format!("/api/v1/public/dossiers/{code}?verifier=5678")).await, 404, "not_found").await;
    let missing = app.get(&format!("/api/v1/public/dossiers/{code}")).await;
    assert_eq!(expect_error(missing, 422, "validation_failed").await, vec!["verifier"]);
    // Guessing is throttled per code: 5 wrong verifiers per quarter hour (two spent just
    // above), then even the right verifier waits.
    for guess in ["1111", "2222", "3333"] {
        expect_error(app.get(&format!("/api/v1/public/dossiers/{code}?verifier={guess}")).await, 404, "not_found")
            .await;
    }
    let locked = app.get(&format!("/api/v1/public/dossiers/{code}?verifier={verifier}")).await;
    assert!(locked.headers().get("retry-after").is_some());
    expect_error(locked, 429, "rate_limited").await;

    // Figures for April 2027.
    let stats = expect_json(app.get_as(&officer, "/api/v1/stats?from=2027-04-01&to=2027-04-30").await, 200).await;
    let totals = &stats["totals"];
    assert_eq!(
        (totals["received"].as_u64(), totals["decided"].as_u64(), totals["decided_on_time"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(totals["on_time_rate"], 1.0);
    assert_eq!(totals["average_processing_days"], 5.0, "13→21 April 2027 is 5 working days (16th is off)");
    assert_eq!(totals["satisfaction_rate"], 1.0);
    assert_eq!(stats["by_procedure"][0]["procedure_code"], procedure.code.as_str());
    assert_eq!(stats["by_branch"][0]["branch_code"], "H26.00");
    let march = expect_json(app.get_as(&officer, "/api/v1/stats?from=2027-03-01&to=2027-03-31").await, 200).await;
    assert_eq!(march["totals"]["received"], 0);
    app.stop().await;
}

async fn outbox_rows(app: &TestApp) -> i64 {
    motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE topic = 'push.dossier_status'").fetch_one(pool).await
    })
    .expect("count")
}

async fn retries_never_duplicate(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let procedure = pick_procedure(&app).await;
    let today = motcua_server::dossiers::store::local_date(Utc::now());
    let values = values_for(&app, &citizen, &procedure, today).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values});
    // Eight concurrent retries of one submission (a flaky network): one dossier.
    let url = app.url("/api/v1/dossiers");
    let answers = futures_join_all((0..8).map(|_| {
        let (url, token, body) = (url.clone(), citizen.clone(), body.clone());
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", "same-key")
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    }))
    .await;
    let mut ids = HashSet::new();
    let mut created = 0;
    for response in answers {
        let status = response.status().as_u16();
        assert!(status == 200 || status == 201, "status {status}");
        created += usize::from(status == 201);
        ids.insert(expect_json(response, status).await["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids.len(), 1, "one dossier for one key");
    assert_eq!(created, 1);
    let mine = expect_json(app.get_as(&citizen, "/api/v1/dossiers").await, 200).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));

    // The same key with another body is refused.
    let mut other = body.clone();
    other["branch_code"] = json!("H26.01");
    expect_error(submit(&app, &citizen, "same-key", &other).await, 409, "idempotency_conflict").await;
    // Keys belong to their account: another citizen may use the same string.
    let neighbour = app.citizen("079303001234", "0987000111").await;
    let values = values_for(&app, &neighbour, &procedure, today).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values});
    expect_json(submit(&app, &neighbour, "same-key", &body).await, 201).await;
    // No key at all is a clear error.
    let no_key = app.post_as(&citizen, "/api/v1/dossiers", &body).await;
    assert_eq!(expect_error(no_key, 422, "validation_failed").await, vec!["Idempotency-Key"]);
    app.stop().await;
}

/// The submission path validates against the catalogue its process holds, without asking
/// the database first; a new form version landed by another process (here: the seed
/// applied straight to the database, past this process's cache) is caught inside the
/// insert's transaction, and the submission is validated again against it.
async fn a_form_changed_meanwhile_is_caught_by_the_insert(backend: Backend) {
    use motcua_server::seed::{Seed, apply};
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let procedure = pick_procedure(&app).await;
    let today = motcua_server::dossiers::store::local_date(Utc::now());
    let values = values_for(&app, &citizen, &procedure, today).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values});
    // The process now holds this catalogue.
    expect_json(submit(&app, &citizen, "first", &body).await, 201).await;

    let seed = Seed::embedded().expect("seed");
    let mut procedures = seed.procedures.clone();
    let edited = procedures.iter_mut().find(|p| p.code == procedure.code).expect("the procedure");
    edited.form.version += 1;
    let edited = Seed::parse(
        &serde_json::to_string(&seed.fields).expect("json"),
        &serde_json::to_string(&procedures).expect("json"),
        &serde_json::to_string(&seed.branches).expect("json"),
    )
    .expect("edited seed");
    let outcome = apply(&app.state.db, &edited).await.expect("apply");
    assert_eq!(outcome.changed_procedures, 1);

    // The old form version is refused (the insert saw the new catalogue), the new one taken.
    let paths = expect_error(submit(&app, &citizen, "second", &body).await, 422, "validation_failed").await;
    assert_eq!(paths, vec!["form_version"]);
    let mut current = body.clone();
    current["form_version"] = json!(procedure.form.version + 1);
    let stored = expect_json(submit(&app, &citizen, "third", &current).await, 201).await;
    assert_eq!(stored["form_version"].as_i64(), Some(i64::from(procedure.form.version + 1)));
    app.stop().await;
}

pub(crate) async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

async fn codes_are_unique_under_concurrency(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(at("2026-11-24T03:00:00Z"));
    let citizen = app.citizen("001203004567", "0912345678").await;
    let procedure = pick_procedure(&app).await;
    let values = values_for(&app, &citizen, &procedure, day("2026-11-24")).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values, "branch_code": "H26.12"});
    let answers = futures_join_all((0..12).map(|i| {
        let (app_url, token, body) = (app.url("/api/v1/dossiers"), citizen.clone(), body.clone());
        async move {
            reqwest::Client::new()
                .post(app_url)
                .bearer_auth(token)
                .header("idempotency-key", format!("key-{i}"))
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    }))
    .await;
    let mut codes = Vec::new();
    for response in answers {
        codes.push(expect_json(response, 201).await["code"].as_str().expect("code").to_owned());
    }
    codes.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("H26.12-261124-{n:04}")).collect();
    assert_eq!(codes, expected, "sequential per day and branch, no gaps, no repeats");
    app.stop().await;
}

async fn validation_lists_every_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let procedure = pick_procedure(&app).await;
    let today = motcua_server::dossiers::store::local_date(Utc::now());
    let mut values = values_for(&app, &citizen, &procedure, today).await;
    // Remove every attachment (missing papers) and send a stranger's attachment id.
    let slots: Vec<String> = procedure
        .form
        .fields
        .iter()
        .filter(|f| matches!(f.kind, motcua_domain::form::FieldKind::Attachment { .. }) && f.required)
        .map(|f| f.key.clone())
        .collect();
    for slot in &slots {
        values[slot] = json!([]);
    }
    values[slots[0].as_str()] = json!([uuid::Uuid::new_v4().to_string()]);
    values["khong_co_truong_nay"] = json!("x");
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version + 7, "values": values, "branch_code": "H26.99"});
    let paths = expect_error(submit(&app, &citizen, "k", &body).await, 422, "validation_failed").await;
    assert!(paths.contains(&"form_version".to_owned()), "{paths:?}");
    assert!(paths.contains(&"branch_code".to_owned()), "{paths:?}");
    assert!(paths.contains(&"values.khong_co_truong_nay".to_owned()), "{paths:?}");
    assert!(paths.contains(&format!("values.{}[0]", slots[0])), "a stranger's attachment: {paths:?}");
    for slot in &slots[1..] {
        assert!(paths.contains(&format!("values.{slot}")), "missing paper {slot}: {paths:?}");
    }
    let unknown = json!({"procedure_code": "0.000", "form_version": 1, "values": {}});
    assert_eq!(
        expect_error(submit(&app, &citizen, "k2", &unknown).await, 422, "validation_failed").await,
        vec!["procedure_code"]
    );
    let wrong = app
        .request(Method::POST, "/api/v1/dossiers")
        .bearer_auth(&citizen)
        .header("idempotency-key", "k3")
        .json(&json!({"procedure_code": 5}))
        .send()
        .await
        .expect("request");
    expect_error(wrong, 422, "validation_failed").await;
    app.stop().await;
}

pub(crate) async fn file_one(app: &TestApp, citizen: &str, branch: &str) -> Value {
    let procedure = pick_procedure(app).await;
    let today = motcua_server::dossiers::store::local_date(app.clock.now_utc());
    let values = values_for(app, citizen, &procedure, today).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values, "branch_code": branch});
    expect_json(submit(app, citizen, &uuid::Uuid::new_v4().to_string(), &body).await, 201).await
}

/// The shared rule `BranchKind::accepts`: a procedure that is not boundary-free is filed at
/// the head office or a branch, not at a receiving point or a ward's point.
async fn a_receiving_point_takes_boundary_free_procedures_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004568", "0912345679").await;
    let changes = expect_json(app.get("/api/v1/catalogue/changes").await, 200).await;
    let all: Vec<Procedure> = serde_json::from_value(changes["procedures"].clone()).expect("procedures");
    let bound = all.into_iter().find(|p| !p.boundary_free).expect("a procedure that is not boundary-free");
    let today = motcua_server::dossiers::store::local_date(app.clock.now_utc());
    let values = values_for(&app, &citizen, &bound, today).await;
    let body = |branch: &str| json!({"procedure_code": bound.code, "form_version": bound.form.version, "values": values, "branch_code": branch});
    for point in ["H26.13", "HN.00004"] {
        let refused = submit(&app, &citizen, &uuid::Uuid::new_v4().to_string(), &body(point)).await;
        assert_eq!(expect_error(refused, 422, "validation_failed").await, vec!["branch_code"], "{point}");
    }
    let filed = submit(&app, &citizen, &uuid::Uuid::new_v4().to_string(), &body("H26.01")).await;
    expect_json(filed, 201).await;
    app.stop().await;
}

async fn workflow_refuses_illegal_moves(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987654321", "H26.01").await;
    let dossier = file_one(&app, &citizen, "H26.01").await;
    let id = dossier["id"].as_str().expect("id");
    let path = format!("/api/v1/dossiers/{id}/transitions");

    let early = app.post_as(&officer, &path, &json!({"action": "approve"})).await;
    let body = expect_json(early, 409).await;
    assert_eq!(body["error"]["code"], "invalid_transition");
    assert!(body["error"]["message"].as_str().expect("message").contains("Đã nộp"), "names the current state: {body}");
    assert_eq!(body["error"]["fields"][0]["code"], "submitted");

    let no_reason = app.post_as(&officer, &path, &json!({"action": "reject"})).await;
    assert_eq!(expect_error(no_reason, 422, "validation_failed").await, vec!["note"]);
    let citizen_receives = app.post_as(&citizen, &path, &json!({"action": "receive"})).await;
    expect_error(citizen_receives, 403, "forbidden").await;
    let officer_withdraws = app.post_as(&officer, &path, &json!({"action": "withdraw"})).await;
    expect_error(officer_withdraws, 403, "forbidden").await;
    let bad_action = app.post_as(&officer, &path, &json!({"action": "teleport"})).await;
    assert_eq!(expect_error(bad_action, 422, "validation_failed").await, vec!["action"]);

    // The citizen withdraws before a decision; then nothing more can happen.
    let withdrawn = app.post_as(&citizen, &path, &json!({"action": "withdraw"})).await;
    assert_eq!(expect_json(withdrawn, 200).await["status"], "withdrawn");
    let late = app.post_as(&officer, &path, &json!({"action": "receive"})).await;
    expect_error(late, 409, "invalid_transition").await;
    let rating = app.post_as(&citizen, &format!("/api/v1/dossiers/{id}/rating"), &json!({"score": 4})).await;
    expect_error(rating, 409, "not_returned_yet").await;
    let officer_files = app.post_as(&officer, "/api/v1/dossiers", &json!({})).await;
    assert!(officer_files.status().is_client_error());

    // Assignment is recorded in the timeline, without a status change.
    let me = expect_json(app.get_as(&officer, "/api/v1/me").await, 200).await;
    let assigned = app.post_as(&officer, &format!("/api/v1/dossiers/{id}/assign"), &json!({})).await;
    let assigned = expect_json(assigned, 200).await;
    assert_eq!(assigned["assigned_to"], me["id"]);
    let last = assigned["timeline"].as_array().expect("timeline").last().expect("entry").clone();
    assert_eq!(
        (last["action"].as_str(), last["from"].as_str(), last["to"].as_str()),
        (Some("assign"), Some("withdrawn"), Some("withdrawn"))
    );
    let stranger_officer = app
        .post_as(
            &officer,
            &format!("/api/v1/dossiers/{id}/assign"),
            &json!({"officer_id": uuid::Uuid::new_v4().to_string()}),
        )
        .await;
    assert_eq!(expect_error(stranger_officer, 422, "validation_failed").await, vec!["officer_id"]);

    // The officer's queue is their branch's, filtered by state; an officer elsewhere sees none of it.
    let withdrawn = expect_json(app.get_as(&officer, "/api/v1/dossiers?status=withdrawn").await, 200).await;
    assert_eq!(withdrawn["items"].as_array().map(Vec::len), Some(1));
    let received = expect_json(app.get_as(&officer, "/api/v1/dossiers?status=received").await, 200).await;
    assert_eq!(received["items"].as_array().map(Vec::len), Some(0));
    expect_error(app.get_as(&officer, "/api/v1/dossiers?status=lost").await, 422, "validation_failed").await;
    let queue = expect_json(app.get_as(&officer, "/api/v1/dossiers").await, 200).await;
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(1));
    let elsewhere = app.officer("0987654322", "H26.02").await;
    let other_queue = expect_json(app.get_as(&elsewhere, "/api/v1/dossiers").await, 200).await;
    assert_eq!(other_queue["items"].as_array().map(Vec::len), Some(0));
    app.stop().await;
}

/// Every dossier and attachment endpoint, tried with another citizen's token and with an
/// officer of another branch: 404 (or 403 for a staff-only action), never the data.
async fn nobody_sees_anothers_dossiers(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.citizen("001203004567", "0912345678").await;
    let stranger = app.citizen("079303001234", "0987000111").await;
    let home = app.officer("0987654321", "H26.01").await;
    let elsewhere = app.officer("0987654322", "H26.02").await;
    let dossier = file_one(&app, &owner, "H26.01").await;
    let id = dossier["id"].as_str().expect("id").to_owned();
    let attachment = dossier["values"]
        .as_object()
        .expect("values")
        .values()
        .filter_map(|v| v.as_array())
        .flat_map(|a| a.iter())
        .filter_map(|v| v.as_str())
        .find(|s| uuid::Uuid::parse_str(s).is_ok())
        .expect("an attachment id")
        .to_owned();

    for token in [&stranger, &elsewhere] {
        expect_error(app.get_as(token, &format!("/api/v1/dossiers/{id}")).await, 404, "not_found").await;
        expect_error(app.get_as(token, &format!("/api/v1/attachments/{attachment}")).await, 404, "not_found").await;
        expect_error(app.get_as(token, &format!("/api/v1/attachments/{attachment}/content")).await, 404, "not_found")
            .await;
        for (path, body) in [
            ("transitions", json!({"action": "withdraw"})),
            ("transitions", json!({"action": "receive"})),
            ("supplement", json!({"values": {}})),
            ("rating", json!({"score": 5})),
            ("assign", json!({})),
        ] {
            let response = app.post_as(token, &format!("/api/v1/dossiers/{id}/{path}"), &body).await;
            let status = response.status().as_u16();
            assert!(status == 404 || (status == 403 && path == "assign"), "{path}: {status}");
        }
        let listed = expect_json(app.get_as(token, "/api/v1/dossiers").await, 200).await;
        assert!(listed["items"].as_array().expect("items").iter().all(|d| d["id"] != id.as_str()));
    }
    // The stranger cannot resume the owner's uploads either.
    let upload = app
        .post_as(&owner, "/api/v1/uploads", &json!({"sha256": "a".repeat(64), "size": 10, "file_name": "x.pdf"}))
        .await;
    let upload_id = expect_json(upload, 201).await["upload_id"].as_str().expect("id").to_owned();
    expect_error(app.get_as(&stranger, &format!("/api/v1/uploads/{upload_id}")).await, 404, "not_found").await;

    // The home branch's officer sees the dossier and its papers; the owner too.
    expect_json(app.get_as(&home, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    let content = app.get_as(&home, &format!("/api/v1/attachments/{attachment}/content")).await;
    assert_eq!(content.status(), 200);
    assert_eq!(content.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/png"));
    expect_json(app.get_as(&owner, &format!("/api/v1/attachments/{attachment}")).await, 200).await;
    // Staff-only figures.
    expect_error(app.get_as(&owner, "/api/v1/stats").await, 403, "forbidden").await;
    app.stop().await;
}
