//! Edit → `diff.updated` at a WebSocket client: how long after a prompt is posted a phone learns
//! the diff changed, next to when it learns the prompt finished.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::server::{Host, Ws};

/// A WebSocket client that stamps every event on arrival, in a task of its own so that the
/// stamps do not wait for whatever the benchmark is awaiting (the POST's response, say).
pub struct Observer {
    rx: mpsc::UnboundedReceiver<(Instant, Value)>,
    task: tokio::task::JoinHandle<()>,
    pub last_seq: u64,
}

impl Observer {
    pub fn new(mut ws: Ws) -> Observer {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(t) = msg {
                    let at = Instant::now();
                    let v: Value = serde_json::from_str(&t).expect("events are JSON");
                    if tx.send((at, v)).is_err() {
                        return;
                    }
                }
            }
        });
        Observer {
            rx,
            task,
            last_seq: 0,
        }
    }

    pub async fn next(&mut self) -> (Instant, Value) {
        let got = tokio::time::timeout(Duration::from_secs(120), self.rx.recv())
            .await
            .expect("an event within 2 minutes")
            .expect("the socket stays open");
        self.last_seq = got.1["seq"].as_u64().unwrap_or(self.last_seq);
        got
    }

    /// Reads up to and including `prompt.finished` of `prompt`; returns its arrival time.
    pub async fn until_finished(&mut self, prompt: &str) -> Instant {
        loop {
            let (at, e) = self.next().await;
            if e["type"] == "prompt.finished" && e["prompt_id"] == prompt {
                assert_eq!(e["state"], "done", "prompt {prompt}: {e}");
                return at;
            }
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Sample {
    /// POST → the first `diff.updated` (the host refreshes the diff when Aider reports written files).
    pub first_diff: Option<Duration>,
    pub finished: Duration,
    /// POST → the `diff.updated` the host sends after `prompt.finished`.
    pub final_diff: Duration,
}

/// One prompt whose answer edits one line of src/lib.rs.
pub async fn one(host: &Host, obs: &mut Observer, session: &str, line: usize) -> Sample {
    let t0 = Instant::now();
    let prompt = host
        .prompt(session, &format!("{} {line}", super::EDIT_MARK))
        .await;
    let mut first_diff = None;
    let finished = loop {
        let (at, e) = obs.next().await;
        if e["type"] == "diff.updated" && first_diff.is_none() {
            first_diff = Some(at - t0);
        }
        if e["type"] == "prompt.finished" && e["prompt_id"] == prompt.as_str() {
            assert_eq!(e["state"], "done", "edit prompt: {e}");
            break at - t0;
        }
    };
    let final_diff = loop {
        let (at, e) = obs.next().await;
        if e["type"] == "diff.updated" {
            break at - t0;
        }
    };
    Sample {
        first_diff,
        finished,
        final_diff,
    }
}
