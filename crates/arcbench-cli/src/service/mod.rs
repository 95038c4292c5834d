//! `arcbench service install|uninstall|status`: run the host 24/7 as a per-user service, a
//! systemd user unit on Linux and a LaunchAgent on macOS.
//!
//! Secrets never go into the service file, because unit files and plists are routinely shared in
//! bug reports and dotfile repos. ANTHROPIC_API_KEY comes from `<data>/env` (0600, see
//! [`env_file`]), and the host's API key stays in `<data>/api-key`.
//!
//! Each platform is one [`ServiceManager`] ([`systemd::Systemd`], [`launchd::Launchd`]), chosen
//! once in [`run`]; `install`, `uninstall` and `status` here do everything else the same way for
//! every platform, so adding a platform is adding one implementation. The file text is rendered
//! by pure functions, so every platform's output is unit-tested on Linux, and every
//! implementation always compiles. (Unix only, like the rest of the host.)

pub mod env_file;
mod launchd;
mod systemd;

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use arcbench_agent::python::venv_python;
use arcbench_host::agent::{managed_venv, pick_python};

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

/// Why `arcbench service` stopped. (What the service manager refused is not an error of the
/// command: the file is in place and the user gets the commands to run by hand.)
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("`arcbench service` supports Linux (systemd) and macOS (launchd) only")]
    Unsupported,
    #[error("HOME is not set; cannot tell where the service file goes")]
    NoHome,
    #[error("cannot find this executable's path: {0}")]
    Exe(#[source] io::Error),
    /// A path the service file could not say as plain text.
    #[error("{} is not valid UTF-8", .0.display())]
    NotUtf8(PathBuf),
    /// A newline would end the directive and start another.
    #[error("{0:?} contains control characters")]
    ControlChars(String),
    /// The data dir or a repository could not be created or resolved.
    #[error("{what} {}: {source}", path.display())]
    Resolve {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A repository serve could not open: the service would fail at start and restart in a loop.
    #[error("{source} (run `arcbench doctor --repo {}`)", path.display())]
    Repo {
        path: PathBuf,
        source: arcbench_git::GitError,
    },
    #[error(transparent)]
    Host(#[from] arcbench_host::HostError),
    #[error("{0}")]
    Python(#[source] io::Error),
    /// Reading or writing the service file, its folder or the env file.
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    #[error("API key: {0}")]
    Key(#[source] io::Error),
}

impl ServiceError {
    fn file(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| ServiceError::File {
            path: path.to_owned(),
            source,
        }
    }
}

/// Why a service-manager command (`systemctl`, `launchctl`, `loginctl`) did not do its job.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{tool} is not installed")]
    Missing { tool: &'static str },
    #[error("cannot run {tool}: {source}")]
    Spawn {
        tool: &'static str,
        source: io::Error,
    },
    /// It ran and exited non-zero; `said` is its stderr, else its stdout.
    #[error("`{tool} {args}` failed: {said}")]
    Failed {
        tool: &'static str,
        args: String,
        said: String,
    },
    /// The per-user systemd manager does not answer (no login session's bus).
    #[error("no systemd user manager answers ({reason}); usual without a login session (su, some ssh setups, containers)")]
    NoUserManager { reason: String },
}

/// The tool could not do it: why, and the commands the user can run in a login session instead.
pub struct Manual {
    why: ToolError,
    commands: Vec<String>,
}

impl Manual {
    /// `could not <what> the service: <why>`, then `then`, then the commands.
    fn print(&self, what: &str, then: &str) {
        println!("could not {what} the service: {}", self.why);
        println!("{then}");
        for c in &self.commands {
            println!("  {c}");
        }
    }
}

/// One platform's service manager: where the service file lives, what it says, and how the
/// manager is told about it. Everything else is shared.
trait ServiceManager {
    /// The service file of this user.
    fn unit_path(&self) -> Result<PathBuf, ServiceError>;
    /// The service file's text.
    fn render(&self, spec: &ServiceSpec) -> String;
    /// The command line an installed file runs, if the file says it on one line.
    fn runs(&self, file_text: &str) -> Option<String>;
    /// Loads the file just written and starts the service (restarting it if `changed`), saying
    /// what it did.
    fn start(&self, file: &Path, changed: bool) -> Result<(), Manual>;
    /// Stops the service before its file is removed (the manager needs the file to know what to
    /// stop). Not loaded or already stopped is fine.
    fn stop(&self, file: &Path) -> Result<(), Manual>;
    /// Called once the file is gone, if `stop` succeeded.
    fn forget(&self) {}
    /// What the manager says about the service, in a few words.
    fn state(&self) -> Result<String, ToolError>;
}

/// This machine's service manager.
fn platform() -> Result<&'static dyn ServiceManager, ServiceError> {
    if cfg!(target_os = "macos") {
        Ok(&launchd::Launchd)
    } else if cfg!(target_os = "linux") {
        Ok(&systemd::Systemd)
    } else {
        Err(ServiceError::Unsupported)
    }
}

/// The command's entry point; the error is the message for the user.
pub fn run(action: Action) -> Result<(), String> {
    execute(action).map_err(|e| e.to_string())
}

fn execute(action: Action) -> Result<(), ServiceError> {
    let manager = platform()?;
    let file = manager.unit_path()?;
    match action {
        Action::Install(args) => install(manager, &file, args),
        Action::Uninstall => uninstall(manager, &file),
        Action::Status => status(manager, &file),
    }
}

fn home() -> Result<PathBuf, ServiceError> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or(ServiceError::NoHome)
}

/// The file text must be plain text: reject paths that are not UTF-8 or that hold control
/// characters (a newline would end the directive and start another).
fn text(p: &Path) -> Result<String, ServiceError> {
    let s = p
        .to_str()
        .ok_or_else(|| ServiceError::NotUtf8(p.to_owned()))?;
    if s.chars().any(char::is_control) {
        return Err(ServiceError::ControlChars(s.to_owned()));
    }
    Ok(s.to_owned())
}

fn absolute(p: &Path, what: &'static str) -> Result<PathBuf, ServiceError> {
    p.canonicalize().map_err(|source| ServiceError::Resolve {
        what,
        path: p.to_owned(),
        source,
    })
}

fn build_spec(args: &InstallArgs) -> Result<ServiceSpec, ServiceError> {
    let exe = std::env::current_exe()
        .and_then(|e| e.canonicalize())
        .map_err(ServiceError::Exe)?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(arcbench_host::paths::default_data_dir);
    arcbench_host::key::private_data_dir(&data_dir).map_err(|source| ServiceError::Resolve {
        what: "data dir",
        path: data_dir.clone(),
        source,
    })?;
    let data_dir = absolute(&data_dir, "data dir")?;
    let mut out = vec!["serve".to_owned(), "--data-dir".into(), text(&data_dir)?];
    let repos = if args.repos.is_empty() {
        // serve's default is its working directory, which under a service manager is not the
        // directory the user ran `install` in: make that default explicit.
        vec![arcbench_host::config::default_repo()?]
    } else {
        args.repos.clone()
    };
    for r in &repos {
        let r = absolute(r, "repository")?;
        // Refuse to install a service that would fail at start and restart in a loop.
        arcbench_git::repo::open_user_repo(&r).map_err(|source| ServiceError::Repo {
            path: r.clone(),
            source,
        })?;
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
            let py = std::path::absolute(&py).map_err(ServiceError::Python)?;
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

/// Runs a service-manager command and returns its trimmed stdout.
fn ctl(tool: &'static str, args: &[&str]) -> Result<String, ToolError> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => ToolError::Missing { tool },
            _ => ToolError::Spawn { tool, source },
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        Err(ToolError::Failed {
            tool,
            args: args.join(" "),
            said: if stderr.is_empty() { stdout } else { stderr },
        })
    }
}

fn install(
    manager: &dyn ServiceManager,
    file: &Path,
    args: InstallArgs,
) -> Result<(), ServiceError> {
    let spec = build_spec(&args)?;
    let env_note = env_file::ensure(Path::new(&spec.env_file))?;
    let text = manager.render(&spec);
    let old = std::fs::read_to_string(file).ok();
    let changed = old.as_deref() != Some(text.as_str());
    if changed {
        let dir = file.parent().expect("service file has a parent");
        std::fs::create_dir_all(dir).map_err(ServiceError::file(dir))?;
        std::fs::write(file, &text).map_err(ServiceError::file(file))?;
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
    if let Err(manual) = manager.start(file, changed) {
        manual.print(
            "start",
            "the file is in place; run these in a login session of this user:",
        );
    }
    Ok(())
}

/// Makes sure the service will not print a freshly generated key into its log (serve prints a
/// generated key once), and points out shell settings that the service will not inherit.
fn secrets_notes(spec: &ServiceSpec) -> Result<(), ServiceError> {
    let data_dir = Path::new(&spec.data_dir);
    if std::env::var_os("ARCBENCH_API_KEY").is_some() {
        println!(
            "note: ARCBENCH_API_KEY is set in this shell, but the service does not inherit it; \
             add it to {} or unset it and run install again to use {}",
            spec.env_file,
            data_dir.join("api-key").display()
        );
    } else {
        arcbench_host::key::load_or_create(data_dir).map_err(ServiceError::Key)?;
        println!(
            "the host's API key is in {} (pair your phone with it)",
            data_dir.join("api-key").display()
        );
    }
    let env_file = Path::new(&spec.env_file);
    if env_file::value(env_file, "ANTHROPIC_API_KEY").is_none() {
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

fn uninstall(manager: &dyn ServiceManager, file: &Path) -> Result<(), ServiceError> {
    if !file.exists() {
        println!("not installed (no {})", file.display());
        return Ok(());
    }
    // Stop first: the manager needs the file to know what to stop.
    let stopped = manager.stop(file);
    std::fs::remove_file(file).map_err(ServiceError::file(file))?;
    println!("removed {}", file.display());
    match stopped {
        Ok(()) => manager.forget(),
        Err(manual) => manual.print(
            "stop",
            "if it is still running, run these in a login session of this user:",
        ),
    }
    println!("the data dir (database, keys, env file) is kept");
    Ok(())
}

fn status(manager: &dyn ServiceManager, file: &Path) -> Result<(), ServiceError> {
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
    if let Some(exec) = std::fs::read_to_string(file)
        .ok()
        .and_then(|t| manager.runs(&t))
    {
        println!("runs: {exec}");
    }
    match manager.state() {
        Ok(s) => println!("state: {s}"),
        Err(why) => println!("state: unknown ({why})"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec with a space, `%`, `$` or `&` where the platforms' tests need them.
    pub(super) fn spec(dir: &str) -> ServiceSpec {
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
    fn text_refuses_newlines() {
        assert!(text(Path::new("/a\nExecStartPre=/bin/evil")).is_err());
    }

    #[test]
    fn errors_read_as_before() {
        let failed = ToolError::Failed {
            tool: "systemctl",
            args: "--user start arcbench.service".into(),
            said: "Unit not found.".into(),
        };
        assert_eq!(
            failed.to_string(),
            "`systemctl --user start arcbench.service` failed: Unit not found."
        );
        assert_eq!(
            ToolError::Missing { tool: "launchctl" }.to_string(),
            "launchctl is not installed"
        );
        let resolve = ServiceError::Resolve {
            what: "data dir",
            path: "/d".into(),
            source: io::Error::other("denied"),
        };
        assert_eq!(resolve.to_string(), "data dir /d: denied");
    }
}
