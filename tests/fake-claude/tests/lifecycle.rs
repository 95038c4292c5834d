//! The request log, hanging requests, readiness and shutdown, over real HTTP.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{body, post};
use fake_claude::{FakeClaude, Reply};
use serde_json::{json, Value};

#[tokio::test]
async fn request_log_records_headers_body_and_arrival() {
    let claude = FakeClaude::start().await;
    claude.push_all([Reply::text("a"), Reply::text("b")]);
    let before = SystemTime::now();

    post(&claude.base_url(), &body("please add a README", true))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut weak = body("write a commit message", false);
    weak["model"] = json!("claude-haiku-4-5");
    post(&claude.base_url(), &weak).send().await.unwrap();

    let requests = claude.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.seq, 0);
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/messages");
    assert_eq!(first.api_key.as_deref(), Some(common::KEY));
    assert_eq!(first.anthropic_version.as_deref(), Some("2023-06-01"));
    assert_eq!(first.model.as_deref(), Some("claude-sonnet-4-5"));
    assert!(first.stream);
    assert_eq!(first.max_tokens, Some(1024));
    assert_eq!(first.system_text(), "You are a test.");
    assert_eq!(first.last_user_text(), "please add a README");
    assert_eq!(first.messages.len(), 1);
    assert_eq!(first.body["temperature"], 0);
    assert!(first.received_at >= before);

    let second = &requests[1];
    assert_eq!(second.seq, 1);
    assert_eq!(second.model.as_deref(), Some("claude-haiku-4-5"));
    assert!(!second.stream);
    assert!(second.received_at >= first.received_at);
    assert!(second.contains_text("commit message"));
}

#[tokio::test]
async fn wrong_paths_are_logged_and_answered_404() {
    let claude = FakeClaude::start().await;
    // The classic misconfiguration: a base URL that already ends in /v1.
    let response = common::client()
        .post(format!("{}/v1/v1/messages", claude.base_url()))
        .json(&body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "not_found_error");
    let requests = claude.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/v1/messages");
}

#[tokio::test]
async fn health_answers_and_is_not_logged() {
    let claude = FakeClaude::start().await;
    for path in ["/", "/health"] {
        let response = common::client()
            .get(format!("{}{path}", claude.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    assert_eq!(claude.request_count(), 0);
}

#[tokio::test]
async fn hang_is_ended_by_the_client_timeout_and_the_server_keeps_serving() {
    let claude = FakeClaude::start().await;
    claude.push(Reply::hang());
    claude.push(Reply::text("after the hang"));

    let started = Instant::now();
    let error = post(&claude.base_url(), &body("hi", true))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("a hung request must not be answered");
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(claude.request_count(), 1, "the hung request was logged");

    let message: Value = post(&claude.base_url(), &body("again", false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message["content"][0]["text"], "after the hang");
}

#[tokio::test]
async fn shutdown_drops_a_hung_request_and_releases_the_port() {
    let claude = FakeClaude::start().await;
    claude.push(Reply::hang());
    let base_url = claude.base_url();
    let addr = claude.addr();

    let hung = tokio::spawn({
        let base_url = base_url.clone();
        async move { post(&base_url, &body("hi", true)).send().await }
    });
    assert!(claude
        .wait_for_requests(1, Duration::from_secs(5))
        .await
        .is_some());

    claude.shutdown().await;
    let outcome = tokio::time::timeout(Duration::from_secs(5), hung)
        .await
        .expect("shutdown must end the hung request")
        .unwrap();
    assert!(outcome.is_err(), "the hung request got an answer");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn drop_stops_the_server() {
    let claude = FakeClaude::start().await;
    let addr = claude.addr();
    drop(claude);
    // The abort lands on the runtime's next turn.
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting after drop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn wait_for_requests_gives_up_after_the_timeout() {
    let claude = FakeClaude::start().await;
    let started = Instant::now();
    let waited = claude
        .wait_for_requests(1, Duration::from_millis(100))
        .await;
    assert!(waited.is_none());
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn base_url_is_a_bare_loopback_origin_on_a_free_port() {
    let a = FakeClaude::start().await;
    let b = FakeClaude::start().await;
    assert_ne!(a.addr().port(), b.addr().port());
    let url = a.base_url();
    assert_eq!(url, format!("http://127.0.0.1:{}", a.addr().port()));
    assert_eq!(a.messages_url(), format!("{url}/v1/messages"));
}
