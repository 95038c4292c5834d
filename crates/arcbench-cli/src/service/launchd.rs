//! macOS: a LaunchAgent in `~/Library/LaunchAgents`, told about through `launchctl` in the
//! user's GUI domain.

use std::path::{Path, PathBuf};

use super::{ctl, home, Manual, ServiceError, ServiceManager, ServiceSpec, ToolError};

pub const LABEL: &str = "dev.arcbench.host";

pub struct Launchd;

impl ServiceManager for Launchd {
    fn unit_path(&self) -> Result<PathBuf, ServiceError> {
        Ok(home()?.join(format!("Library/LaunchAgents/{LABEL}.plist")))
    }

    fn render(&self, spec: &ServiceSpec) -> String {
        render_plist(spec)
    }

    /// The plist spreads the command over one `<string>` per word.
    fn runs(&self, _file_text: &str) -> Option<String> {
        None
    }

    fn start(&self, file: &Path, _changed: bool) -> Result<(), Manual> {
        let domain = gui_domain();
        let path = file.display().to_string();
        // bootstrap refuses a label that is already loaded, so unload any previous version first.
        let _ = ctl("launchctl", &["bootout", &format!("{domain}/{LABEL}")]);
        ctl("launchctl", &["bootstrap", &domain, &path]).map_err(|why| Manual {
            why,
            commands: vec![format!("launchctl bootstrap {domain} {path}")],
        })?;
        println!("loaded {LABEL} into {domain}");
        Ok(())
    }

    fn stop(&self, _file: &Path) -> Result<(), Manual> {
        let target = target();
        // bootout also fails when the agent is not loaded, which is fine; only a missing
        // launchctl means the user has to act.
        match ctl("launchctl", &["bootout", &target]) {
            Err(why @ ToolError::Missing { .. }) => Err(Manual {
                why,
                commands: vec![format!("launchctl bootout {target}")],
            }),
            _ => Ok(()),
        }
    }

    fn state(&self) -> Result<String, ToolError> {
        let out = ctl("launchctl", &["print", &target()])?;
        Ok(out
            .lines()
            .find_map(|l| l.trim().strip_prefix("state = ").map(str::to_owned))
            .unwrap_or_else(|| "loaded".into()))
    }
}

fn gui_domain() -> String {
    format!("gui/{}", rustix::process::getuid().as_raw())
}

/// The service in launchctl's terms.
fn target() -> String {
    format!("{}/{LABEL}", gui_domain())
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// launchd has no EnvironmentFile, so a tiny `sh` wrapper sources `<data>/env`, which keeps the
/// key out of the plist, and then execs the host. The env file's path goes in as `$0` and the
/// host's command line as `"$@"`, so no path is ever parsed by the shell.
pub fn render_plist(spec: &ServiceSpec) -> String {
    let mut argv = vec![
        "/bin/sh".to_owned(),
        "-c".into(),
        "set -a; if [ -r \"$0\" ]; then . \"$0\"; fi; exec \"$@\"".into(),
        spec.env_file.clone(),
        spec.exe.clone(),
    ];
    argv.extend(spec.args.iter().cloned());
    let args: String = argv
        .iter()
        .map(|a| format!("    <string>{}</string>\n", xml(a)))
        .collect();
    let log = |name: &str| xml(&format!("{}/{name}", spec.data_dir));
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by `arcbench service install`; no secrets: ANTHROPIC_API_KEY comes from the env file. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>{LABEL}</string>
  <key>ProgramArguments</key>
  <array>
{args}  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>ARCBENCH_DATA_DIR</key>
    <string>{data}</string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>5</integer>
  <key>ExitTimeOut</key>
  <integer>15</integer>
  <key>StandardOutPath</key>
  <string>{out}</string>
  <key>StandardErrorPath</key>
  <string>{err}</string>
</dict>
</plist>
"#,
        data = xml(&spec.data_dir),
        out = log("host.out.log"),
        err = log("host.err.log"),
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::spec;
    use super::*;

    #[test]
    fn plist_has_the_launchd_keys_and_escapes_xml() {
        let plist = render_plist(&spec("/Users/a&b/data"));
        for key in [
            "<key>RunAtLoad</key>",
            "<key>KeepAlive</key>",
            "<key>ProgramArguments</key>",
            "<key>StandardOutPath</key>",
            "<key>StandardErrorPath</key>",
        ] {
            assert!(plist.contains(key), "{key} missing");
        }
        assert!(plist.contains("<string>/Users/a&amp;b/data/env</string>"));
        assert!(plist.contains("<string>/opt/arc bench/arcbench</string>"));
        assert!(plist.contains("<string>/Users/a&amp;b/data/host.err.log</string>"));
        assert!(!plist.contains("a&b"));
    }
}
