//! The ArcBench host engine. Every operation is written once here; the axum routes and the Tauri
//! commands are thin adapters over [`Engine`]. It knows nothing of HTTP or windows.

mod budget;
mod devices;
mod error;
pub mod live;
mod pricing;
mod prompts;
mod repos;
mod review;
mod revise;
pub mod runner;
mod sessions;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arcbench_store::Store;
use shared_protocol::Event;
use tokio::sync::broadcast;

pub use budget::{check_budget, WARNING_RATIO};
pub use devices::{Caller, CodeRefusal, IssuedCode, CODE_LIFETIME};
pub use error::EngineError;
pub use pricing::{Price, Pricing};
pub use prompts::outside_worktree;
pub use repos::RepoEntry;
pub use revise::revision_text;
/// The engine speaks the wire types: one type per concept, shared with every client.
pub use shared_protocol::{Budget, CreateSessionRequest};

pub type Result<T> = std::result::Result<T, EngineError>;

#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Where the database and the session worktrees live (never inside a user's repository).
    pub data_dir: PathBuf,
    /// The repositories sessions may be created in; the first is the default.
    pub repos: Vec<PathBuf>,
    pub pricing: Pricing,
    /// Limits used until changed through the API.
    pub budget: Budget,
    /// Live events a subscriber may fall behind by; 0 means [`EVENT_BUFFER`].
    pub event_buffer: usize,
}

pub struct Engine {
    data_dir: PathBuf,
    store: Store,
    repos: Vec<RepoEntry>,
    /// One lock per session: git operations on a worktree never interleave.
    session_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    events: broadcast::Sender<Event>,
    /// Session id -> its running prompt: those sessions refuse review calls.
    running: Mutex<HashMap<String, String>>,
    pricing: Pricing,
    default_budget: Budget,
    devices: devices::Devices,
}

/// Live events a subscriber may fall behind by before it is dropped (and told to resume with
/// `since`): memory stays bounded whatever a slow client does.
pub const EVENT_BUFFER: usize = 4096;

impl Engine {
    /// Opens the data dir (creating it), checks every repository, and sweeps worktrees left
    /// behind by sessions that no longer exist.
    pub fn open(config: EngineConfig) -> Result<Engine> {
        std::fs::create_dir_all(config.data_dir.join("worktrees"))?;
        let store = Store::open(&config.data_dir.join("arcbench.sqlite3"))?;
        let repos = repos::load(&config.repos)?;
        let buffer = if config.event_buffer == 0 {
            EVENT_BUFFER
        } else {
            config.event_buffer
        };
        let (events, _) = broadcast::channel(buffer);
        let sender = events.clone();
        store.set_publisher(move |e| {
            // No subscriber is fine: the event is in the log for whoever asks later.
            let _ = sender.send(e.clone());
        });
        let devices = devices::Devices::load(&store)?;
        let engine = Engine {
            devices,
            data_dir: config.data_dir,
            store,
            repos,
            session_locks: Mutex::new(HashMap::new()),
            events,
            running: Mutex::new(HashMap::new()),
            pricing: config.pricing,
            default_budget: config.budget,
        };
        engine.sweep()?;
        // Finished prompts keep their reply on the prompt: their text chunks go. (At start-up,
        // before any client can be mid-replay; later clients from older seqs resync.)
        let through = engine.store.tx(|tx| tx.compact_replies())?;
        if through > 0 {
            tracing::debug!(through, "event log compacted");
        }
        Ok(engine)
    }

    pub fn repos(&self) -> &[RepoEntry] {
        &self.repos
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Live events from now on. Subscribe first, then read [`Engine::events_since`], and skip
    /// seqs already seen: nothing falls between the two.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Whether a client may resume after `since`: not from the future, and not from before
    /// what compaction kept (then it must start from snapshots again: [`EngineError::Resync`]).
    pub fn check_since(&self, since: u64) -> Result<()> {
        let (last, compacted) = self
            .store
            .tx(|tx| Ok::<_, EngineError>((tx.last_seq()?, tx.compacted_through()?)))?;
        if since > last {
            return Err(EngineError::BadRequest(format!(
                "since={since} is ahead of the newest event ({last})"
            )));
        }
        if since < compacted {
            return Err(EngineError::Resync(compacted));
        }
        Ok(())
    }

    /// Persisted events with seq > `since`, in order, at most `limit`.
    pub fn events_since(&self, since: u64, limit: u32) -> Result<Vec<Event>> {
        Ok(self.store.tx(|tx| tx.events_since(since, limit))?)
    }

    /// Tells every client how the host's agent stands (a global event).
    /// Records the voice transcriber's new state and tells every client.
    pub fn announce_transcriber(
        &self,
        transcriber: shared_protocol::TranscriberStatus,
    ) -> Result<()> {
        self.store.tx(|tx| {
            tx.append_event(
                None,
                shared_protocol::EventBody::TranscriberState { transcriber },
            )?;
            Ok(())
        })
    }

    pub fn announce_agent(&self, agent: shared_protocol::AgentStatus) -> Result<()> {
        self.store.tx(|tx| {
            tx.append_event(None, shared_protocol::EventBody::AgentState { agent })?;
            Ok(())
        })
    }

    fn worktrees_dir(&self) -> PathBuf {
        self.data_dir.join("worktrees")
    }

    fn lock_session(&self, id: &str) -> Arc<Mutex<()>> {
        let mut locks = self.session_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(id.to_owned()).or_default().clone()
    }
}
