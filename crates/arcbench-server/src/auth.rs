use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use shared_protocol::ErrorCode;

use crate::{AppState, Failure};

pub async fn require_key(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, Failure> {
    if bearer_matches(req.headers(), &state.api_key) == Some(true) {
        return Ok(next.run(req).await);
    }
    if state
        .failed_auth
        .check_key(&crate::limits::client_ip(&req))
        .is_err()
    {
        return Err(Failure::new(
            ErrorCode::RateLimited,
            "too many requests with a wrong key; wait a minute",
        ));
    }
    Err(Failure::new(
        ErrorCode::Unauthorized,
        "missing or wrong API key (Authorization: Bearer <key>)",
    ))
}

/// `None` when no bearer key was sent, else whether it is the right one.
pub fn bearer_matches(headers: &HeaderMap, key: &str) -> Option<bool> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    Some(constant_time_eq(given.as_bytes(), key.as_bytes()))
}

/// Compares without an early exit, so response timing does not reveal how much of a guess matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in b.iter().enumerate() {
        diff |= x ^ a.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_time_eq_matches_only_equal_keys() {
        use super::constant_time_eq as eq;
        assert!(eq(b"abc", b"abc"));
        assert!(!eq(b"abc", b"abd"));
        assert!(!eq(b"ab", b"abc"));
        assert!(!eq(b"abcd", b"abc"));
        assert!(!eq(b"", b"abc"));
    }
}
