use rusqlite::{params, OptionalExtension, Row};
use shared_protocol::{Prompt, PromptKind, PromptState, Usage};

use crate::{Result, Tx};

fn state_str(s: PromptState) -> &'static str {
    match s {
        PromptState::Queued => "queued",
        PromptState::Running => "running",
        PromptState::Done => "done",
        PromptState::Failed => "failed",
        PromptState::Cancelled => "cancelled",
        PromptState::Interrupted => "interrupted",
    }
}

/// A stored state; an unknown one is an error, never `queued`: a corrupt row must not make a
/// prompt run again.
fn parse_state(column: usize, s: &str) -> rusqlite::Result<PromptState> {
    Ok(match s {
        "queued" => PromptState::Queued,
        "running" => PromptState::Running,
        "done" => PromptState::Done,
        "failed" => PromptState::Failed,
        "cancelled" => PromptState::Cancelled,
        "interrupted" => PromptState::Interrupted,
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                column,
                rusqlite::types::Type::Text,
                format!("unknown prompt state `{other}`").into(),
            ))
        }
    })
}

const COLUMNS: &str = "p.id, p.session_id, p.client_id, p.text, p.state, p.reason, p.created_at,
    COALESCE(SUM(u.input_tokens), 0), COALESCE(SUM(u.output_tokens), 0),
    COALESCE(SUM(u.cache_creation_input_tokens), 0), COALESCE(SUM(u.cache_read_input_tokens), 0),
    COALESCE(SUM(u.cost_usd), 0.0), p.kind, p.files, p.reply";
const FROM: &str = "FROM prompts p LEFT JOIN usage u ON u.prompt_id = p.id";

/// A prompt row and the session it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptRow {
    pub session_id: String,
    pub prompt: Prompt,
}

fn from_row(r: &Row) -> rusqlite::Result<PromptRow> {
    Ok(PromptRow {
        session_id: r.get(1)?,
        prompt: Prompt {
            id: r.get(0)?,
            client_id: r.get(2)?,
            text: r.get(3)?,
            state: parse_state(4, &r.get::<_, String>(4)?)?,
            reason: r.get(5)?,
            created_at: r.get(6)?,
            usage: Usage {
                input_tokens: r.get::<_, i64>(7)? as u64,
                output_tokens: r.get::<_, i64>(8)? as u64,
                cache_creation_input_tokens: r.get::<_, i64>(9)? as u64,
                cache_read_input_tokens: r.get::<_, i64>(10)? as u64,
                cost_usd: r.get(11)?,
            },
            kind: if r.get::<_, String>(12)? == "revision" {
                PromptKind::Revision
            } else {
                PromptKind::Prompt
            },
            files: serde_json::from_str(&r.get::<_, String>(13)?).unwrap_or_default(),
            reply: r.get::<_, Option<String>>(14)?.unwrap_or_default(),
        },
    })
}

impl Tx<'_> {
    pub fn insert_prompt(&self, session: &str, p: &Prompt) -> Result<()> {
        self.0.execute(
            "INSERT INTO prompts (id, session_id, client_id, text, state, reason, created_at, kind, files, reply)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '')",
            params![
                p.id,
                session,
                p.client_id,
                p.text,
                state_str(p.state),
                p.reason,
                p.created_at,
                match p.kind {
                    PromptKind::Prompt => "prompt",
                    PromptKind::Revision => "revision",
                },
                serde_json::to_string(&p.files).expect("paths serialize")
            ],
        )?;
        Ok(())
    }

    /// Prompts of the session from before replies were kept (their reply is in their events).
    pub fn prompts_without_reply(&self, session: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .0
            .prepare("SELECT id FROM prompts WHERE session_id = ?1 AND reply IS NULL")?;
        let ids = stmt
            .query_map([session], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }

    /// Adds streamed text to the prompt's reply (in the transaction that records the chunk).
    pub fn append_reply(&self, id: &str, chunk: &str) -> Result<()> {
        self.0.execute(
            "UPDATE prompts SET reply = COALESCE(reply, '') || ?2 WHERE id = ?1",
            params![id, chunk],
        )?;
        Ok(())
    }

    /// The text streamed so far is no longer the answer (a retry or follow-up starts over).
    pub fn reset_reply(&self, id: &str) -> Result<()> {
        self.0
            .execute("UPDATE prompts SET reply = '' WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn prompt(&self, id: &str) -> Result<Option<PromptRow>> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {COLUMNS} {FROM} WHERE p.id = ?1 GROUP BY p.id"),
                [id],
                from_row,
            )
            .optional()?)
    }

    pub fn prompt_by_client_id(&self, client_id: &str) -> Result<Option<PromptRow>> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {COLUMNS} {FROM} WHERE p.client_id = ?1 GROUP BY p.id"),
                [client_id],
                from_row,
            )
            .optional()?)
    }

    /// The session's prompts in the order they were sent.
    pub fn prompts(&self, session: &str) -> Result<Vec<Prompt>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {COLUMNS} {FROM} WHERE p.session_id = ?1 GROUP BY p.id ORDER BY p.rowid"
        ))?;
        let rows = stmt
            .query_map([session], from_row)?
            .map(|r| r.map(|p| p.prompt))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The oldest queued prompt of the session.
    pub fn next_queued(&self, session: &str) -> Result<Option<Prompt>> {
        Ok(self
            .0
            .query_row(
                &format!(
                    "SELECT {COLUMNS} {FROM} WHERE p.session_id = ?1 AND p.state = 'queued'
                     GROUP BY p.id ORDER BY p.rowid LIMIT 1"
                ),
                [session],
                from_row,
            )
            .optional()?
            .map(|r| r.prompt))
    }

    /// Sessions that have queued prompts, oldest first.
    pub fn sessions_with_queued(&self) -> Result<Vec<String>> {
        let mut stmt = self.0.prepare(
            "SELECT session_id FROM prompts WHERE state = 'queued' GROUP BY session_id ORDER BY MIN(rowid)",
        )?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// Prompts in `state` (e.g. those left `running` by a crash).
    pub fn prompts_in_state(&self, state: PromptState) -> Result<Vec<PromptRow>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {COLUMNS} {FROM} WHERE p.state = ?1 GROUP BY p.id ORDER BY p.rowid"
        ))?;
        let rows = stmt
            .query_map([state_str(state)], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn set_prompt_state(
        &self,
        id: &str,
        state: PromptState,
        reason: Option<&str>,
        at: &str,
    ) -> Result<()> {
        if state == PromptState::Queued {
            // Back to (or kept in) the queue, e.g. held by a budget: only the reason changes.
            self.0.execute(
                "UPDATE prompts SET state = 'queued', reason = ?2 WHERE id = ?1",
                params![id, reason],
            )?;
            return Ok(());
        }
        let column = if state == PromptState::Running {
            "started_at"
        } else {
            "finished_at"
        };
        self.0.execute(
            &format!("UPDATE prompts SET state = ?2, reason = ?3, {column} = ?4 WHERE id = ?1"),
            params![id, state_str(state), reason, at],
        )?;
        Ok(())
    }
}

impl Tx<'_> {
    /// Keeps the diff a prompt left behind (shown in the session's history).
    pub fn save_prompt_diff(&self, prompt_id: &str, diff: &shared_protocol::Diff) -> Result<()> {
        self.0.execute(
            "INSERT INTO prompt_diffs (prompt_id, diff) VALUES (?1, ?2)
             ON CONFLICT(prompt_id) DO UPDATE SET diff = excluded.diff",
            params![
                prompt_id,
                serde_json::to_string(diff).expect("diffs serialize")
            ],
        )?;
        Ok(())
    }

    pub fn prompt_diff(&self, prompt_id: &str) -> Result<Option<shared_protocol::Diff>> {
        let json: Option<String> = self
            .0
            .query_row(
                "SELECT diff FROM prompt_diffs WHERE prompt_id = ?1",
                [prompt_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }
}
