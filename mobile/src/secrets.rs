//! Device keys, one per paired host: in the platform's keychain where there is one (iOS and
//! macOS Keychain, Secret Service on Linux, Windows Credential Manager), else in a file in the
//! app's private data dir (0600; Android's app storage is private to the app). Each host records
//! where its key went, so the app can say so.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::error::RemoteError;
use crate::files;

#[cfg(not(target_os = "android"))]
const SERVICE: &str = "ArcBench remote";

/// Where a host's device key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum KeyPlace {
    /// The platform's keychain.
    Keychain,
    /// A file only this app (this user on a desktop) can read.
    AppStorage,
}

#[derive(Clone)]
pub enum Secrets {
    #[cfg(not(target_os = "android"))]
    Keychain,
    /// `keys.json` in the app's data dir.
    Files(PathBuf),
    /// Tests.
    Memory(Arc<Mutex<HashMap<String, String>>>),
}

impl Secrets {
    /// The keychain when one answers, else the app's storage in `dir`. `ARCBENCH_KEYCHAIN=none`
    /// says there is none (tests, and users whose keychain asks for a password at every start).
    pub fn detect(dir: PathBuf) -> Secrets {
        let files = Secrets::Files(dir.join("keys.json"));
        if std::env::var("ARCBENCH_KEYCHAIN").as_deref() == Ok("none") {
            return files;
        }
        #[cfg(not(target_os = "android"))]
        {
            let probe = keyring::Entry::new(SERVICE, "probe").and_then(|e| e.get_password());
            match probe {
                Ok(_) | Err(keyring::Error::NoEntry) => return Secrets::Keychain,
                Err(e) => tracing::warn!("no keychain ({e}): device keys go to the app's storage"),
            }
        }
        files
    }

    pub fn memory() -> Secrets {
        Secrets::Memory(Arc::default())
    }

    pub fn place(&self) -> KeyPlace {
        match self {
            #[cfg(not(target_os = "android"))]
            Secrets::Keychain => KeyPlace::Keychain,
            Secrets::Files(_) | Secrets::Memory(_) => KeyPlace::AppStorage,
        }
    }

    pub fn get(&self, host: &str) -> Result<Option<String>, RemoteError> {
        match self {
            #[cfg(not(target_os = "android"))]
            Secrets::Keychain => {
                match keyring::Entry::new(SERVICE, host).and_then(|e| e.get_password()) {
                    Ok(k) => Ok(Some(k)),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(e) => Err(RemoteError::storage("the keychain did not answer", e)),
                }
            }
            Secrets::Files(path) => Ok(files::read::<HashMap<String, String>>(path)?.remove(host)),
            Secrets::Memory(m) => Ok(m.lock().expect("secrets").get(host).cloned()),
        }
    }

    pub fn set(&self, host: &str, key: &str) -> Result<(), RemoteError> {
        match self {
            #[cfg(not(target_os = "android"))]
            Secrets::Keychain => keyring::Entry::new(SERVICE, host)
                .and_then(|e| e.set_password(key))
                .map_err(|e| RemoteError::storage("the keychain refused the key", e)),
            Secrets::Files(path) => {
                let mut all: HashMap<String, String> = files::read(path)?;
                all.insert(host.to_owned(), key.to_owned());
                files::write(path, &all)
            }
            Secrets::Memory(m) => {
                m.lock()
                    .expect("secrets")
                    .insert(host.to_owned(), key.to_owned());
                Ok(())
            }
        }
    }

    pub fn delete(&self, host: &str) -> Result<(), RemoteError> {
        match self {
            #[cfg(not(target_os = "android"))]
            Secrets::Keychain => {
                match keyring::Entry::new(SERVICE, host).and_then(|e| e.delete_credential()) {
                    Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(e) => Err(RemoteError::storage(
                        "the keychain did not forget the key",
                        e,
                    )),
                }
            }
            Secrets::Files(path) => {
                let mut all: HashMap<String, String> = files::read(path)?;
                if all.remove(host).is_some() {
                    files::write(path, &all)?;
                }
                Ok(())
            }
            Secrets::Memory(m) => {
                m.lock().expect("secrets").remove(host);
                Ok(())
            }
        }
    }
}
