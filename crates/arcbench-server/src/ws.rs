//! `WS /ws?since=N`: replay of every event after N, then live events, each exactly once (the
//! host's [`arcbench_host::EventFeed`] does subscribe-then-replay); this module adds only what a
//! socket needs: auth, limits, pings and close codes.

use std::collections::HashMap;
use std::time::Duration;

use arcbench_host::Caller;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared_protocol::{ErrorCode, Event, EventBody};

use crate::auth::{bearer, check_token};
use crate::limits::{origin_allowed, PendingSlot};
use crate::{AppState, Failure};

/// The feed's own close codes (the same over the desktop app's IPC).
pub use arcbench_host::{CLOSE_BAD_SINCE, CLOSE_RESUME, CLOSE_RESYNC};
/// Close code for a missing or wrong key in the first message.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// Close code for a first message from an address that used up its bad attempts.
pub const CLOSE_RATE_LIMITED: u16 = 4429;
/// Close code for an inbound message over [`MAX_INBOUND`] (RFC 6455 "message too big").
pub const CLOSE_TOO_BIG: u16 = 1009;
/// A client only ever sends its auth message (and pongs): anything bigger is abuse.
pub const MAX_INBOUND: usize = 64 << 10;
/// The first message must arrive this soon, or the socket is closed unauthenticated.
pub const AUTH_WAIT: Duration = Duration::from_secs(5);
/// A client that does not take an event within this long is dropped (it resumes with since).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);

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
    // Any web page the user visits can open a socket to 127.0.0.1; only ours may.
    if !origin_allowed(&headers) {
        return Failure::new(
            ErrorCode::Forbidden,
            "WebSocket from a page of another origin; only the host's own pages and the apps may connect",
        )
        .into_response();
    }
    // A key in the header is checked now; otherwise the socket waits for its first message,
    // holding one of its address's few pending slots meanwhile.
    let pending = match bearer(&headers) {
        Some(token) => match check_token(&state, ip, Some(token)) {
            Ok(caller) => Auth::Done(caller),
            Err(f) => return f.into_response(),
        },
        None => match state.pending_sockets.take(ip) {
            Some(slot) => Auth::Pending(slot),
            None => {
                return Failure::new(
                    ErrorCode::RateLimited,
                    "too many unauthenticated WebSockets from this address",
                )
                .into_response()
            }
        },
    };
    let Ok(upgrade) = upgrade else {
        return match pending {
            Auth::Done(_) => Failure::new(
                ErrorCode::BadRequest,
                "this route needs a WebSocket upgrade",
            )
            .into_response(),
            Auth::Pending(_) => check_token(&state, ip, None)
                .err()
                .map(IntoResponse::into_response)
                .unwrap_or_default(),
        };
    };
    upgrade
        .max_message_size(MAX_INBOUND)
        .max_frame_size(MAX_INBOUND)
        .on_upgrade(move |socket| serve(socket, state, since, pending, ip))
}

/// A socket's key: checked from the header already, or to come in the first message.
enum Auth {
    Done(Caller),
    Pending(PendingSlot),
}

async fn serve(
    mut socket: WebSocket,
    state: AppState,
    since: u64,
    auth: Auth,
    ip: std::net::IpAddr,
) {
    let caller = match auth {
        Auth::Done(caller) => caller,
        Auth::Pending(slot) => {
            let checked = first_message(&mut socket, &state, ip).await;
            drop(slot);
            match checked {
                Ok(caller) => caller,
                Err((code, reason)) => return close(&mut socket, code, reason).await,
            }
        }
    };
    // The id whose revocation ends this socket (the master key is never revoked).
    let device = match caller {
        Caller::Device(id) => Some(id),
        Caller::Master => None,
    };
    // A browser cannot read the HTTP answer of a refused upgrade, so a bad `since` is told by
    // close code: 4410 resync (start from the snapshots again), 4400 (since from the future).
    let mut feed = match state.host.feed(since).await {
        Ok(feed) => feed,
        Err(e) => {
            let (code, reason) = arcbench_host::refused_close(&e);
            return close(&mut socket, code, &reason).await;
        }
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            got = feed.next() => match got {
                Ok(e) => {
                    if send_event(&mut socket, &e).await.is_err() {
                        return;
                    }
                    if matches!(&e.body, EventBody::DeviceRevoked { device_id } if Some(device_id) == device.as_ref()) {
                        return close(&mut socket, CLOSE_UNAUTHORIZED, "this device was unpaired on the host; pair again").await;
                    }
                }
                Err(end) => {
                    let (code, reason) = end.close();
                    return close(&mut socket, code, &reason).await;
                }
            },
            msg = socket.recv() => match msg {
                None | Some(Ok(Message::Close(_))) => return,
                Some(Err(e)) => return close(&mut socket, error_close_code(&e), "bad message").await,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if send(&mut socket, Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Whose key the first message carries; else the close code and reason.
async fn first_message(
    socket: &mut WebSocket,
    state: &AppState,
    ip: std::net::IpAddr,
) -> Result<Caller, (u16, &'static str)> {
    let token = match tokio::time::timeout(AUTH_WAIT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<AuthMessage>(&text)
            .ok()
            .filter(|m| m.kind == "auth")
            .map(|m| m.token),
        Ok(Some(Err(e))) if error_close_code(&e) == CLOSE_TOO_BIG => {
            return Err((CLOSE_TOO_BIG, "message too big"))
        }
        Err(_) => return Err((CLOSE_UNAUTHORIZED, "no auth message in time")),
        _ => None,
    };
    match check_token(state, ip, token.as_deref()) {
        Ok(caller) => Ok(caller),
        Err(f) if f.0.code == ErrorCode::RateLimited => {
            Err((CLOSE_RATE_LIMITED, "too many wrong keys; wait a minute"))
        }
        Err(_) => Err((CLOSE_UNAUTHORIZED, "unauthorized")),
    }
}

/// 1009 for a message over the limit, 1002 (protocol error) for anything else unreadable.
fn error_close_code(e: &axum::Error) -> u16 {
    let text = e.to_string().to_ascii_lowercase();
    if text.contains("too long") || text.contains("too big") || text.contains("capacity") {
        CLOSE_TOO_BIG
    } else {
        1002
    }
}

/// Sends, giving up on a client that does not take the message in time.
async fn send(socket: &mut WebSocket, msg: Message) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

async fn send_event(socket: &mut WebSocket, e: &Event) -> Result<(), ()> {
    let text = serde_json::to_string(e).expect("events serialize");
    send(socket, Message::Text(text.into())).await
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = send(
        socket,
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_owned().into(),
        })),
    )
    .await;
}
