//! Scripted replies: what the stand-in answers to one `POST /v1/messages`.
//!
//! The same types travel as JSON through `POST /_control/replies`, so every field has a serde
//! default and unknown fields are rejected: a typo in a Python or Playwright test must fail
//! loudly instead of silently using a default.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One scripted answer. JSON form: an object with a `kind` tag, e.g.
/// `{"kind":"text","text":"hi"}`, `{"kind":"http_error","status":529}`,
/// `{"kind":"stream_error","text":"partial","after_chunks":2}`, `{"kind":"hang"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    /// A normal assistant message, streamed or not depending on the request.
    Text(TextReply),
    /// An HTTP error status with Anthropic's error body; no stream is started.
    HttpError(HttpErrorReply),
    /// A stream that starts normally and then emits an `error` event instead of finishing.
    StreamError(StreamErrorReply),
    /// Accept the request and never answer, until the client gives up or the server stops.
    Hang,
}

impl Reply {
    /// A text reply with default pacing and estimated usage.
    pub fn text(text: impl Into<String>) -> Self {
        Reply::Text(TextReply::new(text))
    }

    /// An HTTP error whose error type and message follow the status the way the real API does.
    pub fn http_error(status: u16) -> Self {
        Reply::HttpError(HttpErrorReply::new(status))
    }

    /// A stream that sends `after_chunks` chunks of `text`, then an `overloaded_error` event.
    pub fn stream_error(text: impl Into<String>, after_chunks: usize) -> Self {
        Reply::StreamError(StreamErrorReply::new(text, after_chunks))
    }

    pub fn hang() -> Self {
        Reply::Hang
    }

    /// The `kind` tag, for log lines and assertions.
    pub fn kind(&self) -> &'static str {
        match self {
            Reply::Text(_) => "text",
            Reply::HttpError(_) => "http_error",
            Reply::StreamError(_) => "stream_error",
            Reply::Hang => "hang",
        }
    }
}

/// How fast a reply is produced: the three pacing fields shared by streamed kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pacing {
    pub chunk_chars: usize,
    pub first_token_delay: Duration,
    pub chunk_delay: Duration,
}

/// Token counts reported back. `None` input/output counts are estimated (about 4 characters a
/// token) so a demo shows plausible numbers; tests that check cost should set them explicitly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Usage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// Exact counts for all four fields the clients read.
    pub fn exact(input: u64, output: u64, cache_creation: u64, cache_read: u64) -> Self {
        Usage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            cache_creation_input_tokens: cache_creation,
            cache_read_input_tokens: cache_read,
        }
    }
}

/// Usage with every count decided, in the field order the real API sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct TokenCounts {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub(crate) fn resolve(&self, estimated_input: u64, estimated_output: u64) -> TokenCounts {
        TokenCounts {
            input_tokens: self.input_tokens.unwrap_or(estimated_input),
            cache_creation_input_tokens: self.cache_creation_input_tokens,
            cache_read_input_tokens: self.cache_read_input_tokens,
            output_tokens: self.output_tokens.unwrap_or(estimated_output),
        }
    }
}

/// The rough "4 characters a token" rule, never 0 because the real API never reports 0.
pub(crate) fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextReply {
    pub text: String,
    #[serde(default)]
    pub usage: Usage,
    #[serde(default = "default_stop_reason")]
    pub stop_reason: String,
    /// Characters (not bytes, so UTF-8 is never split) per `text_delta`; 0 sends the text whole.
    #[serde(default = "default_chunk_chars")]
    pub chunk_chars: usize,
    /// Wait before the first content event (streaming) or before the whole body (non-streaming).
    /// Delays make cancel and progress tests deterministic without sleeping in the test.
    #[serde(default)]
    pub first_token_delay_ms: u64,
    /// Wait before each further text chunk.
    #[serde(default)]
    pub chunk_delay_ms: u64,
}

fn default_chunk_chars() -> usize {
    12
}

fn default_stop_reason() -> String {
    "end_turn".to_owned()
}

impl TextReply {
    pub fn new(text: impl Into<String>) -> Self {
        TextReply {
            text: text.into(),
            usage: Usage::default(),
            stop_reason: default_stop_reason(),
            chunk_chars: default_chunk_chars(),
            first_token_delay_ms: 0,
            chunk_delay_ms: 0,
        }
    }

    pub(crate) fn pacing(&self) -> Pacing {
        pacing(
            self.chunk_chars,
            self.first_token_delay_ms,
            self.chunk_delay_ms,
        )
    }

    pub fn chunk_chars(mut self, chars: usize) -> Self {
        self.chunk_chars = chars;
        self
    }

    pub fn first_token_delay(mut self, delay: Duration) -> Self {
        self.first_token_delay_ms = millis(delay);
        self
    }

    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay_ms = millis(delay);
        self
    }

    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    pub fn stop_reason(mut self, reason: impl Into<String>) -> Self {
        self.stop_reason = reason.into();
        self
    }
}

impl From<TextReply> for Reply {
    fn from(reply: TextReply) -> Self {
        Reply::Text(reply)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpErrorReply {
    pub status: u16,
    /// Anthropic's `error.type`; `None` picks the one the real API uses for `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// `None` picks a message in the real API's style.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Sent as a `retry-after` header, as the real API does on 429/529.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl HttpErrorReply {
    pub fn new(status: u16) -> Self {
        HttpErrorReply {
            status,
            error_type: None,
            message: None,
            retry_after_secs: None,
        }
    }

    pub fn error_type(mut self, error_type: impl Into<String>) -> Self {
        self.error_type = Some(error_type.into());
        self
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    pub fn retry_after_secs(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }
}

impl From<HttpErrorReply> for Reply {
    fn from(reply: HttpErrorReply) -> Self {
        Reply::HttpError(reply)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamErrorReply {
    /// Text the stream starts with; only its first `after_chunks` chunks are sent.
    #[serde(default)]
    pub text: String,
    pub after_chunks: usize,
    #[serde(default = "default_stream_error_type")]
    pub error_type: String,
    #[serde(default = "default_stream_error_message")]
    pub message: String,
    /// Characters (not bytes, so UTF-8 is never split) per `text_delta`; 0 sends the text whole.
    #[serde(default = "default_chunk_chars")]
    pub chunk_chars: usize,
    /// Wait before the first content event (streaming) or before the whole body (non-streaming).
    /// Delays make cancel and progress tests deterministic without sleeping in the test.
    #[serde(default)]
    pub first_token_delay_ms: u64,
    /// Wait before each further text chunk.
    #[serde(default)]
    pub chunk_delay_ms: u64,
}

fn default_stream_error_type() -> String {
    "overloaded_error".to_owned()
}

fn default_stream_error_message() -> String {
    "Overloaded".to_owned()
}

impl StreamErrorReply {
    pub fn new(text: impl Into<String>, after_chunks: usize) -> Self {
        StreamErrorReply {
            text: text.into(),
            after_chunks,
            error_type: default_stream_error_type(),
            message: default_stream_error_message(),
            chunk_chars: default_chunk_chars(),
            first_token_delay_ms: 0,
            chunk_delay_ms: 0,
        }
    }

    pub(crate) fn pacing(&self) -> Pacing {
        pacing(
            self.chunk_chars,
            self.first_token_delay_ms,
            self.chunk_delay_ms,
        )
    }

    pub fn error(mut self, error_type: impl Into<String>, message: impl Into<String>) -> Self {
        self.error_type = error_type.into();
        self.message = message.into();
        self
    }

    pub fn chunk_chars(mut self, chars: usize) -> Self {
        self.chunk_chars = chars;
        self
    }

    pub fn first_token_delay(mut self, delay: Duration) -> Self {
        self.first_token_delay_ms = millis(delay);
        self
    }

    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay_ms = millis(delay);
        self
    }
}

impl From<StreamErrorReply> for Reply {
    fn from(reply: StreamErrorReply) -> Self {
        Reply::StreamError(reply)
    }
}

fn pacing(chunk_chars: usize, first_token_delay_ms: u64, chunk_delay_ms: u64) -> Pacing {
    Pacing {
        chunk_chars,
        first_token_delay: Duration::from_millis(first_token_delay_ms),
        chunk_delay: Duration::from_millis(chunk_delay_ms),
    }
}

fn millis(delay: Duration) -> u64 {
    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
}

/// Splits `text` into pieces of `chunk_chars` characters; 0 means one piece.
pub(crate) fn chunks(text: &str, chunk_chars: usize) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    if chunk_chars == 0 {
        return vec![text.to_owned()];
    }
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(chunk_chars)
        .map(|piece| piece.iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_shapes_round_trip_with_defaults() {
        let text: Reply = serde_json::from_value(json!({"kind": "text", "text": "hi"})).unwrap();
        assert_eq!(text, Reply::text("hi"));

        let paced: Reply = serde_json::from_value(json!({
            "kind": "text", "text": "hi", "chunk_chars": 1, "chunk_delay_ms": 5,
            "usage": {"input_tokens": 3, "cache_read_input_tokens": 7},
            "stop_reason": "max_tokens"
        }))
        .unwrap();
        let Reply::Text(paced) = paced else {
            panic!("wrong kind")
        };
        assert_eq!(paced.chunk_chars, 1);
        assert_eq!(paced.chunk_delay_ms, 5);
        assert_eq!(paced.usage.input_tokens, Some(3));
        assert_eq!(paced.usage.output_tokens, None);
        assert_eq!(paced.usage.cache_read_input_tokens, 7);
        assert_eq!(paced.stop_reason, "max_tokens");

        for reply in [
            Reply::hang(),
            Reply::http_error(429),
            HttpErrorReply::new(500).message("boom").into(),
            Reply::stream_error("abc", 1),
            TextReply::new("x")
                .chunk_chars(3)
                .usage(Usage::exact(1, 2, 3, 4))
                .into(),
        ] {
            let back: Reply =
                serde_json::from_value(serde_json::to_value(&reply).unwrap()).unwrap();
            assert_eq!(back, reply);
        }
    }

    #[test]
    fn unknown_fields_and_kinds_are_rejected() {
        let typo = json!({"kind": "text", "text": "hi", "chunk_size": 3});
        assert!(serde_json::from_value::<Reply>(typo).is_err());
        let typo = json!({"kind": "http_error", "status": 500, "msg": "x"});
        assert!(serde_json::from_value::<Reply>(typo).is_err());
        assert!(serde_json::from_value::<Reply>(json!({"kind": "teapot"})).is_err());
    }

    #[test]
    fn chunks_never_split_a_character() {
        assert_eq!(chunks("héllo wörld", 4), vec!["héll", "o wö", "rld"]);
        assert_eq!(chunks("abc", 0), vec!["abc"]);
        assert!(chunks("", 4).is_empty());
    }
}
