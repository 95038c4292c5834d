//! `POST /v1/messages` over real HTTP: streamed and whole answers, errors, queue and responder.

mod common;

use std::time::{Duration, Instant};

use common::{body, names, parse_sse, post, streamed_text};
use fake_claude::{FakeClaude, HttpErrorReply, Reply, StreamErrorReply, TextReply, Usage};
use futures_util::StreamExt;
use serde_json::{json, Value};

#[tokio::test]
async fn streamed_reply_has_the_full_event_sequence_and_usage() {
    let claude = FakeClaude::start().await;
    claude.push(
        TextReply::new("Hello, world!")
            .chunk_chars(5)
            .usage(Usage::exact(100, 7, 20, 30)),
    );

    let response = post(&claude.base_url(), &body("hi", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    assert!(response.headers().contains_key("request-id"));
    let events = parse_sse(&response.text().await.unwrap());

    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for event in &events {
        assert_eq!(
            event.data["type"],
            event.name.as_str(),
            "type matches event name"
        );
    }
    assert_eq!(streamed_text(&events), "Hello, world!");
    assert_eq!(events[3].data["delta"]["type"], "text_delta");

    let start = &events[0].data["message"];
    assert_eq!(start["model"], "claude-sonnet-4-5");
    assert_eq!(start["role"], "assistant");
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["usage"]["input_tokens"], 100);
    assert_eq!(start["usage"]["cache_creation_input_tokens"], 20);
    assert_eq!(start["usage"]["cache_read_input_tokens"], 30);
    assert_eq!(start["usage"]["output_tokens"], 1);

    let delta = &events[7].data;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 7);
    assert_eq!(delta["usage"]["input_tokens"], 100);
    assert_eq!(delta["usage"]["cache_read_input_tokens"], 30);
}

#[tokio::test]
async fn chunks_arrive_one_by_one_with_the_scripted_delays() {
    let claude = FakeClaude::start().await;
    claude.push(
        TextReply::new("aaabbbccc")
            .chunk_chars(3)
            .first_token_delay(Duration::from_millis(150))
            .chunk_delay(Duration::from_millis(150)),
    );

    let sent = Instant::now();
    let response = post(&claude.base_url(), &body("hi", true))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let mut seen = String::new();
    let mut delta_times = Vec::new();
    while let Some(bytes) = stream.next().await {
        let bytes = bytes.unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        for _ in text.matches("event: content_block_delta") {
            delta_times.push(sent.elapsed());
        }
        seen.push_str(text);
    }
    assert_eq!(streamed_text(&parse_sse(&seen)), "aaabbbccc");
    assert_eq!(delta_times.len(), 3, "each delta in its own write");
    assert!(
        delta_times[0] >= Duration::from_millis(140),
        "{delta_times:?}"
    );
    assert!(
        delta_times[2] - delta_times[0] >= Duration::from_millis(280),
        "deltas were not spaced: {delta_times:?}"
    );
}

#[tokio::test]
async fn whole_reply_has_the_message_shape() {
    let claude = FakeClaude::start().await;
    claude.push(
        TextReply::new("A commit message")
            .usage(Usage::exact(50, 4, 0, 10))
            .stop_reason("max_tokens"),
    );

    let mut request = body("summarise", false);
    request["model"] = json!("some-unknown-model-9");
    let response = post(&claude.base_url(), &request).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let message: Value = response.json().await.unwrap();
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["model"], "some-unknown-model-9");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "A commit message"}])
    );
    assert_eq!(message["stop_reason"], "max_tokens");
    assert_eq!(
        message["usage"],
        json!({"input_tokens": 50, "output_tokens": 4,
               "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10})
    );
}

#[tokio::test]
async fn unset_usage_is_estimated_and_never_zero() {
    let claude = FakeClaude::start().await;
    claude.push(Reply::text("x".repeat(40)));
    let message: Value = post(&claude.base_url(), &body("prompt", false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message["usage"]["output_tokens"], 10);
    assert!(message["usage"]["input_tokens"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn http_errors_carry_the_anthropic_type_for_their_status() {
    let claude = FakeClaude::start().await;
    let cases = [
        (401, "authentication_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
        (400, "invalid_request_error"),
    ];
    for (status, _) in cases {
        claude.push(Reply::http_error(status));
    }
    for (status, error_type) in cases {
        let response = post(&claude.base_url(), &body("hi", true))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["type"], error_type, "status {status}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn scripted_error_type_message_and_retry_after_are_sent() {
    let claude = FakeClaude::start().await;
    claude.push(
        HttpErrorReply::new(429)
            .message("slow down")
            .retry_after_secs(3),
    );
    let response = post(&claude.base_url(), &body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error,
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
    );
}

#[tokio::test]
async fn stream_error_sends_an_error_event_after_n_chunks() {
    let claude = FakeClaude::start().await;
    claude.push(
        StreamErrorReply::new("abcdefgh", 2)
            .chunk_chars(2)
            .error("api_error", "Internal server error"),
    );
    let response = post(&claude.base_url(), &body("hi", true))
        .send()
        .await
        .unwrap();
    // The status is already 200 when the stream breaks, as with the real API.
    assert_eq!(response.status(), 200);
    let events = parse_sse(&response.text().await.unwrap());
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(streamed_text(&events), "abcd");
    assert_eq!(
        events[5].data,
        json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}})
    );
}

#[tokio::test]
async fn stream_error_on_a_whole_request_becomes_the_matching_status() {
    let claude = FakeClaude::start().await;
    claude.push(Reply::stream_error("partial", 1));
    let response = post(&claude.base_url(), &body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 529);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn replies_are_served_in_queue_order_then_the_empty_queue_fails_loudly() {
    let claude = FakeClaude::start().await;
    claude.push_all([Reply::text("one"), Reply::text("two"), Reply::text("three")]);
    assert_eq!(claude.pending_replies(), 3);

    for expected in ["one", "two", "three"] {
        let message: Value = post(&claude.base_url(), &body("hi", false))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(message["content"][0]["text"], expected);
    }
    assert_eq!(claude.pending_replies(), 0);

    let response = post(&claude.base_url(), &body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let error: Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("no scripted reply queued"), "{message}");
}

#[tokio::test]
async fn responder_answers_only_when_the_queue_is_empty() {
    let claude = FakeClaude::builder()
        .responder(|request| Reply::text(format!("echo: {}", request.last_user_text())))
        .start()
        .await
        .unwrap();
    claude.push(Reply::text("queued first"));

    let mut texts = Vec::new();
    for prompt in ["a", "b"] {
        let message: Value = post(&claude.base_url(), &body(prompt, false))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        texts.push(message["content"][0]["text"].as_str().unwrap().to_owned());
    }
    assert_eq!(texts, ["queued first", "echo: b"]);

    claude.clear_responder();
    let response = post(&claude.base_url(), &body("c", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn wrong_or_missing_key_is_401_and_keeps_the_reply_queued() {
    let claude = FakeClaude::builder()
        .api_key(common::KEY)
        .start()
        .await
        .unwrap();
    claude.push(Reply::text("for the right key"));
    let url = format!("{}/v1/messages", claude.base_url());

    let wrong = common::client()
        .post(&url)
        .header("x-api-key", "sk-wrong")
        .header("anthropic-version", "2023-06-01")
        .json(&body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let error: Value = wrong.json().await.unwrap();
    assert_eq!(error["error"]["type"], "authentication_error");

    let missing = common::client()
        .post(&url)
        .header("anthropic-version", "2023-06-01")
        .json(&body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(claude.pending_replies(), 1);

    let right = post(&claude.base_url(), &body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);

    // Newer Anthropic SDKs send the key as a bearer token instead.
    claude.push(Reply::text("for the bearer"));
    let bearer = common::client()
        .post(&url)
        .bearer_auth(common::KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    let requests = claude.requests();
    assert_eq!(requests.len(), 4, "rejected requests are logged too");
    assert_eq!(requests[3].api_key, None);
    assert_eq!(requests[3].credential(), Some(common::KEY));
}

#[tokio::test]
async fn malformed_requests_are_400_invalid_request_error() {
    let claude = FakeClaude::start().await;
    claude.push(Reply::text("unused"));
    let url = format!("{}/v1/messages", claude.base_url());

    let no_version = common::client()
        .post(&url)
        .header("x-api-key", common::KEY)
        .json(&body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), 400);

    let mut no_max_tokens = body("hi", false);
    no_max_tokens.as_object_mut().unwrap().remove("max_tokens");
    let response = post(&claude.base_url(), &no_max_tokens)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["message"], "max_tokens: Field required");

    let not_json = common::client()
        .post(&url)
        .header("x-api-key", common::KEY)
        .header("anthropic-version", "2023-06-01")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(claude.pending_replies(), 1);
}

#[tokio::test]
async fn bodies_beyond_axums_default_limit_are_accepted() {
    let claude = FakeClaude::start().await;
    claude.push(Reply::text("ok"));
    let big_prompt = "x".repeat(3 * 1024 * 1024);
    let response = post(&claude.base_url(), &body(&big_prompt, false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        claude.requests()[0].last_user_text().len(),
        big_prompt.len()
    );
}
