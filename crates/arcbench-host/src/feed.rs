//! Subscribe-then-replay, written once for every transport: live events are subscribed to
//! before the log is read, then the log is replayed in pages, then live events follow; a seq
//! already delivered is skipped. Nothing committed meanwhile falls between the two.

use std::collections::VecDeque;
use std::sync::Arc;

use arcbench_engine::Engine;
use shared_protocol::Event;
use tokio::sync::broadcast::{self, error::RecvError};

const REPLAY_PAGE: u32 = 1000;

pub struct EventFeed {
    engine: Arc<Engine>,
    live: broadcast::Receiver<Event>,
    /// The last seq handed out.
    last: u64,
    page: VecDeque<Event>,
    replaying: bool,
}

/// Why a feed ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEnd {
    /// The reader fell further behind than the live buffer holds: resume with `since = last`.
    Behind { last: u64 },
    /// The host is shutting down.
    Closed,
    /// The event log could not be read.
    Failed(String),
}

/// Close code for "you fell behind; reconnect with since=<last seq you got>".
pub const CLOSE_RESUME: u16 = 4000;
/// Close code for "events before your `since` were compacted: fetch the snapshots again and
/// resume from their `last_seq`".
pub const CLOSE_RESYNC: u16 = 4410;
/// Close code for a `since` ahead of the newest event.
pub const CLOSE_BAD_SINCE: u16 = 4400;

impl FeedEnd {
    /// How a feed's end is told to its reader, on every transport (the WebSocket's close codes):
    /// the code and a reason.
    pub fn close(&self) -> (u16, String) {
        match self {
            FeedEnd::Behind { last } => {
                (CLOSE_RESUME, format!("too slow; resume with since={last}"))
            }
            FeedEnd::Closed => (1001, "host shutting down".into()),
            FeedEnd::Failed(_) => (1011, "cannot read the event log".into()),
        }
    }
}

/// How a feed that could not start is told (see [`crate::Host::feed`]): 4410 resync, 4400 a
/// `since` from the future, 1011 anything else.
pub fn refused_close(e: &arcbench_engine::EngineError) -> (u16, String) {
    let code = match e.code() {
        shared_protocol::ErrorCode::Resync => CLOSE_RESYNC,
        shared_protocol::ErrorCode::BadRequest => CLOSE_BAD_SINCE,
        _ => 1011,
    };
    (code, e.to_string())
}

impl EventFeed {
    pub(crate) fn new(engine: Arc<Engine>, since: u64) -> Self {
        let live = engine.subscribe();
        EventFeed {
            engine,
            live,
            last: since,
            page: VecDeque::new(),
            replaying: true,
        }
    }

    /// Whether the events handed out so far came from the log (history), not live: a shell
    /// notifies only about live ones.
    pub fn is_replaying(&self) -> bool {
        self.replaying
    }

    /// The seq of the last event handed out.
    pub fn last_seq(&self) -> u64 {
        self.last
    }

    /// The next event. Cancel-safe: an event counts as delivered only once returned.
    pub async fn next(&mut self) -> Result<Event, FeedEnd> {
        loop {
            if let Some(e) = self.page.pop_front() {
                self.last = e.seq;
                return Ok(e);
            }
            if self.replaying {
                let (engine, since) = (self.engine.clone(), self.last);
                let page =
                    tokio::task::spawn_blocking(move || engine.events_since(since, REPLAY_PAGE))
                        .await
                        .map_err(|e| FeedEnd::Failed(e.to_string()))?
                        .map_err(|e| FeedEnd::Failed(e.to_string()))?;
                self.replaying = page.len() == REPLAY_PAGE as usize;
                self.page.extend(page);
                continue;
            }
            match self.live.recv().await {
                Ok(e) if e.seq <= self.last => {}
                Ok(e) => {
                    self.last = e.seq;
                    return Ok(e);
                }
                Err(RecvError::Lagged(_)) => return Err(FeedEnd::Behind { last: self.last }),
                Err(RecvError::Closed) => return Err(FeedEnd::Closed),
            }
        }
    }
}
