//! Paired devices' push registrations: a Web Push subscription (browsers) and a native token
//! (the phone app), at most one of each per device, deleted with the device's revocation and
//! when the push service says it is gone.

use rusqlite::{params, OptionalExtension, Row};
use shared_protocol::{NativePlatform, NativePushInfo, PushEvent, PushSubscriptionInfo};

use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRow {
    pub device_id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub events: Vec<PushEvent>,
    pub created_at: String,
}

impl PushRow {
    pub fn info(&self) -> PushSubscriptionInfo {
        PushSubscriptionInfo {
            endpoint: self.endpoint.clone(),
            events: self.events.clone(),
            created_at: self.created_at.clone(),
        }
    }
}

const COLUMNS: &str = "device_id, endpoint, p256dh, auth, events, created_at";

fn from_row(r: &Row) -> rusqlite::Result<PushRow> {
    Ok(PushRow {
        device_id: r.get(0)?,
        endpoint: r.get(1)?,
        p256dh: r.get(2)?,
        auth: r.get(3)?,
        // Written by put_push_subscription; an unreadable list notifies of nothing.
        events: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        created_at: r.get(5)?,
    })
}

impl Tx<'_> {
    pub fn put_push_subscription(&self, row: &PushRow) -> Result<()> {
        let events = serde_json::to_string(&row.events).expect("events serialize");
        self.0.execute(
            "INSERT INTO push_subscriptions (device_id, endpoint, p256dh, auth, events, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint,
                p256dh = excluded.p256dh, auth = excluded.auth, events = excluded.events,
                created_at = excluded.created_at",
            params![
                row.device_id,
                row.endpoint,
                row.p256dh,
                row.auth,
                events,
                row.created_at
            ],
        )?;
        Ok(())
    }

    pub fn push_subscription(&self, device: &str) -> Result<Option<PushRow>> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {COLUMNS} FROM push_subscriptions WHERE device_id = ?1"),
                [device],
                from_row,
            )
            .optional()?)
    }

    /// True when there was one.
    pub fn delete_push_subscription(&self, device: &str) -> Result<bool> {
        Ok(self.0.execute(
            "DELETE FROM push_subscriptions WHERE device_id = ?1",
            [device],
        )? > 0)
    }

    /// Every subscription of a device that is still paired.
    pub fn push_subscriptions(&self) -> Result<Vec<PushRow>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {COLUMNS} FROM push_subscriptions
             WHERE device_id IN (SELECT id FROM devices WHERE revoked_at IS NULL)
             ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A device's native push token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativePushRow {
    pub device_id: String,
    pub platform: NativePlatform,
    pub token: String,
    pub events: Vec<PushEvent>,
    pub created_at: String,
}

impl NativePushRow {
    pub fn info(&self) -> NativePushInfo {
        NativePushInfo {
            platform: self.platform,
            events: self.events.clone(),
            created_at: self.created_at.clone(),
        }
    }
}

const NATIVE_COLUMNS: &str = "device_id, platform, token, events, created_at";

fn native_from_row(r: &Row) -> rusqlite::Result<NativePushRow> {
    let platform: String = r.get(1)?;
    Ok(NativePushRow {
        device_id: r.get(0)?,
        platform: serde_json::from_value(serde_json::Value::String(platform)).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?,
        token: r.get(2)?,
        events: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
        created_at: r.get(4)?,
    })
}

impl Tx<'_> {
    pub fn put_native_push(&self, row: &NativePushRow) -> Result<()> {
        let events = serde_json::to_string(&row.events).expect("events serialize");
        let platform = serde_json::to_value(row.platform).expect("platform serializes");
        self.0.execute(
            "INSERT INTO native_push (device_id, platform, token, events, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device_id) DO UPDATE SET platform = excluded.platform,
                token = excluded.token, events = excluded.events, created_at = excluded.created_at",
            params![
                row.device_id,
                platform.as_str(),
                row.token,
                events,
                row.created_at
            ],
        )?;
        Ok(())
    }

    pub fn native_push(&self, device: &str) -> Result<Option<NativePushRow>> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {NATIVE_COLUMNS} FROM native_push WHERE device_id = ?1"),
                [device],
                native_from_row,
            )
            .optional()?)
    }

    /// True when there was one.
    pub fn delete_native_push(&self, device: &str) -> Result<bool> {
        Ok(self
            .0
            .execute("DELETE FROM native_push WHERE device_id = ?1", [device])?
            > 0)
    }

    /// Every native token of a device that is still paired.
    pub fn native_pushes(&self) -> Result<Vec<NativePushRow>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {NATIVE_COLUMNS} FROM native_push
             WHERE device_id IN (SELECT id FROM devices WHERE revoked_at IS NULL)
             ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([], native_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
