//! motcua-server: the HTTP backend of the citizen app and the service center.
//!
//! `app` assembles the router over `AppState`; each resource module (`catalogue`,
//! `branches`, `auth`) owns its routes and SQL; `db` hides which database is live.

pub mod app;
pub mod attachments;
pub mod auth;
pub mod blobs;
pub mod branches;
pub mod catalogue;
pub mod clock;
pub mod config;
pub mod db;
pub mod dossiers;
pub mod error;
pub mod extract;
pub mod janitor;
pub mod notifications;
pub mod quotas;
pub mod search_log;
pub mod seed;
pub mod telemetry;

use tokio::net::TcpListener;

/// Serves `state` on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: app::AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}
