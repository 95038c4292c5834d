//! The host's API key: `ARCBENCH_API_KEY`, or a 256-bit key generated on first run and kept in
//! the data dir with 0600 permissions (re-checked at every start), and the data dir's own
//! permissions (0700).

use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Env,
    Stored,
    /// Generated just now: printed once so the user can pair.
    Generated,
}

/// The least strength a user-chosen key may have: guessing it must stay hopeless even without
/// the failed-auth limit.
pub const MIN_KEY_BITS: f64 = 128.0;

/// An upper estimate of a key's strength: its length times the bits of the smallest alphabet
/// made of the character classes it uses. Keys with few distinct characters ("aaaa…") get the
/// bits of those characters only.
pub fn key_bits(key: &str) -> f64 {
    /// A character class and how many characters it has.
    type Class = (fn(char) -> bool, f64);
    let classes: [Class; 3] = [
        (|c| c.is_ascii_digit(), 10.0),
        (|c| c.is_ascii_lowercase(), 26.0),
        (|c| c.is_ascii_uppercase(), 26.0),
    ];
    let mut alphabet = classes
        .iter()
        .filter(|(is, _)| key.chars().any(is))
        .map(|(_, n)| n)
        .sum::<f64>();
    if key.chars().any(|c| !c.is_ascii_alphanumeric()) {
        alphabet += 32.0;
    }
    let distinct = key.chars().collect::<std::collections::HashSet<_>>().len() as f64;
    let per_char = alphabet.min(distinct.powi(2)).max(1.0).log2();
    key.chars().count() as f64 * per_char
}

/// Refuses a user-chosen key that is too weak, saying how to make a good one.
pub fn check_user_key(key: &str) -> Result<(), String> {
    let bits = key_bits(key);
    if bits < MIN_KEY_BITS {
        return Err(format!(
            "ARCBENCH_API_KEY is too weak (about {bits:.0} bits; at least {MIN_KEY_BITS:.0} needed): \
             use 32 random hex characters (e.g. `openssl rand -hex 16`), or unset it to use a generated key"
        ));
    }
    Ok(())
}

pub fn load_or_create(data_dir: &Path) -> std::io::Result<(String, KeySource)> {
    let path = data_dir.join("api-key");
    if path.exists() {
        // Someone (a backup restore, an editor) may have widened it since the last start; it
        // matters even while ARCBENCH_API_KEY overrides it (the next start may not).
        set_mode(&path, 0o600)?;
    }
    if let Ok(k) = std::env::var("ARCBENCH_API_KEY") {
        let k = k.trim();
        check_user_key(k).map_err(std::io::Error::other)?;
        return Ok((k.to_owned(), KeySource::Env));
    }
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
    set_mode(&path, 0o600)?;
    Ok((key, KeySource::Generated))
}

/// Creates the data dir private to its user (0700), and makes an existing one private again:
/// it holds the key, the database with every prompt, and the worktrees.
pub fn private_data_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_estimate() {
        // A generated key (64 hex) and 32 hex characters pass; short or repetitive ones do not.
        assert!(key_bits(&"0123456789abcdef".repeat(4)) >= MIN_KEY_BITS);
        assert!(key_bits("9f86d081884c7d659a2feaa0c55ad015") >= MIN_KEY_BITS);
        assert!(key_bits("blackbox-key-0123456789abcdef") >= MIN_KEY_BITS);
        assert!(key_bits("correct-horse-battery") < MIN_KEY_BITS);
        assert!(key_bits(&"a".repeat(64)) < MIN_KEY_BITS);
        assert!(key_bits("abababababababababababababababababababab") < MIN_KEY_BITS);
        assert!(check_user_key("short").unwrap_err().contains("too weak"));
    }
}
