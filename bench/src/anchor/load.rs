//! The `/status` load generator, the same for both servers: `connections` clients, each on one
//! keep-alive connection, send requests back to back until `requests` have been answered in all
//! (or the deadline passes). Every answer must be a 200 whose body is read in full.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::host::server::KEY;

pub struct Load {
    /// One entry per answered request: send → body read.
    pub latencies: Vec<Duration>,
    /// First request sent → last answer read.
    pub wall: Duration,
    /// Requests not sent because the deadline passed (0 in a healthy run).
    pub cut: usize,
}

impl Load {
    pub fn per_sec(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

pub async fn run(base: &str, connections: usize, requests: usize, deadline: Duration) -> Load {
    let url = format!("{base}/status");
    let left = Arc::new(AtomicUsize::new(requests));
    let t0 = Instant::now();
    let stop = t0 + deadline;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (url, left) = (url.clone(), left.clone());
            tokio::spawn(async move {
                // A client of its own with one idle slot: exactly one connection, kept alive.
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap();
                let mut times = Vec::new();
                while Instant::now() < stop
                    && left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                {
                    let t = Instant::now();
                    let res = http
                        .get(&url)
                        .bearer_auth(KEY)
                        .send()
                        .await
                        .expect("the server answers");
                    assert_eq!(res.status().as_u16(), 200, "GET /status");
                    let body = res.bytes().await.expect("a body");
                    times.push(t.elapsed());
                    assert!(body.starts_with(b"{\"name\":"), "a status body");
                }
                times
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    for t in tasks {
        latencies.extend(t.await.expect("load task"));
    }
    Load {
        wall: t0.elapsed(),
        cut: requests - latencies.len(),
        latencies,
    }
}
