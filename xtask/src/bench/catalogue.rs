//! Catalogue search latency over real HTTP on loopback, on SQLite and on PostgreSQL.
//!
//! The release server runs as a child process over the seed catalogue; a blocking client
//! (one keep-alive connection per thread) sends a fixed, varied list of searches (with and
//! without diacritics, field filters, pages, no hits). Each search is paired with a
//! `GET /healthz` on the same connection, the baseline: the cost of the HTTP round trip,
//! routing and middleware, so `search / healthz` is the price of searching itself.
//! Phases: sequential (one connection, requests alternate), then concurrent
//! (`CONNECTIONS` connections, all healthz, then all searches, timed for throughput).

use std::net::SocketAddr;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::http::{Conn, target};
use super::server::{Scratch, Server};
use super::{Release, Stats, ms, ratio};
use crate::pg;

/// Searches sent, in turn: `(q, field, page, per_page)`, empty meaning absent.
const QUERIES: [[&str; 4]; 18] = [
    ["", "", "", ""],
    ["dang ky khai sinh", "", "", ""],
    ["Đăng ký khai sinh", "", "", ""],
    ["ket hon", "", "", ""],
    ["kết hôn", "ho_tich", "", ""],
    ["giay phep xay dung", "", "", ""],
    ["GIẤY PHÉP XÂY DỰNG", "xay_dung", "", ""],
    ["tạm trú", "", "", ""],
    ["dat dai", "dat_dai", "", ""],
    ["chứng thực", "chung_thuc", "", "5"],
    ["", "ho_tich", "", ""],
    ["", "dang_ky_kinh_doanh", "2", "5"],
    ["dang ky", "", "2", "10"],
    ["đăng ký", "", "", "100"],
    ["xyzzy khong co", "", "", ""],
    ["cấp lại giấy chứng nhận quyền sử dụng đất", "", "", ""],
    ["ly lich tu phap", "", "", ""],
    ["doanh nghiep", "", "3", "2"],
];

const SEQUENTIAL: usize = 2_000;
const CONNECTIONS: usize = 8;
const PER_CONNECTION: usize = 250;
const WARM_UP_ROUNDS: usize = 20;

/// One line of the result table.
struct Row {
    backend: &'static str,
    phase: String,
    healthz: Stats,
    search: Stats,
    /// Requests per second of each kind (concurrent phases only).
    throughput: Option<(f64, f64)>,
}

pub fn run(release: &Release) -> anyhow::Result<()> {
    let scratch = Scratch::new("bench")?;
    let mut rows = Vec::new();
    {
        let log = scratch.path().join("sqlite.log");
        rows.extend(on_server(release, "sqlite", &scratch.sqlite_url("b.db"), &log)?);
    }
    {
        let cluster = pg::Cluster::start()?;
        let log = scratch.path().join("postgres.log");
        rows.extend(on_server(release, "postgres", &cluster.url(), &log)?);
    }
    print(&rows);
    Ok(())
}

fn on_server(release: &Release, backend: &'static str, url: &str, log: &std::path::Path) -> anyhow::Result<Vec<Row>> {
    let mut server = Server::spawn(&release.exe, url, log, &[])?;
    server.wait_ready(Instant::now(), Duration::from_secs(120))?;
    let rows =
        measure(backend, server.addr).map_err(|e| anyhow::anyhow!("{e:#}\nserver log:\n{}", server.log_text()))?;
    server.stop()?;
    Ok(rows)
}

fn targets() -> Vec<String> {
    QUERIES
        .iter()
        .map(|[q, field, page, per_page]| {
            let params: Vec<(&str, &str)> = [("q", *q), ("field", *field), ("page", *page), ("per_page", *per_page)]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect();
            target("/api/v1/procedures", &params)
        })
        .collect()
}

/// One timed GET that must answer 200.
fn timed(conn: &mut Conn, target: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let response = conn.get(target)?;
    let elapsed = start.elapsed();
    if response.status != 200 {
        bail!("GET {target} answered {}: {}", response.status, String::from_utf8_lossy(&response.body));
    }
    Ok(elapsed)
}

fn measure(backend: &'static str, addr: SocketAddr) -> anyhow::Result<Vec<Row>> {
    let targets = targets();
    let mut conn = Conn::connect(addr)?;
    for _ in 0..WARM_UP_ROUNDS {
        for t in &targets {
            timed(&mut conn, t)?;
            timed(&mut conn, "/healthz")?;
        }
    }
    let mut healthz = Vec::with_capacity(SEQUENTIAL);
    let mut search = Vec::with_capacity(SEQUENTIAL);
    for i in 0..SEQUENTIAL {
        healthz.push(timed(&mut conn, "/healthz")?);
        search.push(timed(&mut conn, &targets[i % targets.len()])?);
    }
    let sequential = Row {
        backend,
        phase: "sequential, 1 conn".to_owned(),
        healthz: Stats::of(&healthz)?,
        search: Stats::of(&search)?,
        throughput: None,
    };
    let (healthz, healthz_wall) = concurrent(addr, |_, _| "/healthz")?;
    let (search, search_wall) = concurrent(addr, |thread, i| targets[(thread * 7 + i) % targets.len()].as_str())?;
    let total = (CONNECTIONS * PER_CONNECTION) as f64;
    let concurrent = Row {
        backend,
        phase: format!("concurrent, {CONNECTIONS} conns"),
        healthz: Stats::of(&healthz)?,
        search: Stats::of(&search)?,
        throughput: Some((total / healthz_wall.as_secs_f64(), total / search_wall.as_secs_f64())),
    };
    Ok(vec![sequential, concurrent])
}

/// `CONNECTIONS` threads each send `PER_CONNECTION` requests (`pick(thread, i)`) at once;
/// returns every latency and the wall time.
fn concurrent<'a>(
    addr: SocketAddr,
    pick: impl Fn(usize, usize) -> &'a str + Sync,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let barrier = Barrier::new(CONNECTIONS + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CONNECTIONS)
            .map(|thread| {
                let (barrier, pick) = (&barrier, &pick);
                scope.spawn(move || -> anyhow::Result<Vec<Duration>> {
                    let conn = Conn::connect(addr);
                    barrier.wait();
                    let mut conn = conn?;
                    (0..PER_CONNECTION).map(|i| timed(&mut conn, pick(thread, i))).collect()
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut all = Vec::with_capacity(CONNECTIONS * PER_CONNECTION);
        for handle in handles {
            let samples = handle.join().map_err(|_| anyhow::anyhow!("a load thread panicked"))?;
            all.extend(samples.context("load thread")?);
        }
        Ok((all, start.elapsed()))
    })
}

fn print(rows: &[Row]) {
    println!(
        "catalogue search over HTTP on loopback: {} varied queries, each paired with GET /healthz (baseline)",
        QUERIES.len()
    );
    println!("latencies in ms, client-side, request sent to body read; ratio = search / healthz\n");
    println!(
        "{:<9} {:<20} {:>6} {:>13} {:>13} {:>13} {:>13} {:>9} {:>9} {:>16}",
        "backend",
        "phase",
        "n",
        "healthz p50",
        "healthz p99",
        "search p50",
        "search p99",
        "ratio p50",
        "ratio p99",
        "req/s hz|search"
    );
    for row in rows {
        let throughput = row.throughput.map(|(h, s)| format!("{h:.0}|{s:.0}")).unwrap_or_else(|| "-".to_owned());
        println!(
            "{:<9} {:<20} {:>6} {:>13} {:>13} {:>13} {:>13} {:>9} {:>9} {:>16}",
            row.backend,
            row.phase,
            row.search.n,
            ms(row.healthz.p50),
            ms(row.healthz.p99),
            ms(row.search.p50),
            ms(row.search.p99),
            ratio(row.search.p50, row.healthz.p50),
            ratio(row.search.p99, row.healthz.p99),
            throughput
        );
    }
}
