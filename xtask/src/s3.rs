//! A throwaway S3-compatible server for tests and benchmarks: moto's server mode from PyPI
//! (pinned, installed into `target/tools/venv-moto` when missing), started on a free
//! loopback port with an in-memory bucket, stopped when dropped.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::util::{free_port, output, run};

const MOTO: &str = "5.2.1";
const VENV: &str = "target/tools/venv-moto";
/// The bucket every test and benchmark uses (each test under a prefix of its own).
pub const BUCKET: &str = "motcua-test";

pub struct S3Server {
    child: Child,
    port: u16,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    /// Installs moto if needed, starts it and makes the bucket.
    pub fn start() -> anyhow::Result<S3Server> {
        let python = ensure_installed()?;
        let port = free_port()?;
        let child = Command::new(python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting moto's S3 server")?;
        let server = S3Server { child, port };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            match http(port, "PUT", &format!("/{BUCKET}")) {
                Ok(200) => return Ok(server),
                Ok(status) => bail!("creating the test bucket answered {status}"),
                Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => return Err(e.context("moto's S3 server did not start within 30 s")),
            }
        }
    }

    /// `s3://<bucket>`.
    pub fn url(&self) -> String {
        format!("s3://{BUCKET}")
    }

    /// The variables a process needs to reach this server (the usual `AWS_*` ones; moto
    /// accepts any credentials).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "motcua-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "motcua-test".into()),
        ]
    }

    /// Adds [`S3Server::env`] to `cmd`.
    pub fn apply<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }
}

/// One bodiless HTTP/1.1 request to the loopback port; its status code.
fn http(port: u16, method: &str, path: &str) -> anyhow::Result<u16> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP answer: {answer:.80}"))
}

/// The venv's python with moto (and its server mode) at the pinned version.
fn ensure_installed() -> anyhow::Result<PathBuf> {
    let pip = Path::new(VENV).join("bin/pip");
    let installed = output(Command::new(&pip).args(["show", "moto", "flask", "flask-cors"])).is_ok_and(|info| {
        info.lines().any(|l| l.trim() == format!("Version: {MOTO}")) && info.contains("Name: flask-cors")
    });
    if !installed {
        if !pip.exists() {
            run(Command::new("python3").args(["-m", "venv", VENV]))?;
        }
        run(Command::new(&pip).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("moto[s3,server]=={MOTO}"),
        ]))?;
    }
    // Not canonicalized: only through the venv's symlink does python find its packages.
    Ok(std::env::current_dir()?.join(VENV).join("bin/python"))
}
