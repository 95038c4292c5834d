//! The hosts this phone is paired with, each with its own device key and its own outbox, and
//! which one is shown. Plain Rust over the app's data dir (no Tauri): the commands adapt it.
//!
//! Order of writes, so a crash between two leaves nothing half-paired: a new key is stored before
//! the host is listed (a listed host always has its key), and a forgotten host is unlisted before
//! its key and outbox go (at worst an orphaned key file entry, never a host without a key).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::error::{Code, RemoteError};
use crate::files;
use crate::secrets::{KeyPlace, Secrets};

const NAME_MAX: usize = 60;
const KEY_MAX: usize = 512;
const CLIENT_ID_MAX: usize = 128;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct PairedHost {
    /// The app's own id for the host (its key and outbox are filed under it).
    pub id: String,
    /// `scheme://host[:port]`, as the pages call it.
    pub origin: String,
    /// What the user calls it; the address's host name until renamed.
    pub name: String,
    /// This device's id in the host's device list (none for a key pasted by hand).
    pub device_id: Option<String>,
    /// When it was paired (epoch ms).
    pub paired_at: f64,
    pub key_place: KeyPlace,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Type)]
pub struct HostsState {
    pub hosts: Vec<PairedHost>,
    /// The host the app shows; always one of `hosts` when there are any.
    pub selected: Option<String>,
}

/// What pairing gave: the host's address and this device's key for it.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct NewHost {
    pub origin: String,
    pub key: String,
    pub device_id: Option<String>,
    pub name: Option<String>,
}

/// What a page needs to talk to one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct HostCredentials {
    pub origin: String,
    pub key: String,
    pub device_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum OutboxEntryState {
    Queued,
    Sending,
    Failed,
}

/// A prompt written on this device and not yet taken by its host: the same record the PWA keeps
/// in IndexedDB (src-ui's `OutboxEntry`), kept here in the app's files instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct OutboxEntry {
    pub client_id: String,
    pub session_id: String,
    pub origin: String,
    pub text: String,
    /// Epoch ms; sending order.
    pub created_at: f64,
    pub state: OutboxEntryState,
    pub error: Option<String>,
    pub attempts: u32,
}

pub struct Remote {
    dir: PathBuf,
    secrets: Secrets,
    /// One read-modify-write at a time (commands run concurrently).
    lock: Mutex<()>,
}

impl Remote {
    pub fn open(dir: impl Into<PathBuf>, secrets: Secrets) -> Remote {
        Remote {
            dir: dir.into(),
            secrets,
            lock: Mutex::new(()),
        }
    }

    pub fn key_place(&self) -> KeyPlace {
        self.secrets.place()
    }

    fn registry(&self) -> PathBuf {
        self.dir.join("hosts.json")
    }

    fn outbox_file(&self, id: &str) -> PathBuf {
        self.dir.join("outbox").join(format!("{id}.json"))
    }

    pub fn state(&self) -> Result<HostsState, RemoteError> {
        let _g = self.lock.lock().expect("hosts");
        files::read(&self.registry())
    }

    /// Pairs (or re-pairs) with a host. The same origin again keeps its id, name and outbox and
    /// takes the new key: pairing anew after a revoke must not lose queued prompts.
    pub fn add(&self, new: NewHost) -> Result<PairedHost, RemoteError> {
        let origin = normalize_origin(&new.origin)?;
        let key = new.key.trim();
        if key.is_empty()
            || key.len() > KEY_MAX
            || key.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(RemoteError::bad(
                "That is not a device key: pair again with a fresh code.",
            ));
        }
        let name = match new.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => checked_name(n)?,
            _ => default_name(&origin),
        };
        let _g = self.lock.lock().expect("hosts");
        let mut state: HostsState = files::read(&self.registry())?;
        let existing = state.hosts.iter().position(|h| h.origin == origin);
        let id = match existing {
            Some(i) => state.hosts[i].id.clone(),
            None => new_id(),
        };
        self.secrets.set(&id, key)?;
        let host = PairedHost {
            id: id.clone(),
            origin,
            name: match existing {
                Some(i) if new.name.is_none() => state.hosts[i].name.clone(),
                _ => name,
            },
            device_id: new.device_id.filter(|d| !d.trim().is_empty()),
            paired_at: now_ms(),
            key_place: self.secrets.place(),
        };
        match existing {
            Some(i) => state.hosts[i] = host.clone(),
            None => state.hosts.push(host.clone()),
        }
        state.selected = Some(id.clone());
        if let Err(e) = files::write(&self.registry(), &state) {
            if existing.is_none() {
                let _ = self.secrets.delete(&id);
            }
            return Err(e);
        }
        Ok(host)
    }

    /// Forgets a host on this device: its key and its unsent prompts go too (the key stays valid
    /// on the host until revoked there).
    pub fn forget(&self, id: &str) -> Result<HostsState, RemoteError> {
        let _g = self.lock.lock().expect("hosts");
        let mut state: HostsState = files::read(&self.registry())?;
        let i = find(&state, id)?;
        state.hosts.remove(i);
        if state.selected.as_deref() == Some(id) {
            state.selected = state.hosts.first().map(|h| h.id.clone());
        }
        files::write(&self.registry(), &state)?;
        if let Err(e) = self.secrets.delete(id) {
            tracing::warn!("the forgotten host's key stays behind: {e}");
        }
        files::remove(&self.outbox_file(id))?;
        Ok(state)
    }

    pub fn select(&self, id: &str) -> Result<HostsState, RemoteError> {
        let _g = self.lock.lock().expect("hosts");
        let mut state: HostsState = files::read(&self.registry())?;
        find(&state, id)?;
        state.selected = Some(id.to_owned());
        files::write(&self.registry(), &state)?;
        Ok(state)
    }

    pub fn rename(&self, id: &str, name: &str) -> Result<PairedHost, RemoteError> {
        let name = checked_name(name.trim())?;
        let _g = self.lock.lock().expect("hosts");
        let mut state: HostsState = files::read(&self.registry())?;
        let i = find(&state, id)?;
        state.hosts[i].name = name;
        files::write(&self.registry(), &state)?;
        Ok(state.hosts[i].clone())
    }

    pub fn credentials(&self, id: &str) -> Result<HostCredentials, RemoteError> {
        let host = {
            let _g = self.lock.lock().expect("hosts");
            let state: HostsState = files::read(&self.registry())?;
            state.hosts[find(&state, id)?].clone()
        };
        let key = self.secrets.get(id)?.ok_or_else(|| {
            RemoteError::new(
                Code::Storage,
                format!(
                    "The key for {} is gone from this device: pair with it again.",
                    host.name
                ),
            )
        })?;
        Ok(HostCredentials {
            origin: host.origin,
            key,
            device_id: host.device_id,
        })
    }

    /// The host's unsent prompts, oldest first.
    pub fn outbox(&self, id: &str) -> Result<Vec<OutboxEntry>, RemoteError> {
        let _g = self.lock.lock().expect("hosts");
        self.listed(id)?;
        let mut all: Vec<OutboxEntry> = self.outbox_map(id)?.into_values().collect();
        all.sort_by(|a, b| a.created_at.total_cmp(&b.created_at));
        Ok(all)
    }

    /// Keeps (or updates) one prompt; durable when this returns.
    pub fn outbox_put(&self, id: &str, entry: OutboxEntry) -> Result<(), RemoteError> {
        let _g = self.lock.lock().expect("hosts");
        let host = self.listed(id)?;
        check_client_id(&entry.client_id)?;
        if entry.session_id.trim().is_empty() {
            return Err(RemoteError::bad("A queued prompt needs its session."));
        }
        if entry.origin != host.origin {
            return Err(RemoteError::bad(format!(
                "That prompt is for {}, not {}: each host keeps its own outbox.",
                entry.origin, host.origin
            )));
        }
        let mut all = self.outbox_map(id)?;
        all.insert(entry.client_id.clone(), entry);
        files::write(&self.outbox_file(id), &all)
    }

    pub fn outbox_remove(&self, id: &str, client_id: &str) -> Result<(), RemoteError> {
        let _g = self.lock.lock().expect("hosts");
        self.listed(id)?;
        let mut all = self.outbox_map(id)?;
        if all.remove(client_id).is_some() {
            files::write(&self.outbox_file(id), &all)?;
        }
        Ok(())
    }

    fn listed(&self, id: &str) -> Result<PairedHost, RemoteError> {
        let state: HostsState = files::read(&self.registry())?;
        Ok(state.hosts[find(&state, id)?].clone())
    }

    fn outbox_map(&self, id: &str) -> Result<BTreeMap<String, OutboxEntry>, RemoteError> {
        files::read(&self.outbox_file(id))
    }
}

fn find(state: &HostsState, id: &str) -> Result<usize, RemoteError> {
    state.hosts.iter().position(|h| h.id == id).ok_or_else(|| {
        RemoteError::new(
            Code::NotFound,
            "This device is not paired with that host (any more).",
        )
    })
}

/// `scheme://host[:port]` of a host's address; anything else (a path, credentials, another
/// scheme) is no host's address.
pub fn normalize_origin(raw: &str) -> Result<String, RemoteError> {
    let bad = || {
        RemoteError::bad(format!(
            "“{}” is not a host address: it looks like http://100.101.102.103:8000 or https://desk.tailnet.ts.net.",
            raw.trim()
        ))
    };
    let url = tauri::Url::parse(raw.trim()).map_err(|_| bad())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        return Err(bad());
    }
    Ok(url.origin().ascii_serialization())
}

fn checked_name(name: &str) -> Result<String, RemoteError> {
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(RemoteError::bad(format!(
            "A host's name is 1 to {NAME_MAX} characters, on one line."
        )));
    }
    Ok(name.to_owned())
}

fn default_name(origin: &str) -> String {
    tauri::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| origin.to_owned())
}

fn check_client_id(id: &str) -> Result<(), RemoteError> {
    let ok = !id.is_empty()
        && id.len() <= CLIENT_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RemoteError::bad(
            "A queued prompt's client_id is 1 to 128 of A-Z a-z 0-9 - _.",
        ))
    }
}

fn new_id() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the OS's random numbers");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0)
}
