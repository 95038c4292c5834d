//! `/_control/*` and the `fake-claude` binary, driven the way a Python or Playwright test would.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{body, client, post};
use fake_claude::FakeClaude;
use serde_json::{json, Value};

async fn control(base_url: &str, method: &str, path: &str, json_body: Option<Value>) -> Value {
    let url = format!("{base_url}/_control/{path}");
    let request = match method {
        "GET" => client().get(url),
        _ => client().post(url),
    };
    let request = match json_body {
        Some(body) => request.body(body.to_string()),
        None => request,
    };
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{method} {path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn control_endpoints_queue_list_and_reset() {
    let claude = FakeClaude::start().await;
    let base = claude.base_url();

    let queued = control(
        &base,
        "POST",
        "replies",
        Some(json!([
            {"kind": "text", "text": "first", "usage": {"input_tokens": 9, "output_tokens": 2}},
            {"kind": "http_error", "status": 529}
        ])),
    )
    .await;
    assert_eq!(queued, json!({"queued": 2}));
    // A single object is accepted too.
    let queued = control(&base, "POST", "replies", Some(json!({"kind": "hang"}))).await;
    assert_eq!(queued, json!({"queued": 3}));
    assert_eq!(
        control(&base, "GET", "replies", None).await,
        json!({"queued": 3})
    );

    let message: Value = post(&base, &body("from python", false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message["content"][0]["text"], "first");
    assert_eq!(message["usage"]["input_tokens"], 9);
    let overloaded = post(&base, &body("again", false)).send().await.unwrap();
    assert_eq!(overloaded.status(), 529);

    let requests = control(&base, "GET", "requests", None).await;
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["path"], "/v1/messages");
    assert_eq!(requests[0]["model"], "claude-sonnet-4-5");
    assert_eq!(requests[0]["messages"][0]["content"], "from python");
    assert_eq!(requests[0]["api_key"], common::KEY);
    assert!(requests[0]["received_at_unix_ms"].as_u64().unwrap() > 0);

    assert_eq!(
        control(&base, "POST", "reset", None).await,
        json!({"ok": true})
    );
    assert_eq!(claude.pending_replies(), 0, "the queued hang is gone");
    assert_eq!(control(&base, "GET", "requests", None).await, json!([]));
}

#[tokio::test]
async fn a_typo_in_a_scripted_reply_is_rejected_with_the_reason() {
    let claude = FakeClaude::start().await;
    let response = client()
        .post(format!("{}/_control/replies", claude.base_url()))
        .body(r#"[{"kind": "text", "text": "x", "chunk_size": 3}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    let reason = error["error"].as_str().unwrap();
    assert!(reason.contains("chunk_size"), "{reason}");
    assert_eq!(claude.pending_replies(), 0);
}

/// Kills the child if an assertion fails before the test closes its stdin.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_url_serves_and_exits_when_stdin_closes() {
    let replies =
        std::env::temp_dir().join(format!("fake-claude-replies-{}.json", std::process::id()));
    std::fs::write(&replies, r#"[{"kind": "text", "text": "preloaded"}]"#).unwrap();

    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_fake-claude"))
            .args(["--port", "0", "--print-port", "--exit-on-stdin-eof"])
            .args(["--api-key", common::KEY, "--replies"])
            .arg(&replies)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = std::fs::remove_file(&replies);
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let message: Value = post(&base, &body("hi", false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message["content"][0]["text"], "preloaded");

    control(
        &base,
        "POST",
        "replies",
        Some(json!([{"kind": "text", "text": "scripted"}])),
    )
    .await;
    let events = post(&base, &body("stream it", true))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        common::streamed_text(&common::parse_sse(&events)),
        "scripted"
    );
    let wrong_key = client()
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", "sk-other")
        .header("anthropic-version", "2023-06-01")
        .json(&body("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_key.status(), 401);
    let requests = control(&base, "GET", "requests", None).await;
    assert_eq!(requests.as_array().unwrap().len(), 3);

    drop(server.0.stdin.take());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not exit on stdin EOF"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
}
