//! One host per data dir. A host holds an exclusive OS lock (`flock`) on `<data dir>/host.lock`
//! for its whole life. The kernel drops it when the process dies, kill -9 included, so no stale
//! lock ever outlives a crash and nobody has to clean up. A second host on the same data dir
//! stops before it sweeps worktrees, recovers prompts or runs anything: those steps assume they
//! are alone, and two hosts doing them would kill each other's turns and run queued prompts twice.
//!
//! The file's content says who holds it (pid, the addresses it serves once bound), so the
//! refusal can name the running host and a shell (the desktop app) can attach to it instead.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const LOCK_FILE: &str = "host.lock";

/// Who holds a data dir: written by the holder, read by anyone who finds the lock taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// `http://127.0.0.1:8000` etc., once the holder listens (empty before).
    #[serde(default)]
    pub urls: Vec<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if self.urls.is_empty() {
            write!(f, ", still starting")
        } else {
            write!(f, ", serving {}", self.urls.join(" and "))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another ArcBench host already runs on the data dir {} ({holder}); use that one, stop \
         it first, or give this one its own --data-dir",
        dir.display()
    )]
    Held { dir: PathBuf, holder: Holder },
    #[error(
        "cannot lock the data dir {} ({source}): its filesystem does not support file locks, so \
         two hosts could not be kept apart; put the data dir on a local filesystem",
        dir.display()
    )]
    Unsupported {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("data dir {}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// The held lock; released when dropped (or by the kernel when the process dies).
#[derive(Debug)]
pub struct DataDirLock {
    file: File,
    dir: PathBuf,
}

impl DataDirLock {
    /// Takes the data dir's lock, or says who holds it. Never waits.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, LockError> {
        let io = |source| LockError::Io {
            dir: dir.to_path_buf(),
            source,
        };
        // Not truncated on open: until we hold the lock, the content is the holder's.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: dir.to_path_buf(),
                    holder: read_holder(&mut file),
                })
            }
            Err(TryLockError::Error(e)) if unsupported(&e) => {
                return Err(LockError::Unsupported {
                    dir: dir.to_path_buf(),
                    source: e,
                })
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let lock = DataDirLock {
            file,
            dir: dir.to_path_buf(),
        };
        lock.write(&Holder {
            pid: std::process::id(),
            urls: Vec::new(),
        })
        .map_err(io)?;
        Ok(lock)
    }

    /// Records where this host can be reached, for whoever finds the lock taken.
    pub fn set_urls(&self, urls: Vec<String>) -> std::io::Result<()> {
        self.write(&Holder {
            pid: std::process::id(),
            urls,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn write(&self, holder: &Holder) -> std::io::Result<()> {
        let mut f = &self.file;
        f.set_len(0)?;
        f.seek(SeekFrom::Start(0))?;
        f.write_all(serde_json::to_string(holder).unwrap_or_default().as_bytes())?;
        f.flush()
    }
}

/// The host running on `dir`, if one does (its lock is held): what a shell attaches to.
pub fn running_host(dir: &Path) -> Option<Holder> {
    match DataDirLock::acquire(dir) {
        Err(LockError::Held { holder, .. }) => Some(holder),
        // Taken and dropped again at once: nobody runs there.
        _ => None,
    }
}

fn read_holder(file: &mut File) -> Holder {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.read_to_string(&mut text);
    serde_json::from_str(&text).unwrap_or_default()
}

/// Filesystems without `flock` (some network mounts) answer ENOLCK or "not supported".
fn unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported || e.raw_os_error() == Some(37 /* ENOLCK */)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_dir_names_the_holder_and_the_first_release_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        first.set_urls(vec!["http://127.0.0.1:9".into()]).unwrap();
        let err = DataDirLock::acquire(dir.path()).unwrap_err();
        match &err {
            LockError::Held { holder, .. } => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.urls, vec!["http://127.0.0.1:9".to_owned()]);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("http://127.0.0.1:9"), "{err}");
        assert_eq!(running_host(dir.path()).unwrap().pid, std::process::id());
        drop(first);
        // Another test thread of this process may be between fork and exec right now: its child
        // shares our open file description (and so the lock) until exec closes it (O_CLOEXEC).
        // That window is microseconds; a host never sees it because its lock outlives its
        // children's forks. So: free within a moment, never "still held" for good.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match DataDirLock::acquire(dir.path()) {
                Ok(_) => break,
                Err(LockError::Held { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                Err(e) => panic!("the dropped lock is still held: {e}"),
            }
        }
    }
}
