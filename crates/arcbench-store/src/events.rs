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
