//! Field report benchmark (run by `cargo xtask bench reports`), on SQLite and on PostgreSQL
//! (`MOTCUA_BENCH_DATABASE_URL`, an administrator URL; xtask starts one):
//!
//! - submissions per second over HTTP, each report with two photos (uploaded beforehand;
//!   the server checks them and makes their thumbnails), beside raw inserts of the same
//!   rows through the same store function at the same concurrency;
//! - the nearby query (open reports of a category within 250 m, last 30 days) with
//!   100,000 reports in the database, p50/p99, beside a primary-key read of a report in
//!   the same run; and the same over HTTP beside `GET /healthz`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{TimeDelta, Utc};
use motcua_domain::geo::LatLng;
use motcua_server::app::AppState;
use motcua_server::config::Config;
use motcua_server::db::{BeginWrite, Db};
use motcua_server::reports::store::{self, NewPhoto, NewReport, Notice};
use serde_json::{Value, json};
use uuid::Uuid;

const CLIENTS: usize = 8;
const PER_CLIENT: usize = 25;
const REPORTS: usize = 100_000;
const PROBES: usize = 2_000;
const CATEGORIES: [&str; 11] = [
    "rac-thai",
    "o-ga-mat-duong",
    "den-chieu-sang",
    "ngap-ung",
    "cay-xanh",
    "lan-chiem-via-he",
    "xay-dung-trai-phep",
    "tieng-on",
    "nuoc-sach",
    "den-tin-hieu",
    "khac",
];

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        println!(
            "report benchmark: {CLIENTS} clients x {PER_CLIENT} reports with two photos; nearby over {REPORTS} reports, {PROBES} probes"
        );
        let scratch = std::env::temp_dir().join(format!("motcua-bench-reports-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&scratch)?;
        let sqlite = format!("sqlite://{}", scratch.join("bench.db").display());
        run_backend("sqlite", &sqlite, &scratch).await?;
        match std::env::var("MOTCUA_BENCH_DATABASE_URL") {
            Ok(admin) => {
                let url = fresh_pg(&admin).await?;
                run_backend("postgres", &url, &scratch).await?;
            }
            Err(_) => bail!("MOTCUA_BENCH_DATABASE_URL is not set: run this through `cargo xtask bench reports`"),
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

/// A small real JPEG carrying GPS EXIF, distinct per seed.
fn photo(seed: u32) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([(x ^ seed) as u8, (y + seed) as u8, 80]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 80).encode_image(&pixels).expect("jpeg");
    let exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0GPS";
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, 0, (exif.len() + 2) as u8]);
    out.extend_from_slice(exif);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A deterministic pseudo-random sequence (no extra dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn notice(code: &str) -> Notice {
    Notice {
        title_vi: format!("Phản ánh {code}"),
        title_en: format!("Report {code}"),
        body_vi: "Đã tiếp nhận.".into(),
        body_en: "Received.".into(),
        places_too: true,
    }
}

async fn run_backend(name: &str, url: &str, scratch: &std::path::Path) -> anyhow::Result<()> {
    println!("\n-- {name} --");
    let config = Config {
        database_url: url.to_owned(),
        blob_dir: scratch.join(format!("blobs-{name}")),
        auth_rate_per_min: 1_000_000,
        log_json: false,
        quotas: motcua_server::config::Quotas {
            uploads_per_day: 1_000_000,
            reports_per_hour: 1_000_000,
            min_free_disk_bytes: 0,
            ..Default::default()
        },
        ..Config::default()
    };
    let db = Db::connect(url, config.db_max_connections).await?;
    let mut state = AppState::new(config, db.clone()).await?;
    let sms = std::sync::Arc::new(motcua_server::sms::MemorySms::default());
    state.sms = sms.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service =
        motcua_server::app::router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let http = reqwest::Client::new();

    // Citizens, each with two photos uploaded.
    let mut citizens = Vec::new();
    for i in 0..CLIENTS {
        let phone = format!("091{i:07}");
        let challenge: Value = http
            .post(format!("{base}/api/v1/auth/register"))
            .json(&json!({"citizen_id": format!("0012030{i:05}"), "phone": phone, "full_name": "Người Dùng Thử", "password": "matkhau123"}))
            .send()
            .await?
            .json()
            .await?;
        let code = sms.sent_to(&phone).last().and_then(|t| motcua_server::sms::code_in(t)).context("code")?;
        let registered: Value = http
            .post(format!("{base}/api/v1/auth/register/verify"))
            .json(&json!({"verification_id": challenge["verification_id"], "code": code}))
            .send()
            .await?
            .json()
            .await?;
        let token = registered["access_token"].as_str().context("token")?.to_owned();
        let mut photos = Vec::new();
        for k in 0..2u32 {
            let attachment: Value = http
                .post(format!("{base}/api/v1/attachments?name=anh-{k}.jpg"))
                .bearer_auth(&token)
                .body(photo(i as u32 * 10 + k))
                .send()
                .await?
                .json()
                .await?;
            photos.push(attachment["id"].as_str().context("attachment")?.to_owned());
        }
        citizens.push((token, photos));
    }

    // Submissions over HTTP.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (token, photos)) in citizens.iter().enumerate() {
        let (http, url, token, photos) =
            (http.clone(), format!("{base}/api/v1/reports"), token.clone(), photos.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..PER_CLIENT {
                let body = json!({
                    "category": CATEGORIES[(i + n) % CATEGORIES.len()],
                    "description": "Rác thải tồn đọng nhiều ngày trên vỉa hè.",
                    "photos": photos,
                    "lat": 21.0287 + i as f64 * 0.001,
                    "lng": 105.8524 + n as f64 * 0.001,
                });
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("idempotency-key", Uuid::new_v4().to_string())
                    .json(&body)
                    .send()
                    .await?;
                if response.status() != 201 {
                    bail!("filing answered {}: {}", response.status(), response.text().await?);
                }
                let report: Value = response.json().await?;
                ids.push(report["id"].as_str().context("id")?.to_owned());
            }
            Ok::<_, anyhow::Error>(ids)
        }));
    }
    let mut filed = Vec::new();
    for t in tasks {
        filed.extend(t.await??);
    }
    let http_rate = (CLIENTS * PER_CLIENT) as f64 / started.elapsed().as_secs_f64();

    // The same rows straight through the store (the photos' thumbnails already made).
    let first = store::find(&db, Uuid::parse_str(&filed[0])?).await?.context("a filed report")?;
    let photos = store::photos(&db, first.id).await?;
    let rows: Vec<(Uuid, Vec<NewPhoto>)> = {
        let mut rows = Vec::new();
        for (token, ids) in &citizens {
            let me: Value = http.get(format!("{base}/api/v1/me")).bearer_auth(token).send().await?.json().await?;
            let owner = Uuid::parse_str(me["id"].as_str().context("me.id")?)?;
            let attachments: Vec<NewPhoto> = ids
                .iter()
                .zip(&photos)
                .map(|(id, p)| NewPhoto {
                    attachment_id: Uuid::parse_str(id).unwrap_or_default(),
                    thumb_sha256: p.thumb_sha256.clone(),
                    thumb_size: 1,
                })
                .collect();
            rows.push((owner, attachments));
        }
        rows
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (owner, photos)) in rows.into_iter().enumerate() {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..PER_CLIENT {
                let now = Utc::now();
                let new = NewReport {
                    id: Uuid::now_v7(),
                    reporter_id: Some(owner),
                    partner_key_id: None,
                    category_code: CATEGORIES[(i + n) % CATEGORIES.len()].to_owned(),
                    description: "Rác thải tồn đọng nhiều ngày trên vỉa hè.".to_owned(),
                    ward_code: "00070".to_owned(),
                    at: LatLng { lat: 21.0287 + i as f64 * 0.001, lng: 105.8524 + n as f64 * 0.001 },
                    address: String::new(),
                    hide_identity: false,
                    due_date: now.date_naive(),
                    now,
                    photos: photos.clone(),
                    idempotency: Some((Uuid::new_v4().to_string(), "raw".to_owned())),
                    claim: None,
                };
                store::insert(&db, &new, notice).await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let raw_rate = (CLIENTS * PER_CLIENT) as f64 / started.elapsed().as_secs_f64();
    println!(
        "submissions with two photos: {http_rate:.0}/s over HTTP, raw store inserts of the same rows {raw_rate:.0}/s (HTTP = {:.2} x raw)",
        http_rate / raw_rate
    );

    // 100,000 reports over the city's core, in bulk.
    let started = Instant::now();
    bulk_reports(&db, REPORTS).await?;
    println!("loaded {REPORTS} reports in {:.1} s", started.elapsed().as_secs_f64());
    if let Db::Postgres(pool) = &db {
        sqlx::query("ANALYZE reports").execute(pool).await?;
    }

    // Nearby against a primary-key read, same run.
    let mut rng = Lcg(42);
    let ids: Vec<Uuid> = motcua_server::on_db!(&db, read, pool => {
        sqlx::query_scalar("SELECT id FROM reports ORDER BY id LIMIT 2000").fetch_all(pool).await
    })?;
    let now = Utc::now();
    let (mut near, mut pk, mut found) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..PROBES {
        let p = LatLng { lat: 20.95 + rng.next() * 0.13, lng: 105.75 + rng.next() * 0.15 };
        let category = CATEGORIES[i % CATEGORIES.len()];
        let t = Instant::now();
        found += store::nearby(&db, category, p, now, 20).await?.len();
        near.push(t.elapsed());
        let t = Instant::now();
        store::find(&db, ids[i % ids.len()]).await?.context("a report")?;
        pk.push(t.elapsed());
    }
    near.sort();
    pk.sort();
    println!(
        "nearby query: p50 {:.2} ms, p99 {:.2} ms (avg {:.1} found); primary-key read: p50 {:.2} ms, p99 {:.2} ms; nearby p99 = {:.1} x pk p99",
        ms(percentile(&near, 0.5)),
        ms(percentile(&near, 0.99)),
        found as f64 / PROBES as f64,
        ms(percentile(&pk, 0.5)),
        ms(percentile(&pk, 0.99)),
        ms(percentile(&near, 0.99)) / ms(percentile(&pk, 0.99)).max(1e-6)
    );

    // Over HTTP, against /healthz.
    let (mut near_http, mut health) = (Vec::new(), Vec::new());
    for i in 0..PROBES / 2 {
        let p = LatLng { lat: 20.95 + rng.next() * 0.13, lng: 105.75 + rng.next() * 0.15 };
        let url = format!(
            "{base}/api/v1/reports/nearby?lat={}&lng={}&category={}",
            p.lat,
            p.lng,
            CATEGORIES[i % CATEGORIES.len()]
        );
        let t = Instant::now();
        let r = http.get(&url).send().await?;
        if r.status() != 200 {
            bail!("nearby answered {}", r.status());
        }
        r.bytes().await?;
        near_http.push(t.elapsed());
        let t = Instant::now();
        http.get(format!("{base}/healthz")).send().await?.bytes().await?;
        health.push(t.elapsed());
    }
    near_http.sort();
    health.sort();
    println!(
        "GET /reports/nearby: p50 {:.2} ms, p99 {:.2} ms; GET /healthz: p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&near_http, 0.5)),
        ms(percentile(&near_http, 0.99)),
        ms(percentile(&health, 0.5)),
        ms(percentile(&health, 0.99))
    );
    let _ = stop.send(());
    server.await??;
    db.close().await;
    Ok(())
}

/// Inserts `n` reports spread over the city's core (random category, status and age over
/// 60 days), 500 rows per statement.
async fn bulk_reports(db: &Db, n: usize) -> anyhow::Result<()> {
    let mut rng = Lcg(7);
    let now = Utc::now();
    let statuses = ["received", "assigned", "in_progress", "resolved", "rejected", "received", "in_progress"];
    let per = 500;
    let columns = 15;
    for chunk in 0..n.div_ceil(per) {
        let rows = per.min(n - chunk * per);
        let placeholders: Vec<String> = (0..rows)
            .map(|r| {
                let b = r * columns;
                let p: Vec<String> = (1..=columns).map(|c| format!("${}", b + c)).collect();
                format!("({}, FALSE, 1, 0)", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO reports (id, code, category_code, description, status, ward_code, lat, lng, grid_lat, address, \
             hide_identity, due_date, created_at, updated_at, reporter_id, description_hidden, revision, followers) VALUES {}",
            placeholders.join(", ")
        );
        let mut values = Vec::with_capacity(rows);
        for r in 0..rows {
            let i = chunk * per + r;
            let lat = 20.95 + rng.next() * 0.13;
            let lng = 105.75 + rng.next() * 0.15;
            let created = now - TimeDelta::seconds((rng.next() * 60.0 * 86_400.0) as i64);
            let status = statuses[(rng.next() * statuses.len() as f64) as usize % statuses.len()];
            let category = CATEGORIES[(rng.next() * CATEGORIES.len() as f64) as usize % CATEGORIES.len()];
            values.push((Uuid::now_v7(), format!("BULK-{i:07}"), category, status, lat, lng, created));
        }
        motcua_server::on_db!(db, write, pool => async {
            let mut tx = pool.begin_write().await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, code, category, status, lat, lng, created) in &values {
                q = q
                    .bind(*id).bind(code.clone()).bind(*category).bind("Phản ánh mẫu").bind(*status).bind("00070")
                    .bind(*lat).bind(*lng).bind(store::grid_lat(*lat)).bind("").bind(false)
                    .bind(created.date_naive()).bind(*created).bind(*created).bind(None::<Uuid>);
            }
            q.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        }.await)?;
    }
    Ok(())
}
