//! Small JSON files in the app's private data dir, replaced atomically: written beside, flushed
//! to disk, renamed over the old one and the folder synced — a crash or a kill leaves the old
//! file or the new one, never half of either.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::RemoteError;

/// The file's value; `T::default()` when there is none yet. A damaged file is an error, not an
/// empty list: silently starting over would drop the user's hosts or prompts.
pub fn read<T: DeserializeOwned + Default>(path: &Path) -> Result<T, RemoteError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| RemoteError::storage(&format!("{} is damaged", path.display()), e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(RemoteError::storage(
            &format!("cannot read {}", path.display()),
            e,
        )),
    }
}

/// Replaces the file with `value`, readable by this user only.
pub fn write<T: Serialize>(path: &Path, value: &T) -> Result<(), RemoteError> {
    let fail =
        |e: std::io::Error| RemoteError::storage(&format!("cannot write {}", path.display()), e);
    let dir = path.parent().expect("a file in a folder");
    fs::create_dir_all(dir).map_err(fail)?;
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(value).expect("plain data serializes");
    let mut file = private(&tmp).map_err(fail)?;
    file.write_all(&bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    drop(file);
    fs::rename(&tmp, path).map_err(fail)?;
    // The rename itself is durable only once the folder is.
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(fail)?;
    Ok(())
}

/// Removes the file; gone already is fine.
pub fn remove(path: &Path) -> Result<(), RemoteError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RemoteError::storage(
            &format!("cannot remove {}", path.display()),
            e,
        )),
    }
}

fn private(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}
