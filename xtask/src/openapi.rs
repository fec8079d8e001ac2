//! `cargo xtask openapi` (and the `openapi` step of `cargo xtask test`): the server's
//! OpenAPI document, as printed by `motcua-server openapi`, checked by a standard
//! validator, `openapi-spec-validator` (PyPI, pinned, installed into `target/tools/venv`
//! when missing), against the OpenAPI 3.1 specification's schema.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::util::{cargo, output, run};

const VERSION: &str = "0.9.0";
const VENV: &str = "target/tools/venv";
/// Where the checked document is written (kept for a look after a failure).
const DOCUMENT: &str = "target/openapi.json";

pub fn check() -> anyhow::Result<()> {
    let validator = ensure_installed()?;
    run(cargo().args(["build", "-p", "motcua-server"]))?;
    let document = output(Command::new("target/debug/motcua-server").arg("openapi"))?;
    std::fs::write(DOCUMENT, &document).with_context(|| format!("writing {DOCUMENT}"))?;
    let version: serde_json::Value = serde_json::from_str(&document).context("the document is not JSON")?;
    anyhow::ensure!(
        version["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
        "the document is not OpenAPI 3.1: {}",
        version["openapi"]
    );
    run(Command::new(&validator).args(["--schema", "3.1.0", DOCUMENT]))?;
    println!("{DOCUMENT}: valid OpenAPI 3.1");
    Ok(())
}

/// The validator at the pinned version, installed into the venv if needed.
fn ensure_installed() -> anyhow::Result<PathBuf> {
    let tool = PathBuf::from(VENV).join("bin/openapi-spec-validator");
    let pip = Path::new(VENV).join("bin/pip");
    let installed = output(Command::new(&pip).args(["show", "openapi-spec-validator"]))
        .is_ok_and(|info| info.lines().any(|l| l.trim() == format!("Version: {VERSION}")));
    if !installed {
        if !pip.exists() {
            run(Command::new("python3").args(["-m", "venv", VENV]))
                .context("creating a Python venv (Debian: apt-get install python3-venv)")?;
        }
        run(Command::new(&pip).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("openapi-spec-validator=={VERSION}"),
        ]))?;
    }
    Ok(std::fs::canonicalize(&tool)?)
}
