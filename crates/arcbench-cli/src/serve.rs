use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arcbench_engine::runner::{Runner, RunnerConfig};
use arcbench_engine::{Budget, Engine, EngineConfig};
use arcbench_server::{router, AppState};

use crate::agent::{prepare, AgentChoice};
use crate::key::{load_or_create, KeySource};

/// Warm agents at once by default: three Aider processes (~1 GB) fit a small machine.
const DEFAULT_MAX_AGENTS: usize = 3;

/// Anthropic's API, used unless `ANTHROPIC_BASE_URL` says otherwise.
const DEFAULT_API_BASE: &str = "https://api.anthropic.com";

#[derive(clap::Args)]
pub struct ServeArgs {
    /// A repository to serve (repeatable; the first is the default). Default: the current directory.
    #[arg(long = "repo")]
    repos: Vec<PathBuf>,
    /// Where the database, key, venv and session worktrees live.
    #[arg(long, env = "ARCBENCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on (repeatable). Default: loopback. Addresses outside loopback and the
    /// tailnet ranges need --insecure-lan.
    #[arg(long = "bind")]
    binds: Vec<IpAddr>,
    /// Allow binding an address that is neither loopback nor on the tailnet (a LAN, a wildcard):
    /// the API then travels as plain HTTP on that network.
    #[arg(long)]
    insecure_lan: bool,
    /// Another name the host is reached by (repeatable): requests whose Host header is not an IP,
    /// localhost or one of these are refused (DNS rebinding).
    #[arg(long = "allow-host")]
    allow_hosts: Vec<String>,
    /// Warm agents alive at once (each Aider holds ~300 MB) [default: 3]. Sessions beyond it
    /// wait, saying so.
    #[arg(long)]
    max_agents: Option<usize>,
    /// Port to listen on [default: 8000].
    #[arg(long)]
    port: Option<u16>,
    /// The model Aider uses [default: claude-sonnet-4-5].
    #[arg(long, env = "ARCBENCH_MODEL")]
    model: Option<String>,
    /// The model Aider uses for summaries [default: claude-haiku-4-5].
    #[arg(long, env = "ARCBENCH_WEAK_MODEL")]
    weak_model: Option<String>,
    /// A Python with aider-chat installed (default: the managed venv).
    #[arg(long, env = "ARCBENCH_PYTHON")]
    python: Option<PathBuf>,
    /// Per-session spending limit in USD (until changed through the API).
    #[arg(long)]
    session_budget: Option<f64>,
    /// Daily (UTC) spending limit in USD (until changed through the API).
    #[arg(long)]
    daily_budget: Option<f64>,
    /// Seconds an idle session keeps its warm Aider [default: 900].
    #[arg(long)]
    idle_timeout: Option<u64>,
    /// A TOML config file (default: config.toml in the data dir, when present). Flags and
    /// environment variables win over it.
    #[arg(long, env = "ARCBENCH_CONFIG")]
    config: Option<PathBuf>,
    /// Demo mode: a local stand-in answers instead of the Claude API (clearly labelled).
    #[arg(long)]
    demo: bool,
    /// The built web UI to serve at /app/ (default: src-ui/dist next to the source tree the
    /// binary was built from, when it exists).
    #[arg(long, env = "ARCBENCH_UI_DIR")]
    ui_dir: Option<PathBuf>,
}

impl ServeArgs {
    /// Fills what flags and the environment left open from the config file.
    fn merge(&mut self, file: crate::config::FileConfig) {
        if self.repos.is_empty() {
            self.repos = file.repos;
        }
        if self.binds.is_empty() {
            self.binds = file.bind;
        }
        self.insecure_lan |= file.insecure_lan;
        self.allow_hosts.extend(file.allow_host);
        self.max_agents = self.max_agents.or(file.max_agents);
        self.port = self.port.or(file.port);
        self.model = self.model.take().or(file.model);
        self.weak_model = self.weak_model.take().or(file.weak_model);
        self.python = self.python.take().or(file.python);
        self.session_budget = self.session_budget.or(file.session_budget);
        self.daily_budget = self.daily_budget.or(file.daily_budget);
        self.idle_timeout = self.idle_timeout.or(file.idle_timeout);
        self.ui_dir = self.ui_dir.take().or(file.ui_dir);
    }
}

fn ui_dir(named: Option<PathBuf>) -> Option<PathBuf> {
    let dir = named.unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../src-ui/dist"))
    });
    if dir.join("index.html").exists() {
        Some(dir)
    } else {
        tracing::warn!(dir = %dir.display(), "no built web UI there; /app/ will say so");
        None
    }
}

pub fn run(mut args: ServeArgs) -> Result<(), String> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(crate::default_data_dir);
    crate::key::private_data_dir(&data_dir)
        .map_err(|e| format!("data dir {}: {e}", data_dir.display()))?;
    let file = crate::config::load(args.config.as_deref(), &data_dir)?;
    let pricing = file.pricing();
    args.merge(file);
    let repos = if args.repos.is_empty() {
        vec![std::env::current_dir().map_err(|e| e.to_string())?]
    } else {
        args.repos.clone()
    };
    if args.max_agents == Some(0) {
        return Err("--max-agents must be at least 1".into());
    }
    let binds = if args.binds.is_empty() {
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
    } else {
        args.binds.clone()
    };
    for warning in check_binds(&binds, args.insecure_lan)? {
        eprintln!("{warning}");
        tracing::warn!("{warning}");
    }
    for (name, v) in [
        ("--session-budget", args.session_budget),
        ("--daily-budget", args.daily_budget),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v <= 0.0) {
            return Err(format!("{name} must be a positive number of USD"));
        }
    }
    let engine = Engine::open(EngineConfig {
        data_dir: data_dir.clone(),
        repos,
        budget: Budget {
            session_limit_usd: args.session_budget,
            daily_limit_usd: args.daily_budget,
        },
        pricing,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let (key, source) = load_or_create(&data_dir).map_err(|e| format!("API key: {e}"))?;
    if let KeySource::Generated = source {
        println!(
            "API key (shown once; stored in {}): {key}",
            data_dir.join("api-key").display()
        );
    }
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(serve(args, binds, data_dir, Arc::new(engine), key))
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
pub fn check_binds(binds: &[IpAddr], insecure_lan: bool) -> Result<Vec<String>, String> {
    let open: Vec<String> = binds
        .iter()
        .filter(|ip| !ip.is_loopback() && !is_tailnet(**ip))
        .map(ToString::to_string)
        .collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    if !insecure_lan {
        return Err(format!(
            "refusing to listen on {}: it is neither loopback nor a tailnet address, so the API \
             key and your code would cross that network as plain HTTP. Use Tailscale (bind its \
             100.x address), or pass --insecure-lan if you accept that risk",
            open.join(", ")
        ));
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

async fn serve(
    args: ServeArgs,
    binds: Vec<IpAddr>,
    data_dir: PathBuf,
    engine: Arc<Engine>,
    key: String,
) -> Result<(), String> {
    let demo = if args.demo {
        let fake = crate::demo::start()
            .await
            .map_err(|e| format!("demo mode: {e}"))?;
        tracing::warn!(
            "DEMO MODE: answers are scripted by a local stand-in; no Claude API call is made"
        );
        Some(fake)
    } else {
        None
    };
    let choice = AgentChoice {
        python: args.python.clone(),
        model: args
            .model
            .clone()
            .unwrap_or_else(|| "claude-sonnet-4-5".into()),
        weak_model: Some(
            args.weak_model
                .clone()
                .unwrap_or_else(|| "claude-haiku-4-5".into()),
        ),
        api_base: match &demo {
            Some(f) => f.base_url(),
            None => std::env::var("ANTHROPIC_BASE_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| DEFAULT_API_BASE.to_owned()),
        },
        api_key: if demo.is_some() {
            Some("demo-mode".into())
        } else {
            std::env::var("ANTHROPIC_API_KEY").ok()
        },
    };
    let (agent, status) = prepare(choice, &data_dir).await;
    if let Err(reason) = &agent {
        tracing::warn!(%reason, "the agent is not available; review works, prompts will fail until fixed");
    }
    let runner = Runner::start(
        engine.clone(),
        RunnerConfig {
            agent,
            idle_timeout: Duration::from_secs(args.idle_timeout.unwrap_or(900)),
            max_agents: args.max_agents.unwrap_or(DEFAULT_MAX_AGENTS),
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut state = AppState::new(engine, runner.clone(), &key, status);
    state.demo = demo.is_some();
    state.ui_dir = ui_dir(args.ui_dir.clone());
    for name in &args.allow_hosts {
        state.allowed_hosts.add(name);
    }
    let port = args.port.unwrap_or(8000);
    let app = router(state);
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut servers = Vec::new();
    for ip in binds {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, port))
            .await
            .map_err(|e| format!("cannot listen on {ip}:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening on http://{addr}");
        let app = app.clone();
        let mut stop = stop_tx.subscribe();
        servers.push(tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stop.recv().await;
            })
            .await
        }));
    }
    shutdown_signal().await;
    tracing::info!("stopping: interrupting running prompts");
    runner.shutdown().await;
    let _ = stop_tx.send(());
    for s in servers {
        // Open WebSockets would hold a graceful shutdown forever; they resume with since=N.
        let _ = tokio::time::timeout(Duration::from_secs(3), s).await;
    }
    tracing::info!("host stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
