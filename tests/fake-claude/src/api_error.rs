//! Anthropic-shaped error answers: `{"type":"error","error":{"type":...,"message":...}}`.
//!
//! Clients decide whether to retry from the status (litellm: 401 is final, 429/500/529 are
//! retried), so the status and `error.type` pairing must match the real API's.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::reply::HttpErrorReply;

/// The `error.type` the real API sends with `status`.
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        500 => "api_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        // 400 itself and any other client error.
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The status a non-streamed request gets for an error that a stream would carry in-band.
pub fn status_for_error_type(error_type: &str) -> u16 {
    match error_type {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    }
}

fn default_message(error_type: &str) -> &'static str {
    match error_type {
        "invalid_request_error" => "Invalid request",
        "authentication_error" => "invalid x-api-key",
        "billing_error" => "Your credit balance is too low to access the Anthropic API.",
        "permission_error" => {
            "Your API key does not have permission to use the specified resource."
        }
        "not_found_error" => "Not found",
        "request_too_large" => "Request exceeds the maximum allowed number of bytes.",
        "rate_limit_error" => "Number of request tokens has exceeded your per-minute rate limit",
        "timeout_error" => "Request timed out",
        "overloaded_error" => "Overloaded",
        _ => "Internal server error",
    }
}

/// The JSON object used both as an HTTP error body and as an in-stream `error` event.
pub fn error_body(error_type: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type, "message": message}})
}

/// An error answer the stand-in itself decides on (bad key, bad body, empty queue).
pub fn error_response(status: StatusCode, message: &str) -> Response {
    let error_type = error_type_for_status(status.as_u16());
    json_error(status, error_type, message, None)
}

/// An error answer a test scripted.
pub fn scripted_error_response(reply: &HttpErrorReply) -> Response {
    // An out-of-range status is a bug in the test script; answering 500 keeps the client going
    // while the message says what went wrong.
    let Ok(status) = StatusCode::from_u16(reply.status) else {
        let message = format!("fake-claude: invalid scripted status {}", reply.status);
        return error_response(StatusCode::INTERNAL_SERVER_ERROR, &message);
    };
    let error_type = reply
        .error_type
        .as_deref()
        .unwrap_or_else(|| error_type_for_status(reply.status));
    let message = reply
        .message
        .as_deref()
        .unwrap_or_else(|| default_message(error_type));
    json_error(status, error_type, message, reply.retry_after_secs)
}

fn json_error(
    status: StatusCode,
    error_type: &str,
    message: &str,
    retry_after_secs: Option<u64>,
) -> Response {
    let mut response = (status, axum::Json(error_body(error_type, message))).into_response();
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_real_error_types() {
        assert_eq!(error_type_for_status(401), "authentication_error");
        assert_eq!(error_type_for_status(429), "rate_limit_error");
        assert_eq!(error_type_for_status(500), "api_error");
        assert_eq!(error_type_for_status(529), "overloaded_error");
        assert_eq!(error_type_for_status(418), "invalid_request_error");
        assert_eq!(error_type_for_status(503), "api_error");
        for status in [400, 401, 402, 403, 404, 413, 429, 500, 504, 529] {
            assert_eq!(status_for_error_type(error_type_for_status(status)), status);
        }
    }
}
