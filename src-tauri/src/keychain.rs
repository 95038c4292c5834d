//! The Anthropic API key in the OS keychain (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows) through `keyring`. Never in a plain file unless the user
//! picks the private env file (no keychain here, or a service that boots before any keychain
//! is unlocked).

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::error::{AppError, Code};

const SERVICE: &str = "ArcBench";
const ACCOUNT: &str = "anthropic-api-key";

/// Where the key the host will use comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum KeyPlace {
    None,
    Keychain,
    /// `ANTHROPIC_API_KEY` in the app's environment.
    Environment,
    /// `<data dir>/env` (0600).
    EnvFile,
}

/// The OS keychain, or (tests) an in-memory one, or none at all.
#[derive(Clone)]
pub enum Keychain {
    Os,
    Memory(Arc<Mutex<Option<String>>>),
    Unavailable,
}

impl Keychain {
    pub fn os() -> Keychain {
        // Tests (and users without a keychain) can say so: the app then offers the env file.
        match std::env::var("ARCBENCH_KEYCHAIN").as_deref() {
            Ok("none") => Keychain::Unavailable,
            _ => Keychain::Os,
        }
    }

    fn entry() -> Result<keyring::Entry, keyring::Error> {
        keyring::Entry::new(SERVICE, ACCOUNT)
    }

    /// The stored key; `Ok(None)` when the keychain has none, `Err` when there is no keychain.
    pub fn get(&self) -> Result<Option<String>, AppError> {
        match self {
            Keychain::Memory(m) => Ok(m.lock().expect("keychain").clone()),
            Keychain::Unavailable => Err(unavailable("no keychain (ARCBENCH_KEYCHAIN=none)")),
            Keychain::Os => match Self::entry().and_then(|e| e.get_password()) {
                Ok(k) => Ok(Some(k)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(unavailable(&e.to_string())),
            },
        }
    }

    pub fn set(&self, key: &str) -> Result<(), AppError> {
        match self {
            Keychain::Memory(m) => {
                *m.lock().expect("keychain") = Some(key.to_owned());
                Ok(())
            }
            Keychain::Unavailable => Err(unavailable("no keychain (ARCBENCH_KEYCHAIN=none)")),
            Keychain::Os => Self::entry()
                .and_then(|e| e.set_password(key))
                .map_err(|e| unavailable(&e.to_string())),
        }
    }

    pub fn available(&self) -> bool {
        self.get().is_ok()
    }
}

fn unavailable(why: &str) -> AppError {
    AppError::new(
        Code::KeychainUnavailable,
        format!(
            "no keychain to keep the key in ({why}). On Linux that is a Secret Service such as \
             GNOME Keyring or KWallet; without one, save the key to the private env file instead"
        ),
    )
}

/// The key the host will use, and where it was found: the keychain, then the environment,
/// then the env file (the host's own order after the shell's).
pub fn find(keychain: &Keychain, data_dir: &Path) -> (KeyPlace, Option<String>) {
    if let Ok(Some(k)) = keychain.get() {
        return (KeyPlace::Keychain, Some(k));
    }
    if let Some(k) = std::env::var(arcbench_host::env_file::ANTHROPIC_KEY)
        .ok()
        .filter(|k| !k.trim().is_empty())
    {
        // The host reads the environment itself; nothing to hand over.
        let _ = k;
        return (KeyPlace::Environment, None);
    }
    if arcbench_host::env_file::value(
        &arcbench_host::env_file::path(data_dir),
        arcbench_host::env_file::ANTHROPIC_KEY,
    )
    .is_some()
    {
        return (KeyPlace::EnvFile, None);
    }
    (KeyPlace::None, None)
}
