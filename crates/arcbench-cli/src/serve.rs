//! `arcbench serve`: flags and environment → [`Settings`] → the host every shell starts the same
//! way ([`arcbench_host`]), served over HTTP by [`arcbench_server`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use arcbench_host::{Host, HostError, KeySource, Settings};

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
    /// tailscaled's LocalAPI socket [default: /var/run/tailscale/tailscaled.sock].
    #[arg(long, env = "ARCBENCH_TAILSCALE_SOCKET")]
    tailscale_socket: Option<PathBuf>,
    /// Never ask tailscaled: no tailnet addresses, no WhoIs (plain WireGuard users name --bind).
    #[arg(long)]
    no_tailscale: bool,
    /// A tailnet login allowed to use the host (repeatable) [default: the owner of this node].
    #[arg(long = "allow-login")]
    allow_logins: Vec<String>,
    /// How often tailscaled's status is read again, in ms (tests make it fast).
    #[arg(long, hide = true)]
    mesh_poll_ms: Option<u64>,
    /// How often the tailnet certificate is asked for again, in s (tests make it fast).
    #[arg(long, hide = true)]
    cert_refresh_secs: Option<u64>,
    /// Let the machine sleep even while a prompt runs (by default the host holds a sleep
    /// inhibitor, through the login manager, while prompts run).
    #[arg(long)]
    no_stay_awake: bool,
    /// No voice transcription on this host.
    #[arg(long)]
    no_transcriber: bool,
    /// The voice model: a faster-whisper name (base.en, small.en) or folder [default: the
    /// bundled tiny.en].
    #[arg(long)]
    transcriber_model: Option<String>,
    /// A Python with faster-whisper to transcribe with (default: the host's managed one).
    #[arg(long, env = "ARCBENCH_TRANSCRIBER_PYTHON")]
    transcriber_python: Option<PathBuf>,
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
    /// Percent of a budget limit at which the warning goes out [default: 80].
    #[arg(long)]
    budget_warning_percent: Option<f64>,
    /// Seconds an idle session keeps its warm Aider [default: 900].
    #[arg(long)]
    idle_timeout: Option<u64>,
    /// Warm agents alive at once (each Aider holds ~100 MB of its own) [default: 3]. Sessions beyond it
    /// wait, saying so.
    #[arg(long)]
    max_agents: Option<usize>,
    /// Start each session's agent as a process of its own (2-3.5 s) instead of forking it from
    /// the agent template that imported Aider once (tens of milliseconds).
    #[arg(long)]
    no_instant_sessions: bool,
    /// A TOML config file (default: config.toml in the data dir, written on the first run).
    /// Flags and environment variables win over it.
    #[arg(long, env = "ARCBENCH_CONFIG")]
    config: Option<PathBuf>,
    /// Demo mode: a local stand-in answers instead of the Claude API (clearly labelled).
    #[arg(long)]
    demo: bool,
    /// The built web UI to serve at /app/ (default: found next to the binary, in an installed
    /// share folder, or src-ui/dist of the checkout the binary was built in).
    #[arg(long, env = "ARCBENCH_UI_DIR")]
    ui_dir: Option<PathBuf>,
}

impl From<ServeArgs> for Settings {
    fn from(a: ServeArgs) -> Settings {
        Settings {
            // `serve` takes the key from ANTHROPIC_API_KEY or <data dir>/env (never a flag:
            // flags show in `ps`).
            anthropic_api_key: None,
            data_dir: a.data_dir,
            config: a.config,
            repos: a.repos,
            binds: a.binds,
            insecure_lan: a.insecure_lan,
            allow_hosts: a.allow_hosts,
            port: a.port,
            model: a.model,
            weak_model: a.weak_model,
            python: a.python,
            session_budget: a.session_budget,
            daily_budget: a.daily_budget,
            idle_timeout: a.idle_timeout,
            max_agents: a.max_agents,
            no_instant_sessions: a.no_instant_sessions,
            ui_dir: a.ui_dir,
            demo: a.demo,
            tailscale_socket: a.tailscale_socket,
            no_tailscale: a.no_tailscale,
            allow_logins: a.allow_logins,
            mesh_poll: a.mesh_poll_ms.map(std::time::Duration::from_millis),
            cert_refresh: a.cert_refresh_secs.map(std::time::Duration::from_secs),
            no_stay_awake: a.no_stay_awake,
            budget_warning_percent: a.budget_warning_percent,
            no_transcriber: a.no_transcriber,
            transcriber_model: a.transcriber_model,
            transcriber_python: a.transcriber_python,
        }
    }
}

pub fn run(args: ServeArgs) -> Result<(), HostError> {
    let config = arcbench_host::resolve(args.into())?;
    for warning in &config.warnings {
        eprintln!("{warning}");
        tracing::warn!("{warning}");
    }
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| HostError::Config(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let host = Arc::new(Host::start(config).await?);
        if host.key_source() == KeySource::Generated {
            println!(
                "API key (shown once; stored in {}): {}",
                host.config().data_dir.join("api-key").display(),
                host.api_key()
            );
        }
        let listeners = arcbench_server::bind(&host).await?;
        for url in listeners.urls() {
            println!("listening on {url}");
        }
        banner(&host);
        arcbench_server::serve(host, listeners, shutdown_signal()).await;
        Ok(())
    })
}

/// How to reach the host and pair a phone: the tailnet URL (or how to get one) and a QR code
/// holding a single-use pairing code, never the key.
fn banner(host: &Host) {
    let mesh = host.mesh_status();
    match (&mesh.https_url, &mesh.hint) {
        (Some(url), _) => println!("on your tailnet: {url}/app/"),
        (None, Some(hint)) => println!("not reachable from other devices yet: {hint}"),
        (None, None) => {}
    }
    let code = host.pairing_code();
    let Some(link) = code.links.first() else {
        return;
    };
    println!(
        "pair a phone: scan this code, or open {link}\n(code {}, valid 5 minutes; `arcbench pair` makes a new one)",
        code.code
    );
    if let Ok(qr) = arcbench_mesh::Qr::new(link) {
        println!("{}", qr.to_terminal());
    }
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
