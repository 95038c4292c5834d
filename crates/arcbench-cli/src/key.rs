//! The host's API key: `ARCBENCH_API_KEY`, or a 256-bit key generated on first run and kept in
//! the data dir with 0600 permissions.

use std::io::Write;
use std::path::Path;

pub enum KeySource {
    Env,
    Stored,
    /// Generated just now: printed once so the user can pair.
    Generated,
}

pub fn load_or_create(data_dir: &Path) -> std::io::Result<(String, KeySource)> {
    if let Ok(k) = std::env::var("ARCBENCH_API_KEY") {
        if k.trim().len() < 16 {
            return Err(std::io::Error::other(
                "ARCBENCH_API_KEY must be at least 16 characters",
            ));
        }
        return Ok((k.trim().to_owned(), KeySource::Env));
    }
    let path = data_dir.join("api-key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        if !k.trim().is_empty() {
            return Ok((k.trim().to_owned(), KeySource::Stored));
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&path)?;
    f.write_all(key.as_bytes())?;
    f.sync_all()?;
    Ok((key, KeySource::Generated))
}
