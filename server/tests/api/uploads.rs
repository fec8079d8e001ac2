//! Attachments: resumable uploads across a broken connection, content checks, size limits,
//! and content addressing (the same bytes stored once).

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both;
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app_with};

both!(resumes_after_a_broken_connection, checks_content_and_size, same_bytes_are_stored_once);

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len.saturating_sub(9)).map(|i| (i % 251) as u8));
    bytes
}

pub(crate) fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

async fn announce(app: &TestApp, token: &str, bytes: &[u8], name: &str) -> reqwest::Response {
    app.post_as(token, "/api/v1/uploads", &json!({"sha256": sha(bytes), "size": bytes.len(), "file_name": name})).await
}

pub(crate) async fn chunk(app: &TestApp, token: &str, id: &str, offset: usize, bytes: &[u8]) -> reqwest::Response {
    app.request(Method::PATCH, &format!("/api/v1/uploads/{id}"))
        .bearer_auth(token)
        .header("upload-offset", offset.to_string())
        .header("content-type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("request")
}

async fn resumes_after_a_broken_connection(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.citizen("001203004567", "0912345678").await;
    let file = pdf(300_000);
    let started = expect_json(announce(&app, &token, &file, "so-ho-khau.pdf").await, 201).await;
    let id = started["upload_id"].as_str().expect("id").to_owned();
    assert_eq!(started["offset"], 0);

    let first = expect_json(chunk(&app, &token, &id, 0, &file[..120_000]).await, 200).await;
    assert_eq!(first["offset"], 120_000);
    assert!(first["attachment"].is_null());

    // The connection broke; the phone lost the upload id and announces the file again:
    // it is told to resume at 120,000 — nothing is sent twice.
    let resumed = expect_json(announce(&app, &token, &file, "so-ho-khau.pdf").await, 200).await;
    assert_eq!(resumed["upload_id"], id.as_str());
    assert_eq!(resumed["offset"], 120_000);

    // A chunk sent from a stale offset is refused with the right offset.
    let stale = chunk(&app, &token, &id, 60_000, &file[60_000..120_000]).await;
    assert_eq!(stale.headers().get("upload-offset").and_then(|v| v.to_str().ok()), Some("120000"));
    expect_error(stale, 409, "offset_mismatch").await;

    let done = expect_json(chunk(&app, &token, &id, 120_000, &file[120_000..]).await, 200).await;
    assert_eq!(done["offset"], 300_000);
    let attachment = &done["attachment"];
    assert_eq!(attachment["content_type"], "application/pdf");
    assert_eq!(attachment["sha256"], sha(&file).as_str());
    assert_eq!(attachment["file_name"], "so-ho-khau.pdf");
    let status = expect_json(app.get_as(&token, &format!("/api/v1/uploads/{id}")).await, 200).await;
    assert_eq!(status["attachment"]["id"], attachment["id"]);
    let content =
        app.get_as(&token, &format!("/api/v1/attachments/{}/content", attachment["id"].as_str().expect("id"))).await;
    assert_eq!(content.bytes().await.expect("bytes").as_ref(), file.as_slice());
    app.stop().await;
}

async fn checks_content_and_size(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.max_upload_bytes = 200_000).await;
    let token = app.citizen("001203004567", "0912345678").await;

    // Too large, said up front: 413 before any byte is sent.
    let big = json!({"sha256": "b".repeat(64), "size": 200_001, "file_name": "lon.pdf"});
    expect_error(app.post_as(&token, "/api/v1/uploads", &big).await, 413, "payload_too_large").await;
    let whole = app
        .request(Method::POST, "/api/v1/attachments?name=lon.pdf")
        .bearer_auth(&token)
        .body(pdf(300_000))
        .send()
        .await
        .expect("request");
    expect_error(whole, 413, "payload_too_large").await;

    // Named .pdf, but an executable: refused by content.
    let exe: Vec<u8> = b"MZ\x90\x00\x03 this is not a scan".to_vec();
    let refused = app
        .request(Method::POST, "/api/v1/attachments?name=scan.pdf")
        .bearer_auth(&token)
        .body(exe.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(expect_error(refused, 422, "validation_failed").await, vec!["body"]);
    let started = expect_json(announce(&app, &token, &exe, "scan.pdf").await, 201).await;
    let id = started["upload_id"].as_str().expect("id");
    let body = expect_json(chunk(&app, &token, id, 0, &exe).await, 422).await;
    assert_eq!(body["error"]["fields"][0]["code"], "invalid_file_type");

    // Bytes that do not match the announced checksum: refused, and the upload restarts.
    let file = pdf(1000);
    let announced = json!({"sha256": sha(b"something else"), "size": 1000, "file_name": "a.pdf"});
    let started = expect_json(app.post_as(&token, "/api/v1/uploads", &announced).await, 201).await;
    let id = started["upload_id"].as_str().expect("id");
    let body = expect_json(chunk(&app, &token, id, 0, &file).await, 422).await;
    assert_eq!(body["error"]["fields"][0]["path"], "sha256");
    assert_eq!(expect_json(app.get_as(&token, &format!("/api/v1/uploads/{id}")).await, 200).await["offset"], 0);
    // More bytes than announced.
    let over = expect_json(chunk(&app, &token, id, 0, &pdf(1001)).await, 422).await;
    assert_eq!(over["error"]["fields"][0]["path"], "body");

    let bad: Value = expect_json(
        app.post_as(&token, "/api/v1/uploads", &json!({"sha256": "xyz", "size": 0, "file_name": ""})).await,
        422,
    )
    .await;
    let paths: Vec<&str> =
        bad["error"]["fields"].as_array().expect("fields").iter().map(|f| f["path"].as_str().expect("path")).collect();
    assert_eq!(paths, vec!["sha256", "size", "file_name"]);
    let anonymous =
        app.post_json("/api/v1/uploads", &json!({"sha256": sha(&file), "size": 1000, "file_name": "a.pdf"})).await;
    expect_error(anonymous, 401, "unauthorized").await;
    app.stop().await;
}

async fn same_bytes_are_stored_once(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let one = app.citizen("001203004567", "0912345678").await;
    let two = app.citizen("079303001234", "0987000111").await;
    let file = pdf(5000);
    let upload = |token: String| {
        let file = file.clone();
        let request =
            app.request(Method::POST, "/api/v1/attachments?name=giay-khai-sinh.pdf").bearer_auth(token).body(file);
        async move { request.send().await.expect("request") }
    };
    let a = expect_json(upload(one.clone()).await, 201).await;
    let again = expect_json(upload(one.clone()).await, 200).await;
    assert_eq!(a["id"], again["id"], "the same owner and bytes: the same attachment");
    let b = expect_json(upload(two.clone()).await, 201).await;
    assert_ne!(a["id"], b["id"], "another owner gets an attachment of their own");
    // Announcing bytes one already has needs no sending at all.
    let known = expect_json(announce(&app, &one, &file, "giay-khai-sinh.pdf").await, 200).await;
    assert_eq!(known["attachment"]["id"], a["id"]);
    // ... but another account must prove it holds the bytes (no access by hash alone).
    let stranger = app.citizen("036190001234", "0977000222").await;
    let must_send = expect_json(announce(&app, &stranger, &file, "x.pdf").await, 201).await;
    assert!(must_send["attachment"].is_null());

    let files: Vec<_> =
        walk(&app.config.blob_dir).into_iter().filter(|p| !p.to_string_lossy().contains("staging")).collect();
    assert_eq!(files.len(), 1, "one stored file for the same bytes: {files:?}");
    let blobs = motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM blobs").fetch_one(pool).await
    })
    .expect("count");
    assert_eq!(blobs, 1);
    app.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}
