//! The ArcBench host API over HTTP. Routes only translate: they parse the request, call one
//! engine operation on a blocking thread (git and SQLite are blocking), and map its result or
//! its typed error to JSON.

mod auth;
mod error;
mod json;
mod prompt_routes;
mod routes;
mod ws;

use std::sync::Arc;

use arcbench_engine::runner::Runner;
use arcbench_engine::Engine;
use axum::Router;
use shared_protocol::AgentStatus;

pub use error::Failure;
pub use ws::{CLOSE_RESUME, CLOSE_UNAUTHORIZED};

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub runner: Arc<Runner>,
    pub api_key: Arc<str>,
    pub demo: bool,
    /// What `/status` says about the agent (checked once at start).
    pub agent: AgentStatus,
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
    Router::new()
        .route("/ws", axum::routing::get(ws::ws))
        .merge(keyed)
        .with_state(state)
}
