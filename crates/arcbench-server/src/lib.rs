//! The ArcBench host API over HTTP. Routes only translate: they parse the request, call one
//! engine operation on a blocking thread (git and SQLite are blocking), and map its result or
//! its typed error to JSON.

mod auth;
mod error;
mod json;
mod routes;

use std::sync::Arc;

use arcbench_engine::Engine;
use axum::Router;

pub use error::Failure;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub api_key: Arc<str>,
    pub demo: bool,
}

/// The whole API; every route requires the key.
pub fn router(state: AppState) -> Router {
    routes::api()
        .fallback(|| async { Failure::not_found("no such route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
        .with_state(state)
}
