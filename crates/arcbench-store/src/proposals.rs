//! Proposed edits: the edit blocks of a streaming reply, kept as their `edit.proposed` events
//! carry them (one row per block of the prompt's current answer).

use rusqlite::params;
use shared_protocol::EditProposal;

use crate::{Result, Tx};

impl Tx<'_> {
    /// Stores `p`, replacing the block's earlier proposal (its `will not apply` update).
    pub fn put_proposal(&self, p: &EditProposal) -> Result<()> {
        let json = serde_json::to_string(p).expect("proposals serialize");
        self.0.execute(
            "INSERT INTO proposals (prompt_id, idx, proposal) VALUES (?1, ?2, ?3)
             ON CONFLICT (prompt_id, idx) DO UPDATE SET proposal = excluded.proposal",
            params![p.prompt_id, p.index, json],
        )?;
        Ok(())
    }

    /// Forgets the prompt's proposals: its answer was discarded (a retry or follow-up).
    pub fn clear_proposals(&self, prompt_id: &str) -> Result<()> {
        self.0
            .execute("DELETE FROM proposals WHERE prompt_id = ?1", [prompt_id])?;
        Ok(())
    }

    /// One prompt's proposals, in block order.
    pub fn prompt_proposals(&self, prompt_id: &str) -> Result<Vec<EditProposal>> {
        let mut stmt = self
            .0
            .prepare("SELECT proposal FROM proposals WHERE prompt_id = ?1 ORDER BY idx")?;
        let rows = stmt.query_map([prompt_id], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            if let Ok(p) = serde_json::from_str(&json?) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The session's proposals, oldest prompt first, each prompt's in block order.
    pub fn proposals(&self, session: &str) -> Result<Vec<EditProposal>> {
        let mut stmt = self.0.prepare(
            "SELECT x.proposal FROM proposals x JOIN prompts p ON p.id = x.prompt_id
             WHERE p.session_id = ?1 ORDER BY p.rowid, x.idx",
        )?;
        let rows = stmt.query_map([session], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            // Written by put_proposal from the same type; a row that no longer parses (a
            // future downgrade) is skipped rather than failing the whole snapshot.
            if let Ok(p) = serde_json::from_str(&json?) {
                out.push(p);
            }
        }
        Ok(out)
    }
}
