//! Search quality and latency (printed, not asserted): recall@3 and mean reciprocal rank on
//! labelled query sets over the seed catalogue, and query latency over the seed catalogue
//! and a synthetic catalogue of 2,000 procedures, against a baseline measured in the same
//! run (a linear scan of folded names for the folded query).
//!
//! Run by `cargo xtask bench search`, which passes the files: `MOTCUA_SEED_DIR` (the
//! server's `seed/`), `MOTCUA_QUERY_SETS` (query set files, separated by `:`);
//! `MOTCUA_BENCH_SLOWEST=1` also prints the slowest searches of each catalogue.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use motcua_domain::search::{Index, QuerySet, SearchData, SearchDoc, quality};
use motcua_domain::text::fold;
use motcua_domain::wire::{FieldInfo, Procedure};

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The seed catalogue with its search data merged, as the server seeds it.
fn seed(dir: &Path) -> (Vec<Procedure>, Vec<FieldInfo>) {
    let mut procedures: Vec<Procedure> = read(&dir.join("procedures.json"));
    let search: SearchData = read(&dir.join("search.json"));
    search.apply(&mut procedures).unwrap_or_else(|e| panic!("search.json: {e}"));
    (procedures, read(&dir.join("fields.json")))
}

/// 2,000 procedures: the seed's, repeated with varied names, aliases and codes.
fn synthetic(seed: &[Procedure], n: usize) -> Vec<Procedure> {
    const PLACES: [&str; 12] = [
        "cấp tỉnh",
        "cấp xã",
        "tại khu công nghiệp",
        "cho người nước ngoài",
        "cho hộ gia đình",
        "cho tổ chức",
        "qua bưu chính",
        "trực tuyến toàn trình",
        "liên thông",
        "đối với cá nhân",
        "lần hai",
        "có yếu tố nước ngoài",
    ];
    (0..n)
        .map(|k| {
            let mut p = seed[k % seed.len()].clone();
            let place = PLACES[(k / seed.len()) % PLACES.len()];
            p.code = format!("9.{k:06}");
            p.name = format!("{} {place} mẫu {}", p.name, k / (seed.len() * PLACES.len()));
            p.aliases = p.aliases.iter().map(|a| format!("{a} {place}")).collect();
            p
        })
        .collect()
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

fn latency(what: &str, procedures: &[Procedure], fields: &[FieldInfo], queries: &[String]) {
    let t = Instant::now();
    let index = Index::new(procedures.iter().map(SearchDoc::from), fields);
    let build = t.elapsed();
    let names: Vec<String> = procedures.iter().map(|p| fold(&p.name)).collect();
    let (mut samples, mut base, mut found) = (Vec::new(), Vec::new(), 0);
    for round in 0..20 {
        for q in queries {
            let t = Instant::now();
            found += index.search(q, None).hits.len();
            let d = t.elapsed();
            let t = Instant::now();
            let folded = fold(q);
            found += names.iter().filter(|n| n.contains(&folded)).count();
            let b = t.elapsed();
            if round > 0 {
                samples.push(d);
                base.push(b);
            }
        }
    }
    std::hint::black_box(found);
    if std::env::var_os("MOTCUA_BENCH_SLOWEST").is_some() {
        let mut per_query: Vec<(Duration, &String)> = samples.iter().copied().zip(queries.iter().cycle()).collect();
        per_query.sort_by_key(|b| std::cmp::Reverse(b.0));
        for (d, q) in per_query.iter().take(8) {
            println!("    slow: {:>8.1} µs {q:?}", us(*d));
        }
    }
    let (s, b) = (stats(samples), stats(base));
    println!(
        "{what:<34} index built in {:>7.2} ms | search p50 {:>7.1} µs  p99 {:>7.1} µs | baseline linear scan of names p50 {:>6.1} µs  p99 {:>6.1} µs | ratio p99 {:.1}x",
        build.as_secs_f64() * 1e3,
        us(s.p50),
        us(s.p99),
        us(b.p50),
        us(b.p99),
        us(s.p99) / us(b.p99).max(0.001)
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let seed_dir = std::env::var_os("MOTCUA_SEED_DIR").map_or_else(|| root.join("server/seed"), PathBuf::from);
    let sets: Vec<PathBuf> = std::env::var("MOTCUA_QUERY_SETS").map_or_else(
        |_| {
            ["citizen-queries.json", "everyday-queries.json"]
                .iter()
                .map(|f| root.join("server/tests/data").join(f))
                .collect()
        },
        |v| v.split(':').filter(|s| !s.is_empty()).map(PathBuf::from).collect(),
    );
    println!("motcua-domain search benchmark ({} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
    let (procedures, fields) = seed(&seed_dir);
    let index = Index::new(procedures.iter().map(SearchDoc::from), &fields);
    let mut all_queries = Vec::new();
    for path in &sets {
        let set: QuerySet = read(path);
        let q = quality(&index, &set.queries);
        println!(
            "{:<60} {:>3} queries  recall@3 {:.3}  MRR {:.3}",
            path.display().to_string(),
            set.queries.len(),
            q.recall_at_3,
            q.mrr
        );
        for (query, top) in &q.misses {
            println!("    miss: {query:?} → {top:?}");
        }
        all_queries.extend(set.queries.into_iter().map(|q| q.q));
    }
    latency(&format!("seed catalogue ({} procedures)", procedures.len()), &procedures, &fields, &all_queries);
    let big = synthetic(&procedures, 2_000);
    latency("synthetic catalogue (2,000)", &big, &fields, &all_queries);
}
