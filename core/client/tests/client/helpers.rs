//! Test helpers: the real `motcua-server` binary on a free loopback port with its own
//! database, typed calls to it, test transports (offline switch, injected failures, a
//! scripted catalogue), a recording listener and a valid draft of a seed procedure.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use motcua_client::*;
use serde_json::{Value, json};

/// A procedure with a simple form and one attachment slot (`tep_de_nghi`).
pub const PROCEDURE: &str = "1.004189";

/// The server binary, built once per test run (honouring CARGO_TARGET_DIR).
pub fn server_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let out = Command::new(env!("CARGO"))
            .args(["build", "-p", "motcua-server", "--message-format=json-render-diagnostics"])
            .current_dir(&root)
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build -p motcua-server");
        assert!(out.status.success(), "building motcua-server failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["target"]["name"] == "motcua-server" && m["executable"].is_string())
            .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
            .next_back()
            .expect("cargo reported the motcua-server executable")
    })
    .clone()
}

pub struct TestServer {
    child: Child,
    pub base_url: String,
    pub database_url: String,
    pub blob_dir: PathBuf,
    /// Where the server's development SMS sink writes (`<phone>.txt`).
    pub sms_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(&[]).await
    }

    pub async fn start_with(env: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let database_url = format!("sqlite://{}/s.db", dir.path().display());
        let blob_dir = dir.path().join("blobs");
        let sms_dir = dir.path().join("sms");
        let mut cmd = Command::new(server_binary());
        cmd.env("MOTCUA_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &database_url)
            .env("MOTCUA_BLOB_DIR", &blob_dir)
            .env("MOTCUA_SMS_DIR", &sms_dir)
            .env("MOTCUA_LOG_FORMAT", "pretty")
            .env("MOTCUA_AUTH_RATE_PER_MIN", "100000")
            // The exactly-once test files its dossiers from one account within a minute.
            .env("MOTCUA_DOSSIERS_PER_MINUTE", "1000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start motcua-server");
        let server = TestServer {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            database_url,
            blob_dir,
            sms_dir,
            _dir: dir,
        };
        let transport = ReqwestTransport::new(Duration::from_secs(2)).unwrap();
        for _ in 0..300 {
            let probe = transport.send(request("GET", &format!("{}/healthz", server.base_url), None, None)).await;
            if probe.is_ok_and(|r| r.status == 200) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("motcua-server did not become healthy");
    }

    /// One raw call (as `token` if given), JSON in and out.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let transport = ReqwestTransport::new(Duration::from_secs(10)).unwrap();
        let r = transport.send(request(method, &format!("{}{path}", self.base_url), token, body)).await.unwrap();
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }

    pub async fn login_token(&self, login: &str, password: &str) -> String {
        let (status, body) =
            self.call("POST", "/api/v1/auth/login", None, Some(json!({"login": login, "password": password}))).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// The six-digit code in the last SMS the server sent to `phone` (canonical form).
    pub fn code_for(&self, phone: &str) -> String {
        let text = std::fs::read_to_string(self.sms_dir.join(format!("{phone}.txt"))).expect("an SMS to this phone");
        text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code in the SMS").to_owned()
    }

    /// A staff account made with the operators' command (password on standard input), and its token.
    pub async fn officer(&self, phone: &str) -> String {
        let mut child = Command::new(server_binary())
            .args(["user", "add", "--role", "officer", "--branch", "H26.00", "--phone", phone])
            .args(["--name", "Cán bộ Tiếp nhận"])
            .env("DATABASE_URL", &self.database_url)
            .env("MOTCUA_BLOB_DIR", &self.blob_dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"canbo12345\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        self.login_token(phone, "canbo12345").await
    }
}

pub fn request(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> HttpRequest {
    let mut headers = Vec::new();
    if let Some(t) = token {
        headers.push(HttpHeader { name: "Authorization".into(), value: format!("Bearer {t}") });
    }
    if body.is_some() {
        headers.push(HttpHeader { name: "Content-Type".into(), value: "application/json".into() });
    }
    HttpRequest {
        method: method.into(),
        url: url.into(),
        headers,
        body: body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default(),
    }
}

/// A fresh citizen identity: (citizen id, phone).
pub fn identity() -> (String, String) {
    static N: AtomicU64 = AtomicU64::new(0);
    let salt = (uuid::Uuid::new_v4().as_u128() % 9000) as u64 + N.fetch_add(1, Ordering::Relaxed);
    let n = salt % 100_000;
    (format!("0012030{n:05}"), format!("0912{n:06}"))
}

pub const PASSWORD: &str = "matkhau123";

/// A client over a temp store, talking to `base_url` through `transport`.
pub async fn client_with(
    base_url: &str,
    dir: &Path,
    tokens: Arc<dyn TokenStore>,
    transport: Arc<dyn Transport>,
) -> Arc<Client> {
    let mut config = ClientConfig::new(base_url, dir.to_string_lossy());
    config.upload_chunk_size = 16 * 1024;
    Client::open_with_transport(config, tokens, transport).await.unwrap()
}

pub async fn client(server: &TestServer, dir: &Path) -> Arc<Client> {
    let transport = ReqwestTransport::shared(Duration::from_secs(10)).unwrap();
    client_with(&server.base_url, dir, Arc::new(MemoryTokenStore::new()), transport).await
}

/// A registered, signed-in client with a synced catalogue.
pub async fn citizen(server: &TestServer, dir: &Path) -> Arc<Client> {
    let c = client(server, dir).await;
    sign_up(server, &c).await;
    c.sync_catalogue().await.unwrap();
    c
}

/// Registers a fresh identity: asks for the code, reads it from the server's SMS sink,
/// verifies the phone (which signs in).
pub async fn sign_up(server: &TestServer, c: &Client) -> UserProfile {
    let (cid, phone) = identity();
    register_as(server, c, &cid, &phone).await
}

pub async fn register_as(server: &TestServer, c: &Client, citizen_id: &str, phone: &str) -> UserProfile {
    let pending = c.register(citizen_id.into(), phone.into(), "Nguyễn Văn An".into(), PASSWORD.into()).await.unwrap();
    assert_eq!(pending.phone, phone);
    c.verify_phone(pending.verification_id, server.code_for(phone)).await.unwrap()
}

/// Fills every required field of [`PROCEDURE`] except its attachment slot.
pub async fn fill(c: &Client, draft_id: &str) {
    let values = [
        ("ho_ten", text("Nguyễn Văn An")),
        ("so_cccd", text("001203004567")),
        ("dien_thoai", text("0912345678")),
        ("noi_cu_tru", hoan_kiem()),
        ("noi_dung", FieldValue::Choices { values: vec!["thuong_tru".into()] }),
        ("muc_dich", FieldValue::Choice { value: "hoc_tap".into() }),
        ("hinh_thuc_nhan", FieldValue::Choice { value: "truc_tiep".into() }),
        ("cam_doan", FieldValue::Bool { value: true }),
    ];
    for (k, v) in values {
        c.set_field(draft_id.into(), k.into(), Some(v)).await.unwrap();
    }
}

/// A text value.
pub fn text(s: &str) -> FieldValue {
    FieldValue::Text { value: s.to_owned() }
}

/// An address in Hoàn Kiếm, typed as a citizen would.
pub fn hoan_kiem() -> FieldValue {
    FieldValue::Address {
        province: "Hà Nội".into(),
        ward: "Phường Hoàn Kiếm".into(),
        ward_code: None,
        district: None,
        street: Some("12 Hàng Bài".into()),
    }
}

/// A file of `size` pseudo-random bytes (distinct per `seed`), starting like a PNG.
pub fn write_file(dir: &Path, name: &str, size: usize, seed: u64) -> PathBuf {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    while bytes.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(size);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A real JPEG photo (`side`×`side`·3/4 pixels, distinct per `seed`) carrying an APP1
/// Exif segment with GPS tags and a name, as a phone's camera writes it.
pub fn photo_with_gps(dir: &Path, name: &str, side: u32, seed: u8) -> PathBuf {
    let pixels = image::RgbImage::from_fn(side, side * 3 / 4, |x, y| {
        image::Rgb([(x as u8) ^ seed, (y as u8).wrapping_add(seed), 90])
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&pixels).unwrap();
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x88\x25\0\x04\0\0\0\x01\0\0\0\x1a\0\0\0\0".to_vec();
    exif.extend_from_slice(b"\0\x01\0\x01\0\x02\0\0\0\x02N\0\0\0\0\0\0\0GPSLatitude Nguyen Van An");
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

/// Hoàn Kiếm lake (inside Hanoi, ward Hoàn Kiếm).
pub const LAKE: (f64, f64) = (21.0287, 105.8524);

/// A report draft with `photos` real photos, valid and ready to submit.
pub async fn ready_report(c: &Client, dir: &Path, marker: &str, photos: &[(u32, u8)]) -> ReportDraft {
    let draft = c.create_report_draft().await.unwrap();
    let input = ReportDraftInput {
        category: "rac-thai".into(),
        description: format!("Rác thải đổ tràn lòng đường ({marker})."),
        lat: Some(LAKE.0),
        lng: Some(LAKE.1),
        address: "Phố Đinh Tiên Hoàng".into(),
        hide_identity: true,
    };
    c.update_report_draft(draft.id.clone(), input).await.unwrap();
    for (i, (side, seed)) in photos.iter().enumerate() {
        let path = photo_with_gps(dir, &format!("{marker}-{i}.jpg"), *side, *seed);
        c.add_report_photo(draft.id.clone(), path.to_string_lossy().into(), format!("anh-{i}.jpg")).await.unwrap();
    }
    let draft = c.report_draft(draft.id.clone()).await.unwrap();
    assert_eq!(draft.issues, vec![], "the report draft is valid");
    draft
}

/// A valid draft of [`PROCEDURE`] with `files` attached, ready to submit.
pub async fn ready_draft(c: &Client, dir: &Path, files: &[(usize, u64)]) -> Draft {
    let draft = c.create_draft(PROCEDURE.into()).await.unwrap();
    fill(c, &draft.summary.id).await;
    for (i, (size, seed)) in files.iter().enumerate() {
        let path = write_file(dir, &format!("scan-{seed}-{i}.png"), *size, *seed);
        c.attach_file(
            draft.summary.id.clone(),
            "tep_de_nghi".into(),
            path.to_string_lossy().into(),
            format!("scan{i}.png"),
        )
        .await
        .unwrap();
    }
    let draft = c.draft(draft.summary.id.clone()).await.unwrap();
    assert_eq!(draft.issues, vec![], "the draft is valid");
    draft
}

/// Records every event.
#[derive(Default)]
pub struct Recorder {
    pub outbox: Mutex<Vec<OutboxEvent>>,
    pub changes: Mutex<Vec<DossierStatusChange>>,
    pub signed_out: AtomicU64,
}

impl ClientListener for Recorder {
    fn on_outbox_event(&self, event: OutboxEvent) {
        self.outbox.lock().unwrap().push(event);
    }
    fn on_dossier_status_changed(&self, change: DossierStatusChange) {
        self.changes.lock().unwrap().push(change);
    }
    fn on_signed_out(&self) {
        self.signed_out.fetch_add(1, Ordering::Relaxed);
    }
}

/// A transport that can be taken offline and told to answer the next requests matching a
/// path fragment with a given status (and headers) instead of reaching the server.
pub struct Flaky {
    inner: ReqwestTransport,
    pub online: AtomicBool,
    /// When positive: this many more PATCH requests pass, then the transport goes offline.
    pub patches_until_offline: AtomicI64,
    injected: Mutex<VecDeque<(String, u16, Vec<HttpHeader>)>>,
    pub log: Mutex<Vec<(String, String, usize, u16)>>,
}

impl Flaky {
    pub fn new() -> Arc<Flaky> {
        Arc::new(Flaky {
            inner: ReqwestTransport::new(Duration::from_secs(10)).unwrap(),
            online: AtomicBool::new(true),
            patches_until_offline: AtomicI64::new(-1),
            injected: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
        })
    }

    pub fn inject(&self, path_fragment: &str, status: u16, headers: &[(&str, &str)]) {
        let headers = headers.iter().map(|(n, v)| HttpHeader { name: (*n).into(), value: (*v).into() }).collect();
        self.injected.lock().unwrap().push_back((path_fragment.into(), status, headers));
    }

    /// Requests seen: (method, url, body bytes, status; 0 when offline).
    pub fn requests(&self) -> Vec<(String, String, usize, u16)> {
        self.log.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Transport for Flaky {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let (method, url, len) = (request.method.clone(), request.url.clone(), request.body.len());
        if method == "PATCH" {
            let left = self.patches_until_offline.load(Ordering::SeqCst);
            if left == 0 {
                self.online.store(false, Ordering::SeqCst);
                self.patches_until_offline.store(-1, Ordering::SeqCst);
            } else if left > 0 {
                self.patches_until_offline.store(left - 1, Ordering::SeqCst);
            }
        }
        if !self.online.load(Ordering::SeqCst) {
            self.log.lock().unwrap().push((method, url, len, 0));
            return Err(TransportError::Failed { reason: "offline".into() });
        }
        let injected = {
            let mut q = self.injected.lock().unwrap();
            let pos = q.iter().position(|(p, _, _)| url.contains(p.as_str()));
            pos.and_then(|i| q.remove(i))
        };
        let response = match injected {
            Some((_, status, headers)) => HttpResponse {
                status,
                headers,
                body: br#"{"error":{"code":"injected","message":"injected","fields":[]}}"#.to_vec(),
            },
            None => self.inner.send(request).await?,
        };
        self.log.lock().unwrap().push((method, url, len, response.status));
        Ok(response)
    }
}

/// A catalogue server in a box: answers `/catalogue/changes` with the scripted procedures
/// (version `v` holds `procedures[v-1]`), everything else 404.
pub struct ScriptedCatalogue {
    pub versions: Mutex<Vec<Vec<Value>>>,
}

#[async_trait::async_trait]
impl Transport for ScriptedCatalogue {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let versions = self.versions.lock().unwrap().clone();
        let latest = versions.len() as i64;
        let since = request.url.split("since=").nth(1).and_then(|s| s.split('&').next());
        let Some(since) = since.and_then(|s| s.parse::<i64>().ok()) else {
            return Ok(HttpResponse { status: 404, headers: vec![], body: b"{}".to_vec() });
        };
        let procedures: Vec<Value> = if since >= latest { vec![] } else { versions[(latest - 1) as usize].clone() };
        let body = json!({"version": latest, "since": since, "fields": [{"code": "ho_tich", "name": "Hộ tịch", "name_en": "Civil status"}],
            "procedures": procedures, "retired": []});
        Ok(HttpResponse { status: 200, headers: vec![], body: serde_json::to_vec(&body).unwrap() })
    }
}

/// A procedure document with the given form (for the scripted catalogue).
pub fn procedure_doc(code: &str, name: &str, version: i64, form: Value) -> Value {
    json!({
        "code": code, "name": name, "name_en": name, "field": "ho_tich", "agency": "UBND cấp xã",
        "processing_days": 3, "fee_vnd": 0, "online_level": "full", "boundary_free": true,
        "required_documents": [], "form": form, "version": version
    })
}
