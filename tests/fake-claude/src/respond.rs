//! Turns a scripted [`Reply`] into the HTTP answer for one `POST /v1/messages`.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;

use crate::api_error::{scripted_error_response, status_for_error_type};
use crate::log::RecordedRequest;
use crate::reply::{
    chunks, estimate_tokens, HttpErrorReply, Reply, StreamErrorReply, TextReply, Usage,
};
use crate::sse::{frames, StreamEnd, StreamScript};

pub(crate) async fn respond(reply: Reply, request: &RecordedRequest) -> Response {
    let mut response = match reply {
        Reply::Text(text) if request.stream => stream_text(&text, request),
        Reply::Text(text) => whole_message(&text, request).await,
        Reply::StreamError(error) if request.stream => stream_error(&error, request),
        Reply::StreamError(error) => error_without_stream(&error).await,
        Reply::HttpError(error) => scripted_error_response(&error),
        Reply::Hang => {
            // Dropped when the client disconnects or the server shuts down.
            return std::future::pending().await;
        }
    };
    // The real API tags every answer; clients put it in their error messages.
    if let Ok(id) = HeaderValue::from_str(&format!("req_fake_{}", request.seq)) {
        response.headers_mut().insert("request-id", id);
    }
    response
}

fn message_id(request: &RecordedRequest) -> String {
    format!("msg_fake_{:06}", request.seq)
}

/// The model is echoed as sent: clients (Aider's weak model, prefixed names) vary and the
/// stand-in must never be the reason a model name is rejected.
fn model(request: &RecordedRequest) -> String {
    request.model.clone().unwrap_or_default()
}

fn stream_text(reply: &TextReply, request: &RecordedRequest) -> Response {
    let pacing = reply.pacing();
    let script = StreamScript {
        message_id: message_id(request),
        model: model(request),
        usage: reply.usage.resolve(
            estimate_tokens(&request.all_text()),
            estimate_tokens(&reply.text),
        ),
        chunks: chunks(&reply.text, pacing.chunk_chars),
        pacing,
        end: StreamEnd::Finish {
            stop_reason: reply.stop_reason.clone(),
        },
    };
    sse_response(&script)
}

fn stream_error(reply: &StreamErrorReply, request: &RecordedRequest) -> Response {
    let pacing = reply.pacing();
    let mut sent = chunks(&reply.text, pacing.chunk_chars);
    sent.truncate(reply.after_chunks);
    let script = StreamScript {
        message_id: message_id(request),
        model: model(request),
        // Nothing was generated to bill: usage is estimated input and a token of output.
        usage: Usage::default().resolve(estimate_tokens(&request.all_text()), 1),
        chunks: sent,
        pacing,
        end: StreamEnd::Error {
            error_type: reply.error_type.clone(),
            message: reply.message.clone(),
        },
    };
    sse_response(&script)
}

fn sse_response(script: &StreamScript) -> Response {
    let body = futures_util::stream::iter(frames(script)).then(|frame| async move {
        if !frame.delay.is_zero() {
            tokio::time::sleep(frame.delay).await;
        }
        Ok::<_, Infallible>(frame.bytes)
    });
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Without a stream the client sees nothing until the whole message is "generated", so the
/// scripted pacing adds up to one wait.
async fn whole_message(reply: &TextReply, request: &RecordedRequest) -> Response {
    let pacing = reply.pacing();
    let pieces = chunks(&reply.text, pacing.chunk_chars).len() as u32;
    let wait = pacing.first_token_delay + pacing.chunk_delay * pieces.saturating_sub(1);
    sleep_if_any(wait).await;
    let usage = reply.usage.resolve(
        estimate_tokens(&request.all_text()),
        estimate_tokens(&reply.text),
    );
    let body = json!({
        "id": message_id(request),
        "type": "message",
        "role": "assistant",
        "model": model(request),
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": reply.stop_reason,
        "stop_sequence": null,
        "usage": usage,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// A non-streamed request cannot fail mid-stream; the real API reports the same failure as an
/// HTTP error, so that is what the client gets.
async fn error_without_stream(reply: &StreamErrorReply) -> Response {
    sleep_if_any(reply.pacing().first_token_delay).await;
    let as_http = HttpErrorReply::new(status_for_error_type(&reply.error_type))
        .error_type(reply.error_type.clone())
        .message(reply.message.clone());
    scripted_error_response(&as_http)
}

async fn sleep_if_any(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}
