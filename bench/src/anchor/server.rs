//! The anchor process: bench/anchor/app.py (FastAPI + uvicorn) in the venv bench/run.sh makes.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::host::fanout::Connect;
use crate::host::server::{Ws, KEY};

/// The venv's python: `ANCHOR_PYTHON` (bench/run.sh sets it), else bench/out/anchor-venv.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ANCHOR_PYTHON").filter(|p| !p.is_empty()) {
        return p.into();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("out/anchor-venv/bin/python")
}

pub struct Anchor {
    child: Child,
    pub base: String,
    /// Interpreter and package versions, as the app printed them.
    pub versions: String,
    http: reqwest::Client,
}

impl Anchor {
    /// Starts the app with the same key as the host and returns once it serves.
    pub fn start() -> Anchor {
        let py = python();
        assert!(
            py.exists(),
            "no anchor venv at {}: `bash bench/run.sh anchor` makes it from the pins",
            py.display()
        );
        let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("anchor/app.py");
        let mut child = Command::new(&py)
            .arg(&app)
            .env("ANCHOR_API_KEY", KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut versions = String::new();
        let base = loop {
            let line = lines
                .next()
                .expect("the anchor printed its address")
                .unwrap();
            if let Some(v) = line.strip_prefix("anchor: ") {
                versions = v.to_owned();
            }
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Anchor {
            child,
            base,
            versions,
            http: reqwest::Client::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts a burst of `n` events (the last one `prompt.finished`) to every connected client.
    pub async fn broadcast(&self, n: u64) {
        let res = self
            .http
            .post(format!("{}/broadcast?n={n}", self.base))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("the anchor answers");
        assert_eq!(res.status().as_u16(), 202, "POST /broadcast");
    }

    pub async fn ws(&self) -> Ws {
        let url = format!("{}/ws", self.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
        tokio_tungstenite::connect_async(req)
            .await
            .expect("WebSocket connects")
            .0
    }
}

/// The anchor keeps no log: `since` has nothing to replay, and it never closes with 4000.
impl Connect for Anchor {
    fn connect(&self, _since: u64) -> impl Future<Output = Ws> + Send {
        self.ws()
    }
}

impl Drop for Anchor {
    fn drop(&mut self) {
        // SIGTERM lets uvicorn close its sockets.
        crate::host::server::stop(&mut self.child);
    }
}
