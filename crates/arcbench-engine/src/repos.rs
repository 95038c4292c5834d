//! The repositories the host serves.

use std::path::{Path, PathBuf};

use arcbench_git::{repo::open_user_repo, worktree::ensure_aider_excluded};

use crate::{EngineError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoEntry {
    /// Unique short name (the folder name, suffixed when two folders share it).
    pub name: String,
    pub path: PathBuf,
}

pub fn load(paths: &[PathBuf]) -> Result<Vec<RepoEntry>> {
    if paths.is_empty() {
        return Err(EngineError::BadRequest("no repository configured".into()));
    }
    let mut out: Vec<RepoEntry> = Vec::new();
    for p in paths {
        let path = p
            .canonicalize()
            .map_err(|e| EngineError::BadRequest(format!("repository {}: {e}", p.display())))?;
        let repo = open_user_repo(&path)?;
        ensure_aider_excluded(&repo)?;
        if out.iter().any(|r| r.path == path) {
            continue;
        }
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "repo".into());
        let mut name = base.clone();
        let mut n = 2;
        while out.iter().any(|r| r.name == name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        out.push(RepoEntry { name, path });
    }
    Ok(out)
}

/// Finds a repo by name or path; `None` means the first (default) one.
pub fn pick<'a>(repos: &'a [RepoEntry], wanted: Option<&str>) -> Result<&'a RepoEntry> {
    let Some(w) = wanted.filter(|w| !w.is_empty()) else {
        return Ok(&repos[0]);
    };
    let as_path = Path::new(w).canonicalize().ok();
    repos
        .iter()
        .find(|r| r.name == w || Some(&r.path) == as_path.as_ref())
        .ok_or_else(|| {
            let names: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
            EngineError::BadRequest(format!(
                "unknown repo `{w}`; this host serves: {}",
                names.join(", ")
            ))
        })
}
