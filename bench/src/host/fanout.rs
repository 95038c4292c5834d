//! WebSocket fan-out: every connected client gets every event. A burst of `agent.text` events
//! (a prompt whose answer streams in many small chunks) is delivered to 1, 10 and 100 clients.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use super::server::{Host, Ws};

/// A server the readers connect (and, after a 4000 close, reconnect) to: `arcbench serve`, or
/// the anchor group's FastAPI app, so both are read by the same code.
pub trait Connect: Send + Sync + 'static {
    fn connect(&self, since: u64) -> impl Future<Output = Ws> + Send;
}

impl Connect for Host {
    fn connect(&self, since: u64) -> impl Future<Output = Ws> + Send {
        self.ws(since)
    }
}

/// What one client saw of one burst.
pub struct Client {
    /// Events with seq in (since, seq of `prompt.finished`].
    pub events: u64,
    /// When `prompt.finished` arrived.
    pub done: Instant,
    /// Times the host closed the socket with 4000 ("too slow, resume") and the client resumed.
    pub resumes: u32,
}

/// `seq` without parsing the whole event: the host serializes it first (`{"seq":N,...`), and
/// 100 clients parsing every event would compete with the host for the same two cores.
fn seq_of(text: &str) -> u64 {
    text.strip_prefix("{\"seq\":")
        .and_then(|r| r[..r.find(',')?].parse().ok())
        .unwrap_or_else(|| {
            let v: serde_json::Value = serde_json::from_str(text).expect("events are JSON");
            v["seq"].as_u64().expect("events have a seq")
        })
}

/// Reads from `since` until `prompt.finished`, resuming after a 4000 close as a phone would.
async fn read(host: &impl Connect, mut ws: Ws, since: u64) -> Client {
    let (mut events, mut last, mut resumes) = (0u64, since, 0u32);
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(120), ws.next())
            .await
            .expect("events keep coming")
            .expect("the socket stays open")
            .expect("a readable frame");
        match msg {
            Message::Text(t) => {
                let seq = seq_of(&t);
                if seq <= last {
                    continue;
                }
                last = seq;
                events += 1;
                if t.contains("\"type\":\"prompt.finished\"") {
                    assert!(t.contains("\"state\":\"done\""), "the burst failed: {t}");
                    return Client {
                        events,
                        done: Instant::now(),
                        resumes,
                    };
                }
            }
            Message::Close(Some(f)) if f.code == CloseCode::from(4000) => {
                resumes += 1;
                ws = host.connect(last).await;
            }
            Message::Close(f) => panic!("the host closed the socket: {f:?}"),
            _ => {}
        }
    }
}

/// Connects `clients` sockets from `since` (one after another, as phones would trickle in) and
/// starts a reader for each.
pub async fn readers<S: Connect>(
    host: &Arc<S>,
    clients: usize,
    since: u64,
) -> Vec<JoinHandle<Client>> {
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let ws = host.connect(since).await;
        let h = host.clone();
        tasks.push(tokio::spawn(async move { read(&*h, ws, since).await }));
    }
    tasks
}

pub async fn join(tasks: Vec<JoinHandle<Client>>) -> Vec<Client> {
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("client task"));
    }
    out
}

/// Live: `clients` are connected before the burst starts, so what is timed is the host writing
/// the events and fanning them out, not connection setup. Returns when the prompt was posted
/// and each client's view.
pub async fn live(
    host: &Arc<Host>,
    session: &str,
    clients: usize,
    since: u64,
    k: usize,
) -> (Instant, Vec<Client>) {
    let tasks = readers(host, clients, since).await;
    let t0 = Instant::now();
    host.prompt(session, &format!("{} {k}", super::BURST_MARK))
        .await;
    (t0, join(tasks).await)
}

/// Replay: the burst is already in the log; `clients` connect with `since` and read it all.
/// Timed from the first connect, so connection setup is included.
pub async fn replay(host: &Arc<Host>, clients: usize, since: u64) -> (Instant, Vec<Client>) {
    let t0 = Instant::now();
    let tasks = readers(host, clients, since).await;
    (t0, join(tasks).await)
}
