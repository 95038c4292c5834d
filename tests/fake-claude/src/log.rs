//! The request log: what reached the stand-in, so tests can assert on what a client really sent
//! (the prompt text, the model, the key) and how often (no retry storm).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One request as received. Every request except health checks and `/_control/*` is logged,
/// including rejected ones and unknown paths: a client calling `/v1/v1/messages` shows up here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Arrival order, from 0, across the server's life (not reset by `reset`), so a test can
    /// tell requests from before and after a reset apart.
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// Wall-clock arrival time; JSON carries it as milliseconds since the Unix epoch.
    #[serde(rename = "received_at_unix_ms", with = "unix_ms")]
    pub received_at: SystemTime,
    /// The `x-api-key` header (what litellm sends).
    pub api_key: Option<String>,
    /// The token of an `Authorization: Bearer` header (what newer Anthropic SDKs send).
    pub bearer_token: Option<String>,
    pub anthropic_version: Option<String>,
    pub anthropic_beta: Option<String>,
    /// The parsed JSON body; `null` when the body was empty or not JSON.
    pub body: Value,
    // The fields below are lifted out of `body` because nearly every assertion needs them.
    pub model: Option<String>,
    pub system: Option<Value>,
    pub messages: Vec<Value>,
    pub stream: bool,
    pub max_tokens: Option<u64>,
}

/// Request parts the log needs, gathered by the router before the body is judged.
pub(crate) struct Arrival {
    pub method: String,
    pub path: String,
    pub received_at: SystemTime,
    pub api_key: Option<String>,
    pub bearer_token: Option<String>,
    pub anthropic_version: Option<String>,
    pub anthropic_beta: Option<String>,
}

impl RecordedRequest {
    pub(crate) fn new(seq: u64, arrival: Arrival, body: Value) -> Self {
        let model = body.get("model").and_then(Value::as_str).map(str::to_owned);
        let system = body.get("system").cloned();
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
        let max_tokens = body.get("max_tokens").and_then(Value::as_u64);
        RecordedRequest {
            seq,
            method: arrival.method,
            path: arrival.path,
            received_at: arrival.received_at,
            api_key: arrival.api_key,
            bearer_token: arrival.bearer_token,
            anthropic_version: arrival.anthropic_version,
            anthropic_beta: arrival.anthropic_beta,
            body,
            model,
            system,
            messages,
            stream,
            max_tokens,
        }
    }

    /// The credential the client sent, either way.
    pub fn credential(&self) -> Option<&str> {
        self.api_key.as_deref().or(self.bearer_token.as_deref())
    }

    /// The system prompt as plain text, whether sent as a string or as text blocks.
    pub fn system_text(&self) -> String {
        let mut out = String::new();
        if let Some(system) = &self.system {
            collect_text(system, &mut out);
        }
        out
    }

    /// Text of the last `user` message (the prompt that triggered this call).
    pub fn last_user_text(&self) -> String {
        let mut out = String::new();
        let last_user = self
            .messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"));
        if let Some(content) = last_user.and_then(|m| m.get("content")) {
            collect_text(content, &mut out);
        }
        out
    }

    /// All text of the system prompt and every message, joined by newlines.
    pub fn all_text(&self) -> String {
        let mut out = self.system_text();
        for message in &self.messages {
            if let Some(content) = message.get("content") {
                out.push('\n');
                collect_text(content, &mut out);
            }
        }
        out
    }

    /// Whether `needle` appears in the system prompt or any message.
    pub fn contains_text(&self, needle: &str) -> bool {
        self.all_text().contains(needle)
    }
}

/// Content is either a string or a list of blocks; only `text` blocks carry prompt text.
fn collect_text(content: &Value, out: &mut String) {
    match content {
        Value::String(text) => out.push_str(text),
        Value::Array(blocks) => {
            let texts = blocks
                .iter()
                .filter_map(|block| block.get("text").and_then(Value::as_str));
            for (i, text) in texts.enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(text);
            }
        }
        _ => {}
    }
}

mod unix_ms {
    use super::*;
    use serde::{Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
        let ms = time
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        serializer.serialize_u64(ms)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SystemTime, D::Error> {
        let ms = u64::deserialize(deserializer)?;
        Ok(UNIX_EPOCH + Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recorded(body: Value) -> RecordedRequest {
        let arrival = Arrival {
            method: "POST".into(),
            path: "/v1/messages".into(),
            received_at: SystemTime::now(),
            api_key: None,
            bearer_token: None,
            anthropic_version: None,
            anthropic_beta: None,
        };
        RecordedRequest::new(0, arrival, body)
    }

    #[test]
    fn text_helpers_read_strings_and_blocks() {
        let request = recorded(json!({
            "model": "m",
            "system": [{"type": "text", "text": "be terse"}],
            "messages": [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": [
                    {"type": "text", "text": "second"},
                    {"type": "image", "source": {}},
                    {"type": "text", "text": "part"}
                ]}
            ],
            "max_tokens": 10,
            "stream": true
        }));
        assert_eq!(request.system_text(), "be terse");
        assert_eq!(request.last_user_text(), "second\npart");
        assert!(request.contains_text("first"));
        assert!(!request.contains_text("absent"));
        assert_eq!(request.model.as_deref(), Some("m"));
        assert_eq!(request.max_tokens, Some(10));
        assert!(request.stream);
    }

    #[test]
    fn arrival_time_survives_json_at_millisecond_precision() {
        let request = recorded(Value::Null);
        let json = serde_json::to_value(&request).unwrap();
        assert!(json["received_at_unix_ms"].as_u64().unwrap() > 1_600_000_000_000);
        let back: RecordedRequest = serde_json::from_value(json).unwrap();
        let drift = request
            .received_at
            .duration_since(back.received_at)
            .unwrap_or_default();
        assert!(drift.as_millis() < 1);
    }
}
