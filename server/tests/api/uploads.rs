//! Attachments: resumable uploads across a broken connection, content checks, size limits,
//! and content addressing (the same bytes stored once).

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both;
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app_with};

both!(
    resumes_after_a_broken_connection,
    checks_content_and_size,
    same_bytes_are_stored_once,
    reads_ranges,
    the_store_moves_a_blob_aside_and_back,
    stores_a_file_of_several_parts
);

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

    let files = app.state.blobs.list_blobs().await.expect("list");
    assert_eq!(files, vec![sha(&file)], "one stored file for the same bytes");
    let blobs = motcua_server::on_db!(&app.state.db, read, pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM blobs").fetch_one(pool).await
    })
    .expect("count");
    assert_eq!(blobs, 1);
    app.stop().await;
}

/// A large file is read in ranges (a phone showing page after page of a scan, or resuming
/// a download), from the local folder and from object storage alike.
async fn reads_ranges(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.citizen("001203004567", "0912345678").await;
    let file = pdf(300_000);
    let stored = app
        .request(Method::POST, "/api/v1/attachments?name=ban-ve.pdf")
        .bearer_auth(&token)
        .body(file.clone())
        .send()
        .await
        .expect("request");
    let id = expect_json(stored, 201).await["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/attachments/{id}/content");
    let read = |range: &'static str| app.request(Method::GET, &path).bearer_auth(&token).header("range", range).send();
    let header = |r: &reqwest::Response, name: &str| {
        r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned).unwrap_or_default()
    };

    let middle = read("bytes=1000-1999").await.expect("request");
    assert_eq!(middle.status(), 206);
    assert_eq!(header(&middle, "content-range"), "bytes 1000-1999/300000");
    assert_eq!(middle.bytes().await.expect("body").as_ref(), &file[1000..2000]);

    let tail = read("bytes=-500").await.expect("request");
    assert_eq!(tail.status(), 206);
    assert_eq!(header(&tail, "content-range"), "bytes 299500-299999/300000");
    assert_eq!(tail.bytes().await.expect("body").as_ref(), &file[299_500..]);

    // An open end, and an end past the file, stop at its last byte.
    let rest = read("bytes=299990-").await.expect("request");
    assert_eq!(rest.status(), 206);
    assert_eq!(rest.bytes().await.expect("body").as_ref(), &file[299_990..]);
    let past = read("bytes=299000-999999").await.expect("request");
    assert_eq!(header(&past, "content-range"), "bytes 299000-299999/300000");
    assert_eq!(past.bytes().await.expect("body").len(), 1000);

    // Starting past the end: 416, naming the header, with the size.
    let beyond = read("bytes=300000-").await.expect("request");
    assert_eq!(header(&beyond, "content-range"), "bytes */300000");
    assert_eq!(expect_error(beyond, 416, "validation_failed").await, vec!["Range"]);

    // Several ranges, or another unit: the whole file (RFC 9110 lets a server ignore them).
    for ignored in ["bytes=0-10,20-30", "pages=1-2", "bytes=abc"] {
        let whole = read(ignored).await.expect("request");
        assert_eq!(whole.status(), 200, "{ignored}");
        assert_eq!(header(&whole, "accept-ranges"), "bytes");
        assert_eq!(whole.bytes().await.expect("body").len(), file.len(), "{ignored}");
    }
    app.stop().await;
}

/// The janitor's deletion steps on the store in use (a folder, or a bucket under
/// `MOTCUA_TEST_BLOB_URL`): a trashed blob is gone from reads and listings, a restored one
/// is whole again, a purged one is gone for good.
async fn the_store_moves_a_blob_aside_and_back(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.citizen("001203004567", "0912345678").await;
    let file = pdf(50_000);
    let stored =
        app.request(Method::POST, "/api/v1/attachments?name=a.pdf").bearer_auth(&token).body(file.clone()).send().await;
    expect_json(stored.expect("request"), 201).await;
    let blobs = &app.state.blobs;
    let key = sha(&file);

    let trashed = blobs.trash(&key).await.expect("trash").expect("the blob was there");
    assert_eq!(blobs.get(&key).await.expect("get"), None);
    assert!(blobs.list_blobs().await.expect("list").is_empty(), "a trashed blob is not listed");
    blobs.restore(&key, &trashed).await.expect("restore");
    assert_eq!(blobs.get(&key).await.expect("get").as_deref(), Some(&file[..]));
    assert_eq!(blobs.get_range(&key, 10..20).await.expect("range").as_deref(), Some(&file[10..20]));
    assert_eq!(blobs.list_blobs().await.expect("list"), vec![key.clone()]);

    let again = blobs.trash(&key).await.expect("trash").expect("restored");
    blobs.purge(&again).await.expect("purge");
    assert_eq!(blobs.get(&key).await.expect("get"), None);
    assert_eq!(blobs.trash(&key).await.expect("trash"), None, "nothing left to trash");
    blobs.purge(&again).await.expect("purging twice is harmless");
    app.stop().await;
}

/// A file larger than one part of an object store's multipart upload (8 MiB), sent in
/// chunks, is stored and read back whole and by range.
async fn stores_a_file_of_several_parts(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.citizen("001203004567", "0912345678").await;
    let file = pdf(9_500_000);
    let started = expect_json(announce(&app, &token, &file, "ban-do.pdf").await, 201).await;
    let id = started["upload_id"].as_str().expect("id").to_owned();
    let mut done = Value::Null;
    for offset in (0..file.len()).step_by(2_500_000) {
        let end = (offset + 2_500_000).min(file.len());
        done = expect_json(chunk(&app, &token, &id, offset, &file[offset..end]).await, 200).await;
    }
    let attachment = done["attachment"]["id"].as_str().expect("finished").to_owned();
    let path = format!("/api/v1/attachments/{attachment}/content");
    let whole = app.get_as(&token, &path).await;
    assert_eq!(whole.status(), 200);
    assert!(whole.bytes().await.expect("body").as_ref() == file.as_slice(), "every byte back");
    let tail = app.request(Method::GET, &path).bearer_auth(&token).header("range", "bytes=9000000-").send().await;
    let tail = tail.expect("request");
    assert_eq!(tail.status(), 206);
    assert!(tail.bytes().await.expect("body").as_ref() == &file[9_000_000..]);
    app.stop().await;
}
