//! tailscaled's LocalAPI, through the `tailscale-localapi` crate: the node's state, addresses and
//! MagicDNS name, who is behind a peer address (WhoIs), and the node's HTTPS certificate. Every
//! call has a deadline: a hung tailscaled must not hang the host or a client's connection.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use shared_protocol::TailscaleState;
use tailscale_localapi::{BackendState, LocalApi, UnixStreamClient};

/// Where tailscaled listens on Linux (`ARCBENCH_TAILSCALE_SOCKET` or `--tailscale-socket`
/// point elsewhere).
pub const DEFAULT_SOCKET: &str = "/var/run/tailscale/tailscaled.sock";

/// How long one LocalAPI call may take.
const CALL_DEADLINE: Duration = Duration::from_secs(5);

/// What a host needs to know about its node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub state: TailscaleState,
    /// The MagicDNS name without its trailing dot (`laptop.tail1234.ts.net`).
    pub dns_name: Option<String>,
    pub ips: Vec<IpAddr>,
    /// The login of the user who owns this node: by default the only one allowed in.
    pub owner_login: Option<String>,
    /// Names tailscaled can get a certificate for (empty: HTTPS is off for the tailnet).
    pub cert_domains: Vec<String>,
}

/// Who is behind a tailnet address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub login: String,
    pub node: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    #[error("no tailscaled answers on {}: {reason}", socket.display())]
    Absent { socket: PathBuf, reason: String },
    #[error("tailscaled did not answer within {}s", CALL_DEADLINE.as_secs())]
    Timeout,
    #[error("tailscaled's answer about {what} was unusable: {reason}")]
    Api { what: String, reason: String },
    #[error(
        "no HTTPS certificate for {domain} from tailscaled ({reason}); enable HTTPS certificates \
         for your tailnet (admin console → DNS → HTTPS Certificates)"
    )]
    Cert { domain: String, reason: String },
    #[error("the certificate for {domain} is unusable: {reason}")]
    BadCert { domain: String, reason: String },
}

/// A client of one tailscaled.
#[derive(Clone)]
pub struct Tailscale {
    api: LocalApi<UnixStreamClient>,
    socket: PathBuf,
}

impl std::fmt::Debug for Tailscale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tailscale")
            .field("socket", &self.socket)
            .finish()
    }
}

impl Tailscale {
    pub fn new(socket: &Path) -> Tailscale {
        Tailscale {
            api: LocalApi::new_with_socket_path(socket),
            socket: socket.to_path_buf(),
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    async fn call<T>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = tailscale_localapi::Result<T>>,
    ) -> Result<T, MeshError> {
        match tokio::time::timeout(CALL_DEADLINE, f).await {
            Err(_) => Err(MeshError::Timeout),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(tailscale_localapi::Error::IoError(e))) => Err(MeshError::Absent {
                socket: self.socket.clone(),
                reason: e.to_string(),
            }),
            Ok(Err(e)) => Err(MeshError::Api {
                what: what.to_owned(),
                reason: error_chain(&e),
            }),
        }
    }

    /// The node's state. No socket (tailscaled not installed or not running) is `Absent`.
    pub async fn node(&self) -> Result<Node, MeshError> {
        let status = self.call("status", self.api.status()).await?;
        let state = match status.backend_state {
            BackendState::Running => TailscaleState::Running,
            BackendState::NeedsLogin | BackendState::NeedsMachineAuth => TailscaleState::NeedsLogin,
            _ => TailscaleState::Stopped,
        };
        let dns_name = Some(status.self_status.dnsname.trim_end_matches('.').to_owned())
            .filter(|n| !n.is_empty());
        let owner_login = status
            .user
            .get(&status.self_status.user_id)
            .map(|u| u.login_name.clone())
            .filter(|l| !l.is_empty());
        let running = state == TailscaleState::Running;
        Ok(Node {
            state,
            dns_name: if running { dns_name } else { None },
            ips: if running {
                status.tailscale_ips
            } else {
                Vec::new()
            },
            owner_login,
            cert_domains: status
                .cert_domains
                .iter()
                .map(|d| d.trim_end_matches('.').to_owned())
                .collect(),
        })
    }

    /// Who connects from `addr`: the login that owns the peer's node.
    pub async fn whois(&self, addr: SocketAddr) -> Result<Peer, MeshError> {
        let who = self.call("whois", self.api.whois(addr)).await?;
        if who.user_profile.login_name.is_empty() {
            return Err(MeshError::Api {
                what: "whois".into(),
                reason: format!("no login for {addr}"),
            });
        }
        Ok(Peer {
            login: who.user_profile.login_name,
            node: who.node.computed_name,
        })
    }

    /// The node's certificate for `domain`, ready to serve. tailscaled renews it by itself when
    /// a third of its life is left, at the next request: asking regularly is how a host renews.
    pub async fn certificate(
        &self,
        domain: &str,
    ) -> Result<Arc<rustls::sign::CertifiedKey>, MeshError> {
        let (key, chain) = self
            .call("cert", self.api.certificate_pair(domain))
            .await
            .map_err(|e| match e {
                MeshError::Api { reason, .. } => MeshError::Cert {
                    domain: domain.to_owned(),
                    reason,
                },
                other => other,
            })?;
        crate::tls::certified_key(key.0, chain.into_iter().map(|c| c.0).collect()).map_err(
            |reason| MeshError::BadCert {
                domain: domain.to_owned(),
                reason,
            },
        )
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// What to tell a user whose host is not on a tailnet, by state.
pub fn join_hint(state: TailscaleState) -> Option<&'static str> {
    match state {
        TailscaleState::Absent => Some(
            "Tailscale is not running on this machine: install it (tailscale.com/download) and run \
             `sudo tailscale up`, then restart the host to reach it from your phone over your \
             private tailnet. Without it the host serves this machine only (loopback); plain \
             WireGuard users can name an address with --bind.",
        ),
        TailscaleState::NeedsLogin => Some(
            "tailscaled runs but this machine is not logged in: run `sudo tailscale up` and \
             follow the link.",
        ),
        TailscaleState::Stopped => Some("Tailscale is stopped: run `sudo tailscale up`."),
        TailscaleState::Running | TailscaleState::NotUsed => None,
    }
}
