//! `arcbench pair` and `arcbench devices`: the running host's pairing codes and paired devices,
//! asked over its loopback API with the key from its data dir (the host that holds the data
//! dir's lock is the one asked; a code lives in that host's memory).

use std::path::{Path, PathBuf};

use serde_json::Value;
use shared_protocol::{Device, DevicesResponse, PairingCode};

#[derive(clap::Args)]
pub struct PairArgs {
    /// The data dir of the host to pair with.
    #[arg(long, env = "ARCBENCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Also write the QR code as a PNG image here.
    #[arg(long)]
    png: Option<PathBuf>,
    /// Also write the QR code as an SVG image here.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Print the code, its links and expiry as JSON instead of a QR code.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
pub enum DevicesAction {
    /// List the paired devices.
    List,
    /// Revoke a device's key: refused at once, its open connections closed.
    Revoke { id: String },
}

#[derive(clap::Args)]
pub struct DevicesArgs {
    #[command(subcommand)]
    action: DevicesAction,
    /// The data dir of the host whose devices these are.
    #[arg(long, global = true, env = "ARCBENCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

/// The running host's loopback URL and the key to call it with.
struct Local {
    url: String,
    key: String,
    http: reqwest::Client,
}

fn local(data_dir: Option<PathBuf>) -> Result<Local, String> {
    let dir = data_dir.unwrap_or_else(crate::default_data_dir);
    let holder = arcbench_host::lock::running_host(&dir).ok_or_else(|| {
        format!(
            "no host runs on the data dir {}: start one with `arcbench serve` (or the app)",
            dir.display()
        )
    })?;
    let url = holder
        .urls
        .iter()
        .find(|u| u.starts_with("http://"))
        .cloned()
        .ok_or_else(|| format!("the host ({holder}) does not listen on loopback yet; try again"))?;
    Ok(Local {
        url,
        key: key(&dir)?,
        http: reqwest::Client::new(),
    })
}

fn key(dir: &Path) -> Result<String, String> {
    if let Ok(k) = std::env::var("ARCBENCH_API_KEY") {
        return Ok(k.trim().to_owned());
    }
    let path = dir.join("api-key");
    std::fs::read_to_string(&path)
        .map(|k| k.trim().to_owned())
        .map_err(|e| format!("cannot read the host's key at {}: {e}", path.display()))
}

impl Local {
    async fn call(&self, method: reqwest::Method, path: &str) -> Result<Value, String> {
        let res = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.key)
            .json(&serde_json::json!({}))
            .send()
            .await
            .map_err(|e| format!("the host at {} did not answer: {e}", self.url))?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["message"].as_str().unwrap_or("no message");
            return Err(format!("the host refused ({status}): {message}"));
        }
        Ok(body)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| e.to_string())
}

pub fn pair(args: PairArgs) -> Result<(), String> {
    let local = local(args.data_dir)?;
    let code: PairingCode = runtime()?
        .block_on(local.call(reqwest::Method::POST, "/pairing-codes"))
        .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))?;
    let link = code
        .links
        .first()
        .ok_or("the host has no address to pair with")?;
    let qr = arcbench_mesh::Qr::new(link).map_err(|e| e.to_string())?;
    if let Some(path) = &args.png {
        std::fs::write(path, qr.to_png(8)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, qr.to_svg()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if args.json {
        let out = serde_json::json!({
            "code": code.code, "expires_at": code.expires_at, "links": code.links,
        });
        println!("{out}");
        return Ok(());
    }
    println!("{}", qr.to_terminal());
    println!("Scan with your phone's camera, or open on the phone:\n  {link}");
    for other in &code.links[1..] {
        println!("  {other}");
    }
    println!(
        "Code {} works once, until {} (5 minutes).",
        code.code, code.expires_at
    );
    Ok(())
}

pub fn devices(args: DevicesArgs) -> Result<(), String> {
    let local = local(args.data_dir)?;
    let rt = runtime()?;
    match args.action {
        DevicesAction::List => {
            let list: DevicesResponse =
                rt.block_on(local.call(reqwest::Method::GET, "/devices"))
                    .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))?;
            if list.devices.is_empty() {
                println!("no paired devices (pair one with `arcbench pair`)");
            }
            for d in list.devices {
                println!(
                    "{}  {}  paired {}  last seen {}",
                    d.id,
                    d.name,
                    d.created_at,
                    d.last_seen_at.as_deref().unwrap_or("never")
                );
            }
        }
        DevicesAction::Revoke { id } => {
            let d: Device = rt
                .block_on(local.call(reqwest::Method::DELETE, &format!("/devices/{id}")))
                .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))?;
            println!("revoked {} ({})", d.name, d.id);
        }
    }
    Ok(())
}
