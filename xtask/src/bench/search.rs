//! `cargo xtask bench search`: search quality and latency. Prints recall@3 and mean
//! reciprocal rank on the shared development set (`../shared/search/citizen-queries.json`
//! when present, else its copy in `server/tests/data/`) and on the repository's own set of
//! other everyday queries (`server/tests/data/everyday-queries.json`), and query latency
//! over the seed catalogue and a synthetic one of 2,000 procedures against a linear scan of
//! names measured in the same run. The measuring code is the domain's release-built bench
//! (`core/domain/benches/search.rs`), so the figures are those of optimised code.

use std::path::PathBuf;

use anyhow::bail;

use super::Release;
use crate::util::{cargo, run as run_cmd};

pub fn run(_: &Release) -> anyhow::Result<()> {
    let root = std::env::current_dir()?;
    let shared = root.join("../shared/search/citizen-queries.json");
    let data = root.join("server/tests/data");
    let sets: Vec<PathBuf> = vec![
        if shared.exists() { shared } else { data.join("citizen-queries.json") },
        data.join("everyday-queries.json"),
    ];
    for set in &sets {
        if !set.exists() {
            bail!("query set {} is missing", set.display());
        }
    }
    let joined: Vec<String> = sets.iter().map(|p| p.display().to_string()).collect();
    run_cmd(
        cargo()
            .args(["bench", "-p", "motcua-domain", "--bench", "search"])
            .env("MOTCUA_SEED_DIR", root.join("server/seed"))
            .env("MOTCUA_QUERY_SETS", joined.join(":")),
    )
}
