//! `<data dir>/env`: the private (0600) `NAME=value` file that holds the Anthropic key for a host
//! that cannot ask a keychain: the service at boot (systemd's `EnvironmentFile`, the LaunchAgent's
//! wrapper), and the desktop app on a machine without one. Read by every host at start when the
//! environment names no key; written only by the desktop app (on the user's word) and by hand.

use std::path::{Path, PathBuf};

pub const FILE: &str = "env";
pub const ANTHROPIC_KEY: &str = "ANTHROPIC_API_KEY";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The value of the first `NAME=value` line that sets `name` to something non-empty, without
/// surrounding quotes. Comments (`#NAME=...`) and a missing or unreadable file set nothing.
pub fn value(path: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let v = l.trim().strip_prefix(name)?.strip_prefix('=')?.trim();
        (!v.is_empty()).then(|| v.trim_matches(|c| c == '"' || c == '\'').to_owned())
    })
}

/// Sets `name=value` (replacing an earlier line for it, keeping every other line), written to a
/// 0600 temporary file and renamed over the old one: a crash leaves the old file or the new one.
pub fn set(path: &Path, name: &str, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if value.contains(['\n', '\r']) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a value cannot span lines",
        ));
    }
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut lines: Vec<String> = old
        .lines()
        .filter(|l| {
            let t = l.trim();
            !(t.starts_with(name) && t[name.len()..].trim_start().starts_with('='))
        })
        .map(str::to_owned)
        .collect();
    lines.push(format!("{name}={value}"));
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all((lines.join("\n") + "\n").as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn set_replaces_the_line_keeps_the_others_and_stays_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path());
        assert_eq!(value(&p, ANTHROPIC_KEY), None);
        std::fs::write(
            &p,
            "# comment\n#ANTHROPIC_API_KEY=\nX=1\nANTHROPIC_API_KEY=old\n",
        )
        .unwrap();
        set(&p, ANTHROPIC_KEY, "sk-ant-new").unwrap();
        assert_eq!(value(&p, ANTHROPIC_KEY).as_deref(), Some("sk-ant-new"));
        assert_eq!(value(&p, "X").as_deref(), Some("1"));
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.matches("ANTHROPIC_API_KEY=").count(), 2, "{text}"); // the comment + ours
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(set(&p, ANTHROPIC_KEY, "a\nB=2").is_err());
    }
}
