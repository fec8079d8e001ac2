//! What a prober found, kept found: quotas claimed before the work (concurrent requests
//! cannot all take the last unit), the disk reserve, the janitor, concurrent chunks of one
//! upload, guesses at public tracking counted before they are checked, supplements only
//! with values, control characters, extreme dates, a queue larger than any page, and the
//! headers on attachment bytes.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::dossiers::{PNG, act, file_one, futures_join_all, pick_procedure, submit, upload_whole, values_for};
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app, spawn_app_with};
use crate::uploads::{chunk, sha};

both!(
    dossier_quota_is_claimed_atomically,
    upload_quota_and_disk_reserve,
    janitor_collects_what_was_abandoned,
    concurrent_chunks_of_one_upload,
    tracking_guesses_are_counted_before_checking,
    supplements_are_answered_with_values_only,
    a_supplement_answer_with_a_key_is_applied_once,
    control_characters_are_refused,
    stats_refuse_extreme_dates,
    the_queue_reaches_every_dossier,
    attachment_bytes_carry_safe_headers,
    json_answers_are_compressed_and_file_bytes_never,
    foreign_attachments_are_refused_by_the_insert
);

async fn dossier_quota_is_claimed_atomically(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.quotas.dossiers_per_minute = 3).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let procedure = pick_procedure(&app).await;
    let today = motcua_server::dossiers::store::local_date(app.clock.now_utc());
    let values = values_for(&app, &citizen, &procedure, today).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": values});
    // Ten different submissions at once: exactly three fit in the minute.
    let app = std::sync::Arc::new(app);
    let statuses = futures_join_all((0..10).map(|_| {
        let (app, citizen, body) = (app.clone(), citizen.clone(), body.clone());
        async move {
            let response = submit(&app, &citizen, &uuid::Uuid::new_v4().to_string(), &body).await;
            let retry = response.headers().contains_key("retry-after");
            (response.status().as_u16(), retry, response.text().await.unwrap_or_default())
        }
    }))
    .await;
    let created = statuses.iter().filter(|(s, _, _)| *s == 201).count();
    assert_eq!(created, 3, "{statuses:?}");
    for (status, retry, body) in statuses.iter().filter(|(s, _, _)| *s != 201) {
        assert_eq!(*status, 429, "{body}");
        assert!(*retry && body.contains("quota_exceeded"), "{body}");
    }
    // A retry of an accepted submission is no new dossier and is still answered.
    let list = expect_json(app.get_as(&citizen, "/api/v1/dossiers").await, 200).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
    std::sync::Arc::into_inner(app).expect("only owner").stop().await;
}

fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len.saturating_sub(9)).map(|i| ((i % 251) as u8).wrapping_add(seed)));
    bytes
}

async fn announce(app: &TestApp, token: &str, bytes: &[u8]) -> reqwest::Response {
    app.post_as(
        token,
        "/api/v1/uploads",
        &json!({"sha256": sha(bytes), "size": bytes.len(), "file_name": "giay-to.pdf"}),
    )
    .await
}

async fn upload_quota_and_disk_reserve(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.quotas.upload_bytes_per_day = 100_000).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    expect_json(announce(&app, &citizen, &pdf(60_000, 1)).await, 201).await;
    // 60,000 + 60,000 bytes is over the day's 100,000.
    let over = announce(&app, &citizen, &pdf(60_000, 2)).await;
    assert!(over.headers().contains_key("retry-after"));
    expect_error(over, 429, "quota_exceeded").await;
    let whole = app
        .request(Method::POST, "/api/v1/attachments?name=a.pdf")
        .bearer_auth(&citizen)
        .header("content-type", "application/octet-stream")
        .body(pdf(50_000, 3))
        .send()
        .await
        .expect("request");
    expect_error(whole, 429, "quota_exceeded").await;
    // Another citizen is not affected.
    let other = app.citizen("001203004568", "0912345679").await;
    expect_json(announce(&app, &other, &pdf(60_000, 2)).await, 201).await;
    app.stop().await;

    // A server whose disk reserve is larger than any disk refuses uploads cleanly, with
    // the API's error shape, and keeps serving everything else. (The reserve guards the
    // local folder: object storage tells no free space, so this server always has one.)
    let full = spawn_app_with(backend, |c| {
        c.quotas.min_free_disk_bytes = u64::MAX / 2;
        c.blob_url = None;
    })
    .await;
    assert!(full.state.blobs.free_bytes().is_some());
    let citizen = full.citizen("001203004567", "0912345678").await;
    expect_error(announce(&full, &citizen, &pdf(1_000, 1)).await, 507, "insufficient_storage").await;
    let whole = full
        .request(Method::POST, "/api/v1/attachments?name=a.pdf")
        .bearer_auth(&citizen)
        .header("content-type", "application/octet-stream")
        .body(pdf(1_000, 3))
        .send()
        .await
        .expect("request");
    expect_error(whole, 507, "insufficient_storage").await;
    expect_json(full.get("/api/v1/fields").await, 200).await;
    full.stop().await;
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    use motcua_server::db::Db;
    match &app.state.db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(sql).fetch_one(read).await.expect("count"),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.expect("count"),
    }
}

/// The files in the server's blob store (a folder or a bucket).
async fn blob_files(app: &TestApp) -> usize {
    app.state.blobs.list_blobs().await.expect("listing the blob store").len()
}

async fn janitor_collects_what_was_abandoned(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    // A dossier keeps its attachments; an attachment used by nothing, and an upload left
    // half-way, are abandoned.
    let dossier = file_one(&app, &citizen, "H26.00").await;
    let kept_files = blob_files(&app).await;
    let orphan = upload_whole(&app, &citizen, &pdf(5_000, 9), "bo-quen.pdf").await;
    let half = pdf(80_000, 7);
    let started = expect_json(announce(&app, &citizen, &half).await, 201).await;
    let upload_id = started["upload_id"].as_str().expect("id").to_owned();
    expect_json(chunk(&app, &citizen, &upload_id, 0, &half[..30_000]).await, 200).await;
    assert_eq!(blob_files(&app).await, kept_files + 1);
    assert_eq!(app.state.blobs.list_chunks(&upload_id).await.expect("list").len(), 1, "the chunk is in the store");

    // Nothing is old enough yet.
    let now = chrono::Utc::now();
    let state = app.state.clone();
    let done = motcua_server::janitor::run_once(&state, now).await.expect("janitor");
    assert_eq!((done.stale_uploads, done.orphan_attachments, done.blobs), (0, 0, 0));

    // Eight days later.
    let later = now + chrono::TimeDelta::days(8);
    let done = motcua_server::janitor::run_once(&state, later).await.expect("janitor");
    assert_eq!((done.stale_uploads, done.orphan_attachments, done.blobs), (1, 1, 1), "{done:?}");
    assert_eq!(blob_files(&app).await, kept_files, "the orphan's file is gone, the dossier's are kept");
    expect_error(app.get_as(&citizen, &format!("/api/v1/attachments/{orphan}")).await, 404, "not_found").await;
    expect_error(app.get_as(&citizen, &format!("/api/v1/uploads/{upload_id}")).await, 404, "not_found").await;
    let staged = app.state.blobs.list_chunks(&upload_id).await.expect("list");
    assert!(staged.is_empty(), "the half upload's chunks are deleted: {staged:?}");
    assert_eq!(count(&app, "SELECT CAST(COUNT(*) AS BIGINT) FROM upload_chunks").await, 0);
    // The dossier's files still open.
    let full = expect_json(
        app.get_as(&citizen, &format!("/api/v1/dossiers/{}", dossier["id"].as_str().expect("id"))).await,
        200,
    )
    .await;
    let mut opened = 0;
    for value in full["values"].as_object().expect("values").values() {
        for id in value.as_array().into_iter().flatten().filter_map(Value::as_str) {
            let bytes = app.get_as(&citizen, &format!("/api/v1/attachments/{id}/content")).await;
            assert_eq!(bytes.status(), 200);
            opened += 1;
        }
    }
    assert!(opened >= 2, "{full}");
    // The same bytes uploaded again after collection are stored again.
    let again = upload_whole(&app, &citizen, &pdf(5_000, 9), "bo-quen.pdf").await;
    assert_eq!(app.get_as(&citizen, &format!("/api/v1/attachments/{again}/content")).await.status(), 200);
    app.stop().await;
}

/// Many trials of two PATCHes of the same range at once: never a 500, never a finished
/// upload without its attachment, and the phone's resume always completes the file.
async fn concurrent_chunks_of_one_upload(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend).await);
    let citizen = app.citizen("001203004567", "0912345678").await;
    for trial in 0..20u8 {
        let file = pdf(40_000 + usize::from(trial), trial);
        let started = expect_json(announce(&app, &citizen, &file).await, 201).await;
        let id = started["upload_id"].as_str().expect("id").to_owned();
        // Identical bytes in even trials; in odd ones one sender has corrupt bytes.
        let mut other = file.clone();
        if trial % 2 == 1 {
            other[20_000] ^= 0xFF;
        }
        let answers = futures_join_all([file.clone(), other].into_iter().map(|bytes| {
            let (app, citizen, id) = (app.clone(), citizen.clone(), id.clone());
            async move {
                let r = chunk(&app, &citizen, &id, 0, &bytes).await;
                (r.status().as_u16(), r.text().await.unwrap_or_default())
            }
        }))
        .await;
        for (status, body) in &answers {
            assert!([200, 409, 422].contains(status), "trial {trial}: {status} {body}");
        }
        // The phone resumes from what the server says until the file is stored.
        let mut stored = None;
        for _ in 0..4 {
            let status = expect_json(app.get_as(&citizen, &format!("/api/v1/uploads/{id}")).await, 200).await;
            if let Some(attachment) = status["attachment"].as_object() {
                stored = Some(attachment["id"].as_str().expect("id").to_owned());
                break;
            }
            let offset = status["offset"].as_u64().expect("offset") as usize;
            let r = chunk(&app, &citizen, &id, offset, &file[offset..]).await;
            assert!([200, 409].contains(&r.status().as_u16()), "trial {trial}: resume {}", r.status());
        }
        let stored = stored.unwrap_or_else(|| panic!("trial {trial}: the upload never finished"));
        let bytes = app.get_as(&citizen, &format!("/api/v1/attachments/{stored}/content")).await;
        assert_eq!(bytes.bytes().await.expect("bytes").as_ref(), file.as_slice(), "trial {trial}");
    }
    std::sync::Arc::into_inner(app).expect("only owner").stop().await;
}

async fn tracking_guesses_are_counted_before_checking(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend).await);
    let citizen = app.citizen("001203004567", "0912345678").await;
    let dossier = file_one(&app, &citizen, "H26.00").await;
    let code = dossier["code"].as_str().expect("code").to_owned();
    let verifier = dossier["tracking_verifier"].as_str().expect("verifier").to_owned();
    assert!(verifier.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) && verifier.len() == 8);
    // The owner looks it up often: right answers never lock it.
    for _ in 0..8 {
        expect_json(app.get(&format!("/api/v1/public/dossiers/{code}?verifier={verifier}")).await, 200).await;
    }
    // Typed with spaces, dashes or small letters, it still matches.
    let typed = format!("{}-{}", &verifier[..4], verifier[4..].to_lowercase());
    expect_json(app.get(&format!("/api/v1/public/dossiers/{code}?verifier={typed}")).await, 200).await;
    // 25 wrong guesses at once: at most 5 are checked, the rest are refused unchecked.
    let statuses =
        futures_join_all(
            (0..25).map(|i| {
                let (app, code) = (app.clone(), code.clone());
                async move {
                    app.get(&format!("/api/v1/public/dossiers/{code}?verifier=WRONG{i:03}")).await.status().as_u16()
                }
            }),
        )
        .await;
    let checked = statuses.iter().filter(|s| **s == 404).count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20, "{statuses:?}");
    expect_error(app.get(&format!("/api/v1/public/dossiers/{code}?verifier={verifier}")).await, 429, "rate_limited")
        .await;

    // A dossier filed before verifiers existed is still followed with the phone's last 4
    // digits.
    let legacy = file_one(&app, &citizen, "H26.00").await;
    let legacy_code = legacy["code"].as_str().expect("code").to_owned();
    let id = uuid::Uuid::parse_str(legacy["id"].as_str().expect("id")).expect("uuid");
    match &app.state.db {
        motcua_server::db::Db::Sqlite { write, .. } => {
            sqlx::query("UPDATE dossiers SET tracking_verifier = NULL WHERE id = $1")
                .bind(id)
                .execute(write)
                .await
                .map(|_| ())
        }
        motcua_server::db::Db::Postgres(pool) => {
            sqlx::query("UPDATE dossiers SET tracking_verifier = NULL WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
        }
    }
    .expect("update");
    expect_json(app.get(&format!("/api/v1/public/dossiers/{legacy_code}?verifier=5678")).await, 200).await;
    expect_error(app.get(&format!("/api/v1/public/dossiers/{legacy_code}?verifier=5679")).await, 404, "not_found")
        .await;
    std::sync::Arc::into_inner(app).expect("only owner").stop().await;
}

async fn supplements_are_answered_with_values_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987000001", "H26.00").await;
    let dossier = file_one(&app, &citizen, "H26.00").await;
    let id = dossier["id"].as_str().expect("id");
    act(&app, &officer, id, "receive", None).await;
    act(&app, &officer, id, "request_supplement", Some("Thiếu bản sao")).await;
    let bare = app
        .post_as(&citizen, &format!("/api/v1/dossiers/{id}/transitions"), &json!({"action": "answer_supplement"}))
        .await;
    assert_eq!(expect_error(bare, 422, "validation_failed").await, vec!["action"]);
    let still = expect_json(app.get_as(&citizen, &format!("/api/v1/dossiers/{id}")).await, 200).await;
    assert_eq!(still["status"], "supplement_requested");
    assert_eq!(still["deadline"], "paused", "the clock did not restart");
    app.stop().await;
}

/// The offline client retries an answer whose reply was lost: with the same
/// `Idempotency-Key` the retry gets the dossier (one timeline entry), not a conflict; the
/// key with another body is a 409; a second request answered with a new key works.
async fn a_supplement_answer_with_a_key_is_applied_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987000001", "H26.00").await;
    let dossier = file_one(&app, &citizen, "H26.00").await;
    let id = dossier["id"].as_str().expect("id");
    act(&app, &officer, id, "receive", None).await;
    act(&app, &officer, id, "request_supplement", Some("Thiếu bản sao")).await;
    let answer = |key: &str, note: &str| {
        app.request(Method::POST, &format!("/api/v1/dossiers/{id}/supplement"))
            .bearer_auth(&citizen)
            .header("idempotency-key", key)
            .json(&json!({"values": dossier["values"], "note": note}))
            .send()
    };
    let first = expect_json(answer("answer-1", "Đã bổ sung").await.expect("request"), 200).await;
    assert_ne!(first["status"], "supplement_requested");
    let again = expect_json(answer("answer-1", "Đã bổ sung").await.expect("request"), 200).await;
    assert_eq!(again["status"], first["status"]);
    let answers = |d: &Value| {
        d["timeline"].as_array().expect("timeline").iter().filter(|e| e["action"] == "answer_supplement").count()
    };
    assert_eq!(answers(&again), 1, "the retry did not answer twice");
    expect_error(answer("answer-1", "Khác").await.expect("request"), 409, "idempotency_conflict").await;
    let fresh = answer("answer-2", "Đã bổ sung").await.expect("request");
    expect_error(fresh, 409, "invalid_transition").await;
    act(&app, &officer, id, "request_supplement", Some("Thiếu ảnh")).await;
    let second = expect_json(answer("answer-2", "Lần hai").await.expect("request"), 200).await;
    assert_eq!(answers(&second), 2);
    app.stop().await;
}

async fn control_characters_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let register = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"citizen_id": "001203004999", "phone": "0912345999", "full_name": "Nguyễn\u{0}Văn", "password": "matkhau123"}),
        )
        .await;
    assert_eq!(expect_error(register, 422, "validation_failed").await, vec!["full_name"]);
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987000001", "H26.00").await;
    let dossier = file_one(&app, &citizen, "H26.00").await;
    let id = dossier["id"].as_str().expect("id");
    let note = app
        .post_as(
            &officer,
            &format!("/api/v1/dossiers/{id}/transitions"),
            &json!({"action": "reject", "note": "Sai\u{0}"}),
        )
        .await;
    assert_eq!(expect_error(note, 422, "validation_failed").await, vec!["note"]);
    let mut values = dossier["values"].clone();
    let key = values.as_object().and_then(|m| m.iter().find(|(_, v)| v.is_string()).map(|(k, _)| k.clone()));
    if let Some(key) = key {
        values[&key] = json!("giá trị\u{7}lạ");
        let body = json!({"procedure_code": dossier["procedure_code"], "form_version": dossier["form_version"], "values": values});
        let paths = expect_error(submit(&app, &citizen, "nul-key", &body).await, 422, "validation_failed").await;
        assert_eq!(paths, vec![format!("values.{key}")]);
    }
    // A line break in a note is text, not a control character to refuse.
    expect_json(
        app.post_as(
            &officer,
            &format!("/api/v1/dossiers/{id}/transitions"),
            &json!({"action": "receive", "note": "Dòng 1\nDòng 2"}),
        )
        .await,
        200,
    )
    .await;
    let path = app.get("/api/v1/public/dossiers/H26.00%00?verifier=ABCDEFGH").await;
    assert_eq!(expect_error(path, 422, "validation_failed").await, vec!["path"]);
    let query = app.get("/api/v1/procedures?q=dang%00ky").await;
    assert_eq!(expect_error(query, 422, "validation_failed").await, vec!["q"]);
    app.stop().await;
}

async fn stats_refuse_extreme_dates(backend: Backend) {
    let app = spawn_app(backend).await;
    let officer = app.officer("0987000001", "H26.00").await;
    for (query, field) in [
        ("to=-262143-01-15", "to"),
        ("to=%2B262142-12-31", "to"),
        ("from=0001-01-01&to=2026-01-01", "from"),
        ("from=2026-01-01&to=9999-12-31", "to"),
    ] {
        let response = app.get_as(&officer, &format!("/api/v1/stats?{query}")).await;
        let paths = expect_error(response, 422, "validation_failed").await;
        assert!(paths.contains(&field.to_owned()), "{query}: {paths:?}");
    }
    expect_json(app.get_as(&officer, "/api/v1/stats?from=2000-01-01&to=2100-12-31").await, 200).await;
    app.stop().await;
}

/// 5,001 dossiers in one branch (written straight into the database), the oldest of them
/// the most overdue: it leads the officer's queue, and walking the pages by cursor meets
/// every dossier exactly once.
async fn the_queue_reaches_every_dossier(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let officer = app.officer("0987000001", "H26.00").await;
    let seed = file_one(&app, &citizen, "H26.00").await;
    let seed_id = uuid::Uuid::parse_str(seed["id"].as_str().expect("id")).expect("uuid");
    // Copies of the filed dossier, newer than it, received and due in a year.
    let copy = "INSERT INTO dossiers (id, code, applicant_id, applicant_name, applicant_phone, procedure_code, procedure_name, \
         processing_days, form_version, form_values, status, branch_code, submitted_at, updated_at, revision, received_at, due_date) \
         SELECT {ID}, code || '-' || CAST(n AS TEXT), applicant_id, applicant_name, applicant_phone, procedure_code, procedure_name, \
         processing_days, form_version, form_values, 'in_processing', branch_code, {AT}, updated_at, 1, {AT}, {DUE} \
         FROM dossiers, nums WHERE dossiers.id = $1";
    let (oldest_due, later) = ("2020-01-02", "2099-01-01");
    match &app.state.db {
        motcua_server::db::Db::Sqlite { write, .. } => {
            let sql = format!(
                "WITH RECURSIVE nums(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM nums WHERE n < 5000) {}",
                copy.replace("{ID}", "randomblob(16)")
                    .replace("{AT}", "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '+' || n || ' seconds')")
                    .replace("{DUE}", &format!("'{later}'"))
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(seed_id).execute(write).await.expect("copies");
            sqlx::query(
                "UPDATE dossiers SET status = 'in_processing', received_at = submitted_at, due_date = $2 WHERE id = $1",
            )
            .bind(seed_id)
            .bind(oldest_due)
            .execute(write)
            .await
            .expect("overdue");
        }
        motcua_server::db::Db::Postgres(pool) => {
            let sql = format!(
                "WITH nums(n) AS (SELECT generate_series(1, 5000)) {}",
                copy.replace("{ID}", "gen_random_uuid()")
                    .replace("{AT}", "now() + n * interval '1 second'")
                    .replace("{DUE}", &format!("DATE '{later}'"))
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(seed_id).execute(pool).await.expect("copies");
            sqlx::query(
                "UPDATE dossiers SET status = 'in_processing', received_at = submitted_at, due_date = $2 WHERE id = $1",
            )
            .bind(seed_id)
            .bind(chrono::NaiveDate::parse_from_str(oldest_due, "%Y-%m-%d").expect("date"))
            .execute(pool)
            .await
            .expect("overdue");
        }
    }
    let mut seen = HashSet::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &after {
            Some(cursor) => format!("/api/v1/dossiers?per_page=200&after={cursor}"),
            None => "/api/v1/dossiers?per_page=200".to_owned(),
        };
        let page = expect_json(app.get_as(&officer, &path).await, 200).await;
        let items = page["items"].as_array().expect("items");
        if pages == 0 {
            assert_eq!(items[0]["id"], seed["id"], "the most overdue dossier leads the queue");
            assert_eq!(items[0]["deadline"], "overdue");
        }
        for item in items {
            assert!(seen.insert(item["id"].as_str().expect("id").to_owned()), "seen twice: {item}");
        }
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(cursor) => after = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5_001);
    assert_eq!(pages, 26);
    let bad = app.get_as(&officer, "/api/v1/dossiers?after=not-a-cursor").await;
    assert_eq!(expect_error(bad, 422, "validation_failed").await, vec!["after"]);
    app.stop().await;
}

async fn attachment_bytes_carry_safe_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.citizen("001203004567", "0912345678").await;
    let mut bytes = PNG.to_vec();
    bytes.extend_from_slice(b"anh");
    let id = upload_whole(&app, &citizen, &bytes, "%E1%BA%A3nh%20CCCD.png").await;
    let response = app.get_as(&citizen, &format!("/api/v1/attachments/{id}/content")).await;
    assert_eq!(response.status(), 200);
    let disposition = response.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(disposition.starts_with("inline;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''%E1%BA%A3nh%20CCCD.png"), "{disposition}");
    assert!(disposition.contains("filename=\"anh_CCCD.png\""), "{disposition}");
    app.stop().await;
}

/// A client that accepts gzip or brotli gets the JSON answers compressed (the first catalogue sync
/// is most of a phone's first download); the bytes of an attachment are served as stored.
async fn json_answers_are_compressed_and_file_bytes_never(backend: Backend) {
    use std::io::Read;
    let app = spawn_app(backend).await;
    // A client that leaves the bodies as sent: reqwest decodes them (and drops the
    // header) when the workspace's client library enables its gzip/brotli features.
    let raw = reqwest::Client::builder().no_gzip().no_brotli().build().expect("client");
    let plain = raw.get(app.url("/api/v1/catalogue/changes")).send().await.expect("request");
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none(), "no compression unless asked");
    let plain = plain.bytes().await.expect("body");
    let zipped =
        raw.get(app.url("/api/v1/catalogue/changes")).header("accept-encoding", "gzip").send().await.expect("request");
    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
    let zipped = zipped.bytes().await.expect("body");
    assert!(zipped.len() * 4 < plain.len(), "{} compressed vs {} plain", zipped.len(), plain.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..]).read_to_end(&mut unzipped).expect("gzip");
    assert_eq!(unzipped, plain.to_vec(), "the same answer");
    let brotli =
        raw.get(app.url("/api/v1/catalogue/changes")).header("accept-encoding", "br").send().await.expect("request");
    assert_eq!(brotli.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("br"));
    assert!(brotli.bytes().await.expect("body").len() < zipped.len(), "brotli is smaller still");

    let citizen = app.citizen("001203004567", "0912345678").await;
    let mut bytes = PNG.to_vec();
    bytes.extend(std::iter::repeat_n(b'a', 4096));
    let id = upload_whole(&app, &citizen, &bytes, "anh.png").await;
    let content = raw
        .get(app.url(&format!("/api/v1/attachments/{id}/content")))
        .bearer_auth(&citizen)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(content.status(), 200);
    assert!(content.headers().get("content-encoding").is_none(), "file bytes are never re-encoded");
    assert_eq!(content.bytes().await.expect("body").to_vec(), bytes);
    app.stop().await;
}

/// Valid values naming another citizen's files: the insert's own ownership check refuses
/// them, names each path, stores nothing and takes no quota.
async fn foreign_attachments_are_refused_by_the_insert(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.quotas.dossiers_per_minute = 1).await;
    let owner = app.citizen("001203004567", "0912345678").await;
    let other = app.citizen("001203004568", "0912345679").await;
    let procedure = pick_procedure(&app).await;
    let today = motcua_server::dossiers::store::local_date(app.clock.now_utc());
    let theirs = values_for(&app, &owner, &procedure, today).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": theirs});
    let paths = expect_error(submit(&app, &other, "k1", &body).await, 422, "validation_failed").await;
    assert!(!paths.is_empty() && paths.iter().all(|p| p.starts_with("values.") && p.ends_with(']')), "{paths:?}");
    let list = expect_json(app.get_as(&other, "/api/v1/dossiers").await, 200).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    // The refused attempt took no quota: the one allowed this minute still goes through.
    let mine = values_for(&app, &other, &procedure, today).await;
    let body = json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": mine});
    expect_json(submit(&app, &other, "k2", &body).await, 201).await;
    app.stop().await;
}
