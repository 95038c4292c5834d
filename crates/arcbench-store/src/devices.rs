use rusqlite::{params, OptionalExtension, Row};
use shared_protocol::Device;

use crate::{Result, Tx};

/// A device as stored: the wire view and the hash of its key.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub device: Device,
    pub key_hash: String,
}

const COLUMNS: &str = "id, name, created_at, last_seen_at, key_hash";

fn from_row(r: &Row) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        device: Device {
            id: r.get(0)?,
            name: r.get(1)?,
            created_at: r.get(2)?,
            last_seen_at: r.get(3)?,
        },
        key_hash: r.get(4)?,
    })
}

impl Tx<'_> {
    pub fn insert_device(&self, device: &Device, key_hash: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO devices (id, name, key_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![device.id, device.name, key_hash, device.created_at],
        )?;
        Ok(())
    }

    /// Devices not revoked, oldest first.
    pub fn active_devices(&self) -> Result<Vec<DeviceRow>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {COLUMNS} FROM devices WHERE revoked_at IS NULL ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks a device revoked; `None` if there is no such active device.
    pub fn revoke_device(&self, id: &str, at: &str) -> Result<Option<DeviceRow>> {
        let row = self
            .0
            .query_row(
                &format!("SELECT {COLUMNS} FROM devices WHERE id = ?1 AND revoked_at IS NULL"),
                [id],
                from_row,
            )
            .optional()?;
        if row.is_some() {
            self.0.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1",
                params![id, at],
            )?;
            // A revoked device is told nothing more.
            self.delete_push_subscription(id)?;
            self.delete_native_push(id)?;
        }
        Ok(row)
    }

    pub fn touch_device(&self, id: &str, at: &str) -> Result<()> {
        self.0.execute(
            "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }
}
