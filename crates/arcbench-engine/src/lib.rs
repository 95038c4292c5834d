//! The ArcBench host engine. Every operation is written once here; the axum routes and the Tauri
//! commands are thin adapters over [`Engine`]. It knows nothing of HTTP or windows.

mod error;
mod repos;
mod review;
mod sessions;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arcbench_store::Store;

pub use error::EngineError;
pub use repos::RepoEntry;
pub use sessions::CreateSession;

pub type Result<T> = std::result::Result<T, EngineError>;

pub struct EngineConfig {
    /// Where the database and the session worktrees live (never inside a user's repository).
    pub data_dir: PathBuf,
    /// The repositories sessions may be created in; the first is the default.
    pub repos: Vec<PathBuf>,
}

pub struct Engine {
    data_dir: PathBuf,
    store: Store,
    repos: Vec<RepoEntry>,
    /// One lock per session: git operations on a worktree never interleave.
    session_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl Engine {
    /// Opens the data dir (creating it), checks every repository, and sweeps worktrees left
    /// behind by sessions that no longer exist.
    pub fn open(config: EngineConfig) -> Result<Engine> {
        std::fs::create_dir_all(config.data_dir.join("worktrees"))?;
        let store = Store::open(&config.data_dir.join("arcbench.sqlite3"))?;
        let repos = repos::load(&config.repos)?;
        let engine = Engine {
            data_dir: config.data_dir,
            store,
            repos,
            session_locks: Mutex::new(HashMap::new()),
        };
        engine.sweep()?;
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

    fn worktrees_dir(&self) -> PathBuf {
        self.data_dir.join("worktrees")
    }

    fn lock_session(&self, id: &str) -> Arc<Mutex<()>> {
        let mut locks = self.session_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(id.to_owned()).or_default().clone()
    }
}
