//! `arcbench service install|uninstall|status`: run the host 24/7 as a per-user service, a
//! systemd user unit on Linux and a LaunchAgent on macOS.
//!
//! Secrets never go into the service file, because unit files and plists are routinely shared in
//! bug reports and dotfile repos. ANTHROPIC_API_KEY comes from `<data>/env` (0600), and the host's
//! API key stays in `<data>/api-key`.
//! The file text is rendered by pure functions, so both platforms' output is unit-tested on Linux.
//! Only the `systemctl`/`launchctl` calls depend on the OS, and those calls are chosen with
//! `cfg!` so that both branches always compile. (Unix only, like the rest of the host.)

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use arcbench_agent::python::venv_python;
use arcbench_host::agent::{managed_venv, pick_python};

const UNIT_NAME: &str = "arcbench.service";
const LAUNCHD_LABEL: &str = "dev.arcbench.host";

#[derive(clap::Subcommand)]
pub enum Action {
    /// Write the service file (with absolute paths) and start the host at login.
    Install(InstallArgs),
    /// Stop the service and remove its file (the data dir and its env file are kept).
    Uninstall,
    /// Whether the service is installed, where its file is, and what the service manager says.
    Status,
}

#[derive(clap::Args)]
pub struct InstallArgs {
    /// Where the database, key and venv live (written into the service, so it does not depend
    /// on the login environment).
    #[arg(long, env = "ARCBENCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A repository to serve (repeatable). Default: the current directory.
    #[arg(long = "repo")]
    repos: Vec<PathBuf>,
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on (repeatable). Default: serve's default.
    #[arg(long = "bind")]
    binds: Vec<IpAddr>,
    /// A Python with aider-chat (default: the one `serve` would find now).
    #[arg(long, env = "ARCBENCH_PYTHON")]
    python: Option<PathBuf>,
}

/// Everything the service file says, already absolute and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub exe: String,
    pub data_dir: String,
    pub env_file: String,
    /// The arguments after the executable, starting with `serve`.
    pub args: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Platform {
    Systemd,
    Launchd,
}

fn platform() -> Result<Platform, String> {
    if cfg!(target_os = "macos") {
        Ok(Platform::Launchd)
    } else if cfg!(target_os = "linux") {
        Ok(Platform::Systemd)
    } else {
        Err("`arcbench service` supports Linux (systemd) and macOS (launchd) only".into())
    }
}

pub fn run(action: Action) -> Result<(), String> {
    let platform = platform()?;
    let file = service_file(platform)?;
    match action {
        Action::Install(args) => install(platform, &file, args),
        Action::Uninstall => uninstall(platform, &file),
        Action::Status => status(platform, &file),
    }
}

fn home() -> Result<PathBuf, String> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| "HOME is not set; cannot tell where the service file goes".into())
}

fn service_file(platform: Platform) -> Result<PathBuf, String> {
    Ok(match platform {
        Platform::Launchd => home()?.join(format!("Library/LaunchAgents/{LAUNCHD_LABEL}.plist")),
        Platform::Systemd => std::env::var_os("XDG_CONFIG_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .map_or_else(|| home().map(|h| h.join(".config")), Ok)?
            .join("systemd/user")
            .join(UNIT_NAME),
    })
}

/// The file text must be plain text: reject paths that are not UTF-8 or that hold control
/// characters (a newline would end the directive and start another).
fn text(p: &Path) -> Result<String, String> {
    let s = p
        .to_str()
        .ok_or_else(|| format!("{} is not valid UTF-8", p.display()))?;
    if s.chars().any(char::is_control) {
        return Err(format!("{s:?} contains control characters"));
    }
    Ok(s.to_owned())
}

fn absolute(p: &Path, what: &str) -> Result<PathBuf, String> {
    p.canonicalize()
        .map_err(|e| format!("{what} {}: {e}", p.display()))
}

fn build_spec(args: &InstallArgs) -> Result<ServiceSpec, String> {
    let exe = std::env::current_exe()
        .and_then(|e| e.canonicalize())
        .map_err(|e| format!("cannot find this executable's path: {e}"))?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(crate::default_data_dir);
    create_private_dir(&data_dir)?;
    let data_dir = absolute(&data_dir, "data dir")?;
    let mut out = vec!["serve".to_owned(), "--data-dir".into(), text(&data_dir)?];
    let repos = if args.repos.is_empty() {
        // serve's default is its working directory, which under a service manager is not the
        // directory the user ran `install` in: make that default explicit.
        vec![arcbench_host::config::default_repo().map_err(|e| e.to_string())?]
    } else {
        args.repos.clone()
    };
    for r in &repos {
        let r = absolute(r, "repository")?;
        // Refuse to install a service that would fail at start and restart in a loop.
        arcbench_git::repo::open_user_repo(&r)
            .map_err(|e| format!("{e} (run `arcbench doctor --repo {}`)", r.display()))?;
        out.extend(["--repo".into(), text(&r)?]);
    }
    if let Some(port) = args.port {
        out.extend(["--port".into(), port.to_string()]);
    }
    for b in &args.binds {
        out.extend(["--bind".into(), b.to_string()]);
    }
    // The service sets ARCBENCH_DATA_DIR, so serve's fallback to the default data dir's venv
    // would look inside this data dir instead. If the Python that serve would pick from this
    // shell is somewhere else, pin it.
    if let Ok(py) = pick_python(args.python.as_deref(), &data_dir) {
        if py != venv_python(&managed_venv(&data_dir)) {
            let py = std::path::absolute(&py).map_err(|e| e.to_string())?;
            out.extend(["--python".into(), text(&py)?]);
        }
    }
    Ok(ServiceSpec {
        exe: text(&exe)?,
        env_file: text(&data_dir.join("env"))?,
        data_dir: text(&data_dir)?,
        args: out,
    })
}

/// One word of a systemd command line: quoted when needed; `%` (specifiers) and `$` (variable
/// expansion) escaped everywhere, so a path is always taken literally.
fn systemd_word(s: &str) -> String {
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

pub fn render_systemd_unit(spec: &ServiceSpec) -> String {
    let exec: Vec<String> = std::iter::once(&spec.exe)
        .chain(&spec.args)
        .map(|w| systemd_word(w))
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
pub fn render_launchd_plist(spec: &ServiceSpec) -> String {
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
  <string>{LAUNCHD_LABEL}</string>
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

const ENV_TEMPLATE: &str = "\
# Environment for the ArcBench service (`arcbench service install` created this file).
# Keep it private (0600): it holds your Anthropic key. Lines are NAME=value; restart the service
# after editing: `systemctl --user restart arcbench.service` (Linux) or
# `launchctl kickstart -k gui/$(id -u)/dev.arcbench.host` (macOS).
#ANTHROPIC_API_KEY=
#ANTHROPIC_BASE_URL=
#ARCBENCH_MODEL=claude-sonnet-4-5
";

fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("data dir {}: {e}", dir.display()))
}

/// Creates the env file with the commented template if missing; tightens it to 0600 if it is
/// readable by others. Never writes a key into it.
fn ensure_env_file(path: &Path) -> Result<String, String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
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
                .map_err(err)?;
            std::io::Write::write_all(&mut f, ENV_TEMPLATE.as_bytes()).map_err(err)?;
            Ok(format!(
                "created {} (0600): put ANTHROPIC_API_KEY=... there",
                path.display()
            ))
        }
        Err(e) => Err(err(e)),
    }
}

fn env_file_sets(path: &Path, name: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| {
        s.lines().any(|l| {
            l.trim()
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix('='))
                .is_some_and(|v| !v.trim().is_empty())
        })
    })
}

/// Runs a service-manager command; `Err` carries why it could not (missing tool, no bus...).
fn manager(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{cmd} is not installed"),
            _ => format!("cannot run {cmd}: {e}"),
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        Err(format!(
            "`{cmd} {}` failed: {}",
            args.join(" "),
            if stderr.is_empty() { stdout } else { stderr }
        ))
    }
}

/// Whether the per-user systemd manager answers (it does not without a login session's bus,
/// e.g. over plain `su` or in containers).
fn systemd_reachable() -> Result<(), String> {
    match manager("systemctl", &["--user", "show-environment"]) {
        Ok(_) => Ok(()),
        Err(e) if e.ends_with("is not installed") => Err(e),
        Err(e) => Err(format!(
            "no systemd user manager answers ({}); usual without a login session (su, some ssh setups, containers)",
            e.rsplit("failed: ").next().unwrap_or(&e)
        )),
    }
}

fn gui_domain() -> String {
    format!("gui/{}", rustix::process::getuid().as_raw())
}

fn install(platform: Platform, file: &Path, args: InstallArgs) -> Result<(), String> {
    let spec = build_spec(&args)?;
    let env_note = ensure_env_file(Path::new(&spec.env_file))?;
    let text = match platform {
        Platform::Systemd => render_systemd_unit(&spec),
        Platform::Launchd => render_launchd_plist(&spec),
    };
    let old = std::fs::read_to_string(file).ok();
    let changed = old.as_deref() != Some(text.as_str());
    if changed {
        let dir = file.parent().expect("service file has a parent");
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(file, &text).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    println!(
        "{} {}",
        match (old.is_some(), changed) {
            (false, _) => "wrote",
            (true, true) => "updated",
            (true, false) => "unchanged:",
        },
        file.display()
    );
    println!("runs: {} {}", spec.exe, spec.args.join(" "));
    println!("{env_note}");
    secrets_notes(&spec)?;
    match platform {
        Platform::Systemd => start_systemd(changed),
        Platform::Launchd => start_launchd(file),
    }
    Ok(())
}

/// Makes sure the service will not print a freshly generated key into its log (serve prints a
/// generated key once), and points out shell settings that the service will not inherit.
fn secrets_notes(spec: &ServiceSpec) -> Result<(), String> {
    let data_dir = Path::new(&spec.data_dir);
    if std::env::var_os("ARCBENCH_API_KEY").is_some() {
        println!(
            "note: ARCBENCH_API_KEY is set in this shell, but the service does not inherit it; \
             add it to {} or unset it and run install again to use {}",
            spec.env_file,
            data_dir.join("api-key").display()
        );
    } else {
        arcbench_host::key::load_or_create(data_dir).map_err(|e| format!("API key: {e}"))?;
        println!(
            "the host's API key is in {} (pair your phone with it)",
            data_dir.join("api-key").display()
        );
    }
    let env_file = Path::new(&spec.env_file);
    if !env_file_sets(env_file, "ANTHROPIC_API_KEY") {
        let why = if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
            "it is set in this shell, but the service does not inherit it"
        } else {
            "prompts fail without it"
        };
        println!(
            "note: add ANTHROPIC_API_KEY=... to {} ({why})",
            env_file.display()
        );
    }
    Ok(())
}

fn print_manual(why: &str, commands: &[String]) {
    println!("could not start the service: {why}");
    println!("the file is in place; run these in a login session of this user:");
    for c in commands {
        println!("  {c}");
    }
}

fn start_systemd(changed: bool) {
    let manual = [
        "systemctl --user daemon-reload".to_owned(),
        format!("systemctl --user enable --now {UNIT_NAME}"),
    ];
    if let Err(why) = systemd_reachable() {
        print_manual(&why, &manual);
        return;
    }
    // A changed unit needs a restart to take effect; an unchanged one is left running.
    let verb = if changed { "restart" } else { "start" };
    let steps: [&[&str]; 3] = [
        &["--user", "daemon-reload"],
        &["--user", "enable", UNIT_NAME],
        &["--user", verb, UNIT_NAME],
    ];
    for step in steps {
        if let Err(why) = manager("systemctl", step) {
            print_manual(&why, &manual);
            return;
        }
    }
    println!("enabled and {verb}ed {UNIT_NAME}; logs: journalctl --user -u {UNIT_NAME}");
    // Without lingering, user services stop at logout and do not start at boot.
    let user = std::env::var("USER").unwrap_or_else(|_| "$USER".into());
    if manager(
        "loginctl",
        &["show-user", &user, "--property=Linger", "--value"],
    )
    .is_ok_and(|v| v == "no")
    {
        println!("note: to keep the host running after logout and start it at boot, run: loginctl enable-linger {user}");
    }
}

fn start_launchd(file: &Path) {
    let domain = gui_domain();
    let path = file.display().to_string();
    // bootstrap refuses a label that is already loaded, so unload any previous version first.
    let _ = manager(
        "launchctl",
        &["bootout", &format!("{domain}/{LAUNCHD_LABEL}")],
    );
    match manager("launchctl", &["bootstrap", &domain, &path]) {
        Ok(_) => println!("loaded {LAUNCHD_LABEL} into {domain}"),
        Err(why) => print_manual(&why, &[format!("launchctl bootstrap {domain} {path}")]),
    }
}

fn uninstall(platform: Platform, file: &Path) -> Result<(), String> {
    if !file.exists() {
        println!("not installed (no {})", file.display());
        return Ok(());
    }
    // Stop first: the manager needs the unit file to know what to stop.
    let stop_note = match platform {
        Platform::Systemd => match systemd_reachable() {
            Ok(()) => {
                // `disable --now` fails for a unit systemd never loaded; that is fine here.
                let _ = manager("systemctl", &["--user", "disable", "--now", UNIT_NAME]);
                None
            }
            Err(why) => Some((
                why,
                vec![
                    format!("systemctl --user disable --now {UNIT_NAME}"),
                    "systemctl --user daemon-reload".to_owned(),
                ],
            )),
        },
        Platform::Launchd => {
            let target = format!("{}/{LAUNCHD_LABEL}", gui_domain());
            // bootout also fails when the agent is not loaded, which is fine; only a missing
            // launchctl means the user has to act.
            match manager("launchctl", &["bootout", &target]) {
                Err(why) if why.ends_with("is not installed") => {
                    Some((why, vec![format!("launchctl bootout {target}")]))
                }
                _ => None,
            }
        }
    };
    std::fs::remove_file(file).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("removed {}", file.display());
    match stop_note {
        None if platform == Platform::Systemd => {
            let _ = manager("systemctl", &["--user", "daemon-reload"]);
        }
        None => {}
        Some((why, commands)) => {
            println!("could not stop the service: {why}");
            println!("if it is still running, run these in a login session of this user:");
            for c in commands {
                println!("  {c}");
            }
        }
    }
    println!("the data dir (database, keys, env file) is kept");
    Ok(())
}

fn status(platform: Platform, file: &Path) -> Result<(), String> {
    let installed = file.exists();
    println!(
        "arcbench service: {}",
        if installed {
            "installed"
        } else {
            "not installed"
        }
    );
    println!("file: {}", file.display());
    if let Some(exec) = std::fs::read_to_string(file).ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("ExecStart=").map(str::to_owned))
    }) {
        println!("runs: {exec}");
    }
    let state = match platform {
        Platform::Systemd => systemd_reachable().map(|()| {
            // is-enabled/is-active exit non-zero for "disabled"/"inactive" but still print it.
            let word = |verb: &str| match manager("systemctl", &["--user", verb, UNIT_NAME]) {
                Ok(s) => s,
                Err(e) => e.rsplit(": ").next().unwrap_or("unknown").to_owned(),
            };
            format!("{}, {}", word("is-enabled"), word("is-active"))
        }),
        Platform::Launchd => manager(
            "launchctl",
            &["print", &format!("{}/{LAUNCHD_LABEL}", gui_domain())],
        )
        .map(|out| {
            out.lines()
                .find_map(|l| l.trim().strip_prefix("state = ").map(str::to_owned))
                .unwrap_or_else(|| "loaded".into())
        }),
    };
    match state {
        Ok(s) => println!("state: {s}"),
        Err(why) => println!("state: unknown ({why})"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &str) -> ServiceSpec {
        ServiceSpec {
            exe: "/opt/arc bench/arcbench".into(),
            data_dir: dir.into(),
            env_file: format!("{dir}/env"),
            args: vec![
                "serve".into(),
                "--data-dir".into(),
                dir.into(),
                "--repo".into(),
                "/src/my repo".into(),
                "--port".into(),
                "8123".into(),
            ],
        }
    }

    #[test]
    fn unit_quotes_and_escapes_every_word() {
        let unit = render_systemd_unit(&spec("/data/100%$x"));
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
    fn systemd_word_keeps_plain_words_plain() {
        assert_eq!(systemd_word("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(systemd_word("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(systemd_word(""), "\"\"");
    }

    #[test]
    fn plist_has_the_launchd_keys_and_escapes_xml() {
        let plist = render_launchd_plist(&spec("/Users/a&b/data"));
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

    #[test]
    fn env_file_sets_ignores_comments_and_empty_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env");
        std::fs::write(&p, ENV_TEMPLATE).unwrap();
        assert!(!env_file_sets(&p, "ANTHROPIC_API_KEY"));
        std::fs::write(&p, "ANTHROPIC_API_KEY=\nX=1\n").unwrap();
        assert!(!env_file_sets(&p, "ANTHROPIC_API_KEY"));
        std::fs::write(&p, "ANTHROPIC_API_KEY=sk-1\n").unwrap();
        assert!(env_file_sets(&p, "ANTHROPIC_API_KEY"));
    }

    #[test]
    fn text_refuses_newlines() {
        assert!(text(Path::new("/a\nExecStartPre=/bin/evil")).is_err());
    }
}
