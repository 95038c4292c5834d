//! The ArcBench host API over HTTP. Routes only translate: they parse the request, call one
//! engine operation on a blocking thread (git and SQLite are blocking), and map its result or
//! its typed error to JSON.

mod auth;
mod device_routes;
mod error;
mod json;
mod limits;
mod listen;
mod openapi;
mod prompt_routes;
mod review_routes;
mod routes;
mod voice_routes;
mod ws;

use std::sync::Arc;
use std::time::Duration;

use arcbench_host::{Host, HostError};
use axum::Router;

pub use auth::{proof, CHALLENGE_HEADER, PROOF_HEADER};
pub use error::Failure;
pub use limits::HostAllowlist;
pub use listen::{Listeners, PeerRefused};
pub use openapi::{document as openapi_document, ApiDoc};
pub use ws::{
    CLOSE_BAD_SINCE, CLOSE_RATE_LIMITED, CLOSE_RESUME, CLOSE_RESYNC, CLOSE_TOO_BIG,
    CLOSE_UNAUTHORIZED, MAX_INBOUND,
};

/// The host and what only HTTP needs: the limits that protect it from hostile clients.
#[derive(Clone)]
pub struct AppState {
    pub host: Arc<Host>,
    pub failed_auth: Arc<limits::AuthLimiter>,
    /// Pairing attempts per address (and all together): guessing a code stays hopeless.
    pub pairing: Arc<limits::PairingLimiter>,
    pub pending_sockets: Arc<limits::PendingSockets>,
    /// Names a request's `Host` may carry besides IP literals and localhost (DNS rebinding).
    pub allowed_hosts: Arc<HostAllowlist>,
}

impl AppState {
    pub fn new(host: Arc<Host>) -> Self {
        let allowed_hosts = Arc::new(HostAllowlist::default());
        for name in &host.config().allow_hosts {
            allowed_hosts.add(name);
        }
        AppState {
            host,
            failed_auth: Arc::default(),
            pairing: Arc::default(),
            pending_sockets: Arc::default(),
            allowed_hosts,
        }
    }
}

/// Binds the host's addresses: loopback (and any named), plus the tailnet's over HTTPS while
/// Tailscale is up. See [`listen`].
pub async fn bind(host: &Host) -> Result<Listeners, HostError> {
    listen::bind(host).await
}

/// Serves the API on `listeners` until `shutdown` resolves; then interrupts running prompts
/// (recorded `interrupted`), stops the agents and closes the connections.
pub async fn serve(
    host: Arc<Host>,
    listeners: Listeners,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let state = AppState::new(host.clone());
    let app = router(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let served = tokio::spawn(listen::run(host.clone(), listeners, state, app, stop_rx));
    shutdown.await;
    tracing::info!("stopping: interrupting running prompts");
    host.shutdown().await;
    let _ = stop_tx.send(true);
    // Requests in flight get a moment; open WebSockets resume elsewhere with since=N.
    let _ = tokio::time::timeout(Duration::from_secs(3), served).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    tracing::info!("host stopped");
}

/// The whole API; every route requires the key.
pub fn router(state: AppState) -> Router {
    let (api, _) = routes::api().split_for_parts();
    let (public, _) = routes::public().split_for_parts();
    let keyed = api
        .route("/openapi.json", axum::routing::get(openapi::openapi_json))
        .fallback(|| async { Failure::not_found("no such route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ));
    // The WebSocket authenticates itself: browsers cannot set headers on it, so the key may come
    // in the first message instead (never in the URL).
    // No auth under /app: the page must load before the phone has a key, and it holds no
    // user data.
    let app = match state.host.ui_dir() {
        Some(dir) => Router::new().nest_service(
            "/app",
            tower_http::services::ServeDir::new(dir)
                .append_index_html_on_directories(true)
                .fallback(tower_http::services::ServeFile::new(dir.join("index.html"))),
        ),
        None => Router::new().nest_service(
            "/app",
            axum::routing::get(|| async {
                Failure::not_found("the web UI is not built: run `npm run build` in src-ui")
            }),
        ),
    };
    app.route("/ws", axum::routing::get(ws::ws))
        .merge(public)
        .merge(keyed)
        .layer(axum::extract::DefaultBodyLimit::max(limits::MAX_BODY))
        .layer(limits::cors())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::check_host,
        ))
        .layer(axum::middleware::from_fn(auth::check_peer))
        .with_state(state)
}
