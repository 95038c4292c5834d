//! The ArcBench host API over HTTP. Routes only translate: they parse the request, call one
//! engine operation on a blocking thread (git and SQLite are blocking), and map its result or
//! its typed error to JSON.

mod auth;
mod error;
mod json;
mod limits;
mod openapi;
mod prompt_routes;
mod review_routes;
mod routes;
mod ws;

use std::path::PathBuf;
use std::sync::Arc;

use arcbench_engine::runner::Runner;
use arcbench_engine::Engine;
use axum::Router;
use shared_protocol::AgentStatus;

pub use auth::{proof, CHALLENGE_HEADER, PROOF_HEADER};
pub use error::Failure;
pub use limits::HostAllowlist;
pub use openapi::ApiDoc;
pub use ws::{CLOSE_RATE_LIMITED, CLOSE_RESUME, CLOSE_TOO_BIG, CLOSE_UNAUTHORIZED, MAX_INBOUND};

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub runner: Arc<Runner>,
    pub api_key: Arc<str>,
    pub demo: bool,
    /// What `/status` says about the agent (checked once at start).
    pub agent: AgentStatus,
    /// The built web UI (`src-ui/dist`), served at `/app/`.
    pub ui_dir: Option<PathBuf>,
    pub failed_auth: Arc<limits::AuthLimiter>,
    pub pending_sockets: Arc<limits::PendingSockets>,
    /// Names a request's `Host` may carry besides IP literals and localhost (DNS rebinding).
    pub allowed_hosts: Arc<HostAllowlist>,
}

impl AppState {
    pub fn new(
        engine: Arc<Engine>,
        runner: Arc<Runner>,
        api_key: &str,
        agent: AgentStatus,
    ) -> Self {
        AppState {
            engine,
            runner,
            api_key: api_key.into(),
            demo: false,
            agent,
            ui_dir: None,
            failed_auth: Arc::default(),
            pending_sockets: Arc::default(),
            allowed_hosts: Arc::default(),
        }
    }
}

/// The whole API; every route requires the key.
pub fn router(state: AppState) -> Router {
    let keyed = routes::api()
        .fallback(|| async { Failure::not_found("no such route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ));
    // The WebSocket authenticates itself: browsers cannot set headers on it, so the key may come
    // in the first message instead (never in the URL).
    // No auth under /app: the page must load before the phone has a key, and it holds no
    // user data.
    let app = match &state.ui_dir {
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
        .merge(keyed)
        .layer(axum::extract::DefaultBodyLimit::max(limits::MAX_BODY))
        .layer(limits::cors())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::check_host,
        ))
        .with_state(state)
}
