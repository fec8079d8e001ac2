//! The end-to-end harness: builds and starts the real `motcua-server` and `fcm-emulator`
//! binaries (each on a free loopback port, with a fresh SQLite file or PostgreSQL
//! database), and talks to them over HTTP as operators, officers and the emulator's
//! control API do. The citizen side is the real client library (`motcua-client`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fcm_emulator::service_account::ServiceAccount;
use serde_json::Value;

/// Which database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A binary of the workspace, built once per test run with cargo (so it is never stale).
pub fn binary(package: &str, name: &str) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<std::collections::HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO"))
        .args(["build", "-p", package, "--bin", name, "--message-format=json-render-diagnostics"])
        .current_dir(&root)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running cargo build -p {package}: {e}"));
    assert!(out.status.success(), "building {package} failed");
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["target"]["name"] == name && m["executable"].is_string())
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
        .unwrap_or_else(|| panic!("cargo reported no executable for {name}"));
    built.insert(name.to_owned(), path.clone());
    path
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Retries `check` every 50 ms until it holds, or panics naming `what` after `secs`.
pub async fn eventually(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {secs} s: {what}");
}

/// A scratch folder and a fresh database; both removed on drop.
pub struct Scratch {
    pub dir: PathBuf,
    pub database_url: String,
    pg_database: Option<(String, String)>,
}

impl Scratch {
    pub async fn new(backend: Backend) -> Scratch {
        let name = format!("motcua_e2e_{}", uuid::Uuid::new_v4().simple());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        match backend {
            Backend::Sqlite => Scratch {
                database_url: format!("sqlite://{}", dir.join("motcua.db").display()),
                dir,
                pg_database: None,
            },
            Backend::Postgres => {
                let admin = std::env::var("MOTCUA_TEST_DATABASE_URL").expect(
                    "MOTCUA_TEST_DATABASE_URL is not set: the PostgreSQL scenarios need a cluster. Run them with \
                     `cargo xtask test`, which starts a throwaway one.",
                );
                let pool = sqlx::PgPool::connect(&admin).await.expect("connecting to the test cluster");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .expect("create");
                pool.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).expect("a URL with a database");
                Scratch { database_url: format!("{base}/{name}"), dir, pg_database: Some((admin, name)) }
            }
        }
    }

    /// One number from the server's database (`SELECT COUNT(*) ...`).
    pub async fn count(&self, sql: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.database_url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.database_url).await.expect("open the SQLite file");
            let n = sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.expect("count");
            pool.close().await;
            n
        } else {
            let pool = sqlx::PgPool::connect(&self.database_url).await.expect("connect");
            let n = sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.expect("count");
            pool.close().await;
            n
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin, name)) = self.pg_database.take() {
            let cleaner = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(async {
                        if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                            pool.close().await;
                        }
                    });
                }
            });
            let _ = cleaner.join();
        }
    }
}

/// The FCM emulator binary, and a service-account key file it trusts.
pub struct Emulator {
    child: Child,
    pub base_url: String,
    pub key_path: PathBuf,
    http: reqwest::Client,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.key_path);
    }
}

impl Emulator {
    pub async fn start(scratch: &Scratch) -> Emulator {
        Emulator::start_with(scratch, &[]).await
    }

    pub async fn start_with(scratch: &Scratch, args: &[&str]) -> Emulator {
        let port = free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        let account =
            ServiceAccount::generate("motcua-e2e", &format!("{base_url}/token")).expect("a service-account key");
        let key_path = scratch.dir.join("fcm-key.json");
        std::fs::write(&key_path, account.to_json()).expect("key file");
        let child = Command::new(binary("fcm-emulator", "fcm-emulator"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--service-account"])
            .arg(&key_path)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start fcm-emulator");
        let emulator = Emulator { child, base_url, key_path, http: reqwest::Client::new() };
        for _ in 0..200 {
            if emulator
                .http
                .get(format!("{}/control/stats", emulator.base_url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return emulator;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("fcm-emulator did not start");
    }

    /// Adds a fault (`POST /control/faults`, see `fcm_emulator::FaultSpec`).
    pub async fn fault(&self, spec: Value) {
        let r = self.http.post(format!("{}/control/faults", self.base_url)).json(&spec).send().await.expect("fault");
        assert_eq!(r.status(), 204, "{spec}");
    }

    /// What `token` received: `{"count", "duplicates", "messages": [{"message", ...}]}`.
    pub async fn received(&self, token: &str) -> Value {
        let url = format!("{}/control/messages/{token}", self.base_url);
        self.http.get(url).send().await.expect("messages").json().await.expect("json")
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/control/stats", self.base_url))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("json")
    }
}

/// One `motcua-server` process.
pub struct Server {
    child: Child,
    pub base_url: String,
    pub database_url: String,
    pub sms_dir: PathBuf,
    blob_dir: PathBuf,
    http: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts a server over `scratch`'s database, delivering to `emulator`, with `env`
    /// added; returns once `/readyz` answers.
    pub async fn start(scratch: &Scratch, emulator: &Emulator, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let sms_dir = scratch.dir.join("sms");
        let blob_dir = scratch.dir.join("blobs");
        let mut cmd = Command::new(binary("motcua-server", "motcua-server"));
        cmd.env("MOTCUA_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &scratch.database_url)
            .env("MOTCUA_BLOB_DIR", &blob_dir)
            .env("MOTCUA_SMS_DIR", &sms_dir)
            .env("MOTCUA_LOG_FORMAT", "pretty")
            .env("MOTCUA_AUTH_RATE_PER_MIN", "100000")
            .env("MOTCUA_FCM_CREDENTIALS", &emulator.key_path)
            .env("MOTCUA_FCM_BASE_URL", &emulator.base_url)
            .env("MOTCUA_PUSH_POLL_MS", "50")
            .env("MOTCUA_METRICS_TOKEN", "e2e-metrics")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start motcua-server");
        let server = Server {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            database_url: scratch.database_url.clone(),
            sms_dir,
            blob_dir,
            http: reqwest::Client::new(),
        };
        for _ in 0..400 {
            if server.http.get(format!("{}/readyz", server.base_url)).send().await.is_ok_and(|r| r.status() == 200) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("motcua-server did not become ready");
    }

    /// One JSON call (as `token` if given): the status and the body.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.base_url));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// This process's Prometheus metrics.
    pub async fn metrics(&self) -> String {
        let r = self
            .http
            .get(format!("{}/metrics", self.base_url))
            .bearer_auth("e2e-metrics")
            .send()
            .await
            .expect("metrics");
        r.text().await.expect("text")
    }

    /// The six-digit code in the last SMS sent to `phone`.
    pub fn code_for(&self, phone: &str) -> String {
        let text = std::fs::read_to_string(self.sms_dir.join(format!("{phone}.txt"))).expect("an SMS to this phone");
        text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code in the SMS").to_owned()
    }

    /// A staff account made with the operators' command; returns its access token.
    pub async fn staff(&self, role: &str, phone: &str) -> anyhow::Result<String> {
        use std::io::Write;
        let mut args = vec!["user", "add", "--role", role, "--phone", phone, "--name", "Cán bộ"];
        if role == "officer" {
            args.extend(["--branch", "H26.00"]);
        }
        let mut child = Command::new(binary("motcua-server", "motcua-server"))
            .args(&args)
            .env("DATABASE_URL", &self.database_url)
            .env("MOTCUA_BLOB_DIR", &self.blob_dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("run motcua-server user add")?;
        child.stdin.take().context("stdin")?.write_all(b"canbo12345\n")?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("user add failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let body = serde_json::json!({"login": phone, "password": "canbo12345"});
        let (status, answer) = self.call("POST", "/api/v1/auth/login", None, Some(&body)).await;
        if status != 200 {
            bail!("login {status}: {answer}");
        }
        answer["access_token"].as_str().map(str::to_owned).context("no access token")
    }

    /// A citizen registered over HTTP (code from the SMS sink); returns its access token.
    pub async fn citizen(&self, citizen_id: &str, phone: &str) -> String {
        let body = serde_json::json!({"citizen_id": citizen_id, "phone": phone, "full_name": "Nguyễn Văn An", "password": "matkhau123"});
        let (status, challenge) = self.call("POST", "/api/v1/auth/register", None, Some(&body)).await;
        assert_eq!(status, 202, "{challenge}");
        let verify = serde_json::json!({"verification_id": challenge["verification_id"], "code": self.code_for(phone)});
        let (status, tokens) = self.call("POST", "/api/v1/auth/register/verify", None, Some(&verify)).await;
        assert_eq!(status, 201, "{tokens}");
        tokens["access_token"].as_str().expect("access token").to_owned()
    }
}
