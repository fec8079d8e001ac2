//! Dossier benchmark (run by `cargo xtask bench dossiers`): submission throughput over HTTP
//! (each dossier with two attachments uploaded beforehand) against the raw insert rate of
//! the same rows through the same store function in the same run, and the read
//! `GET /api/v1/dossiers/{id}` under concurrent load against its floor: an endpoint behind
//! the same middleware that authenticates the same way and fetches the same row and its
//! timeline in one round trip with hand-written SQL, over the same pool (`/healthz`, which
//! touches no database, is printed too but is no floor for a read). SQL statements per
//! request are counted from sqlx's own query events. On SQLite and on PostgreSQL
//! (`MOTCUA_BENCH_DATABASE_URL`, an administrator URL; xtask starts one).

#[path = "../tests/api/forms.rs"]
mod forms;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use motcua_domain::wire::Procedure;
use motcua_server::app::AppState;
use motcua_server::config::Config;
use motcua_server::db::Db;
use motcua_server::dossiers::store::{self, Submission};
use motcua_server::quotas::{Claim, Quota};
use serde_json::{Value, json};
use uuid::Uuid;

/// Concurrent clients (phones) submitting.
const CLIENTS: usize = 8;
/// Submissions per client, per timed round.
const PER_CLIENT: usize = 60;
/// Timed rounds of each path (the median round is reported).
const ROUNDS: usize = 3;
/// Untimed submissions per client and path before the rounds.
const WARM_UP: usize = 10;
/// Requests of the latency phase, and how many run at once.
const READS: usize = 2000;
const READ_CONCURRENCY: usize = 16;

/// Counts sqlx's query events (one per statement sent), for statements per request.
struct QueryCounter(Arc<std::sync::atomic::AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for QueryCounter {
    /// Only sqlx's statements are of interest: every other span and event stays disabled
    /// (as without a subscriber), so counting costs the measured paths nothing else.
    fn register_callsite(&self, metadata: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        if metadata.target() == "sqlx::query" {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    /// Only while a counting pass runs: sqlx formats each statement it logs, which would
    /// weigh on the timed passes.
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: tracing_subscriber::layer::Context<'_, S>) -> bool {
        metadata.target() == "sqlx::query" && COUNTING.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Whether statements are being counted (short passes of their own, untimed).
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn counting(on: bool) {
    COUNTING.store(on, std::sync::atomic::Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
}

static QUERIES: std::sync::LazyLock<Arc<std::sync::atomic::AtomicU64>> =
    std::sync::LazyLock::new(|| Arc::new(std::sync::atomic::AtomicU64::new(0)));

fn queries() -> u64 {
    QUERIES.load(std::sync::atomic::Ordering::Relaxed)
}

/// The floor of the dossier read: same extractor (authentication), one hand-written query
/// for the row and its events, the rows returned as they come.
async fn floor(
    axum::extract::State(app): axum::extract::State<AppState>,
    user: motcua_server::auth::AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<axum::Json<Vec<Value>>, motcua_server::error::ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| motcua_server::error::ApiError::NotFound)?;
    type Row =
        (String, sqlx::types::Json<Value>, String, Option<chrono::DateTime<Utc>>, Option<String>, Option<String>);
    let sql = "SELECT d.code, d.form_values, d.status, e.at, e.action, e.note FROM dossiers d \
               LEFT JOIN dossier_events e ON e.dossier_id = d.id WHERE d.id = $1 AND d.applicant_id = $2 ORDER BY e.at";
    let rows: Vec<Row> = motcua_server::on_db!(&app.db, read, pool => {
        sqlx::query_as(sql).bind(id).bind(user.id).fetch_all(pool).await
    })?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|(code, values, status, at, action, note)| json!([code, values.0, status, at, action, note]))
            .collect(),
    ))
}

fn main() -> anyhow::Result<()> {
    {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(QueryCounter(QUERIES.clone()));
        tracing::subscriber::set_global_default(subscriber)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        println!(
            "dossier benchmark: {CLIENTS} clients x {PER_CLIENT} submissions x {ROUNDS} rounds per path (median round), \
             {READS} reads at {READ_CONCURRENCY} at once"
        );
        let scratch = std::env::temp_dir().join(format!("motcua-bench-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&scratch)?;
        let sqlite = format!("sqlite://{}", scratch.join("bench.db").display());
        run_backend("sqlite", &sqlite, &scratch).await?;
        match std::env::var("MOTCUA_BENCH_DATABASE_URL") {
            Ok(admin) => {
                let url = fresh_pg(&admin).await?;
                run_backend("postgres", &url, &scratch).await?;
            }
            Err(_) => bail!("MOTCUA_BENCH_DATABASE_URL is not set: run this through `cargo xtask bench dossiers`"),
        }
        std::fs::remove_dir_all(&scratch).ok();
        Ok(())
    })
}

async fn fresh_pg(admin: &str) -> anyhow::Result<String> {
    let name = format!("motcua_bench_{}", Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await?;
    pool.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).context("database URL")?;
    Ok(format!("{base}/{name}"))
}

struct Citizen {
    token: String,
    values: Value,
}

async fn run_backend(name: &str, url: &str, scratch: &std::path::Path) -> anyhow::Result<()> {
    let config = Config {
        database_url: url.to_owned(),
        blob_dir: scratch.join(format!("blobs-{name}")),
        auth_rate_per_min: 1_000_000,
        log_json: false,
        quotas: motcua_server::config::Quotas {
            dossiers_per_minute: 1_000_000,
            dossiers_per_day: 1_000_000,
            uploads_per_day: 1_000_000,
            min_free_disk_bytes: 0,
            ..Default::default()
        },
        ..Config::default()
    };
    let claims = [
        Claim { quota: Quota::DossiersPerMinute, amount: 1, cap: 1_000_000 },
        Claim { quota: Quota::DossiersPerDay, amount: 1, cap: 1_000_000 },
    ];
    let db = Db::connect(url, config.db_max_connections).await?;
    let mut state = AppState::new(config, db.clone()).await?;
    let sms = std::sync::Arc::new(motcua_server::sms::MemorySms::default());
    state.sms = sms.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    let extra = axum::Router::new().route("/bench/floor/{id}", axum::routing::get(floor));
    let service =
        motcua_server::app::router_with(served, extra).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let http = reqwest::Client::new();

    let changes: Value = http.get(format!("{base}/api/v1/catalogue/changes")).send().await?.json().await?;
    let procedures: Vec<Procedure> = serde_json::from_value(changes["procedures"].clone())?;
    let catalogue_version = changes["version"].as_i64().context("catalogue version")?;
    let procedure = procedures
        .into_iter()
        .find(|p| p.form.attachment_documents().len() == 2 && p.boundary_free)
        .context("a procedure with two papers")?;
    let today = store::local_date(Utc::now());

    let mut citizens = Vec::new();
    for i in 0..CLIENTS {
        let cccd = format!("0012030{i:05}");
        let phone = format!("091{i:07}");
        let challenge: Value = http
            .post(format!("{base}/api/v1/auth/register"))
            .json(&json!({"citizen_id": cccd, "phone": phone, "full_name": "Người Dùng Thử", "password": "matkhau123"}))
            .send()
            .await?
            .json()
            .await?;
        let sent = sms.sent_to(&phone);
        let code = sent.last().and_then(|text| motcua_server::sms::code_in(text)).context("a code by SMS")?;
        let registered: Value = http
            .post(format!("{base}/api/v1/auth/register/verify"))
            .json(&json!({"verification_id": challenge["verification_id"], "code": code}))
            .send()
            .await?
            .json()
            .await?;
        let token = registered["access_token"].as_str().context("token")?.to_owned();
        let mut ids = std::collections::HashMap::new();
        for doc in procedure.form.attachment_documents() {
            let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
            png.extend_from_slice(format!("{name}-{i}-{doc}").as_bytes());
            png.resize(50_000, 7);
            let attachment: Value = http
                .post(format!("{base}/api/v1/attachments?name={doc}.png"))
                .bearer_auth(&token)
                .body(png)
                .send()
                .await?
                .json()
                .await?;
            ids.insert(doc.to_owned(), attachment["id"].as_str().context("attachment id")?.to_owned());
        }
        let values = forms::valid_values(&procedure.form, today, &mut |doc| vec![ids[doc].clone()]);
        citizens.push(Citizen { token, values });
    }

    // Throughput: the same submissions over HTTP and straight through the store. Both
    // paths are warmed first (the pool's connections opened, statements prepared, caches
    // filled), then timed in alternating rounds, each path going first in turn, and the
    // median round of each is compared: neither path pays the other's cold start or the
    // table's growth alone.
    let body_of = |c: &Citizen| json!({"procedure_code": procedure.code, "form_version": procedure.form.version, "values": c.values});
    let http_inputs: Vec<(String, Value)> = citizens.iter().map(|c| (c.token.clone(), body_of(c))).collect();
    let raw_inputs: Vec<(Uuid, Value, Vec<Uuid>)> = citizens
        .iter()
        .map(|c| {
            let attachments = c
                .values
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(|v| v.as_array())
                .flatten()
                .filter_map(|v| v.as_str())
                .filter_map(|s| Uuid::parse_str(s).ok())
                .collect();
            (applicant_of(&c.token), c.values.clone(), attachments)
        })
        .collect();
    let http_pass = |per_client: usize| {
        let (http, url, inputs) = (http.clone(), format!("{base}/api/v1/dossiers"), http_inputs.clone());
        async move {
            let started = Instant::now();
            let mut tasks = Vec::new();
            for (token, body) in inputs {
                let (http, url) = (http.clone(), url.clone());
                tasks.push(tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for _ in 0..per_client {
                        let response = http
                            .post(&url)
                            .bearer_auth(&token)
                            .header("idempotency-key", Uuid::new_v4().to_string())
                            .json(&body)
                            .send()
                            .await?;
                        if response.status() != 201 {
                            bail!("submission answered {}: {}", response.status(), response.text().await?);
                        }
                        let dossier: Value = response.json().await?;
                        ids.push(dossier["id"].as_str().context("id")?.to_owned());
                    }
                    Ok::<_, anyhow::Error>(ids)
                }));
            }
            let mut ids = Vec::new();
            for t in tasks {
                ids.extend(t.await??);
            }
            Ok::<_, anyhow::Error>(((CLIENTS * per_client) as f64 / started.elapsed().as_secs_f64(), ids))
        }
    };
    let raw_pass = |per_client: usize| {
        let (db, procedure, inputs) = (db.clone(), procedure.clone(), raw_inputs.clone());
        async move {
            let started = Instant::now();
            let mut tasks = Vec::new();
            for (applicant, values, attachments) in inputs {
                let (db, procedure) = (db.clone(), procedure.clone());
                tasks.push(tokio::spawn(async move {
                    for _ in 0..per_client {
                        let submission = Submission {
                            id: Uuid::now_v7(),
                            applicant_id: applicant,
                            procedure_code: procedure.code.clone(),
                            procedure_name: procedure.name.clone(),
                            processing_days: i64::from(procedure.processing_days),
                            form_version: i64::from(procedure.form.version),
                            values: values.clone(),
                            branch_code: "H26.00".into(),
                            idempotency_key: Uuid::new_v4().to_string(),
                            request_hash: "raw".into(),
                            attachments: attachments.clone(),
                            tracking_verifier: store::new_tracking_verifier().map_err(|e| anyhow::anyhow!("{e}"))?,
                            catalogue_version,
                            legs: motcua_domain::workflow::route(procedure.processing_days, &procedure.agency_legs),
                        };
                        if let Err(e) = store::insert_submission(&db, &submission, &claims, Utc::now()).await {
                            bail!("raw insert failed: {e:?}");
                        }
                    }
                    Ok::<_, anyhow::Error>(())
                }));
            }
            for t in tasks {
                t.await??;
            }
            Ok::<_, anyhow::Error>((CLIENTS * per_client) as f64 / started.elapsed().as_secs_f64())
        }
    };
    http_pass(WARM_UP).await?;
    raw_pass(WARM_UP).await?;
    // Statements per submission: one submission per client, counted, untimed.
    counting(true);
    let before = queries();
    http_pass(1).await?;
    let submit_queries = (queries() - before) as f64 / CLIENTS as f64;
    let before = queries();
    raw_pass(1).await?;
    let raw_queries = (queries() - before) as f64 / CLIENTS as f64;
    counting(false);
    let (mut http_rates, mut raw_rates, mut dossier_ids) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 1 {
            raw_rates.push(raw_pass(PER_CLIENT).await?);
        }
        let (rate, ids) = http_pass(PER_CLIENT).await?;
        http_rates.push(rate);
        dossier_ids.extend(ids);
        if round % 2 == 0 {
            raw_rates.push(raw_pass(PER_CLIENT).await?);
        }
    }
    let (http_rate, raw_rate) = (median(&mut http_rates), median(&mut raw_rates));

    // Read latency under load.
    let token = citizens[0].token.clone();
    // The first citizen's dossiers of the timed pass.
    let own: Vec<String> = dossier_ids.iter().take(PER_CLIENT).cloned().collect();
    let floor_target = {
        let (base, own, token) = (base.clone(), own.clone(), token.clone());
        move |i: usize| (format!("{base}/bench/floor/{}", own[i % own.len()]), Some(token.clone()))
    };
    let read_target = {
        let base = base.clone();
        move |i: usize| (format!("{base}/api/v1/dossiers/{}", own[i % own.len()]), Some(token.clone()))
    };
    const COUNTED_READS: usize = 100;
    counting(true);
    let floor_queries = latency(&http, 1, COUNTED_READS, floor_target.clone()).await?.2 as f64 / COUNTED_READS as f64;
    let read_queries = latency(&http, 1, COUNTED_READS, read_target.clone()).await?.2 as f64 / COUNTED_READS as f64;
    counting(false);
    let read_floor = latency(&http, READ_CONCURRENCY, READS, floor_target).await?;
    let reads = latency(&http, READ_CONCURRENCY, READS, read_target).await?;
    let health = latency(&http, READ_CONCURRENCY, READS, {
        let base = base.clone();
        move |_| (format!("{base}/healthz"), None)
    })
    .await?;

    println!("\n[{name}]");
    println!("  submissions over HTTP      {http_rate:>9.1} dossiers/s   ({submit_queries:.1} SQL statements each)");
    println!(
        "  raw store inserts          {raw_rate:>9.1} dossiers/s   (same rows, same store function: {raw_queries:.1} statements)"
    );
    println!("  ratio HTTP / raw           {:>9.2}          (target >= 0.70)", http_rate / raw_rate);
    println!(
        "  GET /dossiers/{{id}}      {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({read_queries:.1} statements each)",
        reads.3,
        ms(reads.0),
        ms(reads.1)
    );
    println!(
        "  floor (auth + 1 query)   {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({floor_queries:.1} statements each)",
        read_floor.3,
        ms(read_floor.0),
        ms(read_floor.1)
    );
    println!(
        "  ratio read / floor       throughput {:>5.2} (target >= 0.70)   p99 {:>5.2}x (target <= 1.5x)",
        reads.3 / read_floor.3,
        reads.1.as_secs_f64() / read_floor.1.as_secs_f64()
    );
    println!(
        "  GET /healthz (no database) {:>6.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        health.3,
        ms(health.0),
        ms(health.1)
    );
    let _ = stop.send(());
    server.await??;
    db.close().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The user id inside an access token (its `sub`), without verifying it (our own token).
/// The middle value (rates of the rounds).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn applicant_of(token: &str) -> Uuid {
    use base64::Engine;
    let claims = token.split('.').nth(1).and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok());
    let claims: Value = claims.and_then(|c| serde_json::from_slice(&c).ok()).unwrap_or_default();
    claims["sub"].as_str().and_then(|s| Uuid::parse_str(s).ok()).unwrap_or_default()
}

/// p50, p99, SQL statements sent and throughput (requests/s) of `total` GETs,
/// `concurrency` at a time.
async fn latency(
    http: &reqwest::Client,
    concurrency: usize,
    total: usize,
    target: impl Fn(usize) -> (String, Option<String>) + Send + Sync + 'static,
) -> anyhow::Result<(Duration, Duration, u64, f64)> {
    let queries_before = queries();
    let started = Instant::now();
    let target = Arc::new(target);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, target, next) = (http.clone(), target.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let (url, token) = target(i);
                let mut request = http.get(url);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let started = Instant::now();
                let response = request.send().await?;
                let status = response.status();
                response.bytes().await?;
                samples.push(started.elapsed());
                if !status.is_success() {
                    bail!("GET answered {status}");
                }
            }
            Ok::<_, anyhow::Error>(samples)
        }));
    }
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await??);
    }
    let rate = samples.len() as f64 / started.elapsed().as_secs_f64();
    let sent = queries() - queries_before;
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    Ok((at(0.50), at(0.99), sent, rate))
}
