//! The real `arcbench serve` binary under test, and the calls a phone makes to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub(crate) const KEY: &str = "bench-key-0123456789abcdef";

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Where `cargo build --release --bin arcbench` puts the host (bench/run.sh builds it first);
/// `ARCBENCH_BIN` overrides.
pub fn host_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("ARCBENCH_BIN").filter(|p| !p.is_empty()) {
        return p.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release/arcbench")
}

pub struct Host {
    child: Child,
    pub base: String,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Host {
    /// Starts the host on `repo` with the fake API and returns once it listens.
    pub fn start(repo: &Path, api_base: &str) -> Host {
        Self::start_with(repo, api_base, &["--no-transcriber"], &[])
    }

    /// Like [`Host::start`], with more flags and environment.
    pub fn start_with(
        repo: &Path,
        api_base: &str,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Host {
        let bin = host_binary();
        assert!(
            bin.exists(),
            "no host binary at {}: run `cargo build --release --bin arcbench` (bench/run.sh does)",
            bin.display()
        );
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(&bin)
            // Agents must stay warm through the idle measurement.
            .args(["serve", "--port", "0", "--idle-timeout", "3600"])
            .args(args)
            .envs(env.iter().copied())
            .arg("--repo")
            .arg(repo)
            .arg("--data-dir")
            .arg(data.path())
            .env("ARCBENCH_API_KEY", KEY)
            .env("ANTHROPIC_API_KEY", "sk-bench")
            .env("ANTHROPIC_BASE_URL", api_base)
            .env("ARCBENCH_PYTHON", arcbench_fixtures::aider_python())
            .env("ARCBENCH_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("the host printed its address").unwrap();
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.to_owned();
            }
        };
        // Keep draining stdout so the host never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Host {
            child,
            base,
            http: reqwest::Client::new(),
            _data: data,
        }
    }

    /// `POST /transcribe[?session=]` with a WAV: the text, or the error body.
    pub async fn transcribe(&self, session: Option<&str>, wav: Vec<u8>) -> Result<String, Value> {
        let path = match session {
            Some(s) => format!("{}/transcribe?session={s}", self.base),
            None => format!("{}/transcribe", self.base),
        };
        let res = self
            .http
            .post(path)
            .bearer_auth(KEY)
            .header("content-type", "audio/wav")
            .body(wav)
            .send()
            .await
            .expect("the host answers");
        let ok = res.status().is_success();
        let v: Value = res.json().await.unwrap_or_default();
        if ok {
            Ok(v["text"].as_str().unwrap_or_default().to_owned())
        } else {
            Err(v)
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the host answers");
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    pub async fn session(&self) -> String {
        let s = self.call("POST", "/sessions", Some(json!({}))).await;
        s["id"].as_str().unwrap().to_owned()
    }

    /// Queues a prompt; returns its id.
    pub async fn prompt(&self, session: &str, text: &str) -> String {
        let p = self
            .call(
                "POST",
                &format!("/sessions/{session}/prompts"),
                Some(json!({"text": text, "client_id": text})),
            )
            .await;
        p["id"].as_str().unwrap().to_owned()
    }

    pub async fn events(&self, since: u64) -> Vec<Value> {
        let v = self
            .call("GET", &format!("/events?since={since}"), None)
            .await;
        v["events"].as_array().unwrap().clone()
    }

    pub async fn ws(&self, since: u64) -> Ws {
        let url = format!("{}/ws?since={since}", self.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
        tokio_tungstenite::connect_async(req)
            .await
            .expect("WebSocket connects")
            .0
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // SIGTERM first: the host then ends its agents, which run in process groups of their own
        // and would outlive a SIGKILL of the host.
        stop(&mut self.child);
    }
}

/// Stops a server the bench started: SIGTERM, then SIGKILL if it has not gone in 5 s.
pub(crate) fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
