//! `cargo xtask bench [catalogue | search | startup | dossiers | reports | push | client | city]...`: benchmarks that print ratios
//! against a baseline measured in the same run, so figures from different machines can be
//! compared; and `cargo xtask schemathesis`, which fuzzes the API from its OpenAPI document.
//!
//! - `catalogue`: search latency over real HTTP on loopback, on SQLite and on PostgreSQL,
//!   against `GET /healthz` (the cost of the round trip itself).
//! - `search`: recall@3 and MRR on the query sets, query latency (`bench/search.rs`).
//! - `startup`: spawn of the release binary to its first ready `/readyz`, on a migrated
//!   and on a fresh database, against `motcua-server --version` (the cost of a process).
//! - `dossiers`: submission throughput over HTTP against raw store inserts of the same
//!   rows, and `GET /dossiers/{id}` latency under load against `/healthz`, on SQLite and
//!   PostgreSQL (`cargo bench -p motcua-server --bench dossiers`).
//! - `reports`: report submissions with two photos over HTTP against raw store inserts,
//!   and the nearby query at 100,000 reports against a primary-key read (p50/p99), on
//!   SQLite and PostgreSQL (`cargo bench -p motcua-server --bench reports`).
//! - `memory`: RSS of the release server at rest, under 40 concurrent logins and with
//!   1,000 idle connections open.
//! - `client`: the offline client's suite (`cargo bench -p motcua-client --bench client`).
//! - `push`: a campaign's fan-out to 100,000 phones through the delivery workers to the
//!   FCM emulator (release builds), beside the emulator's own accept rate at the same
//!   concurrency, and the server's peak memory, on SQLite and PostgreSQL
//!   (`cargo bench -p motcua-server --bench push`).
//! - `city`: a city's peak hour (searches, draft syncs, status reads, tracking, uploads,
//!   submissions, officer moves) against one release server over PostgreSQL, open-loop,
//!   the rate raised until p99 passes 200 ms; the CPU of server, database and load
//!   generator at the last rate that held.
//!
//! With no argument every suite runs. A new suite is one more entry in [`SUITES`].

mod catalogue;
mod city;
mod http;
mod memory;
mod schemathesis;
mod search;
mod server;
mod startup;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use crate::util::{cargo, run as run_cmd};

type Suite = fn(&Release) -> anyhow::Result<()>;

/// Every suite: its name, whether it needs the release server, and its body.
const SUITES: [(&str, bool, Suite); 9] = [
    ("catalogue", true, catalogue::run),
    ("search", false, search::run),
    ("memory", true, memory::run),
    ("startup", true, startup::run),
    ("dossiers", false, dossiers),
    ("reports", false, reports),
    ("client", false, client),
    ("push", false, push),
    ("city", true, city::run),
];

/// The release build of the server, made once per run.
pub struct Release {
    pub exe: PathBuf,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    for arg in args {
        if !SUITES.iter().any(|(name, _, _)| name == arg) {
            let names: Vec<&str> = SUITES.iter().map(|(name, _, _)| *name).collect();
            bail!("unknown benchmark {arg:?}: expected some of {}", names.join(", "));
        }
    }
    let selected: Vec<&(&str, bool, Suite)> =
        SUITES.iter().filter(|(name, _, _)| args.is_empty() || args.iter().any(|a| a == name)).collect();
    let release = Release { exe: PathBuf::from("target/release/motcua-server") };
    if selected.iter().any(|(_, needs_server, _)| *needs_server) {
        run_cmd(cargo().args(["build", "--release", "-p", "motcua-server"]))?;
    }
    for (name, _, suite) in selected {
        println!("\n== {name} ==");
        suite(&release)?;
    }
    Ok(())
}

/// `cargo xtask schemathesis`.
pub fn schemathesis() -> anyhow::Result<()> {
    schemathesis::run()
}

/// The server's dossier benchmark (in-process server, real HTTP), with a throwaway
/// PostgreSQL cluster for its second half.
fn dossiers(_: &Release) -> anyhow::Result<()> {
    let cluster = crate::pg::Cluster::start()?;
    run_cmd(
        cargo()
            .args(["bench", "-p", "motcua-server", "--bench", "dossiers"])
            .env("MOTCUA_BENCH_DATABASE_URL", cluster.url()),
    )
}

/// The server's field report benchmark (submissions with photos against raw inserts;
/// nearby at 100,000 reports against a primary-key read), on both backends.
fn reports(_: &Release) -> anyhow::Result<()> {
    let cluster = crate::pg::Cluster::start()?;
    run_cmd(
        cargo()
            .args(["bench", "-p", "motcua-server", "--bench", "reports"])
            .env("MOTCUA_BENCH_DATABASE_URL", cluster.url()),
    )
}

/// The push benchmark: the emulator's release binary, a throwaway PostgreSQL cluster, and
/// the server's bench target.
fn push(_: &Release) -> anyhow::Result<()> {
    run_cmd(cargo().args(["build", "--release", "-p", "fcm-emulator"]))?;
    let emulator = std::env::current_dir()?.join("target/release/fcm-emulator");
    let cluster = crate::pg::Cluster::start()?;
    run_cmd(
        cargo()
            .args(["bench", "-p", "motcua-server", "--bench", "push"])
            .env("MOTCUA_BENCH_EMULATOR_EXE", emulator)
            .env("MOTCUA_BENCH_DATABASE_URL", cluster.url()),
    )
}

/// The offline client's own benchmark target, which prints its own ratios.
fn client(_: &Release) -> anyhow::Result<()> {
    run_cmd(cargo().args(["bench", "-p", "motcua-client", "--bench", "client"]))
}

/// Order statistics of a sample of durations.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub min: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Stats {
    /// Nearest-rank percentiles of `samples` (which must not be empty).
    pub fn of(samples: &[Duration]) -> anyhow::Result<Stats> {
        if samples.is_empty() {
            bail!("no samples");
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Ok(Stats { n: sorted.len(), min: sorted[0], p50: rank(0.50), p99: rank(0.99), max: sorted[sorted.len() - 1] })
    }
}

/// A duration in milliseconds, three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

/// `a / b` as a factor, e.g. `3.20x`.
pub fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() { "n/a".to_owned() } else { format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let s = Stats::of(&samples).unwrap();
        assert_eq!((s.n, s.min, s.p50, s.p99, s.max), (100, samples[99], samples[50], samples[1], samples[0]));
        assert!(Stats::of(&[]).is_err());
        assert_eq!(ratio(Duration::from_millis(3), Duration::from_millis(2)), "1.50x");
    }
}
