//! Memory of the release server under abuse: its resident set (RSS, from `/proc`) at rest,
//! at the peak of a burst of 40 concurrent logins (each an Argon2 check of about 19 MiB),
//! and, in a fresh process (the allocator keeps what the burst took), while 1,000 idle
//! connections are held open (with `/healthz` timed meanwhile). The baseline is the
//! process at rest. `MOTCUA_BENCH_SERVER_EXE` measures another build
//! (e.g. the one before a change) with the same routine.

use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::Release;
use super::http::Conn;
use super::server::{Scratch, Server};

const BURST: usize = 40;
const IDLE: usize = 1_000;

/// Every limit that would refuse a login before its password check is lifted, so the burst
/// measures hashing itself (with the server's own bound on concurrent hashing, if it has one).
const ENV: [(&str, &str); 4] = [
    ("MOTCUA_AUTH_RATE_PER_MIN", "1000000"),
    ("MOTCUA_LOGIN_FREE_FAILURES", "1000000"),
    ("MOTCUA_LOGIN_ACCOUNT_CEILING", "1000000"),
    ("MOTCUA_DB_MAX_CONNECTIONS", "8"),
];

pub fn run(release: &Release) -> anyhow::Result<()> {
    let exe = std::env::var_os("MOTCUA_BENCH_SERVER_EXE").map_or_else(|| release.exe.clone(), PathBuf::from);
    let scratch = Scratch::new("memory")?;
    let log = scratch.path().join("server.log");
    let mut server = Server::spawn(&exe, &scratch.sqlite_url("m.db"), &log, &ENV)?;
    server.wait_ready(Instant::now(), Duration::from_secs(60))?;
    let pid = server.pid().context("the server process")?;
    // Warm up: a few sequential logins and look-ups, so lazy allocations are done.
    for i in 0..5 {
        login(server.addr, i)?;
        Conn::connect(server.addr)?.get("/api/v1/procedures?q=khai%20sinh")?;
    }
    std::thread::sleep(Duration::from_millis(300));
    let rest = status_kib(pid, "VmRSS")?;
    let peak_before = status_kib(pid, "VmHWM")?;

    // 40 logins released at once, each on its own connection.
    let barrier = Arc::new(Barrier::new(BURST));
    let addr = server.addr;
    let started = Instant::now();
    let threads: Vec<_> = (0..BURST)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut conn = Conn::connect(addr)?;
                barrier.wait();
                let body = format!(r#"{{"login":"09{:08}","password":"sai-mat-khau-{i}"}}"#, 10_000_000 + i);
                conn.post_json("/api/v1/auth/login", body.as_bytes()).map(|r| r.status)
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for t in threads {
        let status = t.join().map_err(|_| anyhow::anyhow!("a login thread panicked"))??;
        *statuses.entry(status).or_default() += 1;
    }
    let burst_time = started.elapsed();
    let peak = status_kib(pid, "VmHWM")?;
    std::thread::sleep(Duration::from_millis(500));
    let after_burst = status_kib(pid, "VmRSS")?;

    server.stop()?;

    // A fresh process: 1,000 idle connections that never send a byte, then /healthz.
    let mut server = Server::spawn(&exe, &scratch.sqlite_url("m.db"), &log, &ENV)?;
    server.wait_ready(Instant::now(), Duration::from_secs(60))?;
    let pid = server.pid().context("the server process")?;
    for _ in 0..5 {
        Conn::connect(server.addr)?.get("/api/v1/procedures?q=khai%20sinh")?;
    }
    std::thread::sleep(Duration::from_millis(300));
    let fresh = status_kib(pid, "VmRSS")?;
    let addr = server.addr;
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect_timeout(&addr, Duration::from_secs(2))?);
    }
    std::thread::sleep(Duration::from_secs(1));
    let with_idle = status_kib(pid, "VmRSS")?;
    let health_started = Instant::now();
    let health = health_within(addr, Duration::from_secs(90));
    let health_time = health_started.elapsed();
    drop(idle);
    server.stop()?;

    println!("resident memory of {} (RSS from /proc; MiB)\n", exe.display());
    println!("{:<58} {:>9} {:>8}", "case", "MiB", "ratio");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let row = |name: &str, kib: u64| println!("{name:<58} {:>9.1} {:>7.2}x", mib(kib), kib as f64 / rest as f64);
    row("baseline: at rest after warm-up (5 sequential logins)", rest);
    row(&format!("peak during {BURST} concurrent logins (VmHWM)"), peak.max(peak_before));
    row("at rest 0.5 s after the burst", after_burst);
    row("fresh process at rest", fresh);
    row(&format!("fresh process with {IDLE} idle connections open"), with_idle);
    println!(
        "\nburst: {statuses:?} in {:.0} ms; /healthz with {IDLE} idle sockets: {} after {:.0} ms",
        burst_time.as_secs_f64() * 1000.0,
        match health {
            Ok(status) => status.to_string(),
            Err(e) => format!("no answer ({e:#})"),
        },
        health_time.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// A login that fails (unknown account): the same Argon2 work as a real one.
fn login(addr: std::net::SocketAddr, i: usize) -> anyhow::Result<u16> {
    let body = format!(r#"{{"login":"09{:08}","password":"khoi-dong-{i}"}}"#, 20_000_000 + i);
    Ok(Conn::connect(addr)?.post_json("/api/v1/auth/login", body.as_bytes())?.status)
}

fn health_within(addr: std::net::SocketAddr, limit: Duration) -> anyhow::Result<u16> {
    let start = Instant::now();
    loop {
        match Conn::connect(addr).and_then(|mut c| c.get("/healthz")) {
            Ok(r) => return Ok(r.status),
            Err(e) if start.elapsed() > limit => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            return rest.trim().trim_end_matches("kB").trim().parse().with_context(|| format!("{field}: {rest}"));
        }
    }
    bail!("no {field} in /proc/{pid}/status")
}
