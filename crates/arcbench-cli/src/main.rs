//! `arcbench`: the headless ArcBench host.

mod doctor;
mod pair;
mod serve;
mod service;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "arcbench",
    version,
    about = "Run a coding agent next to your repository; steer it from your phone."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the host: the engine and its API.
    Serve(Box<serve::ServeArgs>),
    /// Show a QR code (and link) that pairs a phone with the running host: a single-use code,
    /// valid 5 minutes, never the key.
    Pair(pair::PairArgs),
    /// List or revoke the devices paired with the running host.
    Devices(pair::DevicesArgs),
    /// Create or repair the managed Python venv with the pinned Aider.
    SetupAider {
        /// Where the database, key and venv live.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Run the host 24/7 as a per-user service (systemd user unit, macOS LaunchAgent).
    Service {
        #[command(subcommand)]
        action: service::Action,
    },
    /// Check that this machine can run the host; prints a fix for each problem.
    Doctor(doctor::DoctorArgs),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ARCBENCH_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(*args).map_err(|e| e.to_string()),
        Command::Pair(args) => pair::pair(args),
        Command::Devices(args) => pair::devices(args),
        Command::SetupAider { data_dir } => setup_aider(data_dir),
        Command::Service { action } => service::run(action),
        // Its exit code says whether any check failed.
        Command::Doctor(args) => return doctor::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arcbench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The same provisioning the host runs by itself, in the foreground.
fn setup_aider(data_dir: Option<PathBuf>) -> Result<(), String> {
    let runtime =
        arcbench_host::provision::ManagedRuntime::aider(&data_dir.unwrap_or_else(default_data_dir));
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let python = rt.block_on(runtime.provision(|line| eprintln!("{line}")))?;
    println!("{}", python.display());
    Ok(())
}

pub use arcbench_host::paths::default_data_dir;
