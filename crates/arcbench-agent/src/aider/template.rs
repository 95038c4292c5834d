//! Instant sessions: one bridge process per host imports Aider and litellm once (2-3.5 s) and
//! forks a child per session, which shares that memory copy-on-write and is ready in tens of
//! milliseconds. The Python side (its safety rules: no thread, no open socket, a process group
//! and environment of its own per child) is `Template` in `bridge/arcbench_bridge.py`.
//!
//! The child cannot inherit pipes from the host (the template is its parent), so each fork gets
//! a Unix socket the host listens on, in a folder only this user can enter; the child connects
//! twice (its protocol channel, its stderr) and names each connection with its pid.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixListener;
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::process::ProcessGroup;
use super::{bridge_command, AiderConfig, Launched, READY_TIMEOUT};
use crate::{AgentError, Result};

/// A fork is a few milliseconds; its child's two connections follow at once.
const FORK_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum TemplateEvent {
    TemplateReady { pid: u32 },
    Fatal { reason: String },
    Forked { pid: u32 },
    ForkFailed { reason: String },
}

#[derive(Deserialize)]
struct Hello {
    pid: u32,
    stream: String,
}

/// The template for one agent configuration: started on first use (or by [`Template::warm`]),
/// restarted when it died. Forks are one at a time.
pub struct Template {
    cfg: AiderConfig,
    dir: PathBuf,
    state: tokio::sync::Mutex<Option<Running>>,
    forks: AtomicU64,
}

struct Running {
    child: Child,
    _group: ProcessGroup,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    pid: u32,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("model", &self.cfg.model)
            .field("dir", &self.dir)
            .finish()
    }
}

impl Template {
    /// A template for `cfg`; nothing starts yet. Its sockets live in a new private folder.
    pub fn new(cfg: AiderConfig) -> Result<Self> {
        let dir = private_dir()?;
        Ok(Template {
            cfg,
            dir,
            state: tokio::sync::Mutex::new(None),
            forks: AtomicU64::new(0),
        })
    }

    pub fn config(&self) -> &AiderConfig {
        &self.cfg
    }

    /// Starts the template now (if it is not running), so the first session is instant too.
    pub async fn warm(&self) -> Result<u32> {
        let mut state = self.state.lock().await;
        Ok(self.running(&mut state).await?.pid)
    }

    /// The template's process id, if it runs.
    pub async fn pid(&self) -> Option<u32> {
        let mut state = self.state.lock().await;
        alive(&mut state)
            .then(|| state.as_ref().map(|r| r.pid))
            .flatten()
    }

    async fn running<'a>(&self, state: &'a mut Option<Running>) -> Result<&'a mut Running> {
        if !alive(state) {
            *state = Some(self.spawn().await?);
        }
        Ok(state.as_mut().expect("just started"))
    }

    async fn spawn(&self) -> Result<Running> {
        std::fs::create_dir_all(&self.cfg.home)?;
        let mut cmd = bridge_command(&self.cfg);
        cmd.arg("--template").arg("--model").arg(&self.cfg.model);
        if let Some(w) = &self.cfg.weak_model {
            cmd.arg("--weak-model").arg(w);
        }
        cmd.current_dir(&self.dir);
        let mut child = cmd.spawn().map_err(|e| {
            AgentError::Start(format!("cannot run {}: {e}", self.cfg.python.display()))
        })?;
        let group = ProcessGroup::new(child.id().unwrap_or(0));
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let stderr = child.stderr.take().expect("piped");
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "aider_template", "{line}");
            }
        });
        let pid = match next_event(&mut stdout, READY_TIMEOUT).await? {
            TemplateEvent::TemplateReady { pid } => pid,
            TemplateEvent::Fatal { reason } => {
                return Err(AgentError::Start(format!(
                    "the agent template failed: {reason}"
                )))
            }
            _ => {
                return Err(AgentError::Start(
                    "the agent template spoke out of turn".into(),
                ))
            }
        };
        tracing::info!(pid, "agent template ready");
        Ok(Running {
            child,
            _group: group,
            stdin,
            stdout,
            pid,
        })
    }

    /// Forks a bridge with `args` (as after the script: `--root ...`), connected to this host.
    pub(crate) async fn fork(&self, args: &[OsString]) -> Result<Launched> {
        let mut state = self.state.lock().await;
        let result = self.fork_locked(&mut state, args).await;
        if result.is_err() {
            // Whatever went wrong, the next fork starts from a fresh template.
            *state = None;
        }
        result
    }

    async fn fork_locked(
        &self,
        state: &mut Option<Running>,
        args: &[OsString],
    ) -> Result<Launched> {
        let t = self.running(state).await?;
        let n = self.forks.fetch_add(1, Ordering::Relaxed);
        let socket = self.dir.join(format!("fork-{n}.sock"));
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)?;
        let _cleanup = RemoveOnDrop(socket.clone());
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let request = serde_json::json!({"op": "fork", "socket": socket, "args": args});
        let line = format!("{request}\n");
        t.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| gone(format!("the agent template's input closed: {e}")))?;
        t.stdin
            .flush()
            .await
            .map_err(|e| gone(format!("the agent template's input closed: {e}")))?;
        let pid = match next_event(&mut t.stdout, FORK_TIMEOUT).await? {
            TemplateEvent::Forked { pid } => pid,
            TemplateEvent::ForkFailed { reason } => {
                return Err(AgentError::Start(format!(
                    "the agent template could not fork: {reason}"
                )))
            }
            _ => return Err(gone("the agent template spoke out of turn".into())),
        };
        let group = ProcessGroup::new(pid);
        let mut protocol = None;
        let mut stderr = None;
        for _ in 0..2 {
            let (conn, _) = tokio::time::timeout(FORK_TIMEOUT, listener.accept())
                .await
                .map_err(|_| gone(format!("the forked agent {pid} did not connect")))??;
            let (read, write) = conn.into_split();
            let mut read = BufReader::new(read);
            let mut hello = String::new();
            tokio::time::timeout(FORK_TIMEOUT, read.read_line(&mut hello))
                .await
                .map_err(|_| gone(format!("the forked agent {pid} said nothing")))??;
            let hello: Hello = serde_json::from_str(hello.trim()).map_err(|e| {
                gone(format!(
                    "the forked agent's first line is not its hello: {e}"
                ))
            })?;
            if hello.pid != pid {
                return Err(gone(format!(
                    "a connection from process {} instead of the forked {pid}",
                    hello.pid
                )));
            }
            match hello.stream.as_str() {
                "protocol" => protocol = Some((read, write)),
                "stderr" => stderr = Some(read),
                other => return Err(gone(format!("unknown stream {other:?}"))),
            }
        }
        let (Some((read, write)), Some(stderr)) = (protocol, stderr) else {
            return Err(gone("the forked agent did not open both streams".into()));
        };
        Ok(Launched {
            stdin: Box::new(write),
            stdout: Box::new(read),
            stderr: Box::new(stderr),
            group,
            exit: Box::pin(async move { format!("forked agent {pid}: its connection closed") }),
        })
    }
}

impl Drop for Template {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn alive(state: &mut Option<Running>) -> bool {
    match state {
        Some(r) => matches!(r.child.try_wait(), Ok(None)),
        None => false,
    }
}

async fn next_event(
    stdout: &mut Lines<BufReader<ChildStdout>>,
    timeout: Duration,
) -> Result<TemplateEvent> {
    loop {
        let line = tokio::time::timeout(timeout, stdout.next_line())
            .await
            .map_err(|_| {
                gone(format!(
                    "the agent template did not answer within {timeout:?}"
                ))
            })??
            .ok_or_else(|| gone("the agent template exited".into()))?;
        match serde_json::from_str::<TemplateEvent>(&line) {
            Ok(e) => return Ok(e),
            Err(e) => tracing::warn!(target: "aider_template", "unreadable line ({e}): {line}"),
        }
    }
}

fn gone(reason: String) -> AgentError {
    AgentError::Start(reason)
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A new folder only this user can enter, for the fork sockets: short enough for a socket
/// path (108 bytes), wherever the data dir is.
fn private_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for attempt in 0..16u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!(
            "arcbench-agents-{}-{:08x}",
            std::process::id(),
            nanos ^ attempt
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AgentError::Start(format!(
        "cannot make a private folder in {}",
        Path::new(&base).display()
    )))
}
