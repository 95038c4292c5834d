use rusqlite::params;
use shared_protocol::{Event, EventBody};

use crate::{now, Result, StoreError, Tx};

impl Tx<'_> {
    /// Appends an event; its seq is the next integer, and it exists only if the transaction commits.
    pub fn append_event(&self, session_id: Option<&str>, body: EventBody) -> Result<Event> {
        let ts = now();
        let json = serde_json::to_string(&body).expect("event bodies serialize");
        self.0.execute(
            "INSERT INTO events (ts, type, session_id, body) VALUES (?1, ?2, ?3, ?4)",
            params![ts, body.kind(), session_id, json],
        )?;
        let event = Event {
            seq: self.0.last_insert_rowid() as u64,
            ts,
            session_id: session_id.map(str::to_owned),
            body,
        };
        self.1.borrow_mut().push(event.clone());
        Ok(event)
    }

    /// Events with seq > `since`, in order, at most `limit`.
    pub fn events_since(&self, since: u64, limit: u32) -> Result<Vec<Event>> {
        let mut stmt = self.0.prepare(
            "SELECT seq, ts, session_id, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![since as i64, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(seq, ts, session_id, body)| {
                let body = serde_json::from_str(&body).map_err(|e| StoreError::BadEvent(seq, e))?;
                Ok(Event {
                    seq,
                    ts,
                    session_id,
                    body,
                })
            })
            .collect()
    }

    pub fn last_seq(&self) -> Result<u64> {
        let seq: i64 = self
            .0
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
        Ok(seq as u64)
    }
}

const COMPACTED: &str = "compacted_through";

impl Tx<'_> {
    /// Drops the text chunks of finished prompts whose reply is kept on the prompt itself, and
    /// returns the watermark: events at or below it may be missing, so a client resuming from
    /// older than it must start from a snapshot again. The newest event is never dropped (the
    /// next seq is max + 1 and must not be reused).
    pub fn compact_replies(&self) -> Result<u64> {
        let dropped: Option<i64> = self.0.query_row(
            "SELECT MAX(e.seq) FROM events e JOIN prompts p ON p.id = json_extract(e.body, '$.prompt_id')
             WHERE e.type IN ('agent.text', 'agent.text_discarded')
               AND p.state NOT IN ('queued', 'running') AND p.reply IS NOT NULL
               AND e.seq < (SELECT MAX(seq) FROM events)",
            [],
            |r| r.get(0),
        )?;
        if let Some(top) = dropped {
            self.0.execute(
                "DELETE FROM events WHERE seq <= ?1 AND type IN ('agent.text', 'agent.text_discarded')
                   AND json_extract(body, '$.prompt_id') IN
                       (SELECT id FROM prompts WHERE state NOT IN ('queued', 'running') AND reply IS NOT NULL)",
                [top],
            )?;
            let through = self.compacted_through()?.max(top as u64);
            self.set_setting(COMPACTED, Some(&through.to_string()))?;
        }
        self.compacted_through()
    }

    /// Events at or below this seq may have been compacted away (0: none were).
    pub fn compacted_through(&self) -> Result<u64> {
        Ok(self
            .setting(COMPACTED)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// The reply of a prompt from before replies were kept: its chunks after the last discard.
    pub fn reply_from_events(&self, prompt_id: &str) -> Result<String> {
        let mut stmt = self.0.prepare(
            "SELECT type, json_extract(body, '$.chunk') FROM events
             WHERE type IN ('agent.text', 'agent.text_discarded')
               AND json_extract(body, '$.prompt_id') = ?1 ORDER BY seq",
        )?;
        let mut reply = String::new();
        let rows = stmt.query_map([prompt_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        for row in rows {
            match row? {
                (kind, _) if kind == "agent.text_discarded" => reply.clear(),
                (_, Some(chunk)) => reply.push_str(&chunk),
                _ => {}
            }
        }
        Ok(reply)
    }
}
