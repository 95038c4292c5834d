#![allow(dead_code, unused_imports)]
//! Runs the real `arcbench serve` binary against a real repository, real Aider and the local
//! Messages API, and talks to it like a client: HTTP and WebSocket.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub use arcbench_fixtures::{git, numbered, TestRepo};
use fake_claude::FakeClaude;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub const KEY: &str = "blackbox-key-0123456789abcdef";

pub struct Host {
    pub child: Child,
    pub base: String,
    pub data: PathBuf,
    pub http: reqwest::Client,
}

pub fn start_host(repo: &Path, data: &Path, claude: &FakeClaude, extra: &[&str]) -> Host {
    start_host_with(repo, data, claude, extra, |_| {})
}

/// Like [`start_host`], with the command adjusted by `configure` before it starts.
pub fn start_host_with(
    repo: &Path,
    data: &Path,
    claude: &FakeClaude,
    extra: &[&str],
    configure: impl FnOnce(&mut Command),
) -> Host {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_arcbench"));
    cmd.args(["serve", "--port", "0", "--idle-timeout", "600"])
        .arg("--repo")
        .arg(repo)
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .env("ARCBENCH_API_KEY", KEY)
        .env("ANTHROPIC_API_KEY", "sk-test")
        .env("ANTHROPIC_BASE_URL", claude.base_url())
        .env("ARCBENCH_PYTHON", arcbench_fixtures::aider_python())
        .env(
            "ARCBENCH_TRANSCRIBER_PYTHON",
            arcbench_fixtures::transcriber_python(),
        )
        .env("ARCBENCH_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    configure(&mut cmd);
    let mut child = cmd.spawn().expect("arcbench runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("host printed its address").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Host {
        child,
        base,
        data: data.to_path_buf(),
        http: reqwest::Client::new(),
    }
}

impl Host {
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("host answers");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
        v
    }

    pub async fn session(&self) -> String {
        self.ok("POST", "/sessions", Some(json!({}))).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn prompt(&self, session: &str, text: &str, client_id: &str) -> String {
        let p = self
            .ok(
                "POST",
                &format!("/sessions/{session}/prompts"),
                Some(json!({"text": text, "client_id": client_id})),
            )
            .await;
        p["id"].as_str().unwrap().to_owned()
    }

    /// Polls until the prompt leaves queued/running; returns its final state.
    pub async fn wait_prompt(&self, session: &str, prompt: &str) -> Value {
        for _ in 0..600 {
            let ps = self
                .ok("GET", &format!("/sessions/{session}/prompts"), None)
                .await;
            let p = ps["prompts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == prompt)
                .cloned()
                .unwrap();
            if p["state"] != "queued" && p["state"] != "running" {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("prompt {prompt} did not finish");
    }

    pub async fn events(&self, since: u64) -> Vec<Value> {
        self.ok("GET", &format!("/events?since={since}"), None)
            .await["events"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn sigterm(&mut self) -> std::process::ExitStatus {
        unsafe_kill(self.child.id(), "TERM");
        self.child.wait().unwrap()
    }
}

fn unsafe_kill(pid: u32, sig: &str) {
    Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws(host: &Host, since: u64) -> Ws {
    let url = format!("{}/ws?since={since}", host.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// Next event from the socket, or `None` if the socket closed.
pub async fn next_event(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("event in time")?;
        match msg {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            _ => return None,
        }
    }
}

/// Reads events until one matches `pred`; returns all read.
pub async fn read_until(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut got = Vec::new();
    while let Some(e) = next_event(ws).await {
        let done = pred(&e);
        got.push(e);
        if done {
            return got;
        }
    }
    panic!("socket closed before the awaited event; got {got:?}");
}

/// A request with `token` as its key (a device's, say), or none at all.
pub async fn call_as(
    host: &Host,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = host
        .http
        .request(method.parse().unwrap(), format!("{}{path}", host.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("host answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub fn edit(path: &str, search: &str, replace: &str) -> String {
    format!(
        "Done.\n\n{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"
    )
}

/// Seqs must be 1..=n without gaps or repeats.
pub fn assert_gapless(events: &[Value], from: u64) {
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (from..from + seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "events must be gapless and in order");
}
