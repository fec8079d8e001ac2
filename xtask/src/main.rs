//! `cargo xtask`: every developer and CI task behind one entry point.
//!
//! - `cargo xtask test`: the whole suite on a fresh machine: formatting, clippy, every
//!   test on SQLite and on a throwaway PostgreSQL cluster this command starts and removes
//!   (the end-to-end crate `tests/e2e` among them: the server and FCM emulator binaries,
//!   built by the test itself, with the client library), the upload, dossier and report
//!   API tests once more over an S3-compatible server (moto, from PyPI) this command
//!   starts, the OpenAPI document checked by a
//!   validator, the Open311 face read by the PyPI client `georeport`, then the Kotlin (JVM)
//!   and Python tests of the generated bindings against a live server, then the web
//!   console's officer journey in headless Chromium.
//!   `--step lint|test|openapi|open311|bindings|browser`
//!   (repeatable) runs only those steps, in that order.
//! - `cargo xtask pg`: start a throwaway cluster and print its URL (until Enter).
//! - `cargo xtask bench [NAME]...`: benchmarks, printing ratios against baselines measured
//!   in the same run.
//! - `cargo xtask schemathesis`: property-based API fuzzing against `/openapi.json`.
//! - `cargo xtask openapi`: validate the server's OpenAPI document (the `openapi` step).
//! - `cargo xtask bindings [--check | --bless | --size | --test]`: generate the Kotlin,
//!   Swift and Python bindings into `target/bindings`, check or update the FFI surface
//!   snapshot, measure the shipped library, or run only the binding tests.
//!
//! Arguments are parsed by clap: an unknown task or flag is an error with the usage.

mod bench;
mod bindings;
mod browser;
mod open311;
mod openapi;
mod pg;
mod s3;
mod util;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::util::{cargo, run};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Every developer and CI task of motcua behind one entry point.")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// The whole suite as CI runs it, or only some of its steps.
    Test {
        /// Run only this step (repeat for several); without it, every step.
        #[arg(long = "step", value_enum)]
        steps: Vec<Step>,
        /// Every step but `lint` (kept for existing scripts).
        #[arg(long, conflicts_with = "steps")]
        no_lint: bool,
    },
    /// A throwaway PostgreSQL cluster: prints its URL and keeps it until Enter.
    Pg,
    /// Benchmarks (all of them, or those named), each beside a baseline of the same run.
    Bench {
        /// Names of benchmarks to run.
        names: Vec<String>,
    },
    /// Property-based fuzzing of the API against its OpenAPI document.
    Schemathesis,
    /// Validate the server's OpenAPI document with openapi-spec-validator.
    Openapi,
    /// Generate the bindings; check or update the FFI surface snapshot.
    Bindings(bindings::Options),
}

/// One step of `cargo xtask test`, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Step {
    /// `cargo fmt --check` and clippy with warnings denied.
    Lint,
    /// Every Rust test, on SQLite and on a throwaway PostgreSQL cluster.
    Test,
    /// The OpenAPI document checked by openapi-spec-validator.
    Openapi,
    /// The Open311 face read by the PyPI client `georeport` (tools/open311).
    Open311,
    /// The Kotlin and Python tests of the generated bindings, against a live server.
    Bindings,
    /// The web console's officer journey in headless Chromium (playwright-core).
    Browser,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let root = util::workspace_root()?;
    std::env::set_current_dir(&root).context("entering the workspace root")?;
    match cli.task {
        Task::Test { steps, no_lint } => test(&selected_steps(steps, no_lint)),
        Task::Pg => {
            let cluster = pg::Cluster::start()?;
            println!("DATABASE_URL={}", cluster.url());
            println!("(press Enter, or close standard input, to stop and remove it)");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            drop(cluster);
            Ok(())
        }
        Task::Bench { names } => bench::run(&names),
        Task::Schemathesis => bench::schemathesis(),
        Task::Openapi => openapi::check(),
        Task::Bindings(options) => bindings::run_task(&options),
    }
}

/// The steps to run, in order: those asked for, or all of them (less `lint` with
/// `--no-lint`).
fn selected_steps(mut asked: Vec<Step>, no_lint: bool) -> Vec<Step> {
    if asked.is_empty() {
        asked = Step::value_variants().iter().copied().filter(|s| !(no_lint && *s == Step::Lint)).collect();
    }
    asked.sort();
    asked.dedup();
    asked
}

/// The server's API tests that run a second time over S3-compatible object storage: every
/// test that uploads, reads or collects attachments.
const S3_SUBSET: &[&str] =
    &["test", "-p", "motcua-server", "--test", "api", "--", "uploads::", "abuse::", "dossiers::", "reports::"];

/// The suite, one step after another; the first failure stops it.
fn test(steps: &[Step]) -> anyhow::Result<()> {
    for step in steps {
        match step {
            Step::Lint => {
                run(cargo().args(["fmt", "--all", "--", "--check"]))?;
                // With the feature that builds the browser test, so it is linted too.
                run(cargo().args([
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--features",
                    "motcua-server/browser-test",
                    "--",
                    "-D",
                    "warnings",
                ]))?;
            }
            Step::Test => {
                let cluster = pg::Cluster::start()?;
                let s3 = s3::S3Server::start()?;
                // Everything, with the S3 server there for the scale-out scenario of the
                // end-to-end tests; then the upload, dossier and report tests once more
                // with attachments in the bucket instead of a local folder.
                let result = run(s3
                    .apply(cargo().args(["test", "--workspace"]))
                    .env("MOTCUA_TEST_DATABASE_URL", cluster.url())
                    .env("MOTCUA_TEST_S3_URL", s3.url()))
                .and_then(|()| {
                    run(s3
                        .apply(cargo().args(S3_SUBSET))
                        .env("MOTCUA_TEST_DATABASE_URL", cluster.url())
                        .env("MOTCUA_TEST_BLOB_URL", s3.url()))
                });
                drop(s3);
                drop(cluster);
                result?;
            }
            Step::Openapi => openapi::check()?,
            Step::Open311 => open311::test()?,
            Step::Bindings => bindings::test()?,
            Step::Browser => browser::test()?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()))
    }

    fn steps(args: &[&str]) -> Vec<Step> {
        match parse(args).map(|c| c.task) {
            Ok(Task::Test { steps, no_lint }) => selected_steps(steps, no_lint),
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn test_runs_every_step_or_the_ones_asked_for() {
        assert_eq!(
            steps(&["test"]),
            [Step::Lint, Step::Test, Step::Openapi, Step::Open311, Step::Bindings, Step::Browser]
        );
        assert_eq!(
            steps(&["test", "--no-lint"]),
            [Step::Test, Step::Openapi, Step::Open311, Step::Bindings, Step::Browser]
        );
        assert_eq!(steps(&["test", "--step", "bindings", "--step", "lint"]), [Step::Lint, Step::Bindings]);
        assert_eq!(steps(&["test", "--step", "test"]), [Step::Test]);
    }

    #[test]
    fn unknown_tasks_flags_and_steps_are_errors() {
        for args in [
            &["test", "--nolint"][..],
            &["test", "--step", "fuzz"],
            &["test", "--step", "lint", "--no-lint"],
            &["bindings", "--chekc"],
            &["deploy"],
            &[],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn bench_takes_a_list_of_names_and_bindings_its_flags() {
        match parse(&["bench", "catalogue", "startup"]).map(|c| c.task) {
            Ok(Task::Bench { names }) => assert_eq!(names, ["catalogue", "startup"]),
            other => panic!("{other:?}"),
        }
        match parse(&["bindings", "--check", "--size"]).map(|c| c.task) {
            Ok(Task::Bindings(o)) => assert!(o.check && o.size && !o.bless && !o.test),
            other => panic!("{other:?}"),
        }
    }
}
