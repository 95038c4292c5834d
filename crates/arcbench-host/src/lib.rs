//! One ArcBench host for every shell. `arcbench serve`, the desktop app and any later shell turn
//! what they were told into a [`Settings`], [`resolve`] it into a [`HostConfig`] (every rule and
//! default applied once, here) and [`Host::start`] it. The host owns the engine, the runner, the
//! API key and the agent's set-up; transports (axum routes, Tauri commands) are thin adapters
//! over its operations and know nothing of each other. No axum, no Tauri here.

pub mod agent;
pub mod api;
mod awake;
pub mod config;
mod demo;
pub mod env_file;
mod feed;
pub mod key;
pub mod lock;
mod mesh;
pub mod paths;
pub mod provision;
mod push;
pub mod transcribe;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use arcbench_engine::runner::{AgentSetup, Runner, RunnerConfig};
use arcbench_engine::{Engine, EngineConfig, EngineError};
use shared_protocol::{AgentState, AgentStatus, Budget, BudgetInfo, Event, Status, UsageResponse};

pub use arcbench_engine::Caller;
pub use config::{resolve, HostConfig, Secret, Settings};
pub use feed::{refused_close, EventFeed, FeedEnd, CLOSE_BAD_SINCE, CLOSE_RESUME, CLOSE_RESYNC};
pub use key::KeySource;
pub use mesh::PeerRefusal;
/// The wire types, for [`api_operations!`]'s paths.
pub use shared_protocol as protocol;

/// Events one `/events` answer carries at most; a client pages on with `since`.
pub const EVENTS_PAGE: u32 = 10_000;

/// Why a host could not start. Each says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("{0}")]
    Config(String),
    #[error("data dir {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("API key: {0}")]
    Key(std::io::Error),
    #[error("demo mode: {0}")]
    Demo(std::io::Error),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    /// An address could not be bound (the port is taken, the address is gone).
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

pub struct Host {
    config: HostConfig,
    engine: Arc<Engine>,
    runner: Arc<Runner>,
    key: String,
    key_source: KeySource,
    /// Changes while the agent is provisioned in the background.
    agent: Arc<RwLock<AgentStatus>>,
    ui_dir: Option<PathBuf>,
    /// The demo's local stand-in for the Claude API, alive as long as the host.
    demo: Option<fake_claude::FakeClaude>,
    /// Held for the host's whole life: one host per data dir.
    lock: lock::DataDirLock,
    mesh: mesh::MeshState,
    /// Asks the OS not to sleep while prompts run (released when idle, and by the kernel on a
    /// crash: the lock is a file descriptor).
    keeper: Arc<arcbench_awake::Keeper>,
    follower: tokio::task::JoinHandle<()>,
    transcriber: Arc<transcribe::Transcriber>,
    /// Web Push to paired browsers and native push to phones, and the task that turns events
    /// into pushes.
    push: Arc<arcbench_push::Pushers>,
    pusher: tokio::task::JoinHandle<()>,
}

impl Drop for Host {
    fn drop(&mut self) {
        self.follower.abort();
        self.pusher.abort();
    }
}

/// The Anthropic key, from the first place that has one: the shell (the desktop app's keychain),
/// `ANTHROPIC_API_KEY`, then `<data dir>/env` (what a service reads at boot, when no keychain is
/// unlocked yet).
fn anthropic_key(config: &HostConfig) -> Option<String> {
    config
        .anthropic_api_key
        .as_ref()
        .map(|s| s.0.clone())
        .or_else(|| std::env::var(env_file::ANTHROPIC_KEY).ok())
        .filter(|k| !k.trim().is_empty())
        .or_else(|| env_file::value(&env_file::path(&config.data_dir), env_file::ANTHROPIC_KEY))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("host operation panicked")
}

impl Host {
    /// Opens the data dir's engine (sweeping orphans), loads or makes the key, prepares the
    /// agent (or says why it cannot run) and starts the runner. Nothing listens yet: that is the
    /// transport's part. A data dir another host holds is refused before anything is touched.
    pub async fn start(config: HostConfig) -> Result<Host, HostError> {
        let lock = lock::DataDirLock::acquire(&config.data_dir)?;
        let engine_config = EngineConfig {
            data_dir: config.data_dir.clone(),
            repos: config.repos.clone(),
            budget: config.budget,
            pricing: config.pricing.clone(),
            event_buffer: config.event_buffer,
        };
        let engine = Arc::new(blocking(move || Engine::open(engine_config)).await?);
        let (key, key_source) = key::load_or_create(&config.data_dir).map_err(HostError::Key)?;
        let demo = if config.demo {
            let fake = demo::start().await.map_err(HostError::Demo)?;
            tracing::warn!(
                "DEMO MODE: answers are scripted by a local stand-in; no Claude API call is made"
            );
            Some(fake)
        } else {
            None
        };
        let choice = agent::AgentChoice {
            python: config.python.clone(),
            model: config.model.clone(),
            weak_model: Some(config.weak_model.clone()),
            api_base: match &demo {
                Some(f) => f.base_url(),
                None => std::env::var("ANTHROPIC_BASE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| config::DEFAULT_API_BASE.to_owned()),
            },
            api_key: if demo.is_some() {
                Some("demo-mode".into())
            } else {
                anthropic_key(&config)
            },
        };
        // A Python named by the user is used as it is; the managed venv is made or repaired by
        // the host itself, in the background, while prompts wait in their queues.
        let dir = config.data_dir.clone();
        let (setup, agent, needs_install) = match config.python.clone() {
            Some(python) => {
                let (setup, status) = agent::prepare(&choice, python, &dir).await;
                (setup, status, false)
            }
            None => match agent::pick_python(None, &dir) {
                Ok(python) => {
                    let (setup, status) = agent::prepare(&choice, python, &dir).await;
                    // No version means Aider would not even import: a venv broken half-way.
                    let broken = status.version.is_none();
                    (setup, status, broken)
                }
                Err(_) => (
                    AgentSetup::Unavailable(String::new()),
                    agent::status(AgentState::Failed, None, None),
                    true,
                ),
            },
        };
        let (setup, agent) = if needs_install {
            let venv = provision::ManagedRuntime::aider(&dir).venv;
            let what = format!("installing Aider into {}", venv.display());
            (
                AgentSetup::Installing(what.clone()),
                agent::status(AgentState::Installing, None, Some(what)),
            )
        } else {
            (setup, agent)
        };
        if let AgentSetup::Unavailable(reason) = &setup {
            tracing::warn!(%reason, "the agent is not available; review works, prompts will fail until fixed");
        }
        let runner = Runner::start(
            engine.clone(),
            RunnerConfig {
                agent: setup,
                idle_timeout: config.idle_timeout,
                max_agents: config.max_agents,
                instant_sessions: config.instant_sessions,
            },
        )
        .await?;
        let agent = Arc::new(RwLock::new(agent));
        if needs_install {
            announce(&engine, &agent, read(&agent));
            tokio::spawn(install_agent(
                choice,
                dir,
                engine.clone(),
                runner.clone(),
                agent.clone(),
            ));
        }
        let keeper = Arc::new(arcbench_awake::Keeper::new(
            arcbench_awake::Bus::from_env(),
            config.stay_awake,
        ));
        let follower = awake::follow(&engine, keeper.clone());
        let push = push::pushers(&config.data_dir, &config.push)?;
        let pusher = push::follow(&engine, push.clone());
        let transcriber = transcribe::start(&config, &engine);
        let ui_dir = paths::find_ui_dir(config.ui_dir.as_deref());
        if ui_dir.is_none() {
            tracing::warn!(
                "no built web UI found; /app/ will say so (build src-ui, or pass --ui-dir)"
            );
        }
        Ok(Host {
            engine,
            runner,
            key,
            key_source,
            agent,
            ui_dir,
            demo,
            lock,
            keeper,
            follower,
            transcriber,
            push,
            pusher,
            mesh: mesh::MeshState::new(
                config
                    .tailscale_socket
                    .as_deref()
                    .map(arcbench_mesh::Tailscale::new),
            ),
            config,
        })
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn runner(&self) -> &Arc<Runner> {
        &self.runner
    }

    pub fn api_key(&self) -> &str {
        &self.key
    }

    /// Where the key came from (a generated one is shown once, so the user can pair).
    pub fn key_source(&self) -> KeySource {
        self.key_source
    }

    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }

    pub fn ui_dir(&self) -> Option<&std::path::Path> {
        self.ui_dir.as_deref()
    }

    /// Runs one engine operation on the blocking pool: git and SQLite block.
    pub async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Engine) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let engine = self.engine.clone();
        blocking(move || op(&engine)).await
    }

    pub async fn status(&self) -> Result<Status, EngineError> {
        let sessions = self.run(|e| e.sessions()).await?;
        Ok(Status {
            name: "arcbench".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            demo: self.is_demo(),
            repos: self.engine.repos().iter().map(|r| r.name.clone()).collect(),
            agent: read(&self.agent),
            sessions_active: sessions.len() as u32,
            mesh: self.mesh_status(),
            transcriber: self.transcriber.status(),
        })
    }

    pub async fn usage(&self) -> Result<UsageResponse, EngineError> {
        self.run(|e| e.usage_report()).await
    }

    pub async fn budget(&self) -> Result<BudgetInfo, EngineError> {
        Ok(self.usage().await?.budget)
    }

    /// Changes the limits; prompts held by the old ones run if the new ones allow.
    pub async fn set_budget(&self, budget: Budget) -> Result<BudgetInfo, EngineError> {
        self.run(move |e| e.set_budget(budget)).await?;
        self.runner.kick_all();
        self.budget().await
    }

    /// Persisted events with seq > `since`, at most [`EVENTS_PAGE`]; a `since` from the future
    /// is refused, one from before the compacted part answers `resync`.
    pub async fn events(&self, since: u64) -> Result<Vec<Event>, EngineError> {
        self.run(move |e| {
            e.check_since(since)?;
            e.events_since(since, EVENTS_PAGE)
        })
        .await
    }

    /// Every event after `since`, then live ones, each once: subscribed before the log is read,
    /// so nothing falls between. Refused like [`Host::events`].
    pub async fn feed(&self, since: u64) -> Result<EventFeed, EngineError> {
        let feed = EventFeed::new(self.engine.clone(), since);
        self.run(move |e| e.check_since(since)).await?;
        Ok(feed)
    }

    /// Interrupts running prompts (recorded `interrupted`) and stops the agents.
    pub async fn shutdown(&self) {
        self.runner.shutdown().await;
        self.keeper.set_busy(false);
        self.keeper.settled().await;
    }

    /// Transcribes a recording (16 kHz mono WAV), with the session's vocabulary when named.
    pub async fn transcribe(
        &self,
        session: Option<String>,
        wav: &[u8],
    ) -> Result<shared_protocol::Transcript, transcribe::VoiceError> {
        let prompt = match session {
            Some(id) => {
                let path = self
                    .run(move |e| e.worktree_path(&id))
                    .await
                    .map_err(|e| transcribe::VoiceError::BadAudio(e.to_string()))?;
                blocking(move || transcribe::vocabulary(&path)).await
            }
            None => None,
        };
        self.transcriber.transcribe(wav, prompt).await
    }

    /// Speech for read-back, rendered on the host (WAV).
    pub async fn speak(&self, text: &str) -> Result<Vec<u8>, transcribe::SpeechError> {
        transcribe::speak(text).await
    }

    /// Whether the host keeps the machine awake now (off, idle, held, or why it cannot).
    pub fn stay_awake(&self) -> arcbench_awake::AwakeStatus {
        self.keeper.status()
    }
}

fn read(agent: &RwLock<AgentStatus>) -> AgentStatus {
    agent.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Records the agent's new status and tells every client (`agent.state`).
fn announce(engine: &Engine, agent: &RwLock<AgentStatus>, status: AgentStatus) {
    *agent.write().unwrap_or_else(|p| p.into_inner()) = status.clone();
    if let Err(e) = engine.announce_agent(status) {
        tracing::error!(%e, "recording the agent's state");
    }
}

/// Progress events at most this often (pip prints many lines).
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Installs the managed Aider, then lets the queued prompts run (or fail, saying why).
async fn install_agent(
    choice: agent::AgentChoice,
    dir: PathBuf,
    engine: Arc<Engine>,
    runner: Arc<Runner>,
    agent: Arc<RwLock<AgentStatus>>,
) {
    let runtime = provision::ManagedRuntime::aider(&dir);
    tracing::info!(venv = %runtime.venv.display(), "installing the agent");
    let mut last = Instant::now() - PROGRESS_EVERY;
    let (e, a) = (engine.clone(), agent.clone());
    let installed = runtime
        .provision(move |line| {
            if last.elapsed() < PROGRESS_EVERY {
                return;
            }
            last = Instant::now();
            announce(
                &e,
                &a,
                agent::status(AgentState::Installing, None, Some(line.to_owned())),
            );
        })
        .await;
    let (setup, status) = match installed {
        Ok(python) => agent::prepare(&choice, python, &dir).await,
        Err(reason) => (
            AgentSetup::Unavailable(reason.clone()),
            agent::status(AgentState::Failed, None, Some(reason)),
        ),
    };
    tracing::info!(state = ?status.state, "agent set up");
    announce(&engine, &agent, status);
    runner.set_agent(setup);
}
