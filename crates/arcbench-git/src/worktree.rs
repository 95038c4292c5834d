//! Session worktrees: one branch `session/<id>` and one linked worktree per session, kept in the
//! host's data dir so the user's folder never gains files.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use git2::{BranchType, Repository, WorktreeAddOptions, WorktreePruneOptions};

use crate::repo::Base;
use crate::{GitError, Result};

/// The prefix of every worktree name ArcBench registers, so the sweep never touches others'.
pub const WORKTREE_PREFIX: &str = "arcbench-";

pub fn branch_name(session_id: &str) -> String {
    format!("session/{session_id}")
}

fn worktree_name(session_id: &str) -> String {
    format!("{WORKTREE_PREFIX}{session_id}")
}

/// Creates branch `session/<id>` at `base.commit` and checks it out at `path`.
/// On any failure both are gone again.
pub fn create(repo: &Repository, session_id: &str, base: &Base, path: &Path) -> Result<()> {
    if path.exists() {
        return Err(GitError::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("worktree path {} already exists", path.display()),
        )));
    }
    let commit = repo.find_commit(base.commit)?;
    let mut branch = repo.branch(&branch_name(session_id), &commit, false)?;
    let made = (|| -> Result<()> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut opts = WorktreeAddOptions::new();
        let reference = branch.get();
        opts.reference(Some(reference));
        repo.worktree(&worktree_name(session_id), path, Some(&opts))?;
        Ok(())
    })();
    if let Err(e) = made {
        let _ = remove_worktree_entry(repo, session_id, path);
        let _ = branch.delete();
        return Err(e);
    }
    Ok(())
}

/// Opens the session worktree, or says it is missing.
pub fn open(path: &Path) -> Result<Repository> {
    if !path.join(".git").exists() {
        return Err(GitError::WorktreeMissing(path.to_path_buf()));
    }
    Repository::open(path).map_err(|_| GitError::WorktreeMissing(path.to_path_buf()))
}

/// Removes the worktree folder and git's record of it; deletes the branch when asked.
pub fn remove(repo: &Repository, session_id: &str, path: &Path, delete_branch: bool) -> Result<()> {
    remove_worktree_entry(repo, session_id, path)?;
    if delete_branch {
        match repo.find_branch(&branch_name(session_id), BranchType::Local) {
            Ok(mut b) => b.delete()?,
            Err(e) if e.code() == git2::ErrorCode::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// How many commits of the session branch are not on `base_branch` (nor the base commit, when
/// the session started from a tag or commit): work that deleting the branch would lose.
pub fn unmerged_commits(
    repo: &Repository,
    session_id: &str,
    base_commit: git2::Oid,
    base_branch: Option<&str>,
) -> Result<usize> {
    let tip = match repo.find_branch(&branch_name(session_id), BranchType::Local) {
        Ok(b) => b.get().peel_to_commit()?.id(),
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut walk = repo.revwalk()?;
    walk.push(tip)?;
    walk.hide(base_commit)?;
    if let Some(base) = base_branch {
        if let Ok(b) = repo.find_branch(base, BranchType::Local) {
            walk.hide(b.get().peel_to_commit()?.id())?;
        }
    }
    Ok(walk.count())
}

fn remove_worktree_entry(repo: &Repository, session_id: &str, path: &Path) -> Result<()> {
    if path.exists() {
        fs::remove_dir_all(path)?;
    }
    if let Ok(wt) = repo.find_worktree(&worktree_name(session_id)) {
        wt.prune(Some(
            WorktreePruneOptions::new()
                .valid(true)
                .locked(true)
                .working_tree(true),
        ))?;
    }
    Ok(())
}

/// Prunes ArcBench worktrees registered in `repo` whose folder lies under `owned` (this host's
/// worktrees dir) and whose session is not in `live`; returns the session ids pruned.
///
/// Worktrees registered by the user or other tools are left alone, and so are those of another
/// ArcBench host (another data dir: the desktop app beside a headless `serve`, a demo, a test):
/// their sessions are unknown to this host's database, yet they hold that host's uncommitted
/// agent work.
pub fn sweep_registered(
    repo: &Repository,
    owned: &Path,
    live: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let owned = canonical_or_self(owned);
    let mut pruned = Vec::new();
    for name in repo.worktrees()?.iter().flatten().flatten() {
        let Some(id) = name.strip_prefix(WORKTREE_PREFIX) else {
            continue;
        };
        if live(id) {
            continue;
        }
        let wt = repo.find_worktree(name)?;
        let path = wt.path().to_path_buf();
        if !canonical_or_self(&path).starts_with(&owned) {
            continue;
        }
        remove_worktree_entry(repo, id, &path)?;
        pruned.push(id.to_owned());
    }
    Ok(pruned)
}

/// Adds `.aider*` to the repository's `info/exclude` (the common dir, so every worktree sees it)
/// so Aider's chat history and caches never show up as session changes.
pub fn ensure_aider_excluded(repo: &Repository) -> Result<()> {
    let info = common_dir(repo).join("info");
    fs::create_dir_all(&info)?;
    let exclude = info.join("exclude");
    let current = fs::read_to_string(&exclude).unwrap_or_default();
    if current.lines().any(|l| l.trim() == ".aider*") {
        return Ok(());
    }
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&exclude)?;
    if !current.is_empty() && !current.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    f.write_all(
        b"# Added by ArcBench: Aider's history and caches are not session changes.\n.aider*\n",
    )?;
    Ok(())
}

/// The path with symlinks resolved; a path that no longer exists resolves through its nearest
/// existing ancestor (a worktree folder deleted by hand still belongs to the dir it was in).
fn canonical_or_self(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut cur = path;
    loop {
        if let Ok(c) = cur.canonicalize() {
            return missing
                .iter()
                .rev()
                .fold(c, |acc: PathBuf, part| acc.join(part));
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_owned());
                cur = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn common_dir(repo: &Repository) -> PathBuf {
    repo.commondir().to_path_buf()
}
