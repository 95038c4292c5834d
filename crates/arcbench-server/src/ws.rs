//! `WS /ws?since=N`: replay of every event after N, then live events, each exactly once.
//!
//! Order of work: subscribe to live events first, then read the log, then forward live events
//! whose seq is past the last one sent. Anything committed between the two is in the log or in
//! the subscription (or both, and deduplicated), never in neither.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared_protocol::{ErrorCode, Event};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::bearer_matches;
use crate::{AppState, Failure};

/// Close code for "you fell behind; reconnect with since=<last seq you got>".
pub const CLOSE_RESUME: u16 = 4000;
/// Close code for a missing or wrong key in the first message.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
const AUTH_WAIT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);
const REPLAY_PAGE: u32 = 1000;

#[derive(Deserialize)]
struct AuthMessage {
    #[serde(rename = "type")]
    kind: String,
    token: String,
}

pub async fn ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    connect: Result<
        axum::extract::ConnectInfo<std::net::SocketAddr>,
        axum::extract::rejection::ExtensionRejection,
    >,
    Query(q): Query<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let since = match q.get("since").map(|s| s.parse::<u64>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return Failure::new(ErrorCode::BadRequest, "since must be a whole number")
                .into_response()
        }
    };
    let ip = connect
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let header_auth = match bearer_matches(&headers, &state.api_key) {
        Some(false) => return unauthorized(&state, ip).into_response(),
        Some(true) => true,
        None => false,
    };
    let Ok(upgrade) = upgrade else {
        return if header_auth {
            Failure::new(
                ErrorCode::BadRequest,
                "this route needs a WebSocket upgrade",
            )
            .into_response()
        } else {
            unauthorized(&state, ip).into_response()
        };
    };
    upgrade.on_upgrade(move |socket| serve(socket, state, since, header_auth, ip))
}

fn unauthorized(state: &AppState, ip: std::net::IpAddr) -> Failure {
    if state.failed_auth.check_key(&ip).is_err() {
        return Failure::new(
            ErrorCode::RateLimited,
            "too many requests with a wrong key; wait a minute",
        );
    }
    Failure::new(ErrorCode::Unauthorized, "missing or wrong API key")
}

async fn serve(
    mut socket: WebSocket,
    state: AppState,
    since: u64,
    header_auth: bool,
    ip: std::net::IpAddr,
) {
    if !header_auth && !first_message_authenticates(&mut socket, &state.api_key).await {
        let _ = state.failed_auth.check_key(&ip);
        let _ = socket
            .send(Message::Close(Some(CloseFrame {
                code: CLOSE_UNAUTHORIZED,
                reason: "unauthorized".into(),
            })))
            .await;
        return;
    }
    let mut live = state.engine.subscribe();
    let mut last = since;
    loop {
        let engine = state.engine.clone();
        let page = match tokio::task::spawn_blocking(move || engine.events_since(last, REPLAY_PAGE))
            .await
        {
            Ok(Ok(page)) => page,
            _ => return close(&mut socket, 1011, "cannot read the event log").await,
        };
        let done = page.len() < REPLAY_PAGE as usize;
        for e in &page {
            if send_event(&mut socket, e).await.is_err() {
                return;
            }
            last = e.seq;
        }
        if done {
            break;
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            got = live.recv() => match got {
                Ok(e) if e.seq <= last => {}
                Ok(e) => {
                    if send_event(&mut socket, &e).await.is_err() {
                        return;
                    }
                    last = e.seq;
                }
                Err(RecvError::Lagged(_)) => {
                    return close(&mut socket, CLOSE_RESUME, &format!("too slow; resume with since={last}")).await;
                }
                Err(RecvError::Closed) => return close(&mut socket, 1001, "host shutting down").await,
            },
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn first_message_authenticates(socket: &mut WebSocket, key: &str) -> bool {
    let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(AUTH_WAIT, socket.recv()).await
    else {
        return false;
    };
    match serde_json::from_str::<AuthMessage>(&text) {
        Ok(m) => {
            m.kind == "auth" && crate::auth::constant_time_eq(m.token.as_bytes(), key.as_bytes())
        }
        Err(_) => false,
    }
}

async fn send_event(socket: &mut WebSocket, e: &Event) -> Result<(), axum::Error> {
    let text = serde_json::to_string(e).expect("events serialize");
    socket.send(Message::Text(text.into())).await
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_owned().into(),
        })))
        .await;
}
