use rusqlite::{params, OptionalExtension, Row};

use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    pub repo_name: String,
    pub repo_path: String,
    pub branch: String,
    pub base_commit: String,
    pub base_branch: Option<String>,
    pub title: String,
    pub worktree: String,
    pub created_at: String,
    pub deleted_at: Option<String>,
}

const COLUMNS: &str =
    "id, repo_name, repo_path, branch, base_commit, base_branch, title, worktree, created_at, deleted_at";

fn from_row(r: &Row) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        id: r.get(0)?,
        repo_name: r.get(1)?,
        repo_path: r.get(2)?,
        branch: r.get(3)?,
        base_commit: r.get(4)?,
        base_branch: r.get(5)?,
        title: r.get(6)?,
        worktree: r.get(7)?,
        created_at: r.get(8)?,
        deleted_at: r.get(9)?,
    })
}

impl Tx<'_> {
    pub fn insert_session(&self, s: &SessionRow) -> Result<()> {
        self.0.execute(
            &format!(
                "INSERT INTO sessions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                s.id,
                s.repo_name,
                s.repo_path,
                s.branch,
                s.base_commit,
                s.base_branch,
                s.title,
                s.worktree,
                s.created_at,
                s.deleted_at
            ],
        )?;
        Ok(())
    }

    pub fn session(&self, id: &str) -> Result<Option<SessionRow>> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?)
    }

    /// Every session, oldest first; deleted ones too when `include_deleted`.
    pub fn sessions(&self, include_deleted: bool) -> Result<Vec<SessionRow>> {
        let filter = if include_deleted {
            ""
        } else {
            "WHERE deleted_at IS NULL"
        };
        let mut stmt = self.0.prepare(&format!(
            "SELECT {COLUMNS} FROM sessions {filter} ORDER BY created_at, id"
        ))?;
        let rows = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn mark_session_deleted(&self, id: &str, at: &str) -> Result<()> {
        self.0.execute(
            "UPDATE sessions SET deleted_at = ?2 WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }
}

impl Tx<'_> {
    /// Keeps the session's latest agent transcript (JSON), replacing the previous one.
    pub fn save_transcript(&self, session: &str, transcript: &str, at: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO transcripts (session_id, transcript, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(session_id) DO UPDATE SET transcript = excluded.transcript,
                 updated_at = excluded.updated_at",
            params![session, transcript, at],
        )?;
        Ok(())
    }

    pub fn transcript(&self, session: &str) -> Result<Option<String>> {
        Ok(self
            .0
            .query_row(
                "SELECT transcript FROM transcripts WHERE session_id = ?1",
                [session],
                |r| r.get(0),
            )
            .optional()?)
    }
}
