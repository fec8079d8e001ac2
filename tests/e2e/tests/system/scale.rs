//! Scale-out, shown: three `motcua-server` processes over one PostgreSQL and one
//! S3-compatible object store (the bucket `cargo xtask test` starts, named by
//! `MOTCUA_TEST_S3_URL`), each with a local folder of its own. A citizen's resumable upload
//! is spread across them (each chunk to another process), the same dossier is filed with
//! one idempotency key at all three at once, it is moved from two processes at once, a
//! catalogue change lands; and the checks: one dossier, every byte, one winner per
//! transition, the change seen by all, one signing key, the same answers from every
//! process and nothing kept in a process's own folder.

use motcua_e2e::{Backend, Emulator, Scratch, Server};
use serde_json::{Value, json};

/// The seed procedure with a simple form and one attachment slot (`tep_de_nghi`).
const PROCEDURE: &str = "1.004189";
const CHUNK: usize = 100_000;

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len - bytes.len()).map(|i| (i * 7 % 253) as u8));
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A raw request to one process: status, headers and body bytes.
async fn raw(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: &str,
    headers: &[(&str, String)],
    body: Option<Vec<u8>>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", server.base_url)).bearer_auth(token);
    for (k, v) in headers {
        request = request.header(*k, v);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.expect("body").to_vec())
}

/// Every file under `dir` (a process's own folder).
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(files_under(&path)) } else { out.push(path) }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_over_one_postgresql_and_one_object_store() {
    let bucket = std::env::var("MOTCUA_TEST_S3_URL").expect(
        "MOTCUA_TEST_S3_URL is not set: the scale-out scenario needs an S3-compatible server. Run it with \
         `cargo xtask test`, which starts one (moto) and sets it with the AWS_* variables.",
    );
    let scratch = Scratch::new(Backend::Postgres).await;
    let name = scratch.dir.file_name().expect("name").to_string_lossy().into_owned();
    let blob_url = format!("{}/{name}", bucket.trim_end_matches('/'));
    let emulator = Emulator::start(&scratch).await;
    let own: Vec<_> = (0..3).map(|i| scratch.dir.join(format!("process-{i}"))).collect();
    let dirs: Vec<String> = own.iter().map(|d| d.to_string_lossy().into_owned()).collect();
    let env = |i: usize| [("MOTCUA_BLOB_URL", blob_url.as_str()), ("MOTCUA_BLOB_DIR", dirs[i].as_str())];
    let (e0, e1, e2) = (env(0), env(1), env(2));
    // Started at once over one empty database: migrations and the seed are run once.
    let (a, b, c) = tokio::join!(
        Server::start(&scratch, &emulator, &e0),
        Server::start(&scratch, &emulator, &e1),
        Server::start(&scratch, &emulator, &e2),
    );
    let all = [&a, &b, &c];

    // One signing key: a sign-in at one process is good at the others, which publish the
    // same keys.
    let citizen = a.citizen("001203004567", "0912345678").await;
    let jwks: Vec<Value> = at_once(all.iter().map(|s| s.call("GET", "/.well-known/jwks.json", None, None))).await;
    assert!(jwks.iter().all(|k| k == &jwks[0]), "every process publishes the same keys: {jwks:?}");
    for server in all {
        let (status, me) = server.call("GET", "/api/v1/me", Some(&citizen), None).await;
        assert_eq!(status, 200, "{me}");
    }
    let officer = b.staff("officer", "0987654321").await.expect("officer");

    // A resumable upload, each chunk to another process.
    let file = pdf(3 * CHUNK);
    let announce = json!({"sha256": sha256_hex(&file), "size": file.len(), "file_name": "to-khai.pdf"});
    let (status, started) = a.call("POST", "/api/v1/uploads", Some(&citizen), Some(&announce)).await;
    assert_eq!(status, 201, "{started}");
    let upload = started["upload_id"].as_str().expect("upload id").to_owned();
    let mut attachment = Value::Null;
    for (i, server) in [&b, &c, &a].into_iter().enumerate() {
        let headers = [
            ("upload-offset", (i * CHUNK).to_string()),
            ("content-type", "application/offset+octet-stream".to_owned()),
        ];
        let part = file[i * CHUNK..(i + 1) * CHUNK].to_vec();
        let path = format!("/api/v1/uploads/{upload}");
        let (status, _, body) = raw(server, reqwest::Method::PATCH, &path, &citizen, &headers, Some(part)).await;
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(status, 200, "chunk {i}: {body}");
        assert_eq!(body["offset"], (i + 1) * CHUNK);
        attachment = body["attachment"].clone();
    }
    let attachment_id = attachment["id"].as_str().expect("the last chunk finished the upload").to_owned();
    for server in all {
        let (_, status) = server.call("GET", &format!("/api/v1/uploads/{upload}"), Some(&citizen), None).await;
        assert_eq!(status["attachment"]["id"], attachment_id.as_str(), "{status}");
        let path = format!("/api/v1/attachments/{attachment_id}/content");
        let (code, _, bytes) = raw(server, reqwest::Method::GET, &path, &citizen, &[], None).await;
        assert_eq!(code, 200);
        assert!(bytes == file, "every byte, from every process");
        let range = [("range", "bytes=150000-150099".to_owned())];
        let (code, _, part) = raw(server, reqwest::Method::GET, &path, &citizen, &range, None).await;
        assert_eq!((code, part.as_slice()), (206, &file[150_000..150_100]));
    }
    assert_eq!(scratch.count("SELECT COUNT(*) FROM upload_chunks").await, 0);
    assert_eq!(scratch.count("SELECT COUNT(*) FROM blobs").await, 1);

    // The same dossier, one idempotency key, at all three processes at once.
    let (_, procedure) = a.call("GET", &format!("/api/v1/procedures/{PROCEDURE}"), None, None).await;
    let values = json!({
        "ho_ten": "Nguyễn Văn An",
        "so_cccd": "001203004567",
        "dien_thoai": "0912345678",
        "noi_cu_tru": {"province": "Hà Nội", "ward": "Phường Hoàn Kiếm", "street": "12 Hàng Bài"},
        "noi_dung": ["thuong_tru"],
        "muc_dich": "hoc_tap",
        "hinh_thuc_nhan": "truc_tiep",
        "cam_doan": true,
        "tep_de_nghi": [attachment_id],
    });
    let body = json!({"procedure_code": PROCEDURE, "form_version": procedure["form"]["version"], "values": values, "branch_code": "H26.00"});
    let key = uuid::Uuid::new_v4().to_string();
    let answers = tokio::join!(
        submit(&a, &citizen, &key, &body),
        submit(&b, &citizen, &key, &body),
        submit(&c, &citizen, &key, &body)
    );
    let answers = [answers.0, answers.1, answers.2];
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _, _)| *s).collect();
    statuses.sort_unstable();
    let bodies: Vec<Value> = answers.iter().map(|(_, _, b)| serde_json::from_slice(b).expect("json")).collect();
    assert_eq!(statuses, vec![200, 200, 201], "one filing, two replays: {bodies:?}");
    let dossier = bodies[0]["id"].as_str().expect("id").to_owned();
    assert!(bodies.iter().all(|d| d["id"] == dossier.as_str()), "{bodies:?}");
    assert_eq!(scratch.count("SELECT COUNT(*) FROM dossiers").await, 1, "one dossier");

    // Moved from two processes at once, twice: one winner each time.
    for (action, one, other) in [("receive", &b, &c), ("start_processing", &a, &c)] {
        let ((s1, b1), (s2, b2)) =
            tokio::join!(transition(one, &officer, &dossier, action), transition(other, &officer, &dossier, action));
        let mut pair = [s1, s2];
        pair.sort_unstable();
        assert_eq!(pair, [200, 409], "{action}: {b1} / {b2}");
    }
    let views: Vec<Value> = at_once(
        all.iter().map(|s| async { s.call("GET", &format!("/api/v1/dossiers/{dossier}"), Some(&citizen), None).await }),
    )
    .await;
    let timeline = views[0]["timeline"].as_array().expect("timeline");
    assert_eq!(timeline.len(), 3, "filed, received, processing: one entry per transition: {}", views[0]);
    assert!(views.iter().all(|v| v == &views[0]), "the same dossier from every process: {views:?}");

    // Public tracking: the same answer everywhere.
    let (code, verifier) = (views[0]["code"].as_str().expect("code"), views[0]["tracking_verifier"].as_str());
    let verifier = verifier.expect("the applicant sees the tracking verifier");
    let tracked: Vec<Value> = at_once(all.iter().map(|s| {
        let path = format!("/api/v1/public/dossiers/{code}?verifier={verifier}");
        async move { s.call("GET", &path, None, None).await }
    }))
    .await;
    assert!(tracked[0]["code"].is_string(), "{}", tracked[0]);
    assert!(tracked.iter().all(|t| t == &tracked[0]), "{tracked:?}");

    // A catalogue change made once (an operator retires a procedure) is seen by all.
    let (_, page) = a.call("GET", "/api/v1/procedures?per_page=100", None, None).await;
    let before = page["catalogue_version"].as_i64().expect("version");
    let retired = page["items"]
        .as_array()
        .and_then(|items| items.iter().filter_map(|p| p["code"].as_str()).find(|c| *c != PROCEDURE))
        .expect("another procedure")
        .to_owned();
    for sql in [
        "UPDATE catalogue_state SET version = version + 1 WHERE id = 1".to_owned(),
        format!("UPDATE procedures SET retired = TRUE, version = {} WHERE code = '{retired}'", before + 1),
    ] {
        scratch.count(&format!("WITH changed AS ({sql} RETURNING 1) SELECT COUNT(*) FROM changed")).await;
    }
    for server in all {
        let (status, _) = server.call("GET", &format!("/api/v1/procedures/{retired}"), None, None).await;
        assert_eq!(status, 404, "{} still shows {retired}", server.base_url);
        let (_, page) = server.call("GET", "/api/v1/procedures?per_page=100", None, None).await;
        assert_eq!(page["catalogue_version"].as_i64(), Some(before + 1));
    }
    let pages: Vec<Value> =
        at_once(all.iter().map(|s| s.call("GET", "/api/v1/procedures?per_page=100", None, None))).await;
    assert!(pages.iter().all(|p| p == &pages[0]), "the same catalogue page from every process");

    // Nothing of the citizen's is kept in a process's own folder: only (empty) scratch.
    for dir in &own {
        let kept = files_under(dir);
        assert!(kept.is_empty(), "{} keeps {kept:?}", dir.display());
    }
}

/// The bodies of `(status, body)` answers got at once.
async fn at_once<F: Future<Output = (u16, Value)>>(calls: impl Iterator<Item = F>) -> Vec<Value> {
    futures_util::future::join_all(calls).await.into_iter().map(|(_, body)| body).collect()
}

async fn submit(server: &Server, citizen: &str, key: &str, body: &Value) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let headers = [("idempotency-key", key.to_owned()), ("content-type", "application/json".to_owned())];
    let body = serde_json::to_vec(body).expect("json");
    raw(server, reqwest::Method::POST, "/api/v1/dossiers", citizen, &headers, Some(body)).await
}

async fn transition(server: &Server, officer: &str, dossier: &str, action: &str) -> (u16, Value) {
    let path = format!("/api/v1/dossiers/{dossier}/transitions");
    server.call("POST", &path, Some(officer), Some(&json!({"action": action}))).await
}
