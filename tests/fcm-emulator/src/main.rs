//! The `fcm-emulator` binary: serve the emulator on an address (for running the whole
//! system locally and for the end-to-end tests), or write a throwaway service-account key.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use fcm_emulator::service_account::ServiceAccount;
use fcm_emulator::{Config, Emulator};

#[derive(Parser)]
#[command(name = "fcm-emulator", version, about = "Firebase Cloud Messaging HTTP v1 on loopback")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve FCM's token endpoint, messages:send and the control API. Prints
    /// `fcm-emulator listening on http://ADDR` once ready.
    Serve {
        #[arg(long, default_value = "127.0.0.1:4010")]
        addr: std::net::SocketAddr,
        /// Service-account key files whose signatures the token endpoint accepts
        /// (repeatable; more can be added with POST /control/accounts).
        #[arg(long = "service-account")]
        service_accounts: Vec<PathBuf>,
        /// Lifetime of issued access tokens, in seconds.
        #[arg(long, default_value_t = 3600)]
        token_ttl_secs: u64,
        /// Concurrent HTTP/2 streams per connection.
        #[arg(long, default_value_t = 100)]
        max_streams: u32,
        /// Keep only counts of received messages, not their bodies.
        #[arg(long)]
        no_bodies: bool,
    },
    /// Write a new service-account key file for `project` whose token endpoint is
    /// `token_uri` (the emulator's `http://ADDR/token`).
    GenKey {
        #[arg(long, default_value = "motcua-dev")]
        project: String,
        #[arg(long, default_value = "http://127.0.0.1:4010/token")]
        token_uri: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::GenKey { project, token_uri, out } => {
            let account = ServiceAccount::generate(&project, &token_uri)?;
            std::fs::write(&out, account.to_json()).with_context(|| format!("writing {}", out.display()))?;
            println!("{}", out.display());
            Ok(())
        }
        Command::Serve { addr, service_accounts, token_ttl_secs, max_streams, no_bodies } => {
            let config = Config {
                addr,
                access_token_ttl: Duration::from_secs(token_ttl_secs),
                max_concurrent_streams: max_streams,
                record_bodies: !no_bodies,
                ..Config::default()
            };
            let emulator = Emulator::start(config).await.with_context(|| format!("binding {addr}"))?;
            for path in service_accounts {
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                emulator.add_service_account(&ServiceAccount::from_json(&text)?)?;
            }
            println!("fcm-emulator listening on {}", emulator.base_url());
            tokio::signal::ctrl_c().await.ok();
            emulator.stop();
            Ok(())
        }
    }
}
