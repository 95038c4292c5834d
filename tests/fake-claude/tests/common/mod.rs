//! A minimal Messages API client for the tests: what litellm sends, over real HTTP.

#![allow(dead_code)] // Each test binary uses a different subset.

use serde_json::{json, Value};

pub const KEY: &str = "sk-test-key";

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// The body litellm sends for one prompt.
pub fn body(prompt: &str, stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "system": [{"type": "text", "text": "You are a test."}],
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": 1024,
        "temperature": 0,
        "stream": stream,
    })
}

pub fn post(base_url: &str, body: &Value) -> reqwest::RequestBuilder {
    client()
        .post(format!("{base_url}/v1/messages"))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(body)
}

/// One parsed server-sent event.
#[derive(Debug)]
pub struct Event {
    pub name: String,
    pub data: Value,
}

/// Parses a complete `text/event-stream` body, insisting on the exact framing.
pub fn parse_sse(body: &str) -> Vec<Event> {
    assert!(body.ends_with("\n\n"), "stream not terminated: {body:?}");
    body.trim_end_matches("\n\n")
        .split("\n\n")
        .map(|block| {
            let mut lines = block.lines();
            let name = lines.next().and_then(|l| l.strip_prefix("event: "));
            let data = lines.next().and_then(|l| l.strip_prefix("data: "));
            assert!(lines.next().is_none(), "extra lines in {block:?}");
            let (Some(name), Some(data)) = (name, data) else {
                panic!("bad event block {block:?}")
            };
            Event {
                name: name.to_owned(),
                data: serde_json::from_str(data).expect("event data is JSON"),
            }
        })
        .collect()
}

pub fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

pub fn streamed_text(events: &[Event]) -> String {
    events
        .iter()
        .filter(|e| e.name == "content_block_delta")
        .map(|e| e.data["delta"]["text"].as_str().unwrap())
        .collect()
}
