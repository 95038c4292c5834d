//! `<data>/env`: the service's environment (ANTHROPIC_API_KEY and friends), kept out of the
//! service file. systemd reads it as an `EnvironmentFile`, the LaunchAgent's `sh` wrapper sources
//! it, and `arcbench doctor` reads it to tell whether the service will have a key.

use std::path::Path;

use super::ServiceError;

/// What `ensure` writes into a new env file: every setting commented out, never a key.
pub const TEMPLATE: &str = "\
# Environment for the ArcBench service (`arcbench service install` created this file).
# Keep it private (0600): it holds your Anthropic key. Lines are NAME=value; restart the service
# after editing: `systemctl --user restart arcbench.service` (Linux) or
# `launchctl kickstart -k gui/$(id -u)/dev.arcbench.host` (macOS).
#ANTHROPIC_API_KEY=
#ANTHROPIC_BASE_URL=
#ARCBENCH_MODEL=claude-sonnet-4-5
";

pub use arcbench_host::env_file::value;

/// Creates the env file with [`TEMPLATE`] if missing; tightens it to 0600 if it is readable by
/// others. Never writes a key into it. Returns what it did, for the user.
pub fn ensure(path: &Path) -> Result<String, ServiceError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err = ServiceError::file;
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(err(path))?;
            Ok(format!(
                "tightened {} to 0600 (it may hold your key)",
                path.display()
            ))
        }
        Ok(_) => Ok(format!("kept {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(err(path))?;
            std::io::Write::write_all(&mut f, TEMPLATE.as_bytes()).map_err(err(path))?;
            Ok(format!(
                "created {} (0600): put ANTHROPIC_API_KEY=... there",
                path.display()
            ))
        }
        Err(e) => Err(err(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_ignores_comments_and_empty_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env");
        assert_eq!(value(&p, "ANTHROPIC_API_KEY"), None, "no file");
        std::fs::write(&p, TEMPLATE).unwrap();
        assert_eq!(value(&p, "ANTHROPIC_API_KEY"), None);
        std::fs::write(&p, "ANTHROPIC_API_KEY=\nX=1\n").unwrap();
        assert_eq!(value(&p, "ANTHROPIC_API_KEY"), None);
        std::fs::write(&p, "ANTHROPIC_API_KEY_2=x\n  ANTHROPIC_API_KEY = sk-0\n").unwrap();
        assert_eq!(value(&p, "ANTHROPIC_API_KEY"), None, "other name, space");
        std::fs::write(&p, "ANTHROPIC_API_KEY=\nANTHROPIC_API_KEY=sk-1\n").unwrap();
        assert_eq!(value(&p, "ANTHROPIC_API_KEY").as_deref(), Some("sk-1"));
        std::fs::write(&p, "  ANTHROPIC_API_KEY=\"sk-2\"  \n").unwrap();
        assert_eq!(value(&p, "ANTHROPIC_API_KEY").as_deref(), Some("sk-2"));
    }

    #[test]
    fn template_names_this_service() {
        use super::super::{launchd, systemd};
        assert!(TEMPLATE.contains(&format!("restart {}`", systemd::UNIT_NAME)));
        assert!(TEMPLATE.contains(&format!("/{}` (macOS)", launchd::LABEL)));
    }

    #[test]
    fn ensure_creates_private_and_tightens() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert!(ensure(&p).unwrap().starts_with("created "));
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), TEMPLATE);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(ensure(&p).unwrap().starts_with("tightened "));
        assert_eq!(mode(&p), 0o600);
        assert!(ensure(&p).unwrap().starts_with("kept "));
    }
}
