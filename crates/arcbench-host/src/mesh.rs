//! The host on its private mesh: what tailscaled says about this node, who may connect from a
//! tailnet address (WhoIs against the allowed logins), where the host can be reached, and
//! pairing (single-use codes redeemed for per-device keys). Transports ask; they decide nothing.

use std::net::SocketAddr;
use std::sync::RwLock;

use arcbench_engine::{Caller, EngineError};
use arcbench_mesh::{join_hint, MeshError, Node, Peer, Qr, Tailscale};
use shared_protocol::{Device, MeshStatus, PairRequest, PairResponse, PairingCode, TailscaleState};

use crate::Host;

/// What the mesh looks like now; the server's watcher keeps it current.
#[derive(Debug)]
pub(crate) struct MeshState {
    pub tailscale: Option<Tailscale>,
    pub status: RwLock<MeshStatus>,
    pub node: RwLock<Option<Node>>,
}

impl MeshState {
    pub fn new(tailscale: Option<Tailscale>) -> MeshState {
        let state = if tailscale.is_some() {
            TailscaleState::Absent
        } else {
            TailscaleState::NotUsed
        };
        MeshState {
            tailscale,
            status: RwLock::new(MeshStatus {
                tailscale: state,
                dns_name: None,
                ips: Vec::new(),
                https_url: None,
                urls: Vec::new(),
                hint: join_hint(state).map(str::to_owned),
            }),
            node: RwLock::new(None),
        }
    }
}

/// Why a connection from the tailnet is turned away (403, whatever key it holds).
#[derive(Debug, thiserror::Error)]
pub enum PeerRefusal {
    #[error(
        "{login} (on {node}) is not allowed to use this host; the host's owner can allow that \
         login with --allow-login or `allow_login` in config.toml"
    )]
    NotAllowed { login: String, node: String },
    #[error(
        "could not check who connects from {addr} with tailscaled ({source}); refused to be safe"
    )]
    Unverified { addr: SocketAddr, source: MeshError },
    #[error(
        "this host's node has no owner login (a tagged node?), so nobody is allowed by default: \
         name the allowed logins with --allow-login"
    )]
    NoOwner,
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

impl Host {
    pub fn tailscale(&self) -> Option<&Tailscale> {
        self.mesh.tailscale.as_ref()
    }

    pub fn mesh_status(&self) -> MeshStatus {
        read(&self.mesh.status).clone()
    }

    /// Asks tailscaled about this node and records the answer (or its absence, with what to do).
    /// `None` when tailscaled is not used, not there or not running.
    pub async fn refresh_mesh(&self) -> Option<Node> {
        let ts = self.mesh.tailscale.as_ref()?;
        let answer = ts.node().await;
        let node = match answer {
            Ok(node) => Some(node),
            Err(e) => {
                let mut status = write(&self.mesh.status);
                if status.tailscale != TailscaleState::Absent {
                    tracing::warn!(%e, "tailscaled is gone; serving loopback only");
                }
                status.tailscale = TailscaleState::Absent;
                status.dns_name = None;
                status.ips.clear();
                status.hint = Some(match e {
                    MeshError::Absent { .. } => join_hint(TailscaleState::Absent)
                        .unwrap_or_default()
                        .to_owned(),
                    other => other.to_string(),
                });
                *write(&self.mesh.node) = None;
                return None;
            }
        };
        let node = node?;
        {
            let mut status = write(&self.mesh.status);
            status.tailscale = node.state;
            status.dns_name = node.dns_name.clone();
            status.ips = node.ips.iter().map(ToString::to_string).collect();
            status.hint = join_hint(node.state).map(str::to_owned);
        }
        *write(&self.mesh.node) = Some(node.clone());
        (node.state == TailscaleState::Running).then_some(node)
    }

    /// Records a problem the user must fix to be reachable (a failed certificate fetch...).
    pub fn mesh_problem(&self, problem: Option<String>) {
        let mut status = write(&self.mesh.status);
        if status.tailscale == TailscaleState::Running {
            status.hint = problem;
        }
    }

    /// Records where the host listens (every URL) and its tailnet HTTPS URL: for `/status`,
    /// pairing links, and whoever finds the data dir taken.
    pub fn record_urls(&self, urls: Vec<String>, https_url: Option<String>) {
        {
            let mut status = write(&self.mesh.status);
            status.urls = urls.clone();
            status.https_url = https_url;
        }
        if let Err(e) = self.lock.set_urls(urls) {
            tracing::warn!(%e, "recording the host's address in its lock file");
        }
    }

    /// Whether a connection from `addr` may use the host. Addresses off the tailnet (loopback,
    /// an explicitly bound WireGuard address) carry no identity and pass to the key check; a
    /// tailnet peer must be one of the allowed logins (default: this node's owner), checked with
    /// tailscaled's WhoIs. An error asking counts as a refusal.
    pub async fn check_peer(&self, addr: SocketAddr) -> Result<Option<Peer>, PeerRefusal> {
        let Some(ts) = self.mesh.tailscale.as_ref() else {
            return Ok(None);
        };
        if !crate::config::is_tailnet(addr.ip()) {
            return Ok(None);
        }
        let peer = ts
            .whois(addr)
            .await
            .map_err(|source| PeerRefusal::Unverified { addr, source })?;
        let allowed = if self.config.allow_logins.is_empty() {
            let owner = read(&self.mesh.node)
                .as_ref()
                .and_then(|n| n.owner_login.clone());
            match owner {
                Some(owner) => owner == peer.login,
                None => return Err(PeerRefusal::NoOwner),
            }
        } else {
            self.config.allow_logins.contains(&peer.login)
        };
        if !allowed {
            return Err(PeerRefusal::NotAllowed {
                login: peer.login,
                node: peer.node,
            });
        }
        Ok(Some(peer))
    }

    /// Whose key `token` is: the master key or a paired device's; `None` for neither.
    pub fn caller(&self, token: &str) -> Option<Caller> {
        self.engine.caller(&self.key, token)
    }

    /// A single-use pairing code (five minutes), its links (tailnet HTTPS first) and their QR.
    pub fn pairing_code(&self) -> PairingCode {
        let issued = self.engine.issue_pairing_code();
        let status = self.mesh_status();
        let mut origins: Vec<String> = status.https_url.into_iter().collect();
        for url in status.urls {
            if !origins.contains(&url) && url.starts_with("http") {
                origins.push(url);
            }
        }
        let links: Vec<String> = origins
            .iter()
            .map(|o| format!("{o}/app/#/pair?code={}", issued.code))
            .collect();
        let qr_svg = links
            .first()
            .and_then(|l| Qr::new(l).ok())
            .map(|q| q.to_svg())
            .unwrap_or_default();
        PairingCode {
            code: issued.code,
            expires_at: issued.expires_at,
            links,
            qr_svg,
        }
    }

    pub async fn pair(&self, req: PairRequest) -> Result<PairResponse, EngineError> {
        let (device, key) = self
            .run(move |e| e.redeem_pairing_code(&req.code, &req.device_name))
            .await?;
        tracing::info!(device = %device.name, id = %device.id, "device paired");
        Ok(PairResponse { device, key })
    }

    pub async fn devices(&self) -> Result<Vec<Device>, EngineError> {
        self.run(|e| e.devices()).await
    }

    pub async fn revoke_device(&self, id: String) -> Result<Device, EngineError> {
        let device = self.run(move |e| e.revoke_device(&id)).await?;
        tracing::info!(device = %device.name, id = %device.id, "device revoked");
        Ok(device)
    }
}
