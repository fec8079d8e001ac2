//! Start-up time of the release server binary: from spawn to the first 200 of `/readyz`,
//! on an already-migrated SQLite database (warm) and on a fresh one (cold: migrations and
//! the seed), against the baseline of `motcua-server --version` run to exit (the cost of
//! starting any process of this size). The first run of each case is not counted.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::bail;

use super::server::{Scratch, Server};
use super::{Release, Stats, ms, ratio};
use crate::util::output;

const RUNS: usize = 10;
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(release: &Release) -> anyhow::Result<()> {
    let scratch = Scratch::new("startup")?;
    let mut version = Vec::with_capacity(RUNS);
    for i in 0..=RUNS {
        let start = Instant::now();
        let status = Command::new(&release.exe).arg("--version").stdout(Stdio::null()).status()?;
        let elapsed = start.elapsed();
        if !status.success() {
            bail!("motcua-server --version failed with {status}");
        }
        if i > 0 {
            version.push(elapsed);
        }
    }
    let warm_url = scratch.sqlite_url("warm.db");
    output(Command::new(&release.exe).arg("migrate").env("DATABASE_URL", &warm_url).env("RUST_LOG", "warn"))?;
    let log = scratch.path().join("server.log");
    let mut warm = Vec::with_capacity(RUNS);
    let mut cold = Vec::with_capacity(RUNS);
    for i in 0..=RUNS {
        let warm_time = start_once(release, &warm_url, &log)?;
        let cold_time = start_once(release, &scratch.sqlite_url(&format!("cold{i}.db")), &log)?;
        if i > 0 {
            warm.push(warm_time);
            cold.push(cold_time);
        }
    }
    let baseline = Stats::of(&version)?;
    println!("server start-up on SQLite: spawn to first 200 from /readyz, {RUNS} runs each (after one not counted)");
    println!("times in ms; ratio = median / median of the baseline\n");
    println!("{:<48} {:>9} {:>9} {:>9} {:>8}", "case", "median", "min", "max", "ratio");
    for (name, samples) in [
        ("baseline: `motcua-server --version` to exit", &version),
        ("warm: migrated database", &warm),
        ("cold: fresh database (migrations + seed)", &cold),
    ] {
        let s = Stats::of(samples)?;
        println!("{name:<48} {:>9} {:>9} {:>9} {:>8}", ms(s.p50), ms(s.min), ms(s.max), ratio(s.p50, baseline.p50));
    }
    Ok(())
}

/// Spawns the server over `url`, waits until it is ready, stops it; the time to ready.
fn start_once(release: &Release, url: &str, log: &std::path::Path) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut server = Server::spawn(&release.exe, url, log, &[])?;
    let ready = server.wait_ready(start, READY_TIMEOUT)?;
    server.stop()?;
    Ok(ready)
}
