use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use arcbench_engine::{Engine, EngineConfig};
use arcbench_server::{router, AppState};

use crate::key::{load_or_create, KeySource};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// A repository to serve (repeatable; the first is the default). Default: the current directory.
    #[arg(long = "repo")]
    repos: Vec<PathBuf>,
    /// Where the database, key and session worktrees live.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on (repeatable). Default: loopback.
    #[arg(long = "bind")]
    binds: Vec<IpAddr>,
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// The model Aider uses.
    #[arg(long, default_value = "claude-sonnet-4-5")]
    model: String,
    /// Demo mode: a local stand-in answers instead of the Claude API (clearly labelled).
    #[arg(long)]
    demo: bool,
}

pub fn run(args: ServeArgs) -> Result<(), String> {
    let data_dir = args.data_dir.unwrap_or_else(crate::default_data_dir);
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("data dir {}: {e}", data_dir.display()))?;
    let repos = if args.repos.is_empty() {
        vec![std::env::current_dir().map_err(|e| e.to_string())?]
    } else {
        args.repos
    };
    let engine = Engine::open(EngineConfig {
        data_dir: data_dir.clone(),
        repos,
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
    tracing::info!(model = %args.model, demo = args.demo, "starting host");
    let state = AppState {
        engine: Arc::new(engine),
        api_key: key.into(),
        demo: args.demo,
    };
    let binds = if args.binds.is_empty() {
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
    } else {
        args.binds
    };
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let app = router(state);
        let mut servers = Vec::new();
        for ip in binds {
            let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, args.port))
                .await
                .map_err(|e| format!("cannot listen on {ip}:{}: {e}", args.port))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            println!("listening on http://{addr}");
            let app = app.clone();
            servers.push(tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown_signal())
                    .await
            }));
        }
        for s in servers {
            s.await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        }
        tracing::info!("host stopped");
        Ok(())
    })
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
