//! Review operations on a session: diff, approve, reject, apply, reject all, undo, merge.
//!
//! Each one recomputes the diff first, so ids are checked against the worktree as it is now,
//! runs under the session's lock, and records its decision and events in one transaction.

use std::collections::HashSet;
use std::path::Path;

use arcbench_git::diff::{lossy, WorkDiff};
use arcbench_git::review::{self as git_review, Ids};
use arcbench_git::{merge, repo, worktree, GitError, Repository};
use arcbench_store::{now, ApprovalRow, ReviewAction, SessionRow, Tx};
use shared_protocol::{CommitInfo, Diff, EventBody, HunkAction};

use crate::{Engine, EngineError, Result};

const MAX_MESSAGE: usize = 10_000;

impl Engine {
    pub fn diff(&self, id: &str) -> Result<Diff> {
        self.with_worktree(id, |_, wt| {
            let diff = WorkDiff::compute(wt)?;
            let approved = self.current_approvals(id, &diff)?;
            Ok(diff.to_wire(&|h| approved.contains(h)))
        })
    }

    /// Stages exactly the units `ids` (on top of those already approved). All or nothing.
    pub fn approve(&self, id: &str, ids: &[String]) -> Result<Diff> {
        require_ids(ids)?;
        self.review_op(id, |_, wt| {
            let diff = WorkDiff::compute(wt)?;
            git_review::check_ids(&diff, ids)?;
            let mut approved = self.current_approvals(id, &diff)?;
            approved.extend(ids.iter().cloned());
            git_review::sync_index(wt, &diff, &approved)?;
            self.store.tx(|tx| {
                tx.set_approved(id, &approved, &now())?;
                log_units(tx, id, &diff, ids, ReviewAction::Approve, None)?;
                tx.append_event(
                    Some(id),
                    EventBody::HunkUpdated {
                        ids: ids.to_vec(),
                        action: HunkAction::Approved,
                        comment: None,
                    },
                )?;
                diff_event(tx, id, &diff, &approved)
            })?;
            Ok(diff.to_wire(&|h| approved.contains(h)))
        })
    }

    /// Reverts exactly the units `ids` in the worktree. All or nothing.
    pub fn reject(&self, id: &str, ids: &[String], comment: Option<&str>) -> Result<Diff> {
        require_ids(ids)?;
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if let Some(c) = comment {
            crate::revise::check_comment(c)?;
        }
        self.review_op(id, |_, wt| {
            let diff = WorkDiff::compute(wt)?;
            git_review::check_ids(&diff, ids)?;
            self.reject_units(id, wt, &diff, ids, comment)
        })
    }

    /// Discards every uncommitted change of the session, new files included: one diff, one
    /// locked operation, so a hunk changing meanwhile cannot make it fail half-way.
    pub fn reject_all(&self, id: &str) -> Result<Diff> {
        self.review_op(id, |_, wt| {
            let diff = WorkDiff::compute(wt)?;
            let ids: Vec<String> = diff.units().map(|(_, u)| u.id.clone()).collect();
            if ids.is_empty() {
                return Ok(diff.to_wire(&|_| false));
            }
            self.reject_units(id, wt, &diff, &ids, None)
        })
    }

    /// Reverts `ids` (already checked against `diff`) and records the decision and its notes.
    fn reject_units(
        &self,
        id: &str,
        wt: &Repository,
        diff: &WorkDiff,
        ids: &[String],
        comment: Option<&str>,
    ) -> Result<Diff> {
        let rejected: Ids = ids.iter().cloned().collect();
        // Every rejection is a review note (quoting the hunk before it is reverted): the next
        // revision tells the agent what was refused and why.
        let notes: Vec<_> = diff
            .units()
            .filter(|(_, u)| rejected.contains(&u.id))
            .map(|(f, u)| {
                crate::revise::note_for(f, u, shared_protocol::NoteHunkState::Rejected, comment)
            })
            .collect();
        git_review::revert_units(wt, diff, &rejected)?;
        let after = WorkDiff::compute(wt)?;
        let approved = self.current_approvals(id, &after)?;
        git_review::sync_index(wt, &after, &approved)?;
        self.store.tx(|tx| {
            tx.set_approved(id, &approved, &now())?;
            log_units(tx, id, diff, ids, ReviewAction::Reject, comment)?;
            crate::revise::record_notes(tx, id, notes)?;
            tx.append_event(
                Some(id),
                EventBody::HunkUpdated {
                    ids: ids.to_vec(),
                    action: HunkAction::Rejected,
                    comment: comment.map(str::to_owned),
                },
            )?;
            diff_event(tx, id, &after, &approved)
        })?;
        Ok(after.to_wire(&|h| approved.contains(h)))
    }

    /// Commits exactly the approved units on the session branch; pending work stays.
    pub fn apply(&self, id: &str, message: Option<&str>) -> Result<CommitInfo> {
        let message = message.map(str::trim).filter(|m| !m.is_empty());
        if message.is_some_and(|m| m.len() > MAX_MESSAGE) {
            return Err(EngineError::BadRequest(format!(
                "message is longer than {MAX_MESSAGE} bytes"
            )));
        }
        self.review_op(id, |row, wt| {
            let diff = WorkDiff::compute(wt)?;
            let approved = self.current_approvals(id, &diff)?;
            let message = match message {
                Some(m) => m.to_owned(),
                None => default_message(row, &diff, &approved),
            };
            let sha = git_review::commit_approved(wt, &diff, &approved, &message)?.to_string();
            let after = WorkDiff::compute(wt)?;
            let still = self.current_approvals(id, &after)?;
            git_review::sync_index(wt, &after, &still)?;
            let commit = CommitInfo { sha, message };
            self.store.tx(|tx| {
                tx.insert_commit(id, &commit.sha, &commit.message, &now())?;
                tx.set_approved(id, &still, &now())?;
                tx.append_event(
                    Some(id),
                    EventBody::CommitCreated {
                        commit: commit.clone(),
                    },
                )?;
                diff_event(tx, id, &after, &still)
            })?;
            tracing::info!(session = %id, commit = %commit.sha, "applied");
            Ok(commit)
        })
    }

    /// Soft-resets the last session commit; its changes come back as approved hunks.
    /// Returns the new branch tip. Never goes past the base commit.
    pub fn undo(&self, id: &str) -> Result<String> {
        self.review_op(id, |row, wt| {
            let base = row.base_commit.parse().map_err(GitError::from)?;
            let (tip, undone) = git_review::undo_last(wt, base)?;
            let diff = WorkDiff::compute(wt)?;
            let restored = git_review::approvals_from_index(wt, &diff)?;
            let mut approved = self.current_approvals(id, &diff)?;
            approved.extend(restored.iter().cloned());
            git_review::sync_index(wt, &diff, &approved)?;
            let restored: Vec<String> = restored.into_iter().collect();
            self.store.tx(|tx| {
                tx.mark_commit_undone(id, &undone.to_string(), &now())?;
                tx.set_approved(id, &approved, &now())?;
                log_units(tx, id, &diff, &restored, ReviewAction::Restore, None)?;
                tx.append_event(
                    Some(id),
                    EventBody::CommitUndone {
                        undone: undone.to_string(),
                        commit: tip.to_string(),
                    },
                )?;
                diff_event(tx, id, &diff, &approved)
            })?;
            Ok(tip.to_string())
        })
    }

    /// Lands the session's commits on the branch it started from (fast-forward or merge commit).
    /// Refuses, changing nothing, when that branch's checkout is dirty or the merge conflicts.
    pub fn merge(&self, id: &str) -> Result<String> {
        self.review_op(id, |row, wt| {
            let base_branch = row.base_branch.clone().ok_or(GitError::NoBaseBranch)?;
            let git = repo::open_user_repo(Path::new(&row.repo_path))?;
            let tip = wt
                .head()
                .map_err(GitError::from)?
                .peel_to_commit()
                .map_err(GitError::from)?
                .id();
            let title = if row.title.is_empty() {
                String::new()
            } else {
                format!(": {}", row.title)
            };
            let message = format!("Merge {} into {base_branch}{title}", row.branch);
            let commit = merge::merge_into_base(&git, &base_branch, tip, &message)?.to_string();
            self.store.tx(|tx| {
                tx.append_event(
                    Some(id),
                    EventBody::SessionMerged {
                        commit: commit.clone(),
                        branch: base_branch.clone(),
                    },
                )?;
                Ok::<_, EngineError>(())
            })?;
            tracing::info!(session = %id, branch = %base_branch, commit = %commit, "merged");
            Ok(commit)
        })
    }

    /// Runs `f` on the session's worktree under the session lock.
    fn with_worktree<T>(
        &self,
        id: &str,
        f: impl FnOnce(&SessionRow, &Repository) -> Result<T>,
    ) -> Result<T> {
        let lock = self.lock_session(id);
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let row = self.session_row(id)?;
        let wt = worktree::open(Path::new(&row.worktree))?;
        f(&row, &wt)
    }

    /// Like [`Self::with_worktree`] for operations that change the session: refused while a
    /// prompt runs, since the agent is writing to the same worktree.
    fn review_op<T>(
        &self,
        id: &str,
        f: impl FnOnce(&SessionRow, &Repository) -> Result<T>,
    ) -> Result<T> {
        self.with_worktree(id, |row, wt| {
            if self.running_prompt(id).is_some() {
                return Err(EngineError::Busy(id.to_owned()));
            }
            f(row, wt)
        })
    }

    /// The stored approvals that still name a unit of `diff` (an edited hunk's old id is stale).
    pub(crate) fn current_approvals(&self, id: &str, diff: &WorkDiff) -> Result<Ids> {
        let stored = self.store.tx(|tx| tx.approved_ids(id))?;
        let present: HashSet<&str> = diff.units().map(|(_, u)| u.id.as_str()).collect();
        Ok(stored
            .into_iter()
            .filter(|h| present.contains(h.as_str()))
            .collect())
    }
}

fn require_ids(ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Err(EngineError::BadRequest(
            "`ids` must name at least one hunk".into(),
        ));
    }
    Ok(())
}

fn log_units(
    tx: &Tx,
    session: &str,
    diff: &WorkDiff,
    ids: &[String],
    action: ReviewAction,
    comment: Option<&str>,
) -> Result<()> {
    let at = now();
    for (fc, u) in diff.units().filter(|(_, u)| ids.contains(&u.id)) {
        let row = ApprovalRow {
            hunk_id: u.id.clone(),
            path: lossy(fc.path()),
            header: u.header.clone(),
        };
        tx.log_review(session, &row, action, comment, &at)?;
    }
    Ok(())
}

pub(crate) fn diff_event(tx: &Tx, session: &str, diff: &WorkDiff, approved: &Ids) -> Result<()> {
    let hunks = diff.units().count() as u32;
    tx.append_event(
        Some(session),
        EventBody::DiffUpdated {
            files: diff.files.len() as u32,
            hunks,
            approved: approved.len() as u32,
        },
    )?;
    Ok(())
}

fn default_message(row: &SessionRow, diff: &WorkDiff, approved: &Ids) -> String {
    let files: HashSet<&[u8]> = diff
        .units()
        .filter(|(_, u)| approved.contains(&u.id))
        .map(|(f, _)| f.path())
        .collect();
    let what = if row.title.is_empty() {
        "ArcBench session".to_owned()
    } else {
        row.title.clone()
    };
    format!(
        "{what}\n\nApplied {} reviewed hunk(s) in {} file(s) from {}.",
        approved.len(),
        files.len(),
        row.branch
    )
}
