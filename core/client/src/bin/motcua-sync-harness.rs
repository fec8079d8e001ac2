//! Test-only tool for the exactly-once test: opens a client store and runs the outbox
//! sync engine until nothing is pending, so a test can SIGKILL it at any moment and start
//! it again. Usage: `motcua-sync-harness <store dir> <base url> <token file> <chunk bytes>`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use motcua_client::{Client, ClientConfig, FileTokenStore};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, base_url, token_file, chunk] = args.as_slice() else {
        eprintln!("usage: motcua-sync-harness <store dir> <base url> <token file> <chunk bytes>");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = ClientConfig::new(base_url.clone(), dir.clone());
    config.upload_chunk_size = chunk.parse().unwrap_or(0);
    match runtime.block_on(run(config, token_file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sync failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: ClientConfig, token_file: &str) -> Result<(), motcua_client::ClientError> {
    let client = Client::open(config, Arc::new(FileTokenStore::new(token_file))).await?;
    loop {
        let report = client.sync_outbox().await?;
        println!("sent={} pending={} parked={}", report.sent, report.pending, report.parked);
        if report.pending == 0 {
            client.close().await;
            return Ok(());
        }
        let wait = report.next_retry_in_ms.unwrap_or(100).clamp(10, 2_000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
}
