use rusqlite::{params, Row};
use shared_protocol::{NoteHunkState, ReviewNote};

use crate::{Result, Tx};

const COLUMNS: &str =
    "id, hunk_id, path, header, old_start, old_lines, new_start, new_lines, hunk_state,
    patch, comment, created_at, round_prompt_id";

fn from_row(r: &Row) -> rusqlite::Result<ReviewNote> {
    Ok(ReviewNote {
        id: r.get::<_, i64>(0)? as u64,
        hunk_id: r.get(1)?,
        path: r.get(2)?,
        header: r.get(3)?,
        old_start: r.get(4)?,
        old_lines: r.get(5)?,
        new_start: r.get(6)?,
        new_lines: r.get(7)?,
        hunk_state: match r.get::<_, String>(8)?.as_str() {
            "rejected" => NoteHunkState::Rejected,
            "approved" => NoteHunkState::Approved,
            _ => NoteHunkState::Pending,
        },
        patch: r.get(9)?,
        comment: r.get(10)?,
        created_at: r.get(11)?,
        round_prompt_id: r.get(12)?,
    })
}

impl Tx<'_> {
    /// Stores a note; `note.id` is ignored and the stored note (with its id) returned.
    pub fn insert_note(&self, session: &str, note: &ReviewNote) -> Result<ReviewNote> {
        self.0.execute(
            "INSERT INTO review_notes (session_id, hunk_id, path, header, old_start, old_lines, new_start,
                new_lines, hunk_state, patch, comment, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                session,
                note.hunk_id,
                note.path,
                note.header,
                note.old_start,
                note.old_lines,
                note.new_start,
                note.new_lines,
                match note.hunk_state {
                    NoteHunkState::Rejected => "rejected",
                    NoteHunkState::Approved => "approved",
                    NoteHunkState::Pending => "pending",
                },
                note.patch,
                note.comment,
                note.created_at
            ],
        )?;
        Ok(ReviewNote {
            id: self.0.last_insert_rowid() as u64,
            ..note.clone()
        })
    }

    /// Notes not yet used by a revision, oldest first.
    pub fn pending_notes(&self, session: &str) -> Result<Vec<ReviewNote>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {COLUMNS} FROM review_notes WHERE session_id = ?1 AND round_prompt_id IS NULL ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([session], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The notes a revision prompt used.
    pub fn notes_of_round(&self, prompt_id: &str) -> Result<Vec<ReviewNote>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {COLUMNS} FROM review_notes WHERE round_prompt_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([prompt_id], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Marks the session's pending notes as used by `prompt_id`.
    pub fn consume_notes(&self, session: &str, prompt_id: &str) -> Result<()> {
        self.0.execute(
            "UPDATE review_notes SET round_prompt_id = ?2 WHERE session_id = ?1 AND round_prompt_id IS NULL",
            params![session, prompt_id],
        )?;
        Ok(())
    }
}
