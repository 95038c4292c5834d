//! Session lifecycle: create, list, read, delete, and the startup sweep.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use arcbench_git::{repo, worktree, Repository};
use arcbench_store::{now, SessionRow};
use shared_protocol::{
    CommitInfo, CreateSessionRequest, EventBody, PromptState, Session, SessionSnapshot,
    SessionState,
};

use crate::{repos, Engine, EngineError, Result};

const MAX_TITLE: usize = 200;

impl Engine {
    pub fn create_session(&self, req: CreateSessionRequest) -> Result<Session> {
        let title = req.title.unwrap_or_default().trim().to_owned();
        if title.chars().count() > MAX_TITLE {
            return Err(EngineError::BadRequest(format!(
                "title is longer than {MAX_TITLE} characters"
            )));
        }
        let entry = repos::pick(&self.repos, req.repo.as_deref())?.clone();
        let git = repo::open_user_repo(&entry.path)?;
        let base = repo::resolve_base(&git, req.base.as_deref())?;
        let (id, path) = self.fresh_id(&git)?;
        worktree::create(&git, &id, &base, &path)?;
        let row = SessionRow {
            id: id.clone(),
            repo_name: entry.name.clone(),
            repo_path: entry.path.display().to_string(),
            branch: worktree::branch_name(&id),
            base_commit: base.commit.to_string(),
            base_branch: base.branch,
            title,
            worktree: path.display().to_string(),
            created_at: now(),
            deleted_at: None,
        };
        let session = self.present(&row);
        let stored = self.store.tx(|tx| {
            tx.insert_session(&row)?;
            tx.append_event(
                Some(&id),
                EventBody::SessionCreated {
                    session: session.clone(),
                },
            )?;
            Ok::<_, EngineError>(())
        });
        if let Err(e) = stored {
            // Not recorded, so not a session: take the worktree and branch away again.
            let _ = worktree::remove(&git, &id, &path, true);
            return Err(e);
        }
        tracing::info!(session = %id, repo = %entry.name, "session created");
        Ok(session)
    }

    /// A random id whose branch and worktree folder are both free.
    fn fresh_id(&self, git: &Repository) -> Result<(String, PathBuf)> {
        for _ in 0..16 {
            let id = random_id();
            let path = self.worktrees_dir().join(&id);
            let taken = git
                .find_branch(&worktree::branch_name(&id), git2_local())
                .is_ok()
                || path.exists()
                || self.store.tx(|tx| tx.session(&id))?.is_some();
            if !taken {
                return Ok((id, path));
            }
        }
        Err(EngineError::Conflict(
            "could not find a free session id".into(),
        ))
    }

    pub fn sessions(&self) -> Result<Vec<Session>> {
        Ok(self.sessions_since()?.0)
    }

    /// The live sessions and the newest event's seq, read together: a client lists them and
    /// streams events after that seq.
    pub fn sessions_since(&self) -> Result<(Vec<Session>, u64)> {
        let (rows, last) = self
            .store
            .tx(|tx| Ok::<_, EngineError>((tx.sessions(false)?, tx.last_seq()?)))?;
        Ok((rows.iter().map(|r| self.present(r)).collect(), last))
    }

    /// Everything a client shows of one session, consistent with `last_seq` (one transaction).
    pub fn snapshot(&self, id: &str) -> Result<SessionSnapshot> {
        let row = self.session_row(id)?;
        let (mut prompts, legacy, commits, notes, proposals, last_seq) = self.store.tx(|tx| {
            Ok::<_, EngineError>((
                tx.prompts(id)?,
                tx.prompts_without_reply(id)?,
                tx.commits(id)?,
                tx.pending_notes(id)?,
                tx.proposals(id)?,
                tx.last_seq()?,
            ))
        })?;
        for p in prompts.iter_mut().filter(|p| legacy.contains(&p.id)) {
            p.reply = self.store.tx(|tx| tx.reply_from_events(&p.id))?;
        }
        Ok(SessionSnapshot {
            session: self.present(&row),
            prompts,
            commits: commits
                .into_iter()
                .map(|c| CommitInfo {
                    sha: c.sha,
                    message: c.message,
                })
                .collect(),
            notes,
            proposals,
            last_seq,
        })
    }

    pub fn session(&self, id: &str) -> Result<Session> {
        Ok(self.present(&self.session_row(id)?))
    }

    /// Where the session's worktree is (the agent's only place).
    pub fn worktree_path(&self, id: &str) -> Result<PathBuf> {
        Ok(PathBuf::from(self.session_row(id)?.worktree))
    }

    pub fn commits(&self, id: &str) -> Result<Vec<CommitInfo>> {
        self.session_row(id)?;
        let rows = self.store.tx(|tx| tx.commits(id))?;
        Ok(rows
            .into_iter()
            .map(|c| CommitInfo {
                sha: c.sha,
                message: c.message,
            })
            .collect())
    }

    /// A live (not deleted) session's row, or `not_found`.
    pub(crate) fn session_row(&self, id: &str) -> Result<SessionRow> {
        match self.store.tx(|tx| tx.session(id))? {
            Some(row) if row.deleted_at.is_none() => Ok(row),
            _ => Err(EngineError::NotFound(format!("no session `{id}`"))),
        }
    }

    /// Removes the session's worktree (even one already deleted by hand; its uncommitted work
    /// goes with it) and keeps the session's history; with `delete_branch` also its branch,
    /// which is refused while the branch holds commits that are not merged unless `force` says
    /// the user means it.
    pub fn delete_session(&self, id: &str, delete_branch: bool, force: bool) -> Result<()> {
        let lock = self.lock_session(id);
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let row = self.session_row(id)?;
        if self.running_prompt(id).is_some() {
            return Err(EngineError::Busy(id.to_owned()));
        }
        let git = repo::open_user_repo(Path::new(&row.repo_path))?;
        if delete_branch && !force {
            let base = arcbench_git::Oid::from_str(&row.base_commit)
                .map_err(arcbench_git::GitError::from)?;
            let unmerged = worktree::unmerged_commits(&git, id, base, row.base_branch.as_deref())?;
            if unmerged > 0 {
                return Err(EngineError::Conflict(format!(
                    "branch {} has {unmerged} commit(s) not merged into {}; merge it first, \
                     or delete with force=true to lose them",
                    row.branch,
                    row.base_branch.as_deref().unwrap_or("its base"),
                )));
            }
        }
        worktree::remove(&git, id, Path::new(&row.worktree), delete_branch)?;
        self.store.tx(|tx| {
            tx.mark_session_deleted(id, &now())?;
            tx.set_approved(id, &HashSet::new(), &now())?;
            // Queued prompts have no worktree to run in any more: they end, saying why.
            for p in tx
                .prompts(id)?
                .into_iter()
                .filter(|p| p.state == PromptState::Queued)
            {
                let reason = "the session was deleted before this prompt ran";
                tx.set_prompt_state(&p.id, PromptState::Cancelled, Some(reason), &now())?;
                tx.append_event(
                    Some(id),
                    EventBody::PromptFinished {
                        prompt_id: p.id,
                        state: PromptState::Cancelled,
                        usage: p.usage,
                        reason: Some(reason.into()),
                    },
                )?;
            }
            tx.append_event(
                Some(id),
                EventBody::SessionDeleted {
                    branch_deleted: delete_branch,
                },
            )?;
            Ok::<_, EngineError>(())
        })?;
        tracing::info!(session = %id, delete_branch, "session deleted");
        Ok(())
    }

    /// Removes worktree folders and git worktree records that belong to no live session
    /// (left by a crash between creating a worktree and recording it, or by deleted sessions).
    pub(crate) fn sweep(&self) -> Result<()> {
        let live: HashSet<String> = self
            .store
            .tx(|tx| tx.sessions(false))?
            .into_iter()
            .map(|r| r.id)
            .collect();
        for entry in &self.repos {
            let git = repo::open_user_repo(&entry.path)?;
            let pruned =
                worktree::sweep_registered(&git, &self.worktrees_dir(), &|id| live.contains(id))?;
            for id in pruned {
                tracing::info!(session = %id, repo = %entry.name, "pruned orphan worktree");
            }
        }
        for dir in std::fs::read_dir(self.worktrees_dir())?.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            if !live.contains(&name) {
                tracing::info!(path = %dir.path().display(), "removed orphan worktree folder");
                std::fs::remove_dir_all(dir.path())?;
            }
        }
        Ok(())
    }
}

fn git2_local() -> arcbench_git::BranchType {
    arcbench_git::BranchType::Local
}

impl Engine {
    /// The wire form of a session, with its live state.
    pub(crate) fn present(&self, row: &SessionRow) -> Session {
        let state = if row.deleted_at.is_some() {
            SessionState::Deleted
        } else if !Path::new(&row.worktree).join(".git").exists() {
            SessionState::WorktreeMissing
        } else if self.running_prompt(&row.id).is_some() {
            SessionState::Running
        } else {
            SessionState::Idle
        };
        to_session(row, state)
    }
}

fn to_session(row: &SessionRow, state: SessionState) -> Session {
    Session {
        id: row.id.clone(),
        branch: row.branch.clone(),
        base_commit: row.base_commit.clone(),
        base_branch: row.base_branch.clone(),
        state,
        repo: row.repo_name.clone(),
        title: row.title.clone(),
        created_at: row.created_at.clone(),
    }
}

/// 8 characters from [a-z0-9]: short enough to read aloud, 41 bits of randomness.
pub(crate) fn random_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}
