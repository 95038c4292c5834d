//! `fake-tailscaled`: the library's fake LocalAPI as a process, for shell and Node tests.
//!
//! Prints `listening on PATH` once the socket accepts connections (and the CA is written),
//! then serves until SIGTERM/SIGINT, or until stdin closes with `--exit-on-stdin-eof` so a
//! test harness that dies cannot leak the process. In that mode stdin also takes one
//! command per line, answered by `ok` or `error: …` on stdout:
//! `state S` · `ips IP,IP` · `peer IP=LOGIN[,HOST]` · `remove-peer IP` ·
//! `fail-whois|fail-cert|fail-status on|off` · `reissue` · `stop` · `start`.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fake_tailscaled::{FakeTailscaled, TailnetConfig};
use tokio::io::AsyncBufReadExt;
use tokio::signal::unix::{signal, SignalKind};

#[derive(Parser)]
#[command(
    name = "fake-tailscaled",
    about = "Local stand-in for tailscaled's LocalAPI on a unix socket (tests only)."
)]
struct Args {
    /// Unix socket to serve the LocalAPI on.
    #[arg(long)]
    socket: PathBuf,
    /// This node's Tailscale IP (repeatable). Default: 100.64.0.1 and fd7a:115c:a1e0::1.
    #[arg(long = "ip")]
    ips: Vec<IpAddr>,
    /// This node's MagicDNS name; the suffix and cert domain derive from it.
    #[arg(long, default_value = "laptop.tail1234.ts.net.")]
    dns_name: String,
    /// Login of this node's owner.
    #[arg(long, default_value = "alice@example.com")]
    login: String,
    /// A peer, as IP=LOGIN or IP=LOGIN,HOSTNAME (repeatable).
    #[arg(long = "peer", value_parser = parse_peer)]
    peers: Vec<PeerArg>,
    /// Domain certificates may be fetched for (repeatable). Default: the DNS name.
    #[arg(long = "cert-domain")]
    cert_domains: Vec<String>,
    /// BackendState to report.
    #[arg(long, default_value = "Running")]
    state: String,
    /// Lifetime of issued leaves, e.g. `90d`, `30s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    cert_validity: Option<Duration>,
    /// Write the root CA certificate (PEM) here before reporting ready.
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Exit when stdin closes; read control commands from it meanwhile.
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

#[derive(Clone)]
struct PeerArg {
    ip: IpAddr,
    login: String,
    host: Option<String>,
}

fn parse_peer(value: &str) -> Result<PeerArg, String> {
    let (ip, rest) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?}: want IP=LOGIN[,HOSTNAME]"))?;
    let ip = ip
        .parse()
        .map_err(|e| format!("{value:?}: bad IP {ip:?}: {e}"))?;
    let (login, host) = match rest.split_once(',') {
        Some((login, host)) => (login, Some(host.to_owned())),
        None => (rest, None),
    };
    if login.is_empty() {
        return Err(format!("{value:?}: empty login"));
    }
    Ok(PeerArg {
        ip,
        login: login.to_owned(),
        host,
    })
}

fn add_peer(fake: &FakeTailscaled, peer: &PeerArg, ordinal: usize) {
    let host = peer
        .host
        .clone()
        .unwrap_or_else(|| format!("peer-{ordinal}"));
    fake.add_peer(peer.ip, &peer.login, &host);
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let defaults = TailnetConfig::default();
    let ips = if args.ips.is_empty() {
        defaults.self_ips
    } else {
        args.ips.clone()
    };
    let mut config = TailnetConfig::new(&args.dns_name, ips, &args.login);
    config.backend_state = args.state.clone();
    if !args.cert_domains.is_empty() {
        config.cert_domains = args.cert_domains.clone();
    }
    if let Some(validity) = args.cert_validity {
        config.cert_validity = validity;
    }

    let fake = match FakeTailscaled::start(&args.socket, config).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("fake-tailscaled: {}: {e}", args.socket.display());
            return ExitCode::FAILURE;
        }
    };
    for (i, peer) in args.peers.iter().enumerate() {
        add_peer(&fake, peer, i + 1);
    }
    if let Some(path) = &args.ca_out {
        if let Err(e) = std::fs::write(path, fake.ca_pem()) {
            eprintln!("fake-tailscaled: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!("listening on {}", args.socket.display());

    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("fake-tailscaled: signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    let control = async {
        if !args.exit_on_stdin_eof {
            return std::future::pending().await;
        }
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut added = args.peers.len();
        while let Ok(Some(line)) = lines.next_line().await {
            let answer = match command(&fake, line.trim(), &mut added).await {
                Ok(()) => "ok".to_owned(),
                Err(e) => format!("error: {e}"),
            };
            println!("{answer}");
            let _ = std::io::stdout().flush();
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        () = control => {}
    }
    // Dropping `fake` removes the socket file.
    drop(fake);
    ExitCode::SUCCESS
}

async fn command(fake: &FakeTailscaled, line: &str, added: &mut usize) -> Result<(), String> {
    let (verb, arg) = line.split_once(' ').unwrap_or((line, ""));
    let arg = arg.trim();
    let switch = |arg: &str| match arg {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{verb}: want on|off, got {arg:?}")),
    };
    match verb {
        "" => Ok(()),
        "state" => {
            fake.set_state(arg);
            Ok(())
        }
        "ips" => {
            let ips = arg
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.trim().parse().map_err(|e| format!("bad IP {s:?}: {e}")))
                .collect::<Result<Vec<IpAddr>, String>>()?;
            fake.set_ips(ips);
            Ok(())
        }
        "peer" => {
            let peer = parse_peer(arg)?;
            *added += 1;
            add_peer(fake, &peer, *added);
            Ok(())
        }
        "remove-peer" => {
            let ip: IpAddr = arg.parse().map_err(|e| format!("bad IP {arg:?}: {e}"))?;
            if fake.remove_peer(ip) {
                Ok(())
            } else {
                Err(format!("no peer has {ip}"))
            }
        }
        "fail-whois" => switch(arg).map(|on| fake.fail_whois(on)),
        "fail-cert" => switch(arg).map(|on| fake.fail_cert(on)),
        "fail-status" => switch(arg).map(|on| fake.fail_status(on)),
        "reissue" => fake.reissue().map_err(|e| e.to_string()),
        "stop" => {
            fake.stop();
            Ok(())
        }
        "start" => fake.restart().await.map_err(|e| e.to_string()),
        _ => Err(format!("unknown command {verb:?}")),
    }
}
