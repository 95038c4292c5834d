//! The server-sent event sequence of a streamed message, byte for byte as the real API frames it:
//! `event: NAME\ndata: JSON\n\n`.
//!
//! litellm reads only the `data:` lines, but other clients (the Anthropic SDKs) key on `event:`,
//! so both are sent. The frames are computed up front so the order can be unit-tested without a
//! socket; the server only adds the waits.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::api_error::error_body;
use crate::reply::{Pacing, TokenCounts};

/// What one streamed answer consists of.
pub(crate) struct StreamScript {
    pub message_id: String,
    pub model: String,
    pub usage: TokenCounts,
    pub chunks: Vec<String>,
    pub pacing: Pacing,
    pub end: StreamEnd,
}

pub(crate) enum StreamEnd {
    Finish {
        stop_reason: String,
    },
    /// Sent after the chunks instead of the closing events; the stream then just ends.
    Error {
        error_type: String,
        message: String,
    },
}

/// One piece of the body and how long to wait before sending it.
pub(crate) struct Frame {
    pub delay: Duration,
    pub bytes: Bytes,
}

pub(crate) fn event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

pub(crate) fn frames(script: &StreamScript) -> Vec<Frame> {
    let usage = script.usage;
    let mut out = Vec::with_capacity(script.chunks.len() + 6);
    let mut push = |delay: Duration, name: &str, data: Value| {
        out.push(Frame {
            delay,
            bytes: event(name, &data),
        });
    };

    // The real API reports the input side up front and a token or so of output; the final
    // output count only arrives with `message_delta`.
    let start_usage = json!({
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "output_tokens": usage.output_tokens.min(1),
    });
    push(
        Duration::ZERO,
        "message_start",
        json!({"type": "message_start", "message": {
            "id": script.message_id,
            "type": "message",
            "role": "assistant",
            "model": script.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": start_usage,
        }}),
    );
    push(
        Duration::ZERO,
        "content_block_start",
        json!({"type": "content_block_start", "index": 0,
               "content_block": {"type": "text", "text": ""}}),
    );
    push(Duration::ZERO, "ping", json!({"type": "ping"}));

    // The first-token delay sits before whatever comes after `ping`, so it also applies to an
    // empty reply or an immediate error.
    let mut delay = script.pacing.first_token_delay;
    for chunk in &script.chunks {
        push(
            delay,
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
                   "delta": {"type": "text_delta", "text": chunk}}),
        );
        delay = script.pacing.chunk_delay;
    }

    match &script.end {
        StreamEnd::Finish { stop_reason } => {
            push(
                delay,
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            );
            // Like the current API, `message_delta` carries the cumulative usage; litellm raises
            // (and Aider retries) when `usage` is missing here.
            push(
                Duration::ZERO,
                "message_delta",
                json!({"type": "message_delta",
                       "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                       "usage": usage}),
            );
            push(
                Duration::ZERO,
                "message_stop",
                json!({"type": "message_stop"}),
            );
        }
        StreamEnd::Error {
            error_type,
            message,
        } => push(delay, "error", error_body(error_type, message)),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(chunks: &[&str], end: StreamEnd) -> StreamScript {
        StreamScript {
            message_id: "msg_x".into(),
            model: "claude-test".into(),
            usage: TokenCounts {
                input_tokens: 10,
                cache_creation_input_tokens: 2,
                cache_read_input_tokens: 3,
                output_tokens: 7,
            },
            chunks: chunks.iter().map(|c| c.to_string()).collect(),
            pacing: Pacing {
                chunk_chars: 1,
                first_token_delay: Duration::from_millis(50),
                chunk_delay: Duration::from_millis(5),
            },
            end,
        }
    }

    fn names(frames: &[Frame]) -> Vec<String> {
        frames
            .iter()
            .map(|f| {
                let text = std::str::from_utf8(&f.bytes).unwrap();
                assert!(text.ends_with("\n\n"), "frame not terminated: {text:?}");
                text.lines()
                    .next()
                    .unwrap()
                    .trim_start_matches("event: ")
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn finished_stream_has_the_full_event_order_and_delays() {
        let end = StreamEnd::Finish {
            stop_reason: "end_turn".into(),
        };
        let frames = frames(&script(&["a", "b"], end));
        assert_eq!(
            names(&frames),
            [
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        let delays: Vec<u128> = frames.iter().map(|f| f.delay.as_millis()).collect();
        assert_eq!(delays, [0, 0, 0, 50, 5, 5, 0, 0]);
    }

    #[test]
    fn error_stream_stops_after_the_chunks() {
        let end = StreamEnd::Error {
            error_type: "overloaded_error".into(),
            message: "Overloaded".into(),
        };
        let frames = frames(&script(&[], end));
        assert_eq!(
            names(&frames),
            ["message_start", "content_block_start", "ping", "error"]
        );
        assert_eq!(frames[3].delay.as_millis(), 50);
        let data = std::str::from_utf8(&frames[3].bytes).unwrap();
        assert!(data.contains(r#""type":"overloaded_error""#), "{data}");
    }
}
