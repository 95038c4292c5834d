#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};

use arcbench_engine::{CreateSessionRequest, Engine, EngineConfig};
pub use arcbench_fixtures::{git, numbered, snapshot, write, TestRepo};
use shared_protocol::{Diff, Hunk, Session};
use tempfile::TempDir;

pub struct Host {
    pub data: TempDir,
    pub engine: Engine,
}

pub fn host(repo: &TestRepo) -> Host {
    let data = tempfile::Builder::new()
        .prefix("arcbench-data-")
        .tempdir()
        .unwrap();
    let engine = open(data.path(), &repo.path);
    Host { data, engine }
}

pub fn open(data: &Path, repo: &Path) -> Engine {
    Engine::open(EngineConfig {
        data_dir: data.to_path_buf(),
        repos: vec![repo.to_path_buf()],
        ..Default::default()
    })
    .unwrap()
}

impl Host {
    pub fn session(&self) -> Session {
        self.engine
            .create_session(CreateSessionRequest::default())
            .unwrap()
    }

    /// Reopens the engine on the same data dir, as after a host restart.
    pub fn restart(&mut self, repo: &TestRepo) {
        self.engine = open(self.data.path(), &repo.path);
    }
}

pub fn wt(s: &Session, h: &Host) -> PathBuf {
    h.data.path().join("worktrees").join(&s.id)
}

pub fn hunks(d: &Diff) -> Vec<&Hunk> {
    d.files.iter().flat_map(|f| f.hunks.iter()).collect()
}

pub fn ids(d: &Diff) -> Vec<String> {
    hunks(d).iter().map(|h| h.id.clone()).collect()
}

/// The file's hunks' ids, in order.
pub fn file_ids(d: &Diff, path: &str) -> Vec<String> {
    d.files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.hunks.iter().map(|h| h.id.clone()).collect())
        .unwrap_or_default()
}

/// `lines` with line `n` (1-based) replaced.
pub fn edit_line(text: &str, n: usize, new: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == n {
                format!("{new}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}
