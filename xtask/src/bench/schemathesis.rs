//! `cargo xtask schemathesis`: property-based fuzzing of the API from its own OpenAPI
//! document. Installs a pinned schemathesis into `target/tools/venv` when missing, starts
//! the debug server over a fresh SQLite database (auth rate limits lifted so the fuzzer is
//! not answered 429), registers a citizen to get a bearer token, and runs every check:
//! a 500, an undocumented status, or a body or header that breaks the document fails it.
//! `xtask/schemathesis.toml` lists the deliberate exceptions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::http::Conn;
use super::server::{Scratch, Server};
use crate::util::{cargo, output, run as run_cmd};

const VERSION: &str = "4.32.5";
const VENV: &str = "target/tools/venv";
/// Per-operation expectations (which refusals of schema-valid data are deliberate).
const CONFIG: &str = "xtask/schemathesis.toml";
/// Test cases per operation and phase: enough to find shape bugs, bounded in time.
/// What must hold for every generated request: no server error, and every response
/// (status, content type, headers, body) as the document describes it. Whether a request
/// the document allows is *accepted* is not checked: business rules (a CCCD's province,
/// a dossier's state, an unknown id) refuse many of them on purpose.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance";
const MAX_EXAMPLES: &str = "50";

const SERVER_ENV: [(&str, &str); 5] = [
    ("MOTCUA_AUTH_RATE_PER_MIN", "1000000"),
    ("MOTCUA_DOSSIERS_PER_MINUTE", "1000000"),
    ("MOTCUA_DOSSIERS_PER_DAY", "1000000"),
    ("MOTCUA_LOGIN_FREE_FAILURES", "1000000"),
    ("MOTCUA_ACCESS_TOKEN_TTL_SECS", "3600"),
];

pub fn run() -> anyhow::Result<()> {
    let started = Instant::now();
    let tool = ensure_installed()?;
    run_cmd(cargo().args(["build", "-p", "motcua-server"]))?;
    let scratch = Scratch::new("schemathesis")?;
    let log = scratch.path().join("server.log");
    let sms = scratch.path().join("sms");
    let sms_env = sms.to_string_lossy().into_owned();
    let mut env = SERVER_ENV.to_vec();
    env.push(("MOTCUA_SMS_DIR", &sms_env));
    let mut server = Server::spawn(Path::new("target/debug/motcua-server"), &scratch.sqlite_url("s.db"), &log, &env)?;
    server.wait_ready(Instant::now(), Duration::from_secs(120))?;
    let token = register(server.addr, &sms)?;
    // The fuzzer keeps its example database (failures replayed first next time) here.
    let workdir = PathBuf::from("target/tools/schemathesis");
    std::fs::create_dir_all(&workdir)?;
    let config = std::fs::canonicalize(CONFIG).with_context(|| format!("reading {CONFIG}"))?;
    let result = run_cmd(
        Command::new(&tool)
            .current_dir(&workdir)
            .arg("--config-file")
            .arg(&config)
            .args(["run", &format!("http://{}/openapi.json", server.addr)])
            // One worker: with threads, Hypothesis under CPython 3.11 hits "AST constructor
            // recursion depth mismatch" now and then, an error of the tool, not of the API.
            .args(["--checks", CHECKS, "--max-examples", MAX_EXAMPLES, "--workers", "1"])
            .env("MOTCUA_FUZZ_TOKEN", &token)
            .env("SCHEMATHESIS_TELEMETRY", "false"),
    );
    if result.is_err() {
        let text = server.log_text();
        let tail: Vec<&str> = text.lines().rev().take(60).collect();
        eprintln!("server log (last lines):");
        for line in tail.into_iter().rev() {
            eprintln!("{line}");
        }
    }
    server.stop()?;
    result?;
    eprintln!("schemathesis passed in {:.0} s (install included)", started.elapsed().as_secs_f64());
    Ok(())
}

/// The schemathesis executable at the pinned version, installed into the venv if needed.
fn ensure_installed() -> anyhow::Result<PathBuf> {
    let tool = PathBuf::from(VENV).join("bin/schemathesis");
    let installed = output(Command::new(&tool).arg("--version")).is_ok_and(|v| v.contains(VERSION));
    if !installed {
        if !Path::new(VENV).join("bin/pip").exists() {
            run_cmd(Command::new("python3").args(["-m", "venv", VENV]))
                .context("creating a Python venv (Debian: apt-get install python3-venv)")?;
        }
        run_cmd(Command::new(Path::new(VENV).join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("schemathesis=={VERSION}"),
        ]))?;
    }
    Ok(std::fs::canonicalize(&tool)?)
}

/// Registers a citizen (with the code the server's development SMS sink wrote into
/// `sms_dir`) and returns its access token.
fn register(addr: std::net::SocketAddr, sms_dir: &Path) -> anyhow::Result<String> {
    let body = serde_json::json!({
        "citizen_id": "001099012345",
        "phone": "0912345678",
        "full_name": "Nguyễn Văn Kiểm",
        "password": "kiem-thu-2024",
    });
    let response = Conn::connect(addr)?.post_json("/api/v1/auth/register", body.to_string().as_bytes())?;
    if response.status != 202 {
        bail!("starting the fuzzing account's registration answered {}", response.status);
    }
    let challenge: serde_json::Value = serde_json::from_slice(&response.body)?;
    let text = std::fs::read_to_string(sms_dir.join("0912345678.txt")).context("the verification SMS")?;
    let code = text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).context("a code in the SMS")?;
    let body = serde_json::json!({"verification_id": challenge["verification_id"], "code": code});
    let response = Conn::connect(addr)?.post_json("/api/v1/auth/register/verify", body.to_string().as_bytes())?;
    if response.status != 201 {
        bail!(
            "registering the fuzzing account answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    let tokens: serde_json::Value = serde_json::from_slice(&response.body)?;
    tokens["access_token"].as_str().map(str::to_owned).context("no access_token in the registration answer")
}
