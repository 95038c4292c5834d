use std::collections::HashSet;

use rusqlite::params;

use crate::{Result, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAction {
    Approve,
    Reject,
    /// Came back approved when `undo` soft-reset the commit holding it.
    Restore,
}

impl ReviewAction {
    fn as_str(self) -> &'static str {
        match self {
            ReviewAction::Approve => "approve",
            ReviewAction::Reject => "reject",
            ReviewAction::Restore => "restore",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    pub hunk_id: String,
    pub path: String,
    pub header: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRow {
    pub sha: String,
    pub message: String,
    pub created_at: String,
}

impl Tx<'_> {
    pub fn approved_ids(&self, session: &str) -> Result<HashSet<String>> {
        let mut stmt = self
            .0
            .prepare("SELECT hunk_id FROM approvals WHERE session_id = ?1")?;
        let ids = stmt
            .query_map([session], |r| r.get(0))?
            .collect::<rusqlite::Result<HashSet<String>>>()?;
        Ok(ids)
    }

    /// Replaces the session's approved set; ids already approved keep their time.
    pub fn set_approved(&self, session: &str, ids: &HashSet<String>, at: &str) -> Result<()> {
        let current = self.approved_ids(session)?;
        for gone in current.difference(ids) {
            self.0.execute(
                "DELETE FROM approvals WHERE session_id = ?1 AND hunk_id = ?2",
                params![session, gone],
            )?;
        }
        for new in ids.difference(&current) {
            self.0.execute(
                "INSERT INTO approvals (session_id, hunk_id, approved_at) VALUES (?1, ?2, ?3)",
                params![session, new, at],
            )?;
        }
        Ok(())
    }

    pub fn log_review(
        &self,
        session: &str,
        unit: &ApprovalRow,
        action: ReviewAction,
        comment: Option<&str>,
        at: &str,
    ) -> Result<()> {
        self.0.execute(
            "INSERT INTO review_log (session_id, hunk_id, path, header, action, comment, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                session,
                unit.hunk_id,
                unit.path,
                unit.header,
                action.as_str(),
                comment,
                at
            ],
        )?;
        Ok(())
    }

    /// (hunk id, action, comment) of every review decision, oldest first.
    pub fn review_log(&self, session: &str) -> Result<Vec<(String, String, Option<String>)>> {
        let mut stmt = self.0.prepare(
            "SELECT hunk_id, action, comment FROM review_log WHERE session_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([session], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn insert_commit(&self, session: &str, sha: &str, message: &str, at: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO commits (session_id, sha, message, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![session, sha, message, at],
        )?;
        Ok(())
    }

    pub fn mark_commit_undone(&self, session: &str, sha: &str, at: &str) -> Result<()> {
        self.0.execute(
            "UPDATE commits SET undone_at = ?3 WHERE session_id = ?1 AND sha = ?2 AND undone_at IS NULL",
            params![session, sha, at],
        )?;
        Ok(())
    }

    /// Commits made in the session and not undone, oldest first.
    pub fn commits(&self, session: &str) -> Result<Vec<CommitRow>> {
        let mut stmt = self.0.prepare(
            "SELECT sha, message, created_at FROM commits
             WHERE session_id = ?1 AND undone_at IS NULL ORDER BY created_at, rowid",
        )?;
        let rows = stmt
            .query_map([session], |r| {
                Ok(CommitRow {
                    sha: r.get(0)?,
                    message: r.get(1)?,
                    created_at: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
