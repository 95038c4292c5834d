//! Schema versions, applied in order and recorded in `PRAGMA user_version`.
//! Never edit a shipped step; add the next one.

use rusqlite::Connection;

use crate::{Result, StoreError};

const STEPS: &[&str] = &[
    // 1: sessions, review state and history, commits, the event log.
    r#"
    CREATE TABLE sessions (
        id          TEXT PRIMARY KEY,
        repo_name   TEXT NOT NULL,
        repo_path   TEXT NOT NULL,
        branch      TEXT NOT NULL,
        base_commit TEXT NOT NULL,
        base_branch TEXT,
        title       TEXT NOT NULL,
        worktree    TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        deleted_at  TEXT
    );
    CREATE TABLE approvals (
        session_id  TEXT NOT NULL REFERENCES sessions(id),
        hunk_id     TEXT NOT NULL,
        approved_at TEXT NOT NULL,
        PRIMARY KEY (session_id, hunk_id)
    );
    CREATE TABLE review_log (
        id         INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        hunk_id    TEXT NOT NULL,
        path       TEXT NOT NULL,
        header     TEXT NOT NULL,
        action     TEXT NOT NULL,
        comment    TEXT,
        at         TEXT NOT NULL
    );
    CREATE INDEX review_log_session ON review_log(session_id, id);
    CREATE TABLE commits (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        sha        TEXT NOT NULL,
        message    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        undone_at  TEXT,
        PRIMARY KEY (session_id, sha, created_at)
    );
    -- seq is the rowid: max+1 inside the writing transaction, so a rolled-back write leaves no gap.
    CREATE TABLE events (
        seq        INTEGER PRIMARY KEY,
        ts         TEXT NOT NULL,
        type       TEXT NOT NULL,
        session_id TEXT,
        body       TEXT NOT NULL
    );
    "#,
    // 2: prompts (exactly-once by client_id), usage per API request, settings (budgets).
    r#"
    CREATE TABLE prompts (
        id          TEXT PRIMARY KEY,
        session_id  TEXT NOT NULL REFERENCES sessions(id),
        client_id   TEXT NOT NULL UNIQUE,
        text        TEXT NOT NULL,
        state       TEXT NOT NULL,
        reason      TEXT,
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT
    );
    -- Index entries carry the rowid, so this also serves "by session in queue order".
    CREATE INDEX prompts_session ON prompts(session_id);
    CREATE TABLE usage (
        id                          INTEGER PRIMARY KEY,
        session_id                  TEXT NOT NULL REFERENCES sessions(id),
        prompt_id                   TEXT,
        model                       TEXT NOT NULL,
        input_tokens                INTEGER NOT NULL,
        output_tokens               INTEGER NOT NULL,
        cache_creation_input_tokens INTEGER NOT NULL,
        cache_read_input_tokens     INTEGER NOT NULL,
        cost_usd                    REAL NOT NULL,
        day                         TEXT NOT NULL,
        at                          TEXT NOT NULL
    );
    CREATE INDEX usage_session ON usage(session_id);
    CREATE INDEX usage_day ON usage(day);
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 3: review notes (comments and rejections that feed the next revision), files a prompt puts
    // in the agent's chat, prompt kinds, and the diff each prompt left behind.
    r#"
    CREATE TABLE review_notes (
        id              INTEGER PRIMARY KEY,
        session_id      TEXT NOT NULL REFERENCES sessions(id),
        hunk_id         TEXT NOT NULL,
        path            TEXT NOT NULL,
        header          TEXT NOT NULL,
        old_start       INTEGER NOT NULL,
        old_lines       INTEGER NOT NULL,
        new_start       INTEGER NOT NULL,
        new_lines       INTEGER NOT NULL,
        hunk_state      TEXT NOT NULL,
        patch           TEXT NOT NULL,
        comment         TEXT,
        created_at      TEXT NOT NULL,
        round_prompt_id TEXT
    );
    CREATE INDEX review_notes_session ON review_notes(session_id, round_prompt_id);
    ALTER TABLE prompts ADD COLUMN kind TEXT NOT NULL DEFAULT 'prompt';
    ALTER TABLE prompts ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE prompt_diffs (
        prompt_id TEXT PRIMARY KEY REFERENCES prompts(id),
        diff      TEXT NOT NULL
    );
    "#,
    // 4: each session's chat as its agent keeps it, restored into a new agent process.
    r#"
    CREATE TABLE transcripts (
        session_id TEXT PRIMARY KEY REFERENCES sessions(id),
        transcript TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    "#,
    // 5: each prompt's reply text (what its agent.text chunks add up to), so a client starts from
    // a snapshot and finished prompts' chunks can be compacted. NULL for prompts older than
    // this column: their reply is rebuilt from their events, which are never compacted.
    r#"
    ALTER TABLE prompts ADD COLUMN reply TEXT;
    "#,
    // 6: paired devices. Only a hash of each device key is kept: the database (in backups, in a
    // bug report) never holds a usable key. A revoked device stays, for the record.
    r#"
    CREATE TABLE devices (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        key_hash     TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL,
        last_seen_at TEXT,
        revoked_at   TEXT
    );
    "#,
    // 7: the edit blocks of each prompt's reply as they were proposed while it streamed (the
    // current answer's only: a discarded answer's rows are deleted), so a client that starts
    // from a snapshot shows them like one that saw the `edit.proposed` events.
    r#"
    CREATE TABLE proposals (
        prompt_id TEXT NOT NULL REFERENCES prompts(id),
        idx       INTEGER NOT NULL,
        proposal  TEXT NOT NULL,
        PRIMARY KEY (prompt_id, idx)
    );
    "#,
    // 8: each paired device's Web Push subscription (one per device), gone with the device.
    r#"
    CREATE TABLE push_subscriptions (
        device_id  TEXT PRIMARY KEY REFERENCES devices(id),
        endpoint   TEXT NOT NULL,
        p256dh     TEXT NOT NULL,
        auth       TEXT NOT NULL,
        events     TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    "#,
    // 9: each paired device's native push token (the phone app: APNs or FCM), gone with the device.
    r#"
    CREATE TABLE native_push (
        device_id  TEXT PRIMARY KEY REFERENCES devices(id),
        platform   TEXT NOT NULL,
        token      TEXT NOT NULL,
        events     TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    "#,
];

pub fn run(conn: &mut Connection, path: &str) -> Result<()> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = STEPS.len() as u32;
    if current > known {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: current,
            known,
        });
    }
    for (i, sql) in STEPS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
        tx.commit()?;
    }
    Ok(())
}
