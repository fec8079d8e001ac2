//! Push benchmark (run by `cargo xtask bench push`): the fan-out of one city-wide campaign
//! to 100,000 phones through the delivery workers to the FCM emulator (a separate process,
//! release build, message bodies not kept), in messages per second from the campaign's
//! creation to the last job recorded as sent; beside the emulator's own accept rate
//! measured in the same run by the same FCM client at the same concurrency with no
//! database (the ceiling the server can reach), the ratio of the two, and the peak
//! memory (VmHWM) of this process while the workers run. On SQLite, and on PostgreSQL
//! when `MOTCUA_BENCH_DATABASE_URL` names a cluster.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use fcm_emulator::service_account::ServiceAccount;
use futures_util::StreamExt;
use motcua_server::config::Config;
use motcua_server::db::{BeginWrite, Db};
use motcua_server::push::event::{Kind, Texts};
use motcua_server::push::fcm::{FcmClient, Outcome, ServiceAccountKey};
use uuid::Uuid;

const DEVICES: usize = 100_000;
/// Messages FCM accepted: single jobs sent, and the messages of campaign pages.
const SENT: &str = "SELECT (SELECT COUNT(*) FROM push_jobs WHERE state = 'sent') + \
                    (SELECT CAST(COALESCE(SUM(sent), 0) AS BIGINT) FROM push_pages)";
const PER_ACCOUNT: usize = 20;

struct EmulatorProcess {
    child: Child,
    base: String,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Peak resident memory of this process since the last reset, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// CPU seconds (user + system) a process has used, from `/proc/{pid}/stat`.
fn cpu_secs(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: f64 = rest.split_whitespace().skip(11).take(2).filter_map(|t| t.parse::<f64>().ok()).sum();
    ticks / 100.0
}

/// CPU seconds used so far by this process, the emulator, and every PostgreSQL process.
#[derive(Clone, Copy, Default)]
struct Cpu {
    server: f64,
    emulator: f64,
    database: f64,
}

impl Cpu {
    fn now(emulator: u32) -> Cpu {
        let database = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
            .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres"))
            .map(|pid| cpu_secs(&pid))
            .sum();
        Cpu { server: cpu_secs("self"), emulator: cpu_secs(&emulator.to_string()), database }
    }

    /// Microseconds per message used since `before`, as "server a, emulator b, database c".
    fn per_message(self, before: Cpu, messages: usize) -> String {
        let us = |a: f64, b: f64| (a - b) * 1e6 / messages as f64;
        format!(
            "this process {:.1} µs, emulator {:.1} µs, PostgreSQL {:.1} µs",
            us(self.server, before.server),
            us(self.emulator, before.emulator),
            us(self.database, before.database)
        )
    }
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let exe = std::env::var("MOTCUA_BENCH_EMULATOR_EXE").context(
            "MOTCUA_BENCH_EMULATOR_EXE is not set: run this through `cargo xtask bench push` (it builds the emulator)",
        )?;
        let dir = std::env::temp_dir().join(format!("motcua-bench-push-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        let result = async {
            run_on(&exe, &dir, format!("sqlite://{}", dir.join("push.db").display()), "SQLite").await?;
            if let Ok(admin) = std::env::var("MOTCUA_BENCH_DATABASE_URL") {
                let url = pg_database(&admin).await?;
                run_on(&exe, &dir, url, "PostgreSQL").await?;
            }
            anyhow::Ok(())
        }
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        result
    })
}

async fn pg_database(admin: &str) -> anyhow::Result<String> {
    let name = format!("motcua_bench_push_{}", Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await?;
    pool.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).context("a URL with a database")?;
    Ok(format!("{base}/{name}"))
}

async fn start_emulator(exe: &str, dir: &std::path::Path) -> anyhow::Result<(EmulatorProcess, std::path::PathBuf)> {
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let account = ServiceAccount::generate("motcua-bench", &format!("{base}/token"))?;
    let key = dir.join("key.json");
    std::fs::write(&key, account.to_json())?;
    let child = Command::new(exe)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--no-bodies", "--service-account"])
        .arg(&key)
        .stdout(Stdio::null())
        .spawn()
        .context("starting the emulator")?;
    let emulator = EmulatorProcess { child, base };
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{}/control/stats", emulator.base)).send().await.is_ok_and(|r| r.status() == 200) {
            return Ok((emulator, key));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!("the emulator did not start")
}

async fn run_on(exe: &str, dir: &std::path::Path, url: String, label: &str) -> anyhow::Result<()> {
    let (emulator, key_path) = start_emulator(exe, dir).await?;
    // The push settings come from the environment (`MOTCUA_PUSH_*`, `MOTCUA_FCM_*`), as for
    // the server; the defaults otherwise.
    let mut config =
        Config { database_url: url.clone(), blob_dir: dir.join("blobs"), log_json: false, ..Config::from_env()? };
    config.push.credentials = Some(key_path.clone());
    config.push.base_url = emulator.base.clone();
    config.push.poll = Duration::from_millis(20);
    let push = config.push.clone();
    let in_flight = push.workers * push.concurrency;
    let db = Db::connect(&url, config.db_max_connections).await?;
    let state = motcua_server::app::AppState::new(config, db.clone()).await?;
    let tokens = seed(&db).await?;
    let rounds: usize = std::env::var("MOTCUA_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let http = reqwest::Client::new();
    let mut server_rates = Vec::new();
    let mut ceilings = Vec::new();
    let mut peak_kib = 0;
    let mut rest_kib = 0;
    for round in 1..=rounds {
        let pid = emulator.child.id();
        let cpu = Cpu::now(pid);
        let ceiling = ceiling_pass(&key_path, &push, &tokens).await?;
        let ceiling_cpu = Cpu::now(pid).per_message(cpu, DEVICES);
        http.post(format!("{}/control/reset", emulator.base)).send().await?;
        reset_peak_rss();
        rest_kib = rest_kib.max(peak_rss_kib());
        let cpu = Cpu::now(pid);
        let (rate, secs, queued_in) = server_pass(&state, &db).await?;
        let server_cpu = Cpu::now(pid).per_message(cpu, DEVICES);
        peak_kib = peak_kib.max(peak_rss_kib());
        let stats: serde_json::Value =
            http.get(format!("{}/control/stats", emulator.base)).send().await?.json().await?;
        if stats["accepted"] != DEVICES || stats["duplicates"] != 0 {
            bail!("the emulator saw {stats}");
        }
        http.post(format!("{}/control/reset", emulator.base)).send().await?;
        println!(
            "{label} round {round}: server {rate:.0} msg/s ({secs:.2} s, all queued after {queued_in:.2} s), \
             emulator alone {ceiling:.0} msg/s, ratio {:.2}",
            rate / ceiling
        );
        println!(
            "{label} round {round}: CPU per message: emulator alone: {ceiling_cpu}; through the server: {server_cpu}"
        );
        server_rates.push(rate);
        ceilings.push(ceiling);
    }
    let (server, ceiling) = (median(&mut server_rates), median(&mut ceilings));
    println!(
        "{label}: fan-out of {DEVICES} messages per campaign through the workers, median of {rounds}: {server:.0} msg/s; \
         the emulator's own accept rate (same FCM client, {} requests in flight on {} HTTP/2 connections, no database), \
         median: {ceiling:.0} msg/s; ratio {:.2} ({} workers x {} in flight, batches of {})",
        in_flight,
        push.connections,
        server / ceiling,
        push.workers,
        push.concurrency,
        push.batch
    );
    println!(
        "{label}: peak RSS of the server process while sending: {:.1} MiB (at the start of a pass: {:.1} MiB; \
         the benchmark's own 100,000 tokens included)",
        peak_kib as f64 / 1024.0,
        rest_kib as f64 / 1024.0
    );
    db.close().await;
    drop(emulator);
    Ok(())
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The ceiling: the same FCM client, the same connections and requests in flight, no
/// database: how fast the emulator accepts these very messages.
async fn ceiling_pass(
    key_path: &std::path::Path,
    push: &motcua_server::config::Push,
    tokens: &[String],
) -> anyhow::Result<f64> {
    let in_flight = push.workers * push.concurrency;
    let client = Arc::new(FcmClient::new(
        ServiceAccountKey::from_file(key_path)?,
        &push.base_url,
        push.http1,
        push.timeout,
        push.connections,
    )?);
    let title = Texts { vi: "Thông báo của thành phố".into(), en: "City announcement".into() };
    let body = Texts {
        vi: "Lịch cắt điện khu vực ngày mai từ 8 giờ đến 11 giờ.".into(),
        en: "Power cut tomorrow, 8 to 11.".into(),
    };
    let id = Uuid::now_v7().to_string();
    let messages: Vec<String> = tokens
        .iter()
        .map(|t| {
            let m = motcua_server::push::delivery::build_message(t, "vi", &title, &body, Kind::Announcement, &id, &id);
            serde_json::to_string(&m)
        })
        .collect::<Result<_, _>>()?;
    // Warm up (connections, access token) outside the measurement.
    for (lane, message) in messages.iter().enumerate().take(push.connections) {
        let _ = client.send_json(lane, message).await;
    }
    let lanes = push.connections;
    let started = Instant::now();
    let accepted = futures_util::stream::iter(messages.iter().enumerate())
        .map(|(i, m)| {
            let client = client.clone();
            async move { client.send_json(i % lanes, m).await }
        })
        .buffer_unordered(in_flight)
        .filter(|o| std::future::ready(matches!(o, Outcome::Sent(_))))
        .count()
        .await;
    Ok(accepted as f64 / started.elapsed().as_secs_f64())
}

/// A city-wide campaign through this process's workers: the rate from its creation to the
/// last job recorded as sent, the seconds, and when every job was queued.
async fn server_pass(state: &motcua_server::app::AppState, db: &Db) -> anyhow::Result<(f64, f64, f64)> {
    let before: i64 = motcua_server::on_db!(db, read, pool => {
        sqlx::query_scalar(SENT).fetch_one(pool).await
    })?;
    let workers = motcua_server::push::delivery::start(state)?.context("workers")?;
    let started = Instant::now();
    create_campaign(db).await?;
    // Done when the campaign is fanned out and no job waits (both cheap: the queue's
    // partial index holds only waiting jobs); the sent count is checked once at the end.
    let mut queued_in = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if Instant::now() > deadline {
            bail!("not sent after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if queued_in.is_none() {
            let fanning: i64 = motcua_server::on_db!(db, read, pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM push_campaigns WHERE state IN ('scheduled', 'fanning_out')").fetch_one(pool).await
            })?;
            if fanning == 0 {
                queued_in = Some(started.elapsed().as_secs_f64());
            }
        }
        let waiting: i64 = motcua_server::on_db!(db, read, pool => {
            sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM push_jobs WHERE state = 'queued') + (SELECT COUNT(*) FROM push_pages WHERE state = 'queued')",
            )
            .fetch_one(pool)
            .await
        })?;
        if queued_in.is_some() && waiting == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    workers.stop(Duration::from_secs(10)).await;
    let total: i64 = motcua_server::on_db!(db, read, pool => {
        sqlx::query_scalar(SENT).fetch_one(pool).await
    })?;
    if total - before != DEVICES as i64 {
        bail!("{} sent instead of {DEVICES}", total - before);
    }
    Ok((DEVICES as f64 / secs, secs, queued_in.unwrap_or(secs)))
}

/// 5,000 citizens with 20 phones each; returns the tokens.
async fn seed(db: &Db) -> anyhow::Result<Vec<String>> {
    let now = Utc::now();
    let accounts = DEVICES / PER_ACCOUNT;
    let users: Vec<Uuid> = (0..accounts).map(|_| Uuid::now_v7()).collect();
    let tokens: Vec<String> =
        (0..DEVICES).map(|i| format!("bench-{i:06}:APA91bE{}", Uuid::from_u128(i as u128).simple())).collect();
    motcua_server::on_db!(db, write, pool => async {
        let mut tx = pool.begin_write().await?;
        for (c, chunk) in users.chunks(1000).enumerate() {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO users (id, phone, full_name, password_hash, role, created_at) ");
            q.push_values(chunk.iter().enumerate(), |mut row, (i, id)| {
                row.push_bind(*id).push_bind(format!("09{:08}", c * 1000 + i)).push_bind("Dân").push_bind("x").push_bind("citizen").push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        for (c, chunk) in tokens.chunks(2000).enumerate() {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO devices (token, user_id, platform, app_version, locale, created_at, last_seen_at) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut row, (i, token)| {
                let n = c * 2000 + i;
                row.push_bind(token.clone()).push_bind(users[n / PER_ACCOUNT]).push_bind("android").push_bind("1.0")
                    .push_bind(if n % 3 == 0 { "en" } else { "vi" }).push_bind(now).push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    }.await)?;
    // PostgreSQL plans the campaign's pages from the tables' statistics, which autovacuum
    // gathers within a minute of a bulk load; gathered here at once, as on a running city
    // (without them the first pages are planned as scans of the whole devices table).
    if let Db::Postgres(pool) = db {
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    Ok(tokens)
}

async fn create_campaign(db: &Db) -> anyhow::Result<()> {
    let now = Utc::now();
    motcua_server::on_db!(db, write, pool => {
        sqlx::query(
            "INSERT INTO push_campaigns (id, created_by, title_vi, title_en, body_vi, body_en, audience, scheduled_at, state, created_at) \
             VALUES ($1, (SELECT id FROM users LIMIT 1), 'Thông báo của thành phố', 'City announcement', \
             'Lịch cắt điện khu vực ngày mai từ 8 giờ đến 11 giờ.', 'Power cut tomorrow, 8 to 11.', 'city', $2, 'scheduled', $2)",
        )
        .bind(Uuid::now_v7()).bind(now).execute(pool).await.map(|_| ())
    })?;
    Ok(())
}
