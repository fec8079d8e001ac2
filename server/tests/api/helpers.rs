//! Test harness: `spawn_app` starts the real server on a loopback port over a fresh
//! database of the chosen backend (a new SQLite file, or a new PostgreSQL database in the
//! cluster named by `MOTCUA_TEST_DATABASE_URL`, which `cargo xtask test` starts).

use std::net::SocketAddr;
use std::path::PathBuf;

use std::sync::Arc;

use motcua_server::app::AppState;
use motcua_server::clock::ManualClock;
use motcua_server::config::Config;
use motcua_server::db::Db;
use motcua_server::sms::MemorySms;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database of `backend` and a scratch folder (SQLite file, blobs);
/// returns the database URL and the folder.
pub async fn fresh_database(backend: Backend) -> (String, PathBuf) {
    let name = format!("motcua_test_{}", uuid::Uuid::new_v4().simple());
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).expect("temp dir");
    match backend {
        Backend::Sqlite => (format!("sqlite://{}", dir.join("motcua.db").display()), dir),
        Backend::Postgres => {
            let admin = std::env::var("MOTCUA_TEST_DATABASE_URL").expect(
                "MOTCUA_TEST_DATABASE_URL is not set: PostgreSQL tests need a cluster. Run the suite with `cargo xtask test`, \
                 which starts a throwaway one.",
            );
            let pool = sqlx::PgPool::connect(&admin).await.expect("connecting to the test cluster");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("create database");
            pool.close().await;
            let base = admin.rsplit_once('/').map(|(base, _)| base.to_owned()).expect("database url with a path");
            (format!("{base}/{name}"), dir)
        }
    }
}

/// The blob store of a test server: the local folder `scratch/blobs`, or, when
/// `MOTCUA_TEST_BLOB_URL` names an S3 bucket (`cargo xtask test` starts an S3-compatible
/// server and runs the upload, dossier and report tests once more with it), a prefix of
/// that bucket of the test's own.
pub fn test_blob_url(scratch: &std::path::Path) -> Option<String> {
    let base = std::env::var("MOTCUA_TEST_BLOB_URL").ok().filter(|u| !u.trim().is_empty())?;
    let name = scratch.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Some(format!("{}/{name}", base.trim_end_matches('/')))
}

pub fn test_config(url: &str, scratch: &std::path::Path) -> Config {
    Config {
        database_url: url.to_owned(),
        blob_dir: scratch.join("blobs"),
        blob_url: test_blob_url(scratch),
        public_rate_per_min: 10_000,
        db_max_connections: 4,
        auth_rate_per_min: 10_000,
        login_free_failures: 100,
        log_json: false,
        // Scenarios file many dossiers quickly; the quota tests set their own limits.
        quotas: motcua_server::config::Quotas {
            dossiers_per_minute: 10_000,
            dossiers_per_day: 10_000,
            uploads_per_day: 10_000,
            reports_per_hour: 10_000,
            // The reserve of free disk is tested on its own.
            min_free_disk_bytes: 0,
            ..Default::default()
        },
        ..Config::default()
    }
}

pub struct TestApp {
    /// The workflow clock of this server: starts at the real time, tests may move it.
    pub clock: Arc<ManualClock>,
    pub addr: SocketAddr,
    pub client: Client,
    pub state: AppState,
    pub database_url: String,
    pub config: Config,
    /// Every SMS this server sent (verification codes, notices).
    pub sms: Arc<MemorySms>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    cleanup: Option<PathBuf>,
    /// The PostgreSQL database this app created (dropped when it stops, or when a failing
    /// test unwinds past it).
    owned_database: Option<String>,
}

/// Test logs on standard error when `TEST_LOG` is set (`TEST_LOG=1 cargo test ...`; the
/// filter is `RUST_LOG`'s, as for the server).
fn init_test_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("TEST_LOG").is_some() {
        ONCE.call_once(|| motcua_server::telemetry::init_logs(false));
    }
}

/// Drops a test database, closing the connections still open to it.
async fn drop_database(name: &str) {
    let Ok(admin) = std::env::var("MOTCUA_TEST_DATABASE_URL") else { return };
    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
        pool.close().await;
    }
}

impl Drop for TestApp {
    /// A test that panicked never reached `stop`: its scratch folder and its database go
    /// all the same (on a thread of its own, since this may run inside the test's runtime).
    fn drop(&mut self) {
        if let Some(dir) = self.cleanup.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.owned_database.take() {
            let cleaner = std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    runtime.block_on(drop_database(&name));
                }
            });
            let _ = cleaner.join();
        }
    }
}

/// Starts a server over the database `url` made by [`fresh_database`] (and filled by the
/// test), which it owns: the database and `scratch` go when it stops.
pub async fn start_owned(backend: Backend, url: &str, scratch: PathBuf) -> TestApp {
    init_test_logs();
    let mut app = start_on(test_config(url, &scratch)).await;
    app.cleanup = Some(scratch);
    if backend == Backend::Postgres {
        app.owned_database = url.rsplit_once('/').map(|(_, name)| name.to_owned());
    }
    app
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    init_test_logs();
    let (url, scratch) = fresh_database(backend).await;
    let mut config = test_config(&url, &scratch);
    tweak(&mut config);
    let mut app = start_on(config).await;
    app.cleanup = Some(scratch);
    if backend == Backend::Postgres {
        app.owned_database = url.rsplit_once('/').map(|(_, name)| name.to_owned());
    }
    app
}

/// Starts one more server process-equivalent on an existing database.
pub async fn start_on(config: Config) -> TestApp {
    let database_url = config.database_url.clone();
    let kept = config.clone();
    let db = Db::connect(&config.database_url, config.db_max_connections).await.expect("database");
    let mut state = AppState::new(config, db).await.expect("state");
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    state.clock = clock.clone();
    let sms = Arc::new(MemorySms::default());
    state.sms = sms.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel();
    let served = state.clone();
    let server = tokio::spawn(async move {
        motcua_server::serve(listener, served, async {
            let _ = rx.await;
        })
        .await
        .expect("serve");
    });
    TestApp {
        clock,
        config: kept,
        addr,
        client: Client::new(),
        state,
        database_url,
        sms,
        shutdown: Some(tx),
        server: Some(server),
        cleanup: None,
        owned_database: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path).json(body).send().await.expect("request")
    }

    /// Starts a registration (a code goes by SMS) and returns the challenge.
    pub async fn start_registration(&self, citizen_id: &str, phone: &str, password: &str) -> Value {
        let response = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"citizen_id": citizen_id, "phone": phone, "full_name": "Nguyễn Văn An", "password": password}),
            )
            .await;
        expect_json(response, 202).await
    }

    /// The code in the last SMS sent to `phone` (any spelling of the number).
    pub fn last_code(&self, phone: &str) -> Option<String> {
        let phone = motcua_domain::ids::normalize_phone(phone).expect("a phone number");
        self.sms.sent_to(&phone).last().and_then(|text| motcua_server::sms::code_in(text))
    }

    /// Registers a citizen (with the code the SMS brought) and returns the token response.
    pub async fn register(&self, citizen_id: &str, phone: &str, password: &str) -> Value {
        let challenge = self.start_registration(citizen_id, phone, password).await;
        let code = self.last_code(phone).expect("a verification code was sent");
        let response = self
            .post_json(
                "/api/v1/auth/register/verify",
                &json!({"verification_id": challenge["verification_id"], "code": code}),
            )
            .await;
        expect_json(response, 201).await
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.state.db.close().await;
        if let Some(dir) = self.cleanup.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.owned_database.take() {
            drop_database(&name).await;
        }
    }
}

/// Reads a JSON body, asserting the status first (and showing the body when it differs).
pub async fn expect_json(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts the error shape and returns the paths of its field errors.
pub async fn expect_error(response: Response, status: u16, code: &str) -> Vec<String> {
    let body = expect_json(response, status).await;
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    let fields = error["fields"].as_array().expect("fields array");
    for f in fields {
        assert!(
            f["path"].is_string() && f["code"].is_string() && f["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    fields.iter().map(|f| f["path"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Runs each scenario on SQLite and on PostgreSQL: `both!(name, ...)` makes
/// `sqlite::name` and `postgres::name` tests calling `name(Backend)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}

impl TestApp {
    /// Signs in and returns the access token.
    pub async fn token(&self, login: &str, password: &str) -> String {
        let response = self.post_json("/api/v1/auth/login", &json!({"login": login, "password": password})).await;
        let body = expect_json(response, 200).await;
        body["access_token"].as_str().expect("access token").to_owned()
    }

    /// A citizen account (registered over HTTP) and its token.
    pub async fn citizen(&self, citizen_id: &str, phone: &str) -> String {
        let body = self.register(citizen_id, phone, "matkhau123").await;
        body["access_token"].as_str().expect("access token").to_owned()
    }

    /// Runs an operator command of the server binary on this server's database, with
    /// `stdin` as its standard input.
    pub fn operator(&self, args: &[&str], stdin: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_motcua-server"))
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("MOTCUA_BLOB_DIR", &self.config.blob_dir)
            .env("RUST_LOG", "warn")
            .env_remove("MOTCUA_USER_PASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run motcua-server");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("motcua-server output")
    }

    /// A staff account made with the operators' command, and its token.
    pub async fn officer(&self, phone: &str, branch: &str) -> String {
        let out = self.operator(
            &["user", "add", "--role", "officer", "--branch", branch, "--phone", phone, "--name", "Cán bộ Tiếp nhận"],
            "canbo12345\n",
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        self.token(phone, "canbo12345").await
    }

    /// An agency officer of `agency` made with the operators' command (named `name`), and
    /// their token.
    pub async fn agency_officer(&self, phone: &str, agency: &str, name: &str) -> String {
        let out = self.operator(
            &["user", "add", "--role", "agency_officer", "--agency", agency, "--phone", phone, "--name", name],
            "chuyenvien123\n",
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        self.token(phone, "chuyenvien123").await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.request(Method::GET, path).bearer_auth(token).send().await.expect("request")
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path).bearer_auth(token).json(body).send().await.expect("request")
    }
}
