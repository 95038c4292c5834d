//! `arcbench doctor`: checks that this machine can run the host. It prints one line per check
//! (`ok|warn|FAIL  <check>: <finding>`), plus a `fix:` line for each problem.
//!
//! Read-only by design: doctor creates no key, venv or data dir, because a diagnosis that repairs
//! things as it goes hides what was wrong. It never prints a secret, only whether one is set and
//! its length.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use arcbench_agent::python::{aider_version, PINNED_AIDER};
use arcbench_git::GitError;

use arcbench_host::agent::pick_python;

/// Below this, session worktrees and the Aider venv may not fit.
const LOW_DISK: u64 = 2 << 30;
const NO_DISK: u64 = 200 << 20;

#[derive(clap::Args)]
pub struct DoctorArgs {
    #[arg(long, env = "ARCBENCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A repository to check (repeatable). Default: the current directory, like `serve`.
    #[arg(long = "repo")]
    repos: Vec<PathBuf>,
    /// The port `serve` will listen on.
    #[arg(long, default_value_t = arcbench_host::config::DEFAULT_PORT)]
    port: u16,
    /// The Python with aider-chat (default: the one `serve` would pick).
    #[arg(long, env = "ARCBENCH_PYTHON")]
    python: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

struct Finding {
    level: Level,
    check: String,
    finding: String,
    fix: Option<String>,
}

fn ok(check: &str, finding: impl Into<String>) -> Finding {
    Finding {
        level: Level::Ok,
        check: check.into(),
        finding: finding.into(),
        fix: None,
    }
}

fn problem(
    level: Level,
    check: &str,
    finding: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        level,
        check: check.into(),
        finding: finding.into(),
        fix: Some(fix.into()),
    }
}

pub fn run(args: DoctorArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("arcbench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(crate::default_data_dir);
    let mut counts = [0usize; 3];
    let mut report = |f: Finding| {
        counts[f.level as usize] += 1;
        let level = match f.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        println!("{level:<4}  {}: {}", f.check, f.finding);
        if let Some(fix) = f.fix {
            println!("      fix: {fix}");
        }
    };
    report(git_cli());
    let repos = if args.repos.is_empty() {
        vec![arcbench_host::config::default_repo().unwrap_or_else(|_| PathBuf::from("."))]
    } else {
        args.repos.clone()
    };
    for r in &repos {
        report(repo(r));
    }
    report(rt.block_on(aider(args.python.as_deref(), &data_dir)));
    report(anthropic_key(&data_dir));
    report(host_key(&data_dir));
    report(rt.block_on(tailscale()));
    report(rt.block_on(port(args.port, &data_dir)));
    report(data_dir_space(&data_dir));
    let [oks, warns, fails] = counts;
    println!("{oks} ok, {warns} warn, {fails} FAIL");
    if fails > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn git_cli() -> Finding {
    match std::process::Command::new("git").arg("--version").output() {
        Ok(out) if out.status.success() => ok("git", String::from_utf8_lossy(&out.stdout).trim()),
        Ok(out) => problem(
            Level::Fail,
            "git",
            format!(
                "`git --version` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            "reinstall git",
        ),
        Err(e) => problem(
            Level::Fail,
            "git",
            format!("cannot run git ({e}); Aider commits with the git CLI"),
            "install git (e.g. `sudo apt install git`, or `xcode-select --install` on macOS)",
        ),
    }
}

/// The same check `serve` makes when it loads a repository, without the write that `serve` also
/// does (it adds Aider's files to `.git/info/exclude`).
fn repo(path: &Path) -> Finding {
    let check = format!("repo {}", path.display());
    let path = match path.canonicalize() {
        Ok(p) => p,
        Err(e) => {
            return problem(
                Level::Fail,
                &check,
                e.to_string(),
                "pass an existing folder with --repo",
            )
        }
    };
    match arcbench_git::repo::open_user_repo(&path) {
        Ok(repo) => {
            let head = repo.head().ok();
            let branch = head
                .as_ref()
                .filter(|h| h.is_branch())
                .and_then(|h| h.shorthand().ok().map(str::to_owned));
            let commit = head
                .and_then(|h| h.target())
                .map(|oid| oid.to_string()[..8].to_owned())
                .unwrap_or_default();
            match branch {
                Some(b) => ok(&check, format!("on {b} at {commit}")),
                None => problem(
                    Level::Warn,
                    &check,
                    format!("HEAD is detached at {commit}; new sessions need a base branch"),
                    format!("git -C {} switch <branch>", path.display()),
                ),
            }
        }
        Err(e) => {
            let fix = match &e {
                GitError::NotARepo(_) => {
                    "run `git init` and commit, or pass the repository's folder with --repo"
                        .to_owned()
                }
                GitError::Bare(_) => format!(
                    "clone it (`git clone {} <folder>`) and serve the clone",
                    path.display()
                ),
                GitError::NoCommits(_) => format!(
                    "make a first commit: git -C {} commit --allow-empty -m init",
                    path.display()
                ),
                _ => "check the repository with `git status`".to_owned(),
            };
            problem(Level::Fail, &check, e.to_string(), fix)
        }
    }
}

async fn aider(named: Option<&Path>, data_dir: &Path) -> Finding {
    let fix = format!(
        "run `arcbench setup-aider --data-dir {}`, or pass --python with a Python that has aider-chat=={PINNED_AIDER}",
        data_dir.display()
    );
    // The same lookup serve uses, so doctor checks the Python serve would actually run.
    let python = match pick_python(named, data_dir) {
        Ok(p) => p,
        Err(e) => return problem(Level::Fail, "aider", e, fix),
    };
    match aider_version(&python).await {
        Ok(v) if v == PINNED_AIDER => ok(
            "aider",
            format!("{} imports aider {v} (pinned)", python.display()),
        ),
        Ok(v) => problem(
            Level::Warn,
            "aider",
            format!(
                "{} imports aider {v}, but ArcBench is tested with {PINNED_AIDER}",
                python.display()
            ),
            fix,
        ),
        Err(e) => problem(Level::Fail, "aider", e.to_string(), fix),
    }
}

fn anthropic_key(data_dir: &Path) -> Finding {
    const CHECK: &str = "ANTHROPIC_API_KEY";
    if let Some(k) = std::env::var("ANTHROPIC_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
    {
        return ok(CHECK, format!("set ({} characters)", k.trim().len()));
    }
    let env_file = data_dir.join("env");
    if let Some(k) = crate::service::env_file::value(&env_file, "ANTHROPIC_API_KEY") {
        return ok(
            CHECK,
            format!(
                "not in this shell, set in {} for the service ({} characters)",
                env_file.display(),
                k.len()
            ),
        );
    }
    problem(
        Level::Fail,
        CHECK,
        "not set: prompts fail without it",
        format!(
            "export ANTHROPIC_API_KEY=... before `arcbench serve` (for the service: put it in {}), or try `arcbench serve --demo`",
            env_file.display()
        ),
    )
}

/// The host's own key: `ARCBENCH_API_KEY`, else `<data>/api-key`, which must be private.
fn host_key(data_dir: &Path) -> Finding {
    use std::os::unix::fs::PermissionsExt;
    const CHECK: &str = "ArcBench API key";
    if let Ok(k) = std::env::var("ARCBENCH_API_KEY") {
        return match arcbench_host::key::check_user_key(k.trim()) {
            Ok(()) => ok(
                CHECK,
                format!("ARCBENCH_API_KEY is set ({} characters)", k.trim().len()),
            ),
            Err(why) => problem(
                Level::Fail,
                CHECK,
                format!("{why}; serve refuses it"),
                "set a random key of 32 hex characters, or unset it to use a generated one",
            ),
        };
    }
    let path = data_dir.join("api-key");
    match std::fs::metadata(&path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                problem(
                    Level::Fail,
                    CHECK,
                    format!(
                        "{} has permissions {mode:04o}: other users can read the key",
                        path.display()
                    ),
                    format!("chmod 600 {}", path.display()),
                )
            } else if meta.len() == 0 {
                problem(
                    Level::Warn,
                    CHECK,
                    format!("{} is empty", path.display()),
                    "delete it; serve generates a new key on its next start",
                )
            } else {
                ok(CHECK, format!("{} ({mode:04o})", path.display()))
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => problem(
            Level::Warn,
            CHECK,
            format!("no key yet at {}", path.display()),
            "start `arcbench serve` once (or `arcbench service install`): it generates one",
        ),
        Err(e) => problem(
            Level::Fail,
            CHECK,
            format!("{}: {e}", path.display()),
            "check the data dir's permissions",
        ),
    }
}

async fn tailscale() -> Finding {
    use arcbench_mesh::{join_hint, MeshError, Tailscale};
    use shared_protocol::TailscaleState;
    const CHECK: &str = "tailscale";
    let socket = std::env::var_os("ARCBENCH_TAILSCALE_SOCKET")
        .filter(|s| !s.is_empty())
        .map_or_else(
            || PathBuf::from(arcbench_mesh::DEFAULT_SOCKET),
            PathBuf::from,
        );
    // Not having Tailscale is a warning only: the host still works on loopback. The words are
    // the host's own (`join_hint`), so doctor, /status and the banner say the same.
    let hint = |state| join_hint(state).unwrap_or_default().to_owned();
    let node = match Tailscale::new(&socket).node().await {
        Ok(node) => node,
        Err(MeshError::Absent { reason, .. }) if reason.contains("ermission denied") => {
            return problem(
                Level::Warn,
                CHECK,
                format!("not allowed to query {}", socket.display()),
                "run `sudo tailscale set --operator=$USER`",
            )
        }
        Err(e @ MeshError::Absent { .. }) => {
            return problem(
                Level::Warn,
                CHECK,
                e.to_string(),
                hint(TailscaleState::Absent),
            )
        }
        Err(e) => {
            return problem(
                Level::Warn,
                CHECK,
                e.to_string(),
                "check tailscaled (`tailscale status`)",
            )
        }
    };
    let ips: Vec<String> = node.ips.iter().map(ToString::to_string).collect();
    let finding = format!(
        "{:?}, {}, IPs {}",
        node.state,
        node.dns_name.as_deref().unwrap_or("no MagicDNS name"),
        if ips.is_empty() {
            "none".into()
        } else {
            ips.join(", ")
        }
    );
    if node.state != TailscaleState::Running {
        return problem(Level::Warn, CHECK, finding, hint(node.state));
    }
    if node.cert_domains.is_empty() {
        return problem(
            Level::Warn,
            CHECK,
            format!("{finding}; no HTTPS certificates for this tailnet"),
            "enable HTTPS certificates (admin console → DNS → HTTPS Certificates): the phone needs HTTPS for the microphone and offline start",
        );
    }
    ok(CHECK, finding)
}

/// The key a client of this data dir would use, to check the proof of a host already on the port.
fn read_host_key(data_dir: &Path) -> Option<String> {
    std::env::var("ARCBENCH_API_KEY")
        .ok()
        .or_else(|| std::fs::read_to_string(data_dir.join("api-key")).ok())
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
}

async fn port(port: u16, data_dir: &Path) -> Finding {
    let check = format!("port {port}");
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let err = match TcpListener::bind(addr) {
        Ok(_) => return ok(&check, format!("{addr} is free")),
        Err(e) => e,
    };
    let fix = format!("stop what listens on {addr}, or pick another port with --port");
    if err.kind() != std::io::ErrorKind::AddrInUse {
        return problem(
            Level::Fail,
            &check,
            format!("cannot bind {addr}: {err}"),
            fix,
        );
    }
    let Ok(client) = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
    else {
        return problem(Level::Fail, &check, format!("{addr} is in use"), fix);
    };
    // The key is never sent to whatever listens there: the host proves it holds the same key by
    // answering a random challenge (HMAC), so a squatter learns nothing.
    let mut nonce = [0u8; 16];
    let _ = getrandom::fill(&mut nonce);
    let challenge: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let answer = client
        .get(format!("http://{addr}/status"))
        .header(arcbench_server::CHALLENGE_HEADER, &challenge)
        .send()
        .await;
    let Ok(res) = answer else {
        return problem(
            Level::Fail,
            &check,
            format!("{addr} is in use by another program"),
            fix,
        );
    };
    let proof = res
        .headers()
        .get(arcbench_server::PROOF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = res.json::<serde_json::Value>().await.unwrap_or_default();
    let ours = read_host_key(data_dir)
        .zip(proof.as_deref())
        .is_some_and(|(key, p)| arcbench_server::proof(&key, &challenge) == p);
    if ours {
        ok(
            &check,
            "in use by a running arcbench host of this data dir (it proved it holds the key)",
        )
    } else if proof.is_some() || body["code"] == "unauthorized" {
        problem(
            Level::Warn,
            &check,
            "in use by an arcbench host with another key (another data dir or ARCBENCH_API_KEY?)",
            format!("pass the --data-dir that host uses, or {fix}"),
        )
    } else {
        problem(
            Level::Fail,
            &check,
            format!("{addr} is in use by another program"),
            fix,
        )
    }
}

/// The data dir, or its nearest existing parent (serve creates the rest).
fn existing_ancestor(dir: &Path) -> Option<&Path> {
    dir.ancestors().find(|p| p.is_dir())
}

fn data_dir_space(data_dir: &Path) -> Finding {
    let check = format!("data dir {}", data_dir.display());
    let Some(existing) = existing_ancestor(data_dir) else {
        return problem(
            Level::Fail,
            &check,
            "no existing parent folder",
            "pass --data-dir",
        );
    };
    // Writable: create and remove a probe file (access(2) is wrong for root and ACLs).
    let probe = existing.join(format!(".arcbench-doctor-{}", std::process::id()));
    if let Err(e) = std::fs::write(&probe, b"") {
        return problem(
            Level::Fail,
            &check,
            format!("{} is not writable: {e}", existing.display()),
            "fix its permissions or pass another --data-dir",
        );
    }
    let _ = std::fs::remove_file(&probe);
    let prefix = if existing == data_dir {
        "writable"
    } else {
        "not created yet (serve creates it), parent writable"
    };
    let free = match rustix::fs::statvfs(existing) {
        Ok(s) => s.f_bavail * s.f_frsize,
        Err(e) => {
            return problem(
                Level::Warn,
                &check,
                format!("{prefix}; free space unknown ({e})"),
                "check with `df -h`",
            )
        }
    };
    let finding = format!(
        "{prefix}, {:.1} GiB free",
        free as f64 / (1u64 << 30) as f64
    );
    if free < NO_DISK {
        problem(
            Level::Fail,
            &check,
            finding,
            "free some disk space: session worktrees and the Aider venv need room",
        )
    } else if free < LOW_DISK {
        problem(
            Level::Warn,
            &check,
            finding,
            "free some disk space: each session has a worktree of the repository",
        )
    } else {
        ok(&check, finding)
    }
}
