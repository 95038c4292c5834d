//! Aider, driven through a small Python bridge (`bridge/arcbench_bridge.py`) that keeps one
//! Coder alive per session and speaks JSON lines.

mod process;
pub mod protocol;
mod template;

use std::collections::HashMap;
use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot};

use crate::{
    AgentError, AgentEvent, Executor, Outcome, PromptEvents, PromptRequest, Result, Transcript,
};
use process::ProcessGroup;
use protocol::{BridgeEvent, Command as BridgeCommand, PROTOCOL};
pub use template::Template;

/// The bridge, shipped inside the host binary and written next to the data it serves.
pub const BRIDGE_SOURCE: &str = include_str!("../../bridge/arcbench_bridge.py");

/// Starting Aider (importing litellm) takes 2-3.5 s on an idle machine; a loaded CI box, more.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// Restoring a chat is a few assignments in the bridge (after its warm-up).
const RESTORE_TIMEOUT: Duration = Duration::from_secs(60);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Lines of the bridge's stderr kept to explain a crash.
const STDERR_TAIL: usize = 30;

#[derive(Debug, Clone)]
pub struct AiderConfig {
    /// A Python with `aider-chat` installed (the managed venv's, or the user's choice).
    pub python: PathBuf,
    /// Where [`install_bridge`] wrote the bridge.
    pub bridge: PathBuf,
    pub model: String,
    pub weak_model: Option<String>,
    /// Bare origin of the Messages API (`http://127.0.0.1:PORT`, no `/v1`).
    pub api_base: String,
    pub api_key: String,
    /// Aider's HOME (it keeps small caches there); never the user's.
    pub home: PathBuf,
    /// Seconds Aider keeps retrying 429/500/529; `None` keeps Aider's 60.
    pub retry_timeout: Option<f64>,
    /// Repo-map size; `None` lets Aider choose, 0 turns it off.
    pub map_tokens: Option<u32>,
}

/// Writes the bridge into `dir` (only when it changed) and returns its path.
pub fn install_bridge(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("arcbench_bridge.py");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(BRIDGE_SOURCE) {
        let tmp = dir.join(".arcbench_bridge.py.tmp");
        std::fs::write(&tmp, BRIDGE_SOURCE)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(path)
}

type Routes = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<AgentEvent>>>>;

/// Usage that arrives after its prompt ended (Aider's background history summary).
pub type LateUsage = mpsc::UnboundedSender<(String, AgentEvent)>;

type Waiter<T> = Arc<Mutex<Option<oneshot::Sender<T>>>>;

pub struct AiderExecutor {
    commands: mpsc::UnboundedSender<String>,
    routes: Routes,
    /// The last prompt sent: a usage the bridge reports without a prompt (a background request
    /// that outlived its prompt) belongs to it.
    last_prompt: Arc<Mutex<Option<String>>>,
    restored: Waiter<()>,
    /// False with a litellm that gives no usage: costs and budgets would not count.
    pub usage_capture: bool,
    alive: Arc<AtomicBool>,
    group: ProcessGroup,
    exited: Option<oneshot::Receiver<()>>,
    pub aider_version: String,
}

impl AiderExecutor {
    /// Starts the bridge for `worktree` as a process of its own and waits until Aider is ready.
    pub async fn start(cfg: &AiderConfig, worktree: &Path, late: LateUsage) -> Result<Self> {
        Self::start_via(cfg, worktree, late, None).await
    }

    /// Starts the bridge for `worktree`, forked from `template` when there is one (a warm
    /// session in tens of milliseconds; see [`Template`]), else as a process of its own. A
    /// template that cannot fork is said in the log and the bridge starts the slow way.
    pub async fn start_via(
        cfg: &AiderConfig,
        worktree: &Path,
        late: LateUsage,
        template: Option<&Template>,
    ) -> Result<Self> {
        std::fs::create_dir_all(&cfg.home)?;
        let launched = match template {
            Some(t) => match t.fork(&bridge_args(cfg, worktree)).await {
                Ok(l) => l,
                Err(err) => {
                    tracing::warn!(%err, "the agent template could not fork; starting Aider afresh");
                    launch(cfg, worktree)?
                }
            },
            None => launch(cfg, worktree)?,
        };
        Self::attach(launched, late).await
    }

    async fn attach(launched: Launched, late: LateUsage) -> Result<Self> {
        let Launched {
            mut stdin,
            stdout,
            stderr,
            group,
            exit,
        } = launched;
        let (commands, mut queue) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(line) = queue.recv().await {
                if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
                    break;
                }
            }
        });

        let tail = Arc::new(Mutex::new(std::collections::VecDeque::with_capacity(
            STDERR_TAIL,
        )));
        let tail_w = tail.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "aider", "{line}");
                let mut t = tail_w.lock().unwrap_or_else(|p| p.into_inner());
                if t.len() == STDERR_TAIL {
                    t.pop_front();
                }
                t.push_back(line);
            }
        });

        let routes: Routes = Arc::default();
        let alive = Arc::new(AtomicBool::new(true));
        let last_prompt: Arc<Mutex<Option<String>>> = Arc::default();
        let restored: Waiter<()> = Arc::default();
        type Ready = std::result::Result<(String, bool), String>;
        let (ready_tx, ready_rx) = oneshot::channel::<Ready>();
        let (exited_tx, exited_rx) = oneshot::channel();
        let (r, a) = (routes.clone(), alive.clone());
        let (last, restored_w) = (last_prompt.clone(), restored.clone());
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let event = match serde_json::from_str::<BridgeEvent>(&line) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(target: "aider", "unreadable bridge line ({e}): {line}");
                        continue;
                    }
                };
                match event {
                    BridgeEvent::Ready {
                        protocol,
                        aider_version,
                        usage_capture,
                        ..
                    } => {
                        let answer = if protocol == PROTOCOL {
                            Ok((aider_version, usage_capture))
                        } else {
                            Err(format!(
                                "bridge speaks protocol {protocol}, the host {PROTOCOL}"
                            ))
                        };
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(answer);
                        }
                    }
                    BridgeEvent::Fatal { reason } => {
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(Err(reason));
                        }
                    }
                    BridgeEvent::Restored { .. } => {
                        if let Some(tx) = lock(&restored_w).take() {
                            let _ = tx.send(());
                        }
                    }
                    other => route(&r, &late, &last, other),
                }
            }
            a.store(false, Ordering::SeqCst);
            let status = exit.await;
            let last = tail
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(tx) = ready.take() {
                let _ = tx.send(Err(format!(
                    "the bridge exited before it was ready ({status}):\n{last}"
                )));
            }
            let orphans: Vec<_> = r
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .drain()
                .collect();
            for (_, tx) in orphans {
                let _ = tx.send(AgentEvent::Finished(Outcome::Failed {
                    reason: format!(
                        "Aider exited unexpectedly ({status}); the next prompt starts a new Aider that continues this session's chat"
                    ),
                    status: None,
                }));
            }
            let _ = exited_tx.send(());
        });

        let (version, usage_capture) = match tokio::time::timeout(READY_TIMEOUT, ready_rx).await {
            Ok(Ok(Ok(v))) => v,
            Ok(Ok(Err(reason))) => return Err(AgentError::Start(reason)),
            Ok(Err(_)) => {
                return Err(AgentError::Start(
                    "the bridge vanished while starting".into(),
                ))
            }
            Err(_) => {
                return Err(AgentError::Start(format!(
                    "Aider was not ready within {READY_TIMEOUT:?}"
                )))
            }
        };
        Ok(AiderExecutor {
            commands,
            routes,
            last_prompt,
            restored,
            usage_capture,
            alive,
            group,
            exited: Some(exited_rx),
            aider_version: version,
        })
    }

    /// The bridge's process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.group.id()
    }

    fn send(&self, cmd: &BridgeCommand) -> Result<()> {
        let mut line = serde_json::to_string(cmd).expect("commands serialize");
        line.push('\n');
        self.commands
            .send(line)
            .map_err(|_| AgentError::Gone("the bridge's input is closed".into()))
    }
}

/// A started bridge: its channels, its process group, and how it ended (awaited once its
/// output closed).
pub(crate) struct Launched {
    pub stdin: Box<dyn AsyncWrite + Send + Unpin>,
    pub stdout: Box<dyn AsyncRead + Send + Unpin>,
    pub stderr: Box<dyn AsyncRead + Send + Unpin>,
    pub group: ProcessGroup,
    pub exit: Pin<Box<dyn Future<Output = String> + Send>>,
}

/// The bridge's arguments after the interpreter and the script (`--model` included).
fn bridge_args(cfg: &AiderConfig, worktree: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "--root".into(),
        worktree.into(),
        "--model".into(),
        (&cfg.model).into(),
    ];
    if let Some(w) = &cfg.weak_model {
        args.extend(["--weak-model".into(), w.into()]);
    }
    if let Some(m) = cfg.map_tokens {
        args.extend(["--map-tokens".into(), m.to_string().into()]);
    }
    args
}

/// The one environment a bridge (or the template) gets: the host's configuration is the whole
/// truth for Aider; nothing inherited can redirect the API base or key, and nothing from the
/// repository is read (the bridge loads no .env).
fn bridge_command(cfg: &AiderConfig) -> Command {
    let mut cmd = Command::new(&cfg.python);
    cmd.arg(&cfg.bridge)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", &cfg.home)
        .env("LANG", "C.UTF-8")
        .env("ANTHROPIC_API_KEY", &cfg.api_key)
        .env("ANTHROPIC_API_BASE", &cfg.api_base)
        .env("ANTHROPIC_BASE_URL", &cfg.api_base)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some(t) = cfg.retry_timeout {
        cmd.env("ARCBENCH_RETRY_TIMEOUT", t.to_string());
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    cmd
}

/// Starts a bridge process of its own (2-3.5 s until Aider is imported).
fn launch(cfg: &AiderConfig, worktree: &Path) -> Result<Launched> {
    let mut cmd = bridge_command(cfg);
    cmd.args(bridge_args(cfg, worktree)).current_dir(worktree);
    let mut child = cmd
        .spawn()
        .map_err(|e| AgentError::Start(format!("cannot run {}: {e}", cfg.python.display())))?;
    let group = ProcessGroup::new(child.id().unwrap_or(0));
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    Ok(Launched {
        stdin: Box::new(stdin),
        stdout: Box::new(stdout),
        stderr: Box::new(stderr),
        group,
        exit: Box::pin(async move {
            child
                .wait()
                .await
                .map(|s| s.to_string())
                .unwrap_or_else(|e| e.to_string())
        }),
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn route(routes: &Routes, late: &LateUsage, last: &Mutex<Option<String>>, event: BridgeEvent) {
    let Some((id, event)) = event.into_prompt_event() else {
        return;
    };
    let id = match (id, &event) {
        (None, AgentEvent::Usage(_)) => lock(last).clone(),
        (id, _) => id,
    };
    let Some(id) = id else {
        match &event {
            AgentEvent::Log { line, .. } => tracing::info!(target: "aider", "{line}"),
            AgentEvent::Refused {
                action,
                path,
                reason,
            } => {
                tracing::warn!(target: "aider", %action, %path, "refused: {reason}")
            }
            _ => {}
        }
        return;
    };
    let mut routes = routes.lock().unwrap_or_else(|p| p.into_inner());
    let finished = matches!(event, AgentEvent::Finished(_));
    match routes.get(&id) {
        Some(tx) => {
            let _ = tx.send(event);
        }
        None if matches!(event, AgentEvent::Usage(_)) => {
            let _ = late.send((id.clone(), event));
        }
        None => {}
    }
    if finished {
        routes.remove(&id);
    }
}

impl Executor for AiderExecutor {
    async fn prompt(&mut self, req: PromptRequest) -> Result<PromptEvents> {
        if !self.is_alive() {
            return Err(AgentError::Gone("Aider is not running".into()));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(req.id.clone(), tx);
        *lock(&self.last_prompt) = Some(req.id.clone());
        if let Err(e) = self.send(&BridgeCommand::Prompt {
            id: req.id.clone(),
            text: req.text,
            files: req.files,
        }) {
            self.routes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&req.id);
            return Err(e);
        }
        Ok(rx)
    }

    async fn restore(&mut self, transcript: &Transcript) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        *lock(&self.restored) = Some(tx);
        self.send(&BridgeCommand::Restore {
            messages: transcript.messages.clone(),
            files: transcript.files.clone(),
        })?;
        match tokio::time::timeout(RESTORE_TIMEOUT, rx).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(AgentError::Gone(
                "the bridge exited while restoring the chat".into(),
            )),
            Err(_) => Err(AgentError::Gone(format!(
                "the bridge did not restore the chat within {RESTORE_TIMEOUT:?}"
            ))),
        }
    }

    fn cancel(&self, id: &str) {
        if self
            .send(&BridgeCommand::Cancel {
                id: Some(id.to_owned()),
            })
            .is_err()
        {
            self.group.interrupt();
        }
    }

    fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    async fn shutdown(mut self) {
        let _ = self.send(&BridgeCommand::Shutdown);
        if let Some(exited) = self.exited.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, exited).await.is_err() {
                tracing::warn!("Aider did not exit in time; killing it");
            }
        }
        // Drop kills whatever is left of the process group.
    }
}
