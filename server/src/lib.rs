//! motcua-server: the HTTP backend of the citizen app and the service center.
//!
//! `app` assembles the router over `AppState`; each resource module (`catalogue`,
//! `branches`, `auth`) owns its routes and SQL; `db` hides which database is live.

pub mod agencies;
pub mod app;
pub mod attachments;
pub mod auth;
pub mod blobs;
pub mod branches;
pub mod catalogue;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod dossiers;
pub mod error;
pub mod extract;
pub mod images;
pub mod janitor;
pub mod net;
pub mod notifications;
pub mod push;
pub mod quotas;
pub mod reports;
pub mod search_log;
pub mod seed;
pub mod sms;
pub mod telemetry;

use tokio::net::TcpListener;

/// Serves `state` on `listener` until `shutdown` resolves, then drains in-flight requests.
/// Connections are bounded as configured (see [`net`]); the signing keys are reloaded
/// every `key_reload` meanwhile.
pub async fn serve(
    listener: TcpListener,
    state: app::AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = state.config.clone();
    let limits = net::ConnectionLimits {
        header_read_timeout: config.header_read_timeout,
        idle_timeout: config.idle_timeout,
        max_connections: config.max_connections,
    };
    let reloader = {
        let state = state.clone();
        let every = config.key_reload.max(std::time::Duration::from_millis(50));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = state.keys.reload(&state.db).await {
                    tracing::warn!(error = format!("{e:#}"), "reloading the signing keys failed");
                }
            }
        })
    };
    let served = net::serve_router(listener, app::router(state), limits, shutdown).await;
    reloader.abort();
    served
}
