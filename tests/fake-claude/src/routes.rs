//! HTTP routes: the Messages API itself, readiness, and `/_control/*` for non-Rust tests.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State as Shared};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::api_error::error_response;
use crate::log::Arrival;
use crate::reply::Reply;
use crate::respond::respond;
use crate::state::State;

/// The real API's request size limit; Aider prompts with a repo map stay far below it, but the
/// axum default (2 MB) does not.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/", get(health))
        .route("/health", get(health))
        .route("/v1/messages", post(messages))
        .route("/_control/replies", post(push_replies).get(pending_replies))
        .route("/_control/requests", get(list_requests))
        .route("/_control/reset", post(reset))
        .fallback(unknown_path)
        // The limit is enforced in `read_body` so that an oversize request gets the
        // Anthropic-shaped 413 instead of axum's plain-text one.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn health() -> Json<Value> {
    Json(json!({"ok": true, "service": "fake-claude"}))
}

async fn messages(Shared(state): Shared<Arc<State>>, request: Request) -> Response {
    let received_at = SystemTime::now();
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
    let body_json = bytes
        .as_ref()
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .unwrap_or(Value::Null);
    let recorded = state.record(arrival(&parts, received_at), body_json);

    // Checked in the real API's order: size, key, version, body. A rejected request does not
    // consume a scripted reply, so a client bug shows up as this error, not as a shifted queue.
    if bytes.is_err() {
        let message = "Request exceeds the maximum allowed number of bytes.";
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, message);
    }
    match (recorded.credential(), state.api_key()) {
        (None, _) => {
            return error_response(StatusCode::UNAUTHORIZED, "x-api-key header is required")
        }
        (Some(sent), Some(expected)) if sent != expected => {
            return error_response(StatusCode::UNAUTHORIZED, "invalid x-api-key")
        }
        _ => {}
    }
    if recorded.anthropic_version.is_none() {
        let message = "anthropic-version: header is required";
        return error_response(StatusCode::BAD_REQUEST, message);
    }
    if let Some(problem) = body_problem(&recorded.body) {
        return error_response(StatusCode::BAD_REQUEST, &problem);
    }

    match state.next_reply(&recorded) {
        Some(reply) => respond(reply, &recorded).await,
        None => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "fake-claude: no scripted reply queued (push a Reply or set a responder)",
        ),
    }
}

/// The fields every Messages request must carry; what clients most often get wrong.
fn body_problem(body: &Value) -> Option<String> {
    if !body.is_object() {
        return Some("There was an error parsing the body: expected a JSON object".to_owned());
    }
    let missing = ["model", "messages", "max_tokens"]
        .into_iter()
        .find(|field| body.get(field).is_none_or(Value::is_null))?;
    Some(format!("{missing}: Field required"))
}

fn arrival(parts: &Parts, received_at: SystemTime) -> Arrival {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    Arrival {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        received_at,
        api_key: header("x-api-key"),
        bearer_token: header("authorization")
            .and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned)),
        anthropic_version: header("anthropic-version"),
        anthropic_beta: header("anthropic-beta"),
    }
}

/// Logged so that a client with a wrong base URL (say `/v1/v1/messages`) is easy to spot.
async fn unknown_path(Shared(state): Shared<Arc<State>>, request: Request) -> Response {
    let received_at = SystemTime::now();
    let (parts, body) = request.into_parts();
    let body_json = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .unwrap_or(Value::Null);
    state.record(arrival(&parts, received_at), body_json);
    let message = format!(
        "fake-claude: no route for {} {}",
        parts.method,
        parts.uri.path()
    );
    error_response(StatusCode::NOT_FOUND, &message)
}

/// Accepts a JSON array of replies or a single reply. The body is read as bytes so callers
/// need not set a content type.
async fn push_replies(Shared(state): Shared<Arc<State>>, body: Bytes) -> Response {
    match parse_replies(&body) {
        Ok(replies) => {
            let queued = state.push(replies);
            Json(json!({"queued": queued})).into_response()
        }
        Err(problem) => {
            let body = json!({"error": format!("fake-claude: bad replies: {problem}")});
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
    }
}

/// Parsed in two steps rather than with an untagged enum, which would hide the real serde
/// message ("unknown field `chunk_size`") behind "did not match any variant".
fn parse_replies(body: &[u8]) -> Result<Vec<Reply>, serde_json::Error> {
    match serde_json::from_slice::<Value>(body)? {
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        single => Ok(vec![serde_json::from_value(single)?]),
    }
}

async fn pending_replies(Shared(state): Shared<Arc<State>>) -> Json<Value> {
    Json(json!({"queued": state.pending()}))
}

async fn list_requests(Shared(state): Shared<Arc<State>>) -> Response {
    Json(state.requests()).into_response()
}

async fn reset(Shared(state): Shared<Arc<State>>) -> Json<Value> {
    state.reset();
    Json(json!({"ok": true}))
}
