use rusqlite::{params, OptionalExtension};
use shared_protocol::Usage;

use crate::{Result, Tx};

/// One API request's usage, priced.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    pub session_id: String,
    pub prompt_id: Option<String>,
    pub model: String,
    pub usage: Usage,
    /// `YYYY-MM-DD` (UTC): the budget day it counts toward.
    pub day: String,
    pub at: String,
}

const SUMS: &str = "COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
    COALESCE(SUM(cache_creation_input_tokens), 0), COALESCE(SUM(cache_read_input_tokens), 0),
    COALESCE(SUM(cost_usd), 0.0)";

fn sums(r: &rusqlite::Row, from: usize) -> rusqlite::Result<Usage> {
    Ok(Usage {
        input_tokens: r.get::<_, i64>(from)? as u64,
        output_tokens: r.get::<_, i64>(from + 1)? as u64,
        cache_creation_input_tokens: r.get::<_, i64>(from + 2)? as u64,
        cache_read_input_tokens: r.get::<_, i64>(from + 3)? as u64,
        cost_usd: r.get(from + 4)?,
    })
}

impl Tx<'_> {
    pub fn insert_usage(&self, u: &UsageRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO usage (session_id, prompt_id, model, input_tokens, output_tokens,
                cache_creation_input_tokens, cache_read_input_tokens, cost_usd, day, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                u.session_id,
                u.prompt_id,
                u.model,
                u.usage.input_tokens as i64,
                u.usage.output_tokens as i64,
                u.usage.cache_creation_input_tokens as i64,
                u.usage.cache_read_input_tokens as i64,
                u.usage.cost_usd,
                u.day,
                u.at
            ],
        )?;
        Ok(())
    }

    pub fn usage_total(&self) -> Result<Usage> {
        Ok(self
            .0
            .query_row(&format!("SELECT {SUMS} FROM usage"), [], |r| sums(r, 0))?)
    }

    pub fn usage_of_day(&self, day: &str) -> Result<Usage> {
        Ok(self.0.query_row(
            &format!("SELECT {SUMS} FROM usage WHERE day = ?1"),
            [day],
            |r| sums(r, 0),
        )?)
    }

    pub fn usage_of_session(&self, session: &str) -> Result<Usage> {
        Ok(self.0.query_row(
            &format!("SELECT {SUMS} FROM usage WHERE session_id = ?1"),
            [session],
            |r| sums(r, 0),
        )?)
    }

    /// (key, totals) grouped by `column` (`session_id`, `model` or `day`).
    pub fn usage_by(&self, column: UsageGroup) -> Result<Vec<(String, Usage)>> {
        let col = match column {
            UsageGroup::Session => "session_id",
            UsageGroup::Model => "model",
            UsageGroup::Day => "day",
        };
        let mut stmt = self.0.prepare(&format!(
            "SELECT {col}, {SUMS} FROM usage GROUP BY {col} ORDER BY {col}"
        ))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, sums(r, 1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .0
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.0.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => self
                .0
                .execute("DELETE FROM settings WHERE key = ?1", [key])?,
        };
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
pub enum UsageGroup {
    Session,
    Model,
    Day,
}
