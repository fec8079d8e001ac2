//! `cargo xtask bench city`: a city's peak hour against one release server process over
//! PostgreSQL on this machine. Open-loop load (each request has a scheduled time; its
//! latency counts from then, so a server falling behind shows as latency, not as fewer
//! requests) of a mix shaped like a peak hour: catalogue searches, draft syncs (catalogue
//! delta and form), status reads, public tracking, uploads, submissions, officer moves
//! and queue reads. The rate climbs by half each step until p99 passes 200 ms (or errors
//! pass 1 %); the last step that held is the sustained figure. At each step the CPU used by
//! the server, by PostgreSQL and by this load generator is read from `/proc`, to say where
//! the time goes.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::http::{Conn, Response, target};
use super::server::{Scratch, Server};
use super::{Release, Stats, ms};
use crate::pg;

const CITIZENS: usize = 40;
const DOSSIERS_PER_CITIZEN: usize = 5;
/// The seed procedure with a simple form and one attachment slot.
const PROCEDURE: &str = "1.004189";
const BRANCH: &str = "H26.00";
const STEP: Duration = Duration::from_secs(8);
const FIRST_RATE: f64 = 40.0;
const MAX_RATE: f64 = 4_000.0;
const WORKERS: usize = 48;
const P99_LIMIT: Duration = Duration::from_millis(200);
/// A photo of a paper, as phones send them after resizing.
const UPLOAD_BYTES: usize = 200_000;

/// What one request of the mix is, and its share of every 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Search,
    CatalogueDelta,
    Form,
    DossierRead,
    DossierList,
    Notifications,
    Track,
    Upload,
    Submit,
    OfficerMove,
    OfficerQueue,
}

const MIX: [(Op, u32); 11] = [
    (Op::Search, 30),
    (Op::CatalogueDelta, 5),
    (Op::Form, 5),
    (Op::DossierRead, 15),
    (Op::DossierList, 5),
    (Op::Notifications, 5),
    (Op::Track, 15),
    (Op::Upload, 8),
    (Op::Submit, 4),
    (Op::OfficerMove, 5),
    (Op::OfficerQueue, 3),
];

const SEARCHES: [&str; 8] = [
    "dang ky khai sinh",
    "kết hôn",
    "giay phep xay dung",
    "tạm trú",
    "chứng thực",
    "ly lich tu phap",
    "đất đai",
    "doanh nghiep",
];

struct Citizen {
    token: String,
    cid: String,
    phone: String,
    attachment: String,
    dossiers: Vec<String>,
}

/// What the load needs from the setup.
struct World {
    citizens: Vec<Citizen>,
    officer: String,
    /// `(code, verifier)` of filed dossiers, for public tracking.
    tracking: Vec<(String, String)>,
    form_version: Value,
    catalogue_version: i64,
    /// Dossiers filed during the run, waiting for an officer.
    queue: Mutex<Vec<String>>,
    uploads: AtomicUsize,
}

pub fn run(release: &Release) -> anyhow::Result<()> {
    let scratch = Scratch::new("city")?;
    let cluster = pg::Cluster::start()?;
    let sms = scratch.path().join("sms");
    let blobs = scratch.path().join("blobs");
    let (sms_s, blobs_s) = (sms.display().to_string(), blobs.display().to_string());
    let env = [
        ("MOTCUA_SMS_DIR", sms_s.as_str()),
        ("MOTCUA_BLOB_DIR", blobs_s.as_str()),
        ("MOTCUA_AUTH_RATE_PER_MIN", "1000000"),
        ("MOTCUA_PUBLIC_RATE_PER_MIN", "1000000"),
        ("MOTCUA_DOSSIERS_PER_MINUTE", "1000000"),
        ("MOTCUA_DOSSIERS_PER_DAY", "1000000"),
        ("MOTCUA_UPLOADS_PER_DAY", "1000000"),
        ("MOTCUA_UPLOAD_MB_PER_DAY", "1000000"),
        ("MOTCUA_MIN_FREE_DISK_MB", "0"),
        ("MOTCUA_ACCESS_TOKEN_TTL_SECS", "7200"),
    ];
    let log = scratch.path().join("server.log");
    let mut server = Server::spawn(&release.exe, &cluster.url(), &log, &env)?;
    server.wait_ready(Instant::now(), Duration::from_secs(120))?;
    let result = (|| {
        let world = setup(release, &server, &cluster.url(), &sms, &blobs)?;
        climb(&server, &cluster, &world)?;
        sizes(&cluster, &blobs)
    })();
    let result = result.map_err(|e| anyhow::anyhow!("{e:#}\nserver log (tail):\n{}", tail(&server.log_text())));
    server.stop()?;
    result
}

/// What the run left behind, per dossier and per stored file: the figures a city's
/// database and object storage are sized from.
fn sizes(cluster: &pg::Cluster, blobs: &Path) -> anyhow::Result<()> {
    let bytes: f64 = cluster.query("SELECT pg_database_size('postgres')")?.parse()?;
    let dossiers: f64 = cluster.query("SELECT COUNT(*) FROM dossiers")?.parse()?;
    let events: f64 = cluster.query("SELECT COUNT(*) FROM dossier_events")?.parse()?;
    let stored: f64 = cluster.query("SELECT COUNT(*) FROM blobs")?.parse()?;
    let tables: f64 = cluster
        .query("SELECT pg_total_relation_size('dossiers') + pg_total_relation_size('dossier_attachments') + pg_total_relation_size('dossier_events')")?
        .parse()?;
    let mut blob_bytes = 0u64;
    let mut stack = vec![blobs.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let meta = entry.metadata()?;
            if meta.is_dir() { stack.push(entry.path()) } else { blob_bytes += meta.len() }
        }
    }
    println!(
        "after the run: {dossiers:.0} dossiers ({events:.0} timeline rows), database {:.1} MiB in all \
         (dossier tables with their indexes {:.0} bytes per dossier); {stored:.0} stored files, {:.1} MiB ({:.0} KiB each)",
        bytes / 1048576.0,
        tables / dossiers.max(1.0),
        blob_bytes as f64 / 1048576.0,
        blob_bytes as f64 / 1024.0 / stored.max(1.0)
    );
    Ok(())
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

fn json_of(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn expect(r: Response, status: u16, what: &str) -> anyhow::Result<Value> {
    if r.status != status {
        bail!("{what}: {} {}", r.status, String::from_utf8_lossy(&r.body));
    }
    Ok(json_of(&r))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn pdf(seed: u64, len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn form_values(c: &Citizen) -> Value {
    json!({
        "ho_ten": "Nguyễn Văn An",
        "so_cccd": c.cid,
        "dien_thoai": c.phone,
        "noi_cu_tru": {"province": "Hà Nội", "ward": "Phường Hoàn Kiếm", "street": "12 Hàng Bài"},
        "noi_dung": ["thuong_tru"],
        "muc_dich": "hoc_tap",
        "hinh_thuc_nhan": "truc_tiep",
        "cam_doan": true,
        "tep_de_nghi": [c.attachment],
    })
}

fn submit(conn: &mut Conn, world: &World, c: &Citizen, key: &str) -> anyhow::Result<Response> {
    let body = json!({"procedure_code": PROCEDURE, "form_version": world.form_version, "values": form_values(c), "branch_code": BRANCH});
    let auth = bearer(&c.token);
    let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str()), ("Idempotency-Key", key)];
    conn.request("POST", "/api/v1/dossiers", &headers, &serde_json::to_vec(&body)?)
}

fn upload(conn: &mut Conn, token: &str, bytes: &[u8]) -> anyhow::Result<Response> {
    let auth = bearer(token);
    let headers = [("Content-Type", "application/octet-stream"), ("Authorization", auth.as_str())];
    conn.request("POST", "/api/v1/attachments?name=giay-to.pdf", &headers, bytes)
}

/// Citizens (registered over HTTP, codes from the SMS folder), each with an attachment
/// and some filed dossiers; an officer of the branch (the operators' command).
fn setup(release: &Release, server: &Server, url: &str, sms: &Path, blobs: &Path) -> anyhow::Result<World> {
    let mut conn = Conn::connect(server.addr)?;
    let procedure = expect(conn.get(&format!("/api/v1/procedures/{PROCEDURE}"))?, 200, "procedure")?;
    let page = expect(conn.get("/api/v1/procedures?per_page=1")?, 200, "procedures")?;
    let mut world = World {
        citizens: Vec::new(),
        officer: String::new(),
        tracking: Vec::new(),
        form_version: procedure["form"]["version"].clone(),
        catalogue_version: page["catalogue_version"].as_i64().context("catalogue version")?,
        queue: Mutex::default(),
        uploads: AtomicUsize::new(0),
    };
    for i in 0..CITIZENS {
        let cid = format!("001203{:06}", 100_000 + i);
        let phone = format!("0912{:06}", 100_000 + i);
        let body = json!({"citizen_id": cid, "phone": phone, "full_name": "Nguyễn Văn An", "password": "matkhau123"});
        let challenge = expect(conn.post_json("/api/v1/auth/register", &serde_json::to_vec(&body)?)?, 202, "register")?;
        let text = std::fs::read_to_string(sms.join(format!("{phone}.txt"))).context("the SMS of a registration")?;
        let code = text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).context("a code")?;
        let verify = json!({"verification_id": challenge["verification_id"], "code": code});
        let tokens =
            expect(conn.post_json("/api/v1/auth/register/verify", &serde_json::to_vec(&verify)?)?, 201, "verify")?;
        let token = tokens["access_token"].as_str().context("token")?.to_owned();
        let attachment = expect(upload(&mut conn, &token, &pdf(i as u64, UPLOAD_BYTES))?, 201, "attachment")?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        let mut citizen = Citizen { token, cid, phone, attachment, dossiers: Vec::new() };
        for d in 0..DOSSIERS_PER_CITIZEN {
            let filed = expect(submit(&mut conn, &world, &citizen, &format!("setup-{i}-{d}"))?, 201, "submit")?;
            citizen.dossiers.push(filed["id"].as_str().context("id")?.to_owned());
            let code = filed["code"].as_str().context("code")?.to_owned();
            let verifier = filed["tracking_verifier"].as_str().context("verifier")?.to_owned();
            world.tracking.push((code, verifier));
        }
        world.citizens.push(citizen);
    }
    let officer_phone = "0987000001";
    let out = std::process::Command::new(&release.exe)
        .args(["user", "add", "--role", "officer", "--branch", BRANCH, "--phone", officer_phone, "--name", "Cán bộ"])
        .env("DATABASE_URL", url)
        .env("MOTCUA_BLOB_DIR", blobs)
        .env("MOTCUA_USER_PASSWORD", "canbo12345")
        .env("RUST_LOG", "warn")
        .output()?;
    if !out.status.success() {
        bail!("user add: {}", String::from_utf8_lossy(&out.stderr));
    }
    let login = json!({"login": officer_phone, "password": "canbo12345"});
    let tokens = expect(conn.post_json("/api/v1/auth/login", &serde_json::to_vec(&login)?)?, 200, "login")?;
    world.officer = tokens["access_token"].as_str().context("token")?.to_owned();
    Ok(world)
}

/// A tiny xorshift generator per worker.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn pick(rng: &mut Rng) -> Op {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut roll = (rng.next() % u64::from(total)) as u32;
    for (op, weight) in MIX {
        if roll < weight {
            return op;
        }
        roll -= weight;
    }
    Op::Search
}

/// Sends one request of kind `op`; whether it was answered as expected.
fn send(conn: &mut Conn, world: &World, rng: &mut Rng, op: Op) -> anyhow::Result<bool> {
    let citizen = &world.citizens[rng.below(world.citizens.len())];
    let auth = bearer(&citizen.token);
    let as_citizen = [("Authorization", auth.as_str())];
    let officer = bearer(&world.officer);
    let as_officer = [("Authorization", officer.as_str())];
    let response = match op {
        Op::Search => conn.get(&target("/api/v1/procedures", &[("q", SEARCHES[rng.below(SEARCHES.len())])]))?,
        Op::CatalogueDelta => conn.get(&format!("/api/v1/catalogue/changes?since={}", world.catalogue_version))?,
        Op::Form => conn.get(&format!("/api/v1/procedures/{PROCEDURE}"))?,
        Op::DossierRead => {
            let id = &citizen.dossiers[rng.below(citizen.dossiers.len())];
            conn.request("GET", &format!("/api/v1/dossiers/{id}"), &as_citizen, b"")?
        }
        Op::DossierList => conn.request("GET", "/api/v1/dossiers?per_page=20", &as_citizen, b"")?,
        Op::Notifications => conn.request("GET", "/api/v1/notifications", &as_citizen, b"")?,
        Op::Track => {
            let (code, verifier) = &world.tracking[rng.below(world.tracking.len())];
            conn.get(&target(&format!("/api/v1/public/dossiers/{code}"), &[("verifier", verifier)]))?
        }
        Op::Upload => {
            let n = world.uploads.fetch_add(1, Ordering::Relaxed) as u64;
            let r = upload(conn, &citizen.token, &pdf(1_000_000 + n, UPLOAD_BYTES))?;
            return Ok(r.status == 201);
        }
        Op::Submit => {
            let key = format!("load-{}-{}", rng.next(), rng.next());
            let r = submit(conn, world, citizen, &key)?;
            if r.status == 201
                && let Some(id) = json_of(&r)["id"].as_str()
            {
                let mut queue = world.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if queue.len() < 10_000 {
                    queue.push(id.to_owned());
                }
            }
            return Ok(r.status == 201);
        }
        Op::OfficerMove => {
            let next = world.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
            match next {
                Some(id) => {
                    let headers = [("Authorization", officer.as_str()), ("Content-Type", "application/json")];
                    let path = format!("/api/v1/dossiers/{id}/transitions");
                    conn.request("POST", &path, &headers, br#"{"action":"receive"}"#)?
                }
                None => conn.request("GET", "/api/v1/dossiers?status=submitted&per_page=20", &as_officer, b"")?,
            }
        }
        Op::OfficerQueue => conn.request("GET", "/api/v1/dossiers?per_page=20", &as_officer, b"")?,
    };
    Ok(response.status == 200)
}

/// CPU seconds (user + system) of process `pid`, with its children when `tree`.
fn cpu_secs(pid: u32, tree: bool) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux.
    let stat = |p: u32| -> Option<(u32, f64)> {
        let text = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        let after = text.rsplit_once(')')?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ppid: u32 = fields.get(1)?.parse().ok()?;
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((ppid, (utime + stime) / ticks))
    };
    let mut total = stat(pid).map(|(_, s)| s).unwrap_or(0.0);
    if tree {
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            if let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok())
                && let Some((ppid, secs)) = stat(child)
                && ppid == pid
            {
                total += secs;
            }
        }
    }
    total
}

/// One step's outcome.
struct Step {
    rate: f64,
    achieved: f64,
    stats: Stats,
    errors: usize,
    sent: usize,
    /// Cores used by the server, PostgreSQL and the load generator.
    cores: (f64, f64, f64),
    slowest: Vec<(Op, Duration)>,
}

fn climb(server: &Server, cluster: &pg::Cluster, world: &World) -> anyhow::Result<()> {
    let server_pid = server.pid().context("server pid")?;
    let pg_pid = cluster.postmaster_pid().context("postmaster pid")?;
    println!(
        "open-loop steps of {} s, {WORKERS} connections; mix per 100 requests: {}",
        STEP.as_secs(),
        MIX.iter().map(|(op, w)| format!("{op:?} {w}")).collect::<Vec<_>>().join(", ")
    );
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8} {:>8}",
        "target/s", "done/s", "p50 ms", "p99 ms", "max ms", "errors", "server", "postgres", "loadgen"
    );
    let mut held: Option<Step> = None;
    let mut rate = FIRST_RATE;
    loop {
        let step = one_step(server.addr, world, rate, (server_pid, pg_pid))?;
        println!(
            "{:>8.0} {:>9.1} {:>9} {:>9} {:>9} {:>7} {:>8.2} {:>8.2} {:>8.2}",
            step.rate,
            step.achieved,
            ms(step.stats.p50),
            ms(step.stats.p99),
            ms(step.stats.max),
            step.errors,
            step.cores.0,
            step.cores.1,
            step.cores.2
        );
        let ok = step.stats.p99 < P99_LIMIT && step.errors * 100 <= step.sent && step.achieved >= 0.95 * step.rate;
        if !ok {
            println!(
                "p99 over {} ms (or errors over 1 %, or the rate not reached) at {:.0}/s",
                P99_LIMIT.as_millis(),
                rate
            );
            let slow: Vec<String> = step.slowest.iter().map(|(op, d)| format!("{op:?} {} ms", ms(*d))).collect();
            println!("slowest requests of that step: {}", slow.join(", "));
            break;
        }
        held = Some(step);
        rate *= 1.5;
        if rate > MAX_RATE {
            break;
        }
    }
    let Some(held) = held else { bail!("not even {FIRST_RATE}/s held p99 under 200 ms") };
    let (s, p, l) = held.cores;
    println!(
        "\nsustained: {:.0} requests/s with p99 {} ms (p50 {} ms) on this 2-core machine; at that rate the server used \
         {s:.2} cores, PostgreSQL {p:.2}, the load generator {l:.2} ({:.2} ms of server CPU per request)",
        held.achieved,
        ms(held.stats.p99),
        ms(held.stats.p50),
        s * 1e3 / held.achieved
    );
    Ok(())
}

/// One worker's latencies (by kind) and failures.
type Worked = (Vec<(Op, Duration)>, usize);

fn one_step(addr: SocketAddr, world: &World, rate: f64, (server_pid, pg_pid): (u32, u32)) -> anyhow::Result<Step> {
    let interval = Duration::from_secs_f64(WORKERS as f64 / rate);
    let before = (cpu_secs(server_pid, false), cpu_secs(pg_pid, true), cpu_secs(std::process::id(), false));
    let start = Instant::now() + Duration::from_millis(50);
    let results: Vec<anyhow::Result<Worked>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                scope.spawn(move || -> anyhow::Result<Worked> {
                    let mut conn = Conn::connect(addr)?;
                    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ ((w as u64 + 1) * 0x9E37_79B9) ^ rate as u64);
                    let offset = interval.mul_f64(w as f64 / WORKERS as f64);
                    let mut samples = Vec::new();
                    let mut errors = 0;
                    for k in 0.. {
                        let due = start + offset + interval * k;
                        if due >= start + STEP {
                            break;
                        }
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let op = pick(&mut rng);
                        match send(&mut conn, world, &mut rng, op) {
                            Ok(true) => {}
                            Ok(false) => errors += 1,
                            Err(_) => {
                                errors += 1;
                                conn = Conn::connect(addr)?;
                            }
                        }
                        samples.push((op, due.elapsed()));
                    }
                    Ok((samples, errors))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a worker panicked")))).collect()
    });
    let wall = start.elapsed().as_secs_f64();
    let after = (cpu_secs(server_pid, false), cpu_secs(pg_pid, true), cpu_secs(std::process::id(), false));
    let mut samples = Vec::new();
    let mut errors = 0;
    for r in results {
        let (s, e) = r?;
        samples.extend(s);
        errors += e;
    }
    let durations: Vec<Duration> = samples.iter().map(|(_, d)| *d).collect();
    let stats = Stats::of(&durations)?;
    samples.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
    samples.truncate(5);
    Ok(Step {
        rate,
        achieved: durations.len() as f64 / STEP.as_secs_f64(),
        sent: durations.len(),
        stats,
        errors,
        cores: ((after.0 - before.0) / wall, (after.1 - before.1) / wall, (after.2 - before.2) / wall),
        slowest: samples,
    })
}
