//! Figures of the offline client (printed, not asserted), each against a baseline measured
//! in the same run: autosave of one field of a 200-field draft vs a raw single-row INSERT
//! into the same SQLite store; offline search over a synthetic catalogue of 2,000
//! procedures (the seed's with their search data, repeated with varied names) vs a linear
//! scan of names; cold open of a store with 1,000 drafts vs opening an empty store; the
//! first catalogue sync of those 2,000 procedures in the app's language (bytes raw, gzip and
//! brotli as the server sends them, beside the bilingual answer; time to the first search)
//! vs parsing the same answer alone.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use motcua_client::{
    Client, ClientConfig, FieldValue, HttpRequest, HttpResponse, MemoryTokenStore, Transport, TransportError,
};
use motcua_domain::i18n::Lang;
use motcua_domain::search::SearchData;
use motcua_domain::wire::{CatalogueChanges, Procedure, catalogue};
use serde_json::{Value, json};

/// Answers made, by `since` and language.
type Answers = std::collections::HashMap<(i64, Option<Lang>), Vec<u8>>;

/// Serves one catalogue version holding `procedures` as the server's
/// `GET /api/v1/catalogue/changes` builds its answer (the same domain calls and JSON
/// writer): bilingual, or with `lang` each text once and shared fields once. Each answer
/// is made once and then served as made, as the server keeps the whole catalogue of each
/// language, so the client's time is measured alone. Keeps the bytes of the last answer,
/// to measure what the client was sent.
struct Catalogue {
    procedures: Vec<Procedure>,
    made: Mutex<Answers>,
    sent: Mutex<Vec<u8>>,
}

/// The value of the query parameter `name` in `url`.
fn param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// The changes answer over `procedures` (all of them when `since` is 0), as sent.
fn answer(procedures: &[Procedure], since: i64, lang: Option<Lang>) -> Vec<u8> {
    let procedures = if since >= 1 { Vec::new() } else { procedures.to_vec() };
    let mut changes = CatalogueChanges {
        version: 1,
        since,
        lang,
        fields: Vec::new(),
        procedures,
        retired: Vec::new(),
        shared_fields: Vec::new(),
    };
    let body = match lang {
        None => serde_json::to_vec(&changes),
        Some(lang) => {
            changes.procedures = changes.procedures.iter().map(|p| p.in_language(lang)).collect();
            catalogue::pack(&changes).and_then(|packed| serde_json::to_vec(&packed))
        }
    };
    body.unwrap_or_else(|e| panic!("{e}"))
}

impl Catalogue {
    /// Makes the answer to `since` in `lang` ahead (as the server holds it made).
    fn prepare(&self, since: i64, lang: Option<Lang>) {
        self.made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((since, lang))
            .or_insert_with(|| answer(&self.procedures, since, lang));
    }
}

#[async_trait::async_trait]
impl Transport for Catalogue {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let since: i64 = param(&request.url, "since").and_then(|s| s.parse().ok()).unwrap_or(0);
        let lang = param(&request.url, "lang").map(|l| if l == "en" { Lang::En } else { Lang::Vi });
        let body = self
            .made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((since, lang))
            .or_insert_with(|| answer(&self.procedures, since, lang))
            .clone();
        *self.sent.lock().unwrap_or_else(|e| e.into_inner()) = body.clone();
        Ok(HttpResponse { status: 200, headers: Vec::new(), body })
    }
}

async fn open_in(dir: &Path, procedures: Vec<Value>, language: &str) -> (Arc<Client>, Arc<Catalogue>) {
    let mut config = ClientConfig::new("http://bench.invalid", dir.to_string_lossy());
    config.language = language.into();
    let procedures =
        procedures.into_iter().map(|p| serde_json::from_value(p).unwrap_or_else(|e| panic!("{e}"))).collect();
    let catalogue = Arc::new(Catalogue { procedures, made: Mutex::default(), sent: Mutex::new(Vec::new()) });
    match Client::open_with_transport(config, Arc::new(MemoryTokenStore::new()), catalogue.clone()).await {
        Ok(c) => (c, catalogue),
        Err(e) => panic!("open: {e}"),
    }
}

async fn open(dir: &Path, procedures: Vec<Value>) -> Arc<Client> {
    open_in(dir, procedures, "vi").await.0
}

fn wide_procedure(fields: usize) -> Value {
    let fields: Vec<Value> = (0..fields)
        .map(|i| {
            json!({"key": format!("f{i:03}"), "label": format!("Trường {i}"), "required": i % 3 == 0,
                        "type": "text", "max_length": 200})
        })
        .collect();
    json!({"code": "9.999999", "name": "Thủ tục 200 trường", "name_en": "Wide", "field": "ho_tich",
           "agency": "UBND", "processing_days": 1, "fee_vnd": 0, "online_level": "full", "boundary_free": true,
           "required_documents": [], "form": {"version": 1, "fields": fields}, "version": 1})
}

struct Stats {
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats { p50: at(0.50), p99: at(0.99) }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn line(what: &str, s: &Stats, base_what: &str, b: &Stats) {
    println!(
        "{what:<44} p50 {:>9.1} µs  p99 {:>9.1} µs | baseline {base_what:<34} p50 {:>8.1} µs  p99 {:>8.1} µs | ratio p50 {:>6.1}x  p99 {:>6.1}x",
        us(s.p50),
        us(s.p99),
        us(b.p50),
        us(b.p99),
        us(s.p50) / us(b.p50).max(0.001),
        us(s.p99) / us(b.p99).max(0.001),
    );
}

async fn autosave() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let c = open(dir.path(), vec![wide_procedure(200)]).await;
    c.sync_catalogue().await.unwrap_or_else(|e| panic!("{e}"));
    let draft = c.create_draft("9.999999".into()).await.unwrap_or_else(|e| panic!("{e}"));
    let id = draft.summary.id;
    for i in 0..200 {
        c.set_field(id.clone(), format!("f{i:03}"), Some(FieldValue::Text { value: format!("giá trị {i}") }))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut samples = Vec::new();
    for n in 0..1_000 {
        let value = Some(FieldValue::Text { value: format!("Nguyễn Văn An {n}") });
        let t = Instant::now();
        c.set_field(id.clone(), format!("f{:03}", n % 200), value).await.unwrap_or_else(|e| panic!("{e}"));
        samples.push(t.elapsed());
    }
    c.close().await;
    // Baseline: one raw single-row INSERT (own transaction) into the same store file.
    let url = format!("sqlite://{}", dir.path().join("motcua.db").display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
    sqlx::raw_sql("PRAGMA synchronous = NORMAL; CREATE TABLE bench_rows (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut base = Vec::new();
    for n in 0..1_000_i64 {
        let t = Instant::now();
        sqlx::query("INSERT INTO bench_rows (k, v) VALUES ($1, $2)")
            .bind(n)
            .bind("Nguyễn Văn An")
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        base.push(t.elapsed());
    }
    line("autosave 1 field of a 200-field draft", &stats(samples), "raw single-row INSERT", &stats(base));
}

/// 2,000 procedures: the seed's (with `search.json` merged, as the server seeds them),
/// repeated with varied names, aliases and codes.
fn synthetic_catalogue(n: usize) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../server/seed");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let mut seed: Vec<Procedure> = serde_json::from_slice(&read("procedures.json")).unwrap_or_else(|e| panic!("{e}"));
    let search: SearchData = serde_json::from_slice(&read("search.json")).unwrap_or_else(|e| panic!("{e}"));
    search.apply(&mut seed).unwrap_or_else(|e| panic!("{e}"));
    const PLACES: [&str; 6] =
        ["cấp tỉnh", "cấp xã", "cho hộ gia đình", "cho tổ chức", "qua bưu chính", "có yếu tố nước ngoài"];
    (0..n)
        .map(|k| {
            let mut p = seed[k % seed.len()].clone();
            let place = PLACES[(k / seed.len()) % PLACES.len()];
            p.code = format!("9.{k:06}");
            p.name = format!("{} {place} mẫu {}", p.name, k / (seed.len() * PLACES.len()));
            p.aliases = p.aliases.iter().map(|a| format!("{a} {place}")).collect();
            p.version = 1;
            serde_json::to_value(&p).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

async fn search() {
    let seed = synthetic_catalogue(2_000);
    let names: Vec<String> = seed.iter().filter_map(|p| p["name"].as_str().map(str::to_lowercase)).collect();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let c = open(dir.path(), seed).await;
    c.sync_catalogue().await.unwrap_or_else(|e| panic!("{e}"));
    let queries = [
        "khai sinh",
        "Đăng ký",
        "dang ky ket hon",
        "giấy phép xây dựng",
        "dat dai",
        "cap",
        "ho kinh doanh",
        "z",
        "so do",
        "dangky tamtru",
        "doi bang lai",
        "xin giay xac nhan doc than",
    ];
    c.search_procedures("warm".into(), None, 0).await.unwrap_or_else(|e| panic!("{e}"));
    let mut samples = Vec::new();
    let mut base = Vec::new();
    let mut found = 0;
    for n in 0..2_000 {
        let q = queries[n % queries.len()];
        let t = Instant::now();
        found += c.search_procedures(q.into(), None, 20).await.unwrap_or_else(|e| panic!("{e}")).len();
        samples.push(t.elapsed());
        let t = Instant::now();
        let lower = q.to_lowercase();
        found += names.iter().filter(|name| name.contains(&lower)).count();
        base.push(t.elapsed());
    }
    line(
        &format!("offline search, {} procedures", names.len()),
        &stats(samples),
        "linear scan of names (contains)",
        &stats(base),
    );
    std::hint::black_box(found);
    c.close().await;
}

/// Sizes of `body` compressed with gzip at `level` and brotli at `quality` (window 2^22).
fn compressed_at(body: &[u8], level: u32, quality: u32) -> (usize, usize) {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    gz.write_all(body).unwrap_or_else(|e| panic!("{e}"));
    let gzip = gz.finish().unwrap_or_else(|e| panic!("{e}")).len();
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 64 * 1024, quality, 22);
        w.write_all(body).unwrap_or_else(|e| panic!("{e}"));
    }
    (gzip, br.len())
}

/// Sizes of `body` compressed as the server's compression layer sends an answer (level 5).
fn compressed_sizes(body: &[u8]) -> (usize, usize) {
    compressed_at(body, 5, 5)
}

/// The server compresses the whole catalogue in one language once per version, at these
/// levels (`motcua_server::catalogue::{WHOLE_GZIP_LEVEL, WHOLE_BROTLI_QUALITY}`).
const WHOLE_LEVELS: (u32, u32) = (9, 11);

/// Sizes of one answer: raw, gzip, brotli (as the server compresses it).
struct Sizes {
    raw: usize,
    gzip: usize,
    br: usize,
}

fn sizes(body: &[u8]) -> Sizes {
    let (gzip, br) = compressed_sizes(body);
    Sizes { raw: body.len(), gzip, br }
}

/// Sizes of the whole catalogue in one language, as the server sends it.
fn whole_sizes(body: &[u8]) -> Sizes {
    let (gzip, br) = compressed_at(body, WHOLE_LEVELS.0, WHOLE_LEVELS.1);
    Sizes { raw: body.len(), gzip, br }
}

fn mb(bytes: f64) -> f64 {
    bytes / 1e6
}

/// The first catalogue sync over 2,000 procedures, as the app asks for it (in its language:
/// each text once, shared form fields once) beside the bilingual answer of the same
/// catalogue (what a caller without `lang` gets): the answer's size (raw, gzip and brotli
/// as the server sends them) and the time from an empty store to the first search, beside
/// parsing the same answer alone. The synthetic catalogue repeats the seed's procedures,
/// which brotli's 4 MB window sees (gzip's 32 KB does not): the size of 2,000 distinct
/// procedures is estimated from the seed's alone (with their search data, as the server
/// seeds them), compressed, per procedure, the shared fields counted with each share.
async fn first_sync() {
    let procedures = synthetic_catalogue(2_000);
    let typed: Vec<Procedure> =
        procedures.iter().map(|p| serde_json::from_value(p.clone()).unwrap_or_else(|e| panic!("{e}"))).collect();
    // The first procedures of the synthetic catalogue are the seed's, once each.
    let seed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../server/seed/procedures.json");
    let seed: Vec<Value> = serde_json::from_slice(&std::fs::read(seed_dir).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let seed_count = seed.len().min(typed.len()).max(1);
    let per = |bytes: usize| mb(bytes as f64 / seed_count as f64 * 2_000.0);
    let bilingual = sizes(&answer(&typed, 0, None));
    let bilingual_seed = sizes(&answer(&typed[..seed_count], 0, None));
    let bilingual_seed_best = whole_sizes(&answer(&typed[..seed_count], 0, None));
    println!(
        "first catalogue sync, 2,000 procedures, bilingual (no lang, level 5): {} bytes raw, gzip {:.2} MB, brotli {:.2} MB; \
         2,000 distinct estimated from the {seed_count} seed ones: gzip {:.2} MB, brotli {:.2} MB \
         (at gzip 9 / brotli 11 it would be {:.2} / {:.2} MB)",
        bilingual.raw,
        mb(bilingual.gzip as f64),
        mb(bilingual.br as f64),
        per(bilingual_seed.gzip),
        per(bilingual_seed.br),
        per(bilingual_seed_best.gzip),
        per(bilingual_seed_best.br),
    );
    for lang in ["vi", "en"] {
        let (mut samples, mut base) = (Vec::new(), Vec::new());
        let mut sent = Vec::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let (c, catalogue) = open_in(dir.path(), procedures.clone(), lang).await;
            catalogue.prepare(0, Some(if lang == "en" { Lang::En } else { Lang::Vi }));
            let t = Instant::now();
            let report = c.sync_catalogue().await.unwrap_or_else(|e| panic!("{e}"));
            let hits = c.search_procedures("khai sinh".into(), None, 20).await.unwrap_or_else(|e| panic!("{e}"));
            samples.push(t.elapsed());
            assert_eq!(report.changed, 2_000);
            assert!(!hits.is_empty());
            c.close().await;
            sent = catalogue.sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let t = Instant::now();
            let parsed: Value = serde_json::from_slice(&sent).unwrap_or_else(|e| panic!("{e}"));
            base.push(t.elapsed());
            std::hint::black_box(parsed);
        }
        assert!(std::str::from_utf8(&sent).is_ok_and(|s| s.contains(&format!("\"lang\":\"{lang}\""))));
        let t = Instant::now();
        let got = whole_sizes(&sent);
        let compress_ms = t.elapsed().as_secs_f64() * 1e3;
        let lang_of = if lang == "en" { Lang::En } else { Lang::Vi };
        let seed_answer = answer(&typed[..seed_count], 0, Some(lang_of));
        let seed_sizes = whole_sizes(&seed_answer);
        // The shared fields are sent once per answer: the estimate with them counted once
        // (the seed's answer without them, per procedure, plus them).
        let mut parts: Value = serde_json::from_slice(&seed_answer).unwrap_or_else(|e| panic!("{e}"));
        let shared = parts["shared_fields"].take();
        let shared =
            whole_sizes(&serde_json::to_vec(&json!({ "shared_fields": shared })).unwrap_or_else(|e| panic!("{e}")));
        let rest = whole_sizes(&serde_json::to_vec(&parts).unwrap_or_else(|e| panic!("{e}")));
        let once = |all: usize, rest: usize| mb(all as f64 + rest as f64 / seed_count as f64 * 2_000.0);
        println!(
            "first catalogue sync, 2,000 procedures, app in {lang:<2} (as sent; gzip 9 and brotli 11 once per version, \
             {compress_ms:.0} ms): {} bytes raw ({:.2}x), gzip {:.2} MB ({:.2}x), \
             brotli {:.2} MB ({:.2}x); 2,000 distinct estimated: gzip {:.2} MB ({:.2}x), brotli {:.2} MB ({:.2}x), \
             with the shared fields counted once: gzip {:.2} MB, brotli {:.2} MB (goal < 1 MB compressed)",
            got.raw,
            got.raw as f64 / bilingual.raw as f64,
            mb(got.gzip as f64),
            got.gzip as f64 / bilingual.gzip as f64,
            mb(got.br as f64),
            got.br as f64 / bilingual.br as f64,
            per(seed_sizes.gzip),
            seed_sizes.gzip as f64 / bilingual_seed.gzip as f64,
            per(seed_sizes.br),
            seed_sizes.br as f64 / bilingual_seed.br as f64,
            once(shared.gzip, rest.gzip),
            once(shared.br, rest.br),
        );
        let (s, b) = (stats(samples), stats(base));
        println!(
            "{:<44} median {:>8.1} ms  worst {:>8.1} ms | baseline {:<34} median {:>6.1} ms | ratio {:>6.1}x",
            format!("first sync to first search, {lang} (5 stores)"),
            s.p50.as_secs_f64() * 1e3,
            s.p99.as_secs_f64() * 1e3,
            "JSON parse of the answer alone",
            b.p50.as_secs_f64() * 1e3,
            s.p50.as_secs_f64() / b.p50.as_secs_f64().max(1e-9),
        );
    }
}

async fn cold_open() {
    let full = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let c = open(full.path(), vec![wide_procedure(20)]).await;
    c.sync_catalogue().await.unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..1_000 {
        let d = c.create_draft("9.999999".into()).await.unwrap_or_else(|e| panic!("{e}"));
        for i in 0..5 {
            c.set_field(d.summary.id.clone(), format!("f{i:03}"), Some(FieldValue::Text { value: "giá trị".into() }))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    c.close().await;
    drop(c);
    let empty = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    open(empty.path(), Vec::new()).await.close().await;
    let (mut samples, mut base) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let t = Instant::now();
        let c = open(full.path(), Vec::new()).await;
        let drafts = c.list_drafts().await.unwrap_or_else(|e| panic!("{e}"));
        samples.push(t.elapsed());
        assert_eq!(drafts.len(), 1_000);
        c.close().await;
        let t = Instant::now();
        let c = open(empty.path(), Vec::new()).await;
        c.list_drafts().await.unwrap_or_else(|e| panic!("{e}"));
        base.push(t.elapsed());
        c.close().await;
    }
    line("cold open + list, 1,000 drafts", &stats(samples), "cold open + list, empty store", &stats(base));
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    println!("motcua-client benchmarks ({} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
    runtime.block_on(async {
        autosave().await;
        search().await;
        first_sync().await;
        cold_open().await;
    });
}
