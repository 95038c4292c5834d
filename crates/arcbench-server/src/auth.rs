//! The key check for every route, the failed-auth limit in front of it, and the Host allowlist.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use shared_protocol::ErrorCode;

use arcbench_host::Caller;

use crate::{AppState, Failure, PeerRefused};

/// A client that holds the key may ask the host to prove it holds it too, without sending the
/// key: it sends a random challenge, and a 401 answer carries `HMAC-SHA256(key, challenge)`.
/// `arcbench doctor` uses it to tell its own host from whatever else listens on the port.
pub const CHALLENGE_HEADER: &str = "x-arcbench-challenge";
pub const PROOF_HEADER: &str = "x-arcbench-proof";
const MAX_CHALLENGE: usize = 128;

pub async fn require_key(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, Response> {
    let ip = crate::limits::client_ip(&req);
    let mut req = req;
    match check(&state, ip, req.headers()) {
        Ok(caller) => {
            // Handlers and the WebSocket know whose key it was (a device's can be revoked).
            req.extensions_mut().insert(caller);
            Ok(next.run(req).await)
        }
        Err(failure) => {
            let mut res = failure.into_response();
            if let Some(proof) = proof_for(state.host.api_key(), req.headers()) {
                res.headers_mut()
                    .insert(HeaderName::from_static(PROOF_HEADER), proof);
            }
            Err(res)
        }
    }
}

/// The one key check (HTTP header or WebSocket first message): an address that used up its bad
/// attempts is refused before the key is even compared; a wrong or missing key counts against it.
pub fn check(state: &AppState, ip: IpAddr, headers: &HeaderMap) -> Result<Caller, Failure> {
    check_token(state, ip, bearer(headers))
}

/// The master key or a paired device's key (see [`arcbench_host::Host::caller`]).
pub fn check_token(state: &AppState, ip: IpAddr, token: Option<&str>) -> Result<Caller, Failure> {
    if state.failed_auth.blocked(ip) {
        return Err(Failure::new(
            ErrorCode::RateLimited,
            "too many requests with a wrong key; wait a minute",
        ));
    }
    if let Some(caller) = token.and_then(|t| state.host.caller(t)) {
        return Ok(caller);
    }
    state.failed_auth.failed(ip);
    Err(Failure::new(
        ErrorCode::Unauthorized,
        "missing or wrong API key (Authorization: Bearer <key>)",
    ))
}

/// The bearer token of a request, if it sent one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn proof_for(key: &str, headers: &HeaderMap) -> Option<HeaderValue> {
    let challenge = headers.get(CHALLENGE_HEADER)?.to_str().ok()?;
    if challenge.is_empty() || challenge.len() > MAX_CHALLENGE {
        return None;
    }
    HeaderValue::from_str(&proof(key, challenge)).ok()
}

/// Hex HMAC-SHA256 of the challenge under the key (domain-separated from anything else).
pub fn proof(key: &str, challenge: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(b"arcbench-proof-v1:");
    mac.update(challenge.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Refuses requests whose `Host` is not one of this host's names (DNS rebinding): see
/// [`crate::limits::HostAllowlist`]. A request without `Host` (HTTP/1.0 tools) passes: browsers
/// always send one.
pub async fn check_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}").to_owned());
    match host {
        Some(h) if !state.allowed_hosts.allows(&h) => Failure::new(
            ErrorCode::Forbidden,
            format!(
                "`{h}` is not a name of this host (a page re-pointing its own DNS name here?); \
                 add it with --allow-host if you reach the host by that name"
            ),
        )
        .into_response(),
        _ => next.run(req).await,
    }
}

/// A connection the WhoIs check turned away (see [`crate::listen`]) gets 403 on every request,
/// whatever key it holds.
pub async fn check_peer(req: Request, next: Next) -> Response {
    match req.extensions().get::<PeerRefused>() {
        Some(PeerRefused(why)) => Failure::new(ErrorCode::Forbidden, why.clone()).into_response(),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn proof_depends_on_key_and_challenge() {
        let p = super::proof("k1", "c1");
        assert_eq!(p.len(), 64);
        assert_eq!(p, super::proof("k1", "c1"));
        assert_ne!(p, super::proof("k2", "c1"));
        assert_ne!(p, super::proof("k1", "c2"));
    }
}
