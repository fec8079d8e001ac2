//! Slow and idle clients against the real server binary: a request whose headers never
//! finish is closed after the header-read timeout, a silent socket after the idle timeout,
//! and more idle sockets than the connection cap (under a small file-descriptor limit) do
//! not stop `/healthz` from answering.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `motcua-server` process on a fresh SQLite database; killed on drop.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    /// Starts the binary under `ulimit -n <fd_limit>` with `env` added.
    async fn start(fd_limit: u32, env: &[(&str, &str)]) -> Server {
        let dir = std::env::temp_dir().join(format!("motcua-conn-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {fd_limit} && exec \"$0\""))
            .arg(env!("CARGO_BIN_EXE_motcua-server"))
            .current_dir(&dir)
            .env("DATABASE_URL", format!("sqlite://{}", dir.join("s.db").display()))
            .env("MOTCUA_BLOB_DIR", dir.join("blobs"))
            .env("MOTCUA_ADDR", format!("127.0.0.1:{port}"))
            .env("MOTCUA_DB_MAX_CONNECTIONS", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("spawn motcua-server");
        let server = Server { child, port, dir };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = client.get(server.url("/readyz")).send().await
                && r.status() == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server never became ready");
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port)).expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How long until the server closes `stream` (reading and discarding whatever it sends),
/// or `None` if it is still open after `limit`.
fn closed_within(mut stream: TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
    let mut buf = [0u8; 1024];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_silent_sockets_are_closed() {
    let server =
        Server::start(1024, &[("MOTCUA_HEADER_READ_TIMEOUT_SECS", "1"), ("MOTCUA_IDLE_TIMEOUT_SECS", "30")]).await;
    // Headers that never end (a byte now and then would not help either: the header
    // deadline is fixed when reading starts).
    let mut half = server.connect();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("write");
    let closed = tokio::task::spawn_blocking(move || closed_within(half, Duration::from_secs(8))).await.expect("join");
    assert!(closed.is_some_and(|d| d < Duration::from_secs(5)), "a half-sent request stayed open: {closed:?}");
    // A socket that never sends its first request is waiting for headers too.
    let silent = server.connect();
    let closed =
        tokio::task::spawn_blocking(move || closed_within(silent, Duration::from_secs(8))).await.expect("join");
    assert!(closed.is_some_and(|d| d < Duration::from_secs(5)), "a silent socket stayed open: {closed:?}");
    drop(server);

    // A kept-alive connection is closed once idle, after answering.
    let server =
        Server::start(1024, &[("MOTCUA_HEADER_READ_TIMEOUT_SECS", "30"), ("MOTCUA_IDLE_TIMEOUT_SECS", "1")]).await;
    let mut kept = server.connect();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    let closed = tokio::task::spawn_blocking(move || closed_within(kept, Duration::from_secs(8))).await.expect("join");
    assert!(
        closed.is_some_and(|d| d < Duration::from_secs(5)),
        "an idle keep-alive connection stayed open: {closed:?}"
    );
}

/// 150 idle sockets against a server allowed 96 file descriptors and 40 connections, with
/// timeouts far longer than the test: `/healthz` still answers, quickly (the cap keeps
/// descriptors free, and while it is reached idle connections are closed after a second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_beyond_the_cap_do_not_stop_healthz() {
    let server = Server::start(
        96,
        &[
            ("MOTCUA_MAX_CONNECTIONS", "40"),
            ("MOTCUA_IDLE_TIMEOUT_SECS", "600"),
            ("MOTCUA_HEADER_READ_TIMEOUT_SECS", "600"),
        ],
    )
    .await;
    let idle: Vec<TcpStream> = (0..150).map(|_| server.connect()).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client");
    let start = Instant::now();
    let health = client.get(server.url("/healthz")).send().await;
    let status = health.as_ref().map(reqwest::Response::status).map_err(ToString::to_string);
    assert_eq!(status, Ok(reqwest::StatusCode::OK), "after {:?}", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(10), "answered only after {:?}", start.elapsed());
    drop(idle);
}
