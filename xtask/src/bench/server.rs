//! A `motcua-server` child process for benchmarks and API fuzzing: started on a free
//! loopback port with its log in a file, probed on `/readyz`, stopped with SIGTERM (and
//! killed if it lingers or if the handle is dropped); plus a scratch folder removed on drop.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::http::Conn;
use crate::util::free_port;

/// A folder under the system temp dir, removed with everything in it when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(what: &str) -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("motcua-{what}-{}-{}", std::process::id(), free_port()?));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `sqlite://<scratch>/<name>`.
    pub fn sqlite_url(&self, name: &str) -> String {
        format!("sqlite://{}", self.0.join(name).display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    log: PathBuf,
}

/// The environment every spawned server gets besides its address and database.
const QUIET: [(&str, &str); 2] = [("MOTCUA_LOG_FORMAT", "pretty"), ("RUST_LOG", "warn")];

impl Server {
    /// Starts `exe` on a free port over `database_url`, logging to `log`; `env` adds or
    /// overrides variables. Returns at once: see [`Server::wait_ready`].
    pub fn spawn(exe: &Path, database_url: &str, log: &Path, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(exe);
        cmd.env("MOTCUA_ADDR", addr.to_string())
            .env("DATABASE_URL", database_url)
            .envs(QUIET)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd.spawn().with_context(|| format!("starting {}", exe.display()))?;
        Ok(Server { child: Some(child), addr, log: log.to_owned() })
    }

    /// Polls `/readyz` every millisecond until it answers 200; fails if the process exits
    /// or `timeout` passes. Returns the time since `since`.
    pub fn wait_ready(&mut self, since: Instant, timeout: Duration) -> anyhow::Result<Duration> {
        loop {
            if ready(self.addr) {
                return Ok(since.elapsed());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("the server exited with {status} before it was ready:\n{}", self.log_text());
            }
            if since.elapsed() > timeout {
                bail!("the server was not ready after {timeout:?}:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then wait up to 10 s for the graceful shutdown, then SIGKILL.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill()?;
        child.wait()?;
        bail!("the server did not stop within 10 s of SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether `/readyz` answers 200 right now.
pub fn ready(addr: SocketAddr) -> bool {
    Conn::connect(addr).and_then(|mut c| c.get("/readyz")).is_ok_and(|r| r.status == 200)
}
