//! The desktop app's host, shell-agnostic (no Tauri here): run the same host `arcbench serve`
//! runs, in-process with its API server (so phones reach it while the app runs), or attach to
//! the one already running on the data dir (the user's service), or wait for the first run's
//! choices. Every change is published on a watch channel the shell (tray, window) follows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arcbench_host::lock::{running_host, Holder};
use arcbench_host::{Host, HostError, Secret, Settings};
use serde::{Deserialize, Serialize};
use shared_protocol::{ApiError, ErrorCode, Event};
use specta::Type;
use tokio::sync::{broadcast, oneshot, watch, Mutex};

use crate::error::{AppError, Code};
use crate::keychain::{self, KeyPlace};
use arcbench_activity::{Activity, Notice, TrayState};

/// How the app reaches its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum HostMode {
    /// First run: no repository chosen yet (or no key and no demo).
    Setup,
    Starting,
    /// The host runs inside this app.
    InProcess,
    /// Another process (the service) runs the host on this data dir; the app uses it.
    Attached,
    /// The user paused the host: nothing listens, nothing runs.
    Paused,
    /// The host could not start; `error` says why and what to do.
    Failed,
}

/// Where the window's client connects: the host's loopback address and a key for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Connection {
    pub origin: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct ApiKeyState {
    /// Where the Anthropic key was found (`none`: not yet given).
    pub place: KeyPlace,
    /// Whether an OS keychain answered; without one the key can go to the private env file.
    pub keychain_available: bool,
    /// `<data dir>/env`, the file the key goes to without a keychain (and the service reads).
    pub env_file: String,
}

/// Everything the window and the tray show about the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct DesktopState {
    pub mode: HostMode,
    pub tray: TrayState,
    /// One line for the tray's tooltip and the window's header.
    pub summary: String,
    pub error: Option<AppError>,
    pub data_dir: String,
    pub repos: Vec<String>,
    pub demo: bool,
    pub api_key: ApiKeyState,
    pub autostart: bool,
    pub connection: Option<Connection>,
    /// The host settings set from the window.
    pub host: HostOptions,
    /// The model the running host uses (whichever setting chose it).
    pub model: Option<String>,
}

/// The app's own choices, kept in `<data dir>/desktop.json` (the host's settings stay in its
/// `config.toml`, shared with the service).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DesktopSettings {
    #[serde(default)]
    pub repos: Vec<PathBuf>,
    #[serde(default)]
    pub demo: bool,
    /// The user paused the host; it stays paused across restarts of the app.
    #[serde(default)]
    pub paused: bool,
    /// The host settings changed from the window (over config.toml's).
    #[serde(default)]
    pub host: HostOptions,
}

/// Host settings the window changes, given to the host like `arcbench serve`'s flags: they win
/// over `config.toml` (which the service shares), and the host's own rules check them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct HostOptions {
    /// The model prompts use (a name such as `claude-sonnet-4-5`); none: the
    /// one in config.toml, else the host's default.
    pub model: Option<String>,
    /// IP addresses to listen on; none: loopback plus the tailnet's while Tailscale is up.
    pub binds: Vec<String>,
    /// Allow plain HTTP on LAN (non-tailnet) addresses among `binds`.
    pub insecure_lan: bool,
    /// The API port; none: config.toml's, else the default.
    pub port: Option<u16>,
}

impl HostOptions {
    /// Trimmed, and every address parsed: a typed error naming the first bad one.
    fn parse(self) -> Result<(HostOptions, Vec<std::net::IpAddr>), AppError> {
        let model = self
            .model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        if let Some(m) = &model {
            if m.chars().any(char::is_whitespace) {
                return Err(AppError::new(
                    Code::BadRequest,
                    format!("\"{m}\" is not a model name (no spaces in one)"),
                ));
            }
        }
        let mut binds = Vec::new();
        let mut ips = Vec::new();
        for b in self
            .binds
            .iter()
            .map(|b| b.trim())
            .filter(|b| !b.is_empty())
        {
            let ip = b.parse().map_err(|_| {
                AppError::new(
                    Code::BadRequest,
                    format!("\"{b}\" is not an IP address (like 127.0.0.1 or 100.64.0.7)"),
                )
            })?;
            ips.push(ip);
            binds.push(b.to_owned());
        }
        Ok((
            HostOptions {
                model,
                binds,
                insecure_lan: self.insecure_lan,
                port: self.port,
            },
            ips,
        ))
    }
}

const SETTINGS_FILE: &str = "desktop.json";

impl DesktopSettings {
    pub fn load(data_dir: &Path) -> DesktopSettings {
        std::fs::read(data_dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, data_dir: &Path) -> Result<(), AppError> {
        let path = data_dir.join(SETTINGS_FILE);
        let tmp = path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(data_dir)?;
            std::fs::write(&tmp, serde_json::to_vec_pretty(self).unwrap_or_default())?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            AppError::new(
                Code::DataDir,
                format!("cannot save {}: {e}", path.display()),
            )
        })
    }
}

enum Running {
    None,
    InProcess {
        host: Arc<Host>,
        stop: oneshot::Sender<()>,
        server: tokio::task::JoinHandle<()>,
        follower: tokio::task::JoinHandle<()>,
        connection: Connection,
    },
    Attached {
        holder: Holder,
        follower: tokio::task::JoinHandle<()>,
        connection: Connection,
    },
}

struct Inner {
    settings: DesktopSettings,
    running: Running,
    mode: HostMode,
    error: Option<AppError>,
    autostart: bool,
}

/// What the shell gives the backend: how to find things that differ per platform and per test.
#[derive(Clone)]
pub struct Environment {
    pub data_dir: PathBuf,
    /// Settings every start begins from (environment variables, like `arcbench serve`'s).
    pub base: Settings,
    pub keychain: keychain::Keychain,
}

impl Environment {
    /// The data dir and settings `arcbench serve` would use, from the same environment variables.
    pub fn from_env() -> Environment {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let text = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let data_dir = arcbench_host::paths::default_data_dir();
        Environment {
            base: Settings {
                data_dir: Some(data_dir.clone()),
                config: path("ARCBENCH_CONFIG"),
                model: text("ARCBENCH_MODEL"),
                weak_model: text("ARCBENCH_WEAK_MODEL"),
                python: path("ARCBENCH_PYTHON"),
                tailscale_socket: path("ARCBENCH_TAILSCALE_SOCKET"),
                transcriber_python: path("ARCBENCH_TRANSCRIBER_PYTHON"),
                ui_dir: path("ARCBENCH_UI_DIR"),
                ..Settings::default()
            },
            data_dir,
            keychain: keychain::Keychain::os(),
        }
    }
}

pub struct Backend {
    env: Environment,
    inner: Mutex<Inner>,
    activity: std::sync::Mutex<Activity>,
    state: watch::Sender<DesktopState>,
    notices: broadcast::Sender<Notice>,
    /// The window's event feeds over IPC, by id: each stops when its sender is dropped.
    follows: std::sync::Mutex<FollowMap>,
}

#[derive(Default)]
struct FollowMap {
    next: u32,
    /// Each feed's stop: the close it ends with.
    stops: std::collections::HashMap<u32, oneshot::Sender<(u16, String)>>,
}

/// What the window's event feed carries over IPC: the WebSocket's events, then, when the feed
/// ends, its close code and reason (the same codes: 4000 resume, 4410 resync, 4400 bad since,
/// 1001 host stopped, 1000 unfollowed).
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedMessage {
    // Boxed: an event is large beside a close.
    Event { event: Box<Event> },
    Closed { code: u16, reason: String },
}

impl Backend {
    pub fn new(env: Environment) -> Arc<Backend> {
        let settings = DesktopSettings::load(&env.data_dir);
        let inner = Inner {
            settings,
            running: Running::None,
            mode: HostMode::Setup,
            error: None,
            autostart: false,
        };
        let first = DesktopState {
            mode: HostMode::Setup,
            tray: TrayState::Idle,
            summary: String::new(),
            error: None,
            data_dir: env.data_dir.display().to_string(),
            repos: Vec::new(),
            demo: false,
            api_key: ApiKeyState {
                place: KeyPlace::None,
                keychain_available: false,
                env_file: arcbench_host::env_file::path(&env.data_dir)
                    .display()
                    .to_string(),
            },
            autostart: false,
            connection: None,
            host: HostOptions::default(),
            model: None,
        };
        Arc::new(Backend {
            env,
            inner: Mutex::new(inner),
            activity: std::sync::Mutex::new(Activity::default()),
            state: watch::channel(first).0,
            notices: broadcast::channel(64).0,
            follows: std::sync::Mutex::new(FollowMap::default()),
        })
    }

    pub fn subscribe(&self) -> watch::Receiver<DesktopState> {
        self.state.subscribe()
    }

    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    pub fn state(&self) -> DesktopState {
        self.state.borrow().clone()
    }

    pub fn data_dir(&self) -> &Path {
        &self.env.data_dir
    }

    /// At launch: attach to a running host, or start ours if the first run is done (and the
    /// user did not pause it), or wait for the first run's choices.
    pub async fn launch(self: &Arc<Self>) -> DesktopState {
        let mut inner = self.inner.lock().await;
        if let Some(holder) = running_host(&self.env.data_dir) {
            self.attach(&mut inner, holder).await;
        } else if inner.settings.paused {
            inner.mode = HostMode::Paused;
        } else if self.ready_to_start(&inner).await {
            self.start_locked(&mut inner).await;
        }
        self.publish(&inner).await
    }

    /// The user's autostart setting, as the OS reports it (the shell owns the OS part).
    pub async fn set_autostart_flag(&self, on: bool) -> DesktopState {
        let mut inner = self.inner.lock().await;
        inner.autostart = on;
        self.publish(&inner).await
    }

    /// Adds a repository (first = the default). It must be a git repository with a commit.
    pub async fn choose_repository(
        self: &Arc<Self>,
        path: String,
    ) -> Result<DesktopState, AppError> {
        let path = PathBuf::from(path.trim());
        let repo = check_repository(&path)?;
        let mut inner = self.inner.lock().await;
        if !inner.settings.repos.contains(&repo) {
            let mut settings = inner.settings.clone();
            settings.repos.insert(0, repo);
            settings.save(&self.env.data_dir)?;
            inner.settings = settings;
        }
        Ok(self.publish(&inner).await)
    }

    pub async fn remove_repository(&self, path: String) -> Result<DesktopState, AppError> {
        let mut inner = self.inner.lock().await;
        let mut settings = inner.settings.clone();
        let before = settings.repos.len();
        settings.repos.retain(|r| r != Path::new(&path));
        if settings.repos.len() == before {
            return Err(AppError::new(
                Code::NotFound,
                format!("{path} is not one of the app's repositories"),
            ));
        }
        settings.save(&self.env.data_dir)?;
        inner.settings = settings;
        Ok(self.publish(&inner).await)
    }

    /// Keeps the Anthropic key: in the keychain, or (when the user chose it, e.g. no keychain)
    /// in the private env file the service also reads.
    pub async fn save_api_key(
        &self,
        key: String,
        place: KeyPlace,
    ) -> Result<DesktopState, AppError> {
        let key = key.trim().to_owned();
        check_api_key(&key)?;
        let keychain = self.env.keychain.clone();
        let data_dir = self.env.data_dir.clone();
        tokio::task::spawn_blocking(move || match place {
            KeyPlace::Keychain => keychain.set(&key),
            KeyPlace::EnvFile => std::fs::create_dir_all(&data_dir)
                .and_then(|_| {
                    arcbench_host::env_file::set(
                        &arcbench_host::env_file::path(&data_dir),
                        arcbench_host::env_file::ANTHROPIC_KEY,
                        &key,
                    )
                })
                .map_err(|e| {
                    AppError::new(Code::DataDir, format!("cannot write the env file: {e}"))
                }),
            KeyPlace::Environment | KeyPlace::None => Err(AppError::new(
                Code::BadRequest,
                "a key can be saved to the keychain or the env file",
            )),
        })
        .await
        .map_err(|e| AppError::new(Code::Internal, e.to_string()))??;
        let inner = self.inner.lock().await;
        Ok(self.publish(&inner).await)
    }

    pub async fn set_demo(&self, on: bool) -> Result<DesktopState, AppError> {
        let mut inner = self.inner.lock().await;
        let mut settings = inner.settings.clone();
        settings.demo = on;
        settings.save(&self.env.data_dir)?;
        inner.settings = settings;
        Ok(self.publish(&inner).await)
    }

    /// What a start of the in-process host runs with: the environment's settings, then the app's.
    fn settings_for(&self, app: &DesktopSettings) -> Result<Settings, AppError> {
        let (host, binds) = app.host.clone().parse()?;
        let base = self.env.base.clone();
        Ok(Settings {
            repos: app.repos.clone(),
            demo: app.demo,
            model: host.model.or(base.model.clone()),
            binds: if binds.is_empty() {
                base.binds.clone()
            } else {
                binds
            },
            insecure_lan: host.insecure_lan || base.insecure_lan,
            port: host.port.or(base.port),
            ..base
        })
    }

    /// Changes the host settings (model, addresses, port). The host's own rules check them first
    /// (nothing is saved when they fail); a running in-process host restarts on them at once,
    /// unless a prompt is running, which is never cut short for a setting.
    pub async fn set_host_options(
        self: &Arc<Self>,
        options: HostOptions,
    ) -> Result<DesktopState, AppError> {
        let mut inner = self.inner.lock().await;
        if let Running::Attached { holder, .. } = &inner.running {
            return Err(AppError::new(
                Code::Attached,
                format!(
                    "the host runs as a service ({holder}); change its settings in config.toml \
                     in {}",
                    self.env.data_dir.display()
                ),
            ));
        }
        let (options, _) = options.parse()?;
        let mut settings = inner.settings.clone();
        settings.host = options;
        // The same check a start makes, before anything is saved or stopped.
        arcbench_host::resolve(self.settings_for(&settings)?)?;
        let running = matches!(inner.running, Running::InProcess { .. });
        if running && self.activity.lock().expect("activity").busy() {
            return Err(AppError::new(
                Code::Conflict,
                "a prompt is running; change the host's settings when it has finished",
            ));
        }
        settings.save(&self.env.data_dir)?;
        inner.settings = settings;
        // Running, or failed to start (maybe on what was just fixed, a taken port): start on them.
        if running || inner.mode == HostMode::Failed {
            self.stop_locked(&mut inner).await;
            self.start_locked(&mut inner).await;
        }
        let state = self.publish(&inner).await;
        match &state.error {
            Some(e) if state.mode == HostMode::Failed => Err(e.clone()),
            _ => Ok(state),
        }
    }

    /// Starts (or resumes) the in-process host; attaches instead if another one runs.
    pub async fn start(self: &Arc<Self>) -> Result<DesktopState, AppError> {
        let mut inner = self.inner.lock().await;
        if matches!(
            inner.running,
            Running::InProcess { .. } | Running::Attached { .. }
        ) {
            return Ok(self.publish(&inner).await);
        }
        if inner.settings.repos.is_empty() {
            return Err(AppError::new(
                Code::SetupIncomplete,
                "choose a repository first",
            ));
        }
        if !inner.settings.demo && self.key_place().await == KeyPlace::None {
            return Err(AppError::new(
                Code::SetupIncomplete,
                "enter your Anthropic API key, or pick the demo mode",
            ));
        }
        if inner.settings.paused {
            let mut settings = inner.settings.clone();
            settings.paused = false;
            settings.save(&self.env.data_dir)?;
            inner.settings = settings;
        }
        if let Some(holder) = running_host(&self.env.data_dir) {
            self.attach(&mut inner, holder).await;
        } else {
            self.start_locked(&mut inner).await;
        }
        let state = self.publish(&inner).await;
        match &state.error {
            Some(e) if state.mode == HostMode::Failed => Err(e.clone()),
            _ => Ok(state),
        }
    }

    /// Stops the in-process host (running prompts are recorded interrupted, like any shutdown)
    /// and keeps it stopped until resumed. An attached service is not ours to stop.
    pub async fn pause(&self) -> Result<DesktopState, AppError> {
        let mut inner = self.inner.lock().await;
        if let Running::Attached { holder, .. } = &inner.running {
            return Err(AppError::new(
                Code::Attached,
                format!(
                    "the host runs as a service ({holder}); stop it there (systemctl --user stop arcbench)"
                ),
            ));
        }
        let mut settings = inner.settings.clone();
        settings.paused = true;
        settings.save(&self.env.data_dir)?;
        inner.settings = settings;
        self.stop_locked(&mut inner).await;
        inner.mode = HostMode::Paused;
        Ok(self.publish(&inner).await)
    }

    /// Stops everything before the app exits.
    pub async fn shutdown(&self) {
        let mut inner = self.inner.lock().await;
        self.stop_locked(&mut inner).await;
    }

    /// The host running in this app, for operations that call it directly.
    pub async fn host(&self) -> Result<Arc<Host>, AppError> {
        let inner = self.inner.lock().await;
        match &inner.running {
            Running::InProcess { host, .. } => Ok(host.clone()),
            Running::Attached { holder, .. } => Err(AppError::new(
                Code::Attached,
                format!("the host runs as a service ({holder}); the window talks to it directly"),
            )),
            Running::None => Err(AppError::new(
                Code::HostNotRunning,
                "the host is not running (finish the set-up, or resume it)",
            )),
        }
    }

    /// The in-process host, for the host API's commands: refused with the API's own error type
    /// (`conflict`) when it runs elsewhere or not at all.
    pub async fn api_host(&self) -> Result<Arc<Host>, ApiError> {
        self.host().await.map_err(|e| ApiError {
            code: ErrorCode::Conflict,
            message: e.message,
        })
    }

    /// Follows the in-process host's events after `since` into `sink` (subscribe, then replay;
    /// each event once, in order), like the WebSocket; `sink` answers false once nobody listens.
    /// Ends with [`FeedMessage::Closed`]: the feed's own end, [`Backend::unfollow_events`], or
    /// the host stopping (pause, quit).
    pub async fn follow_events(
        self: &Arc<Self>,
        since: u64,
        sink: impl Fn(FeedMessage) -> bool + Send + 'static,
    ) -> Result<u32, ApiError> {
        let host = self.api_host().await?;
        let (stop, mut stopped) = oneshot::channel();
        let id = {
            let mut follows = self.follows.lock().expect("follows");
            follows.next += 1;
            let id = follows.next;
            follows.stops.insert(id, stop);
            id
        };
        let backend = Arc::downgrade(self);
        tokio::spawn(async move {
            let closed = |(code, reason): (u16, String)| FeedMessage::Closed { code, reason };
            let end = match host.feed(since).await {
                Err(e) => closed(arcbench_host::refused_close(&e)),
                Ok(mut feed) => loop {
                    tokio::select! {
                        next = feed.next() => match next {
                            Ok(event) => {
                                if !sink(FeedMessage::Event { event: Box::new(event) }) {
                                    break None;
                                }
                            }
                            Err(end) => break Some(closed(end.close())),
                        },
                        stop = &mut stopped => break Some(closed(stop.unwrap_or((1001, "the host stopped".into())))),
                    }
                }
                .unwrap_or_else(|| closed((1000, "nobody listens".into()))),
            };
            // The host is not kept alive by a feed: dropped here, before anything else waits.
            drop(host);
            sink(end);
            if let Some(backend) = backend.upgrade() {
                backend.follows.lock().expect("follows").stops.remove(&id);
            }
        });
        Ok(id)
    }

    /// Ends one of the window's event feeds (it gets its `closed`).
    pub fn unfollow_events(&self, id: u32) {
        if let Some(stop) = self.follows.lock().expect("follows").stops.remove(&id) {
            let _ = stop.send((1000, "unfollowed".into()));
        }
    }

    /// A session's worktree folder (to open in the user's editor or file manager).
    pub async fn worktree(&self, session_id: String) -> Result<PathBuf, AppError> {
        let host = self.host().await?;
        Ok(host.run(move |e| e.worktree_path(&session_id)).await?)
    }

    async fn ready_to_start(&self, inner: &Inner) -> bool {
        !inner.settings.repos.is_empty()
            && (inner.settings.demo || self.key_place().await != KeyPlace::None)
    }

    async fn key_place(&self) -> KeyPlace {
        let keychain = self.env.keychain.clone();
        let data_dir = self.env.data_dir.clone();
        tokio::task::spawn_blocking(move || keychain::find(&keychain, &data_dir).0)
            .await
            .unwrap_or(KeyPlace::None)
    }

    async fn start_locked(self: &Arc<Self>, inner: &mut Inner) {
        inner.mode = HostMode::Starting;
        inner.error = None;
        self.publish(inner).await;
        match self.start_in_process(inner).await {
            Ok(running) => {
                inner.running = running;
                inner.mode = HostMode::InProcess;
            }
            Err(e) => {
                tracing::warn!(code = ?e.code, "the host did not start: {}", e.message);
                inner.mode = HostMode::Failed;
                inner.error = Some(e);
            }
        }
    }

    async fn start_in_process(self: &Arc<Self>, inner: &Inner) -> Result<Running, AppError> {
        let keychain = self.env.keychain.clone();
        let data_dir = self.env.data_dir.clone();
        let (_, key) = tokio::task::spawn_blocking(move || keychain::find(&keychain, &data_dir))
            .await
            .map_err(|e| AppError::new(Code::Internal, e.to_string()))?;
        let settings = Settings {
            anthropic_api_key: key.map(Secret),
            ..self.settings_for(&inner.settings)?
        };
        let config = arcbench_host::resolve(settings)?;
        let host = Arc::new(Host::start(config).await?);
        let listeners = match arcbench_server::bind(&host).await {
            Ok(l) => l,
            Err(e) => {
                host.shutdown().await;
                return Err(e.into());
            }
        };
        let origin = listeners
            .urls()
            .into_iter()
            .find(|u| u.starts_with("http://127.0.0.1") || u.starts_with("http://[::1]"))
            .ok_or_else(|| {
                AppError::new(
                    Code::Config,
                    "the host listens on no loopback address, so this window cannot reach it; \
                     add 127.0.0.1 to bind in config.toml",
                )
            })?;
        let connection = Connection {
            origin,
            key: host.api_key().to_owned(),
        };
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(arcbench_server::serve(host.clone(), listeners, async {
            let _ = stopped.await;
        }));
        *self.activity.lock().expect("activity") = Activity::default();
        let follower = tokio::spawn(follow_in_process(self.clone(), host.clone()));
        Ok(Running::InProcess {
            host,
            stop,
            server,
            follower,
            connection,
        })
    }

    async fn attach(self: &Arc<Self>, inner: &mut Inner, holder: Holder) {
        // A host that has just started may not have written its addresses yet.
        let mut holder = holder;
        for _ in 0..50 {
            if !holder.urls.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            match running_host(&self.env.data_dir) {
                Some(h) => holder = h,
                None => break,
            }
        }
        let origin = holder
            .urls
            .iter()
            .find(|u| u.starts_with("http://127.0.0.1") || u.starts_with("http://[::1]"))
            .cloned();
        let key = arcbench_host::key::load_or_create(&self.env.data_dir).map(|(k, _)| k);
        match (origin, key) {
            (Some(origin), Ok(key)) => {
                let connection = Connection { origin, key };
                *self.activity.lock().expect("activity") = Activity::default();
                let follower = tokio::spawn(follow_attached(self.clone(), connection.clone()));
                inner.running = Running::Attached {
                    holder,
                    follower,
                    connection,
                };
                inner.mode = HostMode::Attached;
                inner.error = None;
            }
            (None, _) => {
                inner.mode = HostMode::Failed;
                inner.error = Some(AppError::new(
                    Code::DataDirBusy,
                    format!(
                        "another ArcBench host runs on {} ({holder}) but serves no loopback \
                         address this window could use",
                        self.env.data_dir.display()
                    ),
                ));
            }
            (_, Err(e)) => {
                inner.mode = HostMode::Failed;
                inner.error = Some(AppError::new(
                    Code::DataDir,
                    format!("cannot read the running host's key: {e}"),
                ));
            }
        }
    }

    async fn stop_locked(&self, inner: &mut Inner) {
        // The window's feeds end first (closed 1001): they hold the host while they run.
        let stops: Vec<_> = self
            .follows
            .lock()
            .expect("follows")
            .stops
            .drain()
            .map(|(_, stop)| stop)
            .collect();
        for stop in stops {
            let _ = stop.send((1001, "the host stopped".into()));
        }
        match std::mem::replace(&mut inner.running, Running::None) {
            Running::InProcess {
                host,
                stop,
                server,
                follower,
                ..
            } => {
                follower.abort();
                let _ = stop.send(());
                let _ = server.await;
                host.shutdown().await;
                drop(host);
            }
            Running::Attached { follower, .. } => follower.abort(),
            Running::None => {}
        }
        *self.activity.lock().expect("activity") = Activity::default();
    }

    /// Folds a host event into the tray state; live ones may become a notice.
    fn observe(&self, event: &Event, live: bool) {
        let notice = self.activity.lock().expect("activity").apply(event);
        if let (Some(n), true) = (notice, live) {
            let _ = self.notices.send(n);
        }
        let tray = self.tray_now();
        self.state.send_if_modified(|s| {
            if s.tray != tray && !matches!(s.mode, HostMode::Paused | HostMode::Setup) {
                s.tray = tray;
                s.summary = summary(s.mode, tray, &s.error);
                true
            } else {
                false
            }
        });
    }

    fn tray_now(&self) -> TrayState {
        self.activity.lock().expect("activity").tray()
    }

    async fn publish(&self, inner: &Inner) -> DesktopState {
        let keychain = self.env.keychain.clone();
        let data_dir = self.env.data_dir.clone();
        let (place, available) = tokio::task::spawn_blocking(move || {
            (keychain::find(&keychain, &data_dir).0, keychain.available())
        })
        .await
        .unwrap_or((KeyPlace::None, false));
        let tray = match inner.mode {
            HostMode::Paused => TrayState::Paused,
            HostMode::InProcess | HostMode::Attached => self.tray_now(),
            _ => TrayState::Idle,
        };
        let state = DesktopState {
            mode: inner.mode,
            tray,
            summary: summary(inner.mode, tray, &inner.error),
            error: inner.error.clone(),
            data_dir: self.env.data_dir.display().to_string(),
            repos: inner
                .settings
                .repos
                .iter()
                .map(|r| r.display().to_string())
                .collect(),
            demo: inner.settings.demo,
            api_key: ApiKeyState {
                place,
                keychain_available: available,
                env_file: arcbench_host::env_file::path(&self.env.data_dir)
                    .display()
                    .to_string(),
            },
            autostart: inner.autostart,
            host: inner.settings.host.clone(),
            model: match &inner.running {
                Running::InProcess { host, .. } => Some(host.config().model.clone()),
                _ => None,
            },
            connection: match &inner.running {
                Running::InProcess { connection, .. } | Running::Attached { connection, .. } => {
                    Some(connection.clone())
                }
                Running::None => None,
            },
        };
        self.state.send_replace(state.clone());
        state
    }
}

fn summary(mode: HostMode, tray: TrayState, error: &Option<AppError>) -> String {
    match mode {
        HostMode::Setup => "Set-up: choose a repository and a key (or the demo)".into(),
        HostMode::Starting => "Starting the host…".into(),
        HostMode::InProcess => format!("Host running in this app · {}", tray.label()),
        HostMode::Attached => format!("Attached to the ArcBench service · {}", tray.label()),
        HostMode::Paused => "Paused: the host is stopped".into(),
        HostMode::Failed => format!(
            "The host did not start: {}",
            error
                .as_ref()
                .map(|e| e.message.as_str())
                .unwrap_or("unknown")
        ),
    }
}

/// Follows the in-process host's events (history first: the tray is right from the start).
async fn follow_in_process(backend: Arc<Backend>, host: Arc<Host>) {
    let Ok(mut feed) = host.feed(0).await else {
        return;
    };
    while let Ok(event) = feed.next().await {
        backend.observe(&event, !feed.is_replaying());
    }
}

/// Follows an attached host's events through its API (`GET /events?since=`), once a second.
async fn follow_attached(backend: Arc<Backend>, connection: Connection) {
    #[derive(Deserialize)]
    struct Page {
        events: Vec<Event>,
    }
    let client = reqwest::Client::new();
    let mut since = 0u64;
    let mut caught_up = false;
    loop {
        let page = client
            .get(format!("{}/events?since={since}", connection.origin))
            .bearer_auth(&connection.key)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match page {
            Ok(r) if r.status().is_success() => match r.json::<Page>().await {
                Ok(page) => {
                    let full = page.events.len() as u32 >= arcbench_host::EVENTS_PAGE;
                    for e in &page.events {
                        since = since.max(e.seq);
                        backend.observe(e, caught_up);
                    }
                    if !full {
                        caught_up = true;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_secs(2)).await,
            },
            _ => tokio::time::sleep(Duration::from_secs(2)).await,
        }
    }
}

/// The repository a user picked, checked before anything is saved: a folder, a git work tree
/// (not bare), with at least one commit (sessions branch from HEAD).
pub fn check_repository(path: &Path) -> Result<PathBuf, AppError> {
    if path.as_os_str().is_empty() {
        return Err(AppError::new(Code::NotAGitRepo, "choose a folder"));
    }
    let dir = path.canonicalize().map_err(|e| {
        AppError::new(
            Code::NotAGitRepo,
            format!("{} cannot be opened: {e}", path.display()),
        )
    })?;
    if !dir.is_dir() {
        return Err(AppError::new(
            Code::NotAGitRepo,
            format!("{} is not a folder", dir.display()),
        ));
    }
    let repo = git2::Repository::discover(&dir).map_err(|_| {
        AppError::new(
            Code::NotAGitRepo,
            format!(
                "{} is not a git repository: pick the folder that holds your project's .git \
                 (or run `git init` and make a first commit there)",
                dir.display()
            ),
        )
    })?;
    if repo.is_bare() {
        return Err(AppError::new(
            Code::NotAGitRepo,
            format!("{} is a bare repository: pick a checkout", dir.display()),
        ));
    }
    if repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .is_none()
    {
        return Err(AppError::new(
            Code::NotAGitRepo,
            format!(
                "{} has no commit yet: sessions start from one, so make a first commit",
                dir.display()
            ),
        ));
    }
    let top = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or(dir)
        .canonicalize()
        .map_err(|e| AppError::new(Code::NotAGitRepo, e.to_string()))?;
    Ok(top)
}

/// A plausible Anthropic key: one line, no spaces, not absurdly short or long. Its validity is
/// the API's to judge; this catches pasting the wrong thing.
pub fn check_api_key(key: &str) -> Result<(), AppError> {
    if key.is_empty() {
        return Err(AppError::new(
            Code::InvalidApiKey,
            "enter your Anthropic API key",
        ));
    }
    if key.len() < 20 || key.len() > 300 || key.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AppError::new(
            Code::InvalidApiKey,
            "that does not look like an Anthropic API key (they start with sk-ant- and have no spaces)",
        ));
    }
    Ok(())
}

impl From<HostError> for AppError {
    fn from(e: HostError) -> AppError {
        let code = match &e {
            HostError::Listen { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
                Code::PortTaken
            }
            HostError::Listen { .. } => Code::Listen,
            HostError::Lock(_) => Code::DataDirBusy,
            HostError::Config(_) => Code::Config,
            HostError::DataDir { .. } | HostError::Key(_) => Code::DataDir,
            HostError::Demo(_) | HostError::Engine(_) => Code::HostFailed,
        };
        let mut message = e.to_string();
        if code == Code::PortTaken {
            message.push_str(
                ": another program uses that port. Choose another port in Settings (or stop the \
                 other program), then resume the host",
            );
        }
        AppError::new(code, message)
    }
}
