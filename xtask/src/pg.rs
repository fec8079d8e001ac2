//! A throwaway PostgreSQL cluster for tests and benchmarks: installed from Debian if the
//! binaries are missing, initialised in a temporary folder (as the `postgres` user when
//! running as root, since `initdb` refuses root), started on a free loopback port, and
//! stopped and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::util::{free_port, is_root, output, run};

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn install() -> anyhow::Result<PathBuf> {
    if !is_root() {
        bail!("PostgreSQL server binaries are missing and this is not root: apt-get install postgresql");
    }
    eprintln!("PostgreSQL binaries not found: installing them from Debian");
    run(Command::new("apt-get").arg("update").arg("-q"))?;
    run(Command::new("apt-get").args(["install", "-y", "-q", "postgresql"]).env("DEBIAN_FRONTEND", "noninteractive"))?;
    find_bin().context("postgresql installed but no initdb found under /usr/lib/postgresql")
}

impl Cluster {
    pub fn start() -> anyhow::Result<Cluster> {
        let bin = match find_bin() {
            Some(bin) => bin,
            None => install()?,
        };
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!("motcua-pg-{}-{}", std::process::id(), free_port()?));
        std::fs::create_dir_all(&dir)?;
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(&dir))?;
        }
        let port = free_port()?;
        let mut cluster = Cluster { bin, dir, port, as_postgres };
        cluster.pg(
            "initdb",
            &["-D", &cluster.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C"],
        )?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            cluster.dir.display()
        );
        let log = cluster.dir.join("log").display().to_string();
        if let Err(e) =
            cluster.pg("pg_ctl", &["-D", &cluster.data(), "-l", &log, "-w", "-t", "60", "start", "-o", &opts])
        {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            cluster.port = 0;
            bail!("{e}\n{log}");
        }
        eprintln!("PostgreSQL running at {}", cluster.url());
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn pg(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(Path::new("/"));
        output(&mut cmd).map(|_| ())
    }

    /// One query's answer through `psql` (unaligned, tuples only).
    pub fn query(&self, sql: &str) -> anyhow::Result<String> {
        let exe = self.bin.join("psql");
        let mut cmd = Command::new(&exe);
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-At", "-c", sql]);
        Ok(output(&mut cmd)?.trim().to_owned())
    }

    /// The postmaster's process id (the cluster's processes are its children).
    pub fn postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join("data/postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
