//! Logs (tracing, JSON by default, filtered by `RUST_LOG`) and the process-wide Prometheus
//! recorder behind `GET /metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// Installs the log subscriber (once; later calls are ignored).
pub fn init_logs(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ =
        if json { builder.json().flatten_event(true).with_current_span(true).try_init() } else { builder.try_init() };
}

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's metrics recorder (installed globally on first use).
pub fn prometheus() -> PrometheusHandle {
    PROMETHEUS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (an embedding test harness): then
            // this handle renders an empty page rather than failing start-up.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
