//! Paired devices. A device pairs by redeeming a single-use code (valid [`CODE_LIFETIME`]) for
//! its own key; the database keeps only the key's SHA-256, and a revoked key is refused from the
//! moment the revocation commits. The master key stays for scripts, never in a link or QR code.
//!
//! Codes are 12 Crockford base32 characters (60 bits): with pairing attempts rate-limited to a
//! handful a minute, the chance of guessing a live code within its five minutes is about 2^-53.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use shared_protocol::{Device, EventBody};

use crate::{Engine, EngineError, Result};

pub const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// Characters of a pairing code (5 bits each).
pub const CODE_CHARS: usize = 12;
/// Crockford's base32: no I, L, O, U, so a code read aloud or typed is not misread.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// A device's `last_seen_at` is written at most this often.
const SEEN_EVERY: Duration = Duration::from_secs(60);
const MAX_NAME: usize = 80;

/// Why a pairing code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("that pairing code is not valid: check it, or get a new one with `arcbench pair`")]
    Invalid,
    #[error("that pairing code has expired (codes work for 5 minutes): get a new one with `arcbench pair`")]
    Expired,
    #[error(
        "that pairing code was already used (each works once): get a new one with `arcbench pair`"
    )]
    Used,
}

/// Who a key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The host's own key (scripts, the desktop app, the CLI).
    Master,
    Device(String),
}

#[derive(Debug)]
struct Code {
    expires: Instant,
    used: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Devices {
    /// Active devices' key hashes, the check every request makes (no database read).
    keys: RwLock<Vec<(String, [u8; 32])>>,
    codes: Mutex<HashMap<String, Code>>,
    seen: Mutex<HashMap<String, Instant>>,
}

/// A fresh code and when it stops working (RFC 3339).
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// Grouped for reading: `7KQ3-M9XD-2HVB`.
    pub code: String,
    pub expires_at: String,
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Compares without an early exit: timing does not reveal how much of a guess matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in b.iter().enumerate() {
        diff |= x ^ a.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// The canonical form of a typed or scanned code: case, spaces and dashes do not matter, and
/// the letters Crockford maps to digits (O → 0, I/L → 1) are read as those digits.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (code.len() == CODE_CHARS && code.bytes().all(|b| CROCKFORD.contains(&b))).then_some(code)
}

fn new_code() -> String {
    let mut bytes = [0u8; CODE_CHARS];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
        .iter()
        .map(|b| CROCKFORD[(*b & 31) as usize] as char)
        .collect()
}

fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

fn new_key() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    hex(&bytes)
}

fn rfc3339_in(d: Duration) -> String {
    arcbench_store::rfc3339(SystemTime::now() + d)
}

impl Devices {
    pub(crate) fn load(engine_store: &arcbench_store::Store) -> Result<Devices> {
        let rows = engine_store.tx(|tx| tx.active_devices())?;
        let keys = rows
            .into_iter()
            .filter_map(|r| unhex(&r.key_hash).map(|h| (r.device.id, h)))
            .collect();
        Ok(Devices {
            keys: RwLock::new(keys),
            ..Default::default()
        })
    }
}

impl Devices {
    /// Spends the normalized `code`, or says why it cannot be spent. Spent before the database
    /// write: a concurrent redeem of the same code loses even if this one then fails (the user
    /// asks for a new code; never two devices).
    fn spend(&self, code: &str) -> std::result::Result<(), CodeRefusal> {
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        let entry = codes.get_mut(code).ok_or(CodeRefusal::Invalid)?;
        if entry.used {
            return Err(CodeRefusal::Used);
        }
        if Instant::now() >= entry.expires {
            return Err(CodeRefusal::Expired);
        }
        entry.used = true;
        Ok(())
    }
}

impl Engine {
    /// A single-use pairing code, valid [`CODE_LIFETIME`].
    pub fn issue_pairing_code(&self) -> IssuedCode {
        let code = new_code();
        let mut codes = self.devices.codes.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        // Expired codes are kept a while to say "expired" rather than "invalid", then dropped.
        codes.retain(|_, c| c.expires + CODE_LIFETIME > now);
        codes.insert(
            code.clone(),
            Code {
                expires: now + CODE_LIFETIME,
                used: false,
            },
        );
        IssuedCode {
            code: grouped(&code),
            expires_at: rfc3339_in(CODE_LIFETIME),
        }
    }

    /// Redeems a code for a new device and its key (returned once, stored hashed).
    pub fn redeem_pairing_code(&self, code: &str, device_name: &str) -> Result<(Device, String)> {
        let name = device_name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control)
        {
            return Err(EngineError::BadRequest(format!(
                "device_name must be 1 to {MAX_NAME} printable characters"
            )));
        }
        let code = normalize_code(code).ok_or(EngineError::Pairing(CodeRefusal::Invalid))?;
        self.devices.spend(&code).map_err(EngineError::Pairing)?;
        let key = new_key();
        let key_hash = hash(&key);
        let device = Device {
            id: crate::sessions::random_id(),
            name: name.to_owned(),
            created_at: arcbench_store::now(),
            last_seen_at: None,
        };
        self.store.tx(|tx| {
            tx.insert_device(&device, &hex(&key_hash))?;
            tx.append_event(
                None,
                EventBody::DevicePaired {
                    device: device.clone(),
                },
            )?;
            Ok::<_, EngineError>(())
        })?;
        self.devices
            .keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((device.id.clone(), key_hash));
        Ok((device, key))
    }

    pub fn devices(&self) -> Result<Vec<Device>> {
        Ok(self
            .store
            .tx(|tx| tx.active_devices())?
            .into_iter()
            .map(|r| r.device)
            .collect())
    }

    /// Revokes a device: its key is refused from now on; `device.revoked` tells its sockets.
    pub fn revoke_device(&self, id: &str) -> Result<Device> {
        // The key goes first: from here no new request passes, even before the commit.
        let removed = {
            let mut keys = self.devices.keys.write().unwrap_or_else(|p| p.into_inner());
            let before = keys.len();
            keys.retain(|(d, _)| d != id);
            before != keys.len()
        };
        let row = self.store.tx(|tx| {
            let row = tx.revoke_device(id, &arcbench_store::now())?;
            if row.is_some() {
                tx.append_event(
                    None,
                    EventBody::DeviceRevoked {
                        device_id: id.to_owned(),
                    },
                )?;
            }
            Ok::<_, EngineError>(row)
        })?;
        match row {
            Some(r) => Ok(r.device),
            None => {
                debug_assert!(!removed, "an active key without an active row");
                Err(EngineError::NotFound(format!("no paired device {id}")))
            }
        }
    }

    /// Whose key `token` is, if anyone's: the master key (compared in constant time), else a
    /// device key (its hash compared with every active device's, in constant time).
    pub fn caller(&self, master: &str, token: &str) -> Option<Caller> {
        if constant_time_eq(token.as_bytes(), master.as_bytes()) {
            return Some(Caller::Master);
        }
        let h = hash(token);
        let keys = self.devices.keys.read().unwrap_or_else(|p| p.into_inner());
        let mut found = None;
        for (id, k) in keys.iter() {
            if constant_time_eq(&h, k) {
                found = Some(id.clone());
            }
        }
        drop(keys);
        let id = found?;
        self.seen(&id);
        Some(Caller::Device(id))
    }

    fn seen(&self, id: &str) {
        let now = Instant::now();
        {
            let mut seen = self.devices.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen
                .get(id)
                .is_some_and(|t| now.duration_since(*t) < SEEN_EVERY)
            {
                return;
            }
            seen.insert(id.to_owned(), now);
        }
        let at = arcbench_store::now();
        if let Err(e) = self.store.tx(|tx| tx.touch_device(id, &at)) {
            tracing::warn!(%e, "recording when a device was last seen");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalized_and_validated() {
        let code = new_code();
        assert_eq!(
            normalize_code(&grouped(&code)).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(
            normalize_code(" 7kq3-m9xd-2hvb ").as_deref(),
            Some("7KQ3M9XD2HVB")
        );
        assert_eq!(
            normalize_code("OIL0-0000-0000").as_deref(),
            Some("011000000000")
        );
        assert_eq!(normalize_code("7KQ3-M9XD-2HV"), None, "too short");
        assert_eq!(normalize_code("7KQ3-M9XD-2HVU"), None, "U is not Crockford");
        assert_eq!(normalize_code(""), None);
    }

    fn with_code(code: &str, expires: Instant, used: bool) -> Devices {
        let devices = Devices::default();
        devices
            .codes
            .lock()
            .unwrap()
            .insert(code.to_owned(), Code { expires, used });
        devices
    }

    fn past() -> Instant {
        Instant::now()
            .checked_sub(Duration::from_secs(1))
            .expect("the monotonic clock is past its first second")
    }

    #[test]
    fn a_live_code_is_spent_once() {
        let code = new_code();
        let devices = with_code(&code, Instant::now() + CODE_LIFETIME, false);
        assert_eq!(devices.spend(&code), Ok(()));
        assert_eq!(devices.spend(&code), Err(CodeRefusal::Used));
        assert_eq!(devices.spend(&code), Err(CodeRefusal::Used), "still used");
    }

    #[test]
    fn an_expired_code_is_refused_and_not_spent() {
        let code = new_code();
        let devices = with_code(&code, past(), false);
        assert_eq!(devices.spend(&code), Err(CodeRefusal::Expired));
        assert_eq!(devices.spend(&code), Err(CodeRefusal::Expired));
        assert!(!devices.codes.lock().unwrap()[&code].used);
    }

    #[test]
    fn a_code_expires_at_its_deadline() {
        let code = new_code();
        let devices = with_code(&code, Instant::now(), false);
        assert_eq!(devices.spend(&code), Err(CodeRefusal::Expired));
    }

    #[test]
    fn a_used_code_says_used_even_once_expired() {
        let code = new_code();
        let devices = with_code(&code, past(), true);
        assert_eq!(devices.spend(&code), Err(CodeRefusal::Used));
    }

    #[test]
    fn an_unknown_code_is_invalid() {
        let code = new_code();
        let devices = with_code(&code, Instant::now() + CODE_LIFETIME, false);
        assert_eq!(devices.spend("000000000000"), Err(CodeRefusal::Invalid));
        assert_eq!(devices.spend(""), Err(CodeRefusal::Invalid));
        // Only the normalized form is a key: the grouped form is not looked up as such.
        assert_eq!(devices.spend(&grouped(&code)), Err(CodeRefusal::Invalid));
        assert_eq!(devices.codes.lock().unwrap().len(), 1, "nothing added");
        assert_eq!(devices.spend(&code), Ok(()), "the live code is untouched");
        assert_eq!(
            Devices::default().spend(&code),
            Err(CodeRefusal::Invalid),
            "no codes at all"
        );
    }

    #[test]
    fn constant_time_eq_compares_whole_inputs() {
        assert!(constant_time_eq(b"secret-key", b"secret-key"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"secret-key", b"secret-kex"));
        assert!(!constant_time_eq(b"secret-key", b"Secret-key"));
        assert!(!constant_time_eq(b"secret-key", b"secret"), "prefix");
        assert!(!constant_time_eq(b"secret", b"secret-key"), "longer");
        assert!(!constant_time_eq(b"secret-key", b""), "empty guess");
        assert!(!constant_time_eq(b"", b"secret-key"), "empty secret");
        // A guess padded with the zeros a missing byte is compared against is still wrong.
        assert!(!constant_time_eq(b"ab", b"ab\0"));
        assert!(!constant_time_eq(b"ab\0", b"ab"));
        let h = hash("k");
        assert!(constant_time_eq(&h, &hash("k")));
        assert!(!constant_time_eq(&h, &hash("K")));
    }

    #[test]
    fn keys_hash_round_trip() {
        let h = hash("k");
        assert_eq!(unhex(&hex(&h)), Some(h));
        assert_eq!(unhex("zz"), None);
    }
}
