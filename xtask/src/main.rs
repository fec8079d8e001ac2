//! `cargo xtask`: every developer and CI task behind one entry point.
//!
//! - `cargo xtask test`: the whole suite on a fresh machine: formatting, clippy, and every
//!   test on SQLite and on a throwaway PostgreSQL cluster this command starts and removes,
//!   then the Kotlin (JVM) and Python tests of the generated bindings against a live server.
//! - `cargo xtask pg`: start a throwaway cluster and print its URL (until Enter).
//! - `cargo xtask bench`: benchmarks, printing ratios against baselines measured in the
//!   same run.
//! - `cargo xtask schemathesis`: property-based API fuzzing against `/openapi.json`.
//! - `cargo xtask bindings [--check | --bless | --size | --test]`: generate the Kotlin,
//!   Swift and Python bindings into `target/bindings`, check or update the FFI surface
//!   snapshot, measure the shipped library, or run only the binding tests.

mod bench;
mod bindings;
mod pg;
mod util;

use anyhow::{Context, bail};

use crate::util::{cargo, run};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = util::workspace_root()?;
    std::env::set_current_dir(&root).context("entering the workspace root")?;
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("pg") => {
            let cluster = pg::Cluster::start()?;
            println!("DATABASE_URL={}", cluster.url());
            println!("(press Enter, or close standard input, to stop and remove it)");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            drop(cluster);
            Ok(())
        }
        Some("bench") => bench::run(&args[1..]),
        Some("schemathesis") => bench::schemathesis(),
        Some("bindings") => bindings::run_task(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <test [--no-lint] | pg | bench | schemathesis | bindings [--check|--bless|--size|--test]>"
            );
            bail!("unknown or missing task");
        }
    }
}

/// The whole suite, as CI runs it.
fn test(args: &[String]) -> anyhow::Result<()> {
    let lint = !args.iter().any(|a| a == "--no-lint");
    if lint {
        run(cargo().args(["fmt", "--all", "--", "--check"]))?;
        run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    }
    let cluster = pg::Cluster::start()?;
    let result = run(cargo().args(["test", "--workspace"]).env("MOTCUA_TEST_DATABASE_URL", cluster.url()));
    drop(cluster);
    result?;
    bindings::test()
}
