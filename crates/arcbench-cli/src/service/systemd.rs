//! Linux: a systemd user unit in `$XDG_CONFIG_HOME/systemd/user` (default `~/.config`), told
//! about through `systemctl --user`.

use std::path::{Path, PathBuf};

use super::{ctl, home, Manual, ServiceError, ServiceManager, ServiceSpec, ToolError};

pub const UNIT_NAME: &str = "arcbench.service";

pub struct Systemd;

impl ServiceManager for Systemd {
    fn unit_path(&self) -> Result<PathBuf, ServiceError> {
        Ok(std::env::var_os("XDG_CONFIG_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .map_or_else(|| home().map(|h| h.join(".config")), Ok)?
            .join("systemd/user")
            .join(UNIT_NAME))
    }

    fn render(&self, spec: &ServiceSpec) -> String {
        render_unit(spec)
    }

    fn runs(&self, file_text: &str) -> Option<String> {
        file_text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart=").map(str::to_owned))
    }

    fn start(&self, _file: &Path, changed: bool) -> Result<(), Manual> {
        let manual = |why| Manual {
            why,
            commands: vec![
                "systemctl --user daemon-reload".to_owned(),
                format!("systemctl --user enable --now {UNIT_NAME}"),
            ],
        };
        reachable().map_err(manual)?;
        // A changed unit needs a restart to take effect; an unchanged one is left running.
        let verb = if changed { "restart" } else { "start" };
        let steps: [&[&str]; 3] = [
            &["--user", "daemon-reload"],
            &["--user", "enable", UNIT_NAME],
            &["--user", verb, UNIT_NAME],
        ];
        for step in steps {
            ctl("systemctl", step).map_err(manual)?;
        }
        println!("enabled and {verb}ed {UNIT_NAME}; logs: journalctl --user -u {UNIT_NAME}");
        // Without lingering, user services stop at logout and do not start at boot.
        let user = std::env::var("USER").unwrap_or_else(|_| "$USER".into());
        if ctl(
            "loginctl",
            &["show-user", &user, "--property=Linger", "--value"],
        )
        .is_ok_and(|v| v == "no")
        {
            println!("note: to keep the host running after logout and start it at boot, run: loginctl enable-linger {user}");
        }
        Ok(())
    }

    fn stop(&self, _file: &Path) -> Result<(), Manual> {
        reachable().map_err(|why| Manual {
            why,
            commands: vec![
                format!("systemctl --user disable --now {UNIT_NAME}"),
                "systemctl --user daemon-reload".to_owned(),
            ],
        })?;
        // `disable --now` fails for a unit systemd never loaded; that is fine here.
        let _ = ctl("systemctl", &["--user", "disable", "--now", UNIT_NAME]);
        Ok(())
    }

    fn forget(&self) {
        let _ = ctl("systemctl", &["--user", "daemon-reload"]);
    }

    fn state(&self) -> Result<String, ToolError> {
        reachable()?;
        // is-enabled/is-active exit non-zero for "disabled"/"inactive" but still print it; of a
        // longer complaint, keep its last clause ("…: No such file or directory").
        let word = |verb: &str| match ctl("systemctl", &["--user", verb, UNIT_NAME]) {
            Ok(s) => s,
            Err(ToolError::Failed { said, .. }) => {
                said.rsplit(": ").next().unwrap_or("unknown").to_owned()
            }
            Err(e) => e.to_string(),
        };
        Ok(format!("{}, {}", word("is-enabled"), word("is-active")))
    }
}

/// Whether the per-user systemd manager answers (it does not without a login session's bus,
/// e.g. over plain `su` or in containers).
fn reachable() -> Result<(), ToolError> {
    match ctl("systemctl", &["--user", "show-environment"]) {
        Ok(_) => Ok(()),
        Err(e @ ToolError::Missing { .. }) => Err(e),
        Err(ToolError::Failed { said, .. }) => Err(ToolError::NoUserManager { reason: said }),
        Err(e) => Err(ToolError::NoUserManager {
            reason: e.to_string(),
        }),
    }
}

/// One word of a systemd command line: quoted when needed; `%` (specifiers) and `$` (variable
/// expansion) escaped everywhere, so a path is always taken literally.
fn word(s: &str) -> String {
    let esc = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%")
        .replace('$', "$$");
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:+,=@".contains(c));
    if plain {
        esc
    } else {
        format!("\"{esc}\"")
    }
}

pub fn render_unit(spec: &ServiceSpec) -> String {
    let exec: Vec<String> = std::iter::once(&spec.exe)
        .chain(&spec.args)
        .map(|w| word(w))
        .collect();
    // Environment= expands specifiers but not variables, so only % needs escaping.
    let env_value = format!("ARCBENCH_DATA_DIR={}", spec.data_dir)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    format!(
        "# Written by `arcbench service install`; `arcbench service uninstall` removes it.\n\
         # No secrets here: ANTHROPIC_API_KEY comes from the EnvironmentFile below (0600) and the\n\
         # host's API key stays in the data dir.\n\
         [Unit]\n\
         Description=ArcBench host (coding agent steered from your phone)\n\
         StartLimitIntervalSec=300\n\
         StartLimitBurst=5\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart={exec}\n\
         Environment=\"{env_value}\"\n\
         EnvironmentFile=-{env_file}\n\
         Restart=on-failure\n\
         RestartSec=5\n\
         # serve interrupts running prompts and exits cleanly on SIGTERM.\n\
         KillSignal=SIGTERM\n\
         TimeoutStopSec=15\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        exec = exec.join(" "),
        env_file = spec.env_file.replace('%', "%%"),
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::spec;
    use super::*;

    #[test]
    fn unit_quotes_and_escapes_every_word() {
        let unit = render_unit(&spec("/data/100%$x"));
        assert!(unit.contains(
            "ExecStart=\"/opt/arc bench/arcbench\" serve --data-dir \"/data/100%%$$x\" \
             --repo \"/src/my repo\" --port 8123\n"
        ));
        assert!(unit.contains("Environment=\"ARCBENCH_DATA_DIR=/data/100%%$x\"\n"));
        assert!(unit.contains("EnvironmentFile=-/data/100%%$x/env\n"));
        for line in [
            "Restart=on-failure",
            "KillSignal=SIGTERM",
            "TimeoutStopSec=15",
            "WantedBy=default.target",
        ] {
            assert!(unit.lines().any(|l| l == line), "{line} missing:\n{unit}");
        }
    }

    #[test]
    fn word_keeps_plain_words_plain() {
        assert_eq!(word("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(word("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(word(""), "\"\"");
    }

    #[test]
    fn status_reads_the_command_line_back() {
        let unit = render_unit(&spec("/d"));
        assert_eq!(
            Systemd.runs(&unit).as_deref(),
            Some("\"/opt/arc bench/arcbench\" serve --data-dir /d --repo \"/src/my repo\" --port 8123")
        );
    }
}
