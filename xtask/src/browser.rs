//! The `browser` step of `cargo xtask test`: the web console's officer journey in headless
//! Chromium. Installs Debian's `chromium` (apt-get, when missing) and the pinned npm packages
//! `playwright-core` and `axe-core` (into `target/tools/console-browser`), then runs the Rust test
//! `server/tests/browser.rs` (feature `browser-test`), which drives
//! `tools/console-browser/journey.mjs`; screenshots land in `target/console-screenshots`.

use std::path::Path;
use std::process::Command;

use crate::util::{cargo, is_root, output, run};

const PLAYWRIGHT: &str = "1.65.1";
const AXE: &str = "4.14.1";
const TOOLS: &str = "target/tools/console-browser";
const CHROMIUM: &str = "/usr/bin/chromium";

pub fn test() -> anyhow::Result<()> {
    ensure_chromium()?;
    let modules = ensure_playwright()?;
    let shots = std::env::current_dir()?.join("target/console-screenshots");
    run(cargo()
        .args(["test", "-p", "motcua-server", "--features", "browser-test", "--test", "browser"])
        .env("CHROMIUM", CHROMIUM)
        .env("PLAYWRIGHT_DIR", modules)
        .env("SCREENSHOTS", shots))
}

/// Debian's Chromium, installed with apt-get when it is not there.
fn ensure_chromium() -> anyhow::Result<()> {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    let apt = |args: &[&str]| {
        let mut cmd = if is_root() {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "--no-install-recommends", "chromium"])
}

/// `playwright-core` at the pinned version; returns its `node_modules` folder.
fn ensure_playwright() -> anyhow::Result<std::path::PathBuf> {
    let modules = std::env::current_dir()?.join(TOOLS).join("node_modules");
    let manifest = modules.join("playwright-core/package.json");
    let installed =
        std::fs::read_to_string(&manifest).is_ok_and(|text| text.contains(&format!("\"version\": \"{PLAYWRIGHT}\"")));
    if !installed {
        std::fs::create_dir_all(TOOLS)?;
        run(Command::new("npm").args([
            "install",
            "--prefix",
            TOOLS,
            "--no-audit",
            "--no-fund",
            "--silent",
            &format!("playwright-core@{PLAYWRIGHT}"),
            &format!("axe-core@{AXE}"),
        ]))?;
    }
    output(Command::new("node").arg("--version"))?;
    Ok(modules)
}
