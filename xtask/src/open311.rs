//! The `open311` step of `cargo xtask test`: `tools/open311/test_georeport.py` run by
//! pytest with the PyPI client `georeport` (pinned, installed into
//! `target/tools/venv-open311` when missing) against the debug server binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{cargo, output, run};

const GEOREPORT: &str = "0.3.1";
const VENV: &str = "target/tools/venv-open311";

pub fn test() -> anyhow::Result<()> {
    let python = ensure_installed()?;
    run(cargo().args(["build", "-p", "motcua-server"]))?;
    let server = std::fs::canonicalize("target/debug/motcua-server")?;
    run(Command::new(python)
        .args(["-m", "pytest", "tools/open311", "-q", "-p", "no:cacheprovider"])
        .env("MOTCUA_SERVER_BIN", server))
}

/// The venv's python with georeport (and pytest) at the pinned versions.
fn ensure_installed() -> anyhow::Result<PathBuf> {
    let pip = Path::new(VENV).join("bin/pip");
    let installed = output(Command::new(&pip).args(["show", "georeport", "pytest"])).is_ok_and(|info| {
        info.lines().any(|l| l.trim() == format!("Version: {GEOREPORT}")) && info.contains("Name: pytest")
    });
    if !installed {
        if !pip.exists() {
            run(Command::new("python3").args(["-m", "venv", VENV]))?;
        }
        run(Command::new(&pip).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("georeport=={GEOREPORT}"),
            "pytest",
        ]))?;
    }
    // Not canonicalized: the venv's python is a symlink to the base interpreter, and only
    // through the link does it find the venv's packages.
    Ok(std::env::current_dir()?.join(VENV).join("bin/python"))
}
