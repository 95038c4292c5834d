//! ArcBench persistence: one SQLite file in the data dir (WAL), versioned migrations, and typed
//! access in transactions, so a state change and the event announcing it commit together.

mod devices;
mod events;
mod migrations;
mod notes;
mod prompts;
mod proposals;
mod push;
mod review;
mod sessions;
mod usage;

use std::cell::RefCell;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};

use rusqlite::Connection;
use shared_protocol::Event;

pub use devices::DeviceRow;
pub use prompts::PromptRow;
pub use push::{NativePushRow, PushRow};
pub use review::{ApprovalRow, CommitRow, ReviewAction};
pub use sessions::SessionRow;
pub use usage::{UsageGroup, UsageRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database {path} was written by a newer ArcBench (schema {found}, this build knows {known})")]
    TooNew {
        path: String,
        found: u32,
        known: u32,
    },
    #[error("stored event {0} is unreadable: {1}")]
    BadEvent(u64, serde_json::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

type Publisher = Box<dyn Fn(&Event) + Send + Sync>;

pub struct Store {
    conn: Mutex<Connection>,
    publisher: OnceLock<Publisher>,
}

/// A transaction; every read and write goes through one. Events appended in it are published
/// only once it commits.
pub struct Tx<'a>(rusqlite::Transaction<'a>, RefCell<Vec<Event>>);

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL under WAL keeps every committed transaction across a process crash (kill -9);
        // only an OS crash can lose the last ones.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::run(&mut conn, &path.display().to_string())?;
        Ok(Store {
            conn: Mutex::new(conn),
            publisher: OnceLock::new(),
        })
    }

    /// Sets who hears committed events. It is called under the store's lock, right after the
    /// commit, so it sees events in seq order and never one that was rolled back.
    pub fn set_publisher(&self, f: impl Fn(&Event) + Send + Sync + 'static) {
        let _ = self.publisher.set(Box::new(f));
    }

    /// Runs `f` in one transaction: all of it commits, or none of it.
    pub fn tx<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Tx) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut conn = self.lock();
        let tx = Tx(
            conn.transaction().map_err(StoreError::from)?,
            RefCell::new(Vec::new()),
        );
        let out = f(&tx)?;
        let events = tx.1.take();
        tx.0.commit().map_err(StoreError::from)?;
        if let Some(publish) = self.publisher.get() {
            events.iter().for_each(publish);
        }
        Ok(out)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic inside a transaction rolled it back (the Transaction was dropped); the
        // connection itself is still sound.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn now() -> String {
    humantime_rfc3339(std::time::SystemTime::now())
}

/// `t` as RFC 3339 (UTC, milliseconds), the form every stored timestamp has.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    humantime_rfc3339(t)
}

/// Today's date (UTC), `YYYY-MM-DD`: budget days are UTC days.
pub fn today() -> String {
    now()[..10].to_owned()
}

fn humantime_rfc3339(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_000_000_123);
        assert_eq!(super::humantime_rfc3339(t), "2026-11-18T11:06:40.123Z");
        assert_eq!(
            super::humantime_rfc3339(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
