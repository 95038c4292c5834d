//! A stand-in for tailscaled's LocalAPI, for tests only.
//!
//! It speaks HTTP/1.1 on a real unix socket and answers `status`, `whois` and `cert`
//! with the JSON and PEM tailscaled produces, so the real client (`tailscale-localapi`)
//! and the host code above it run unmodified. Everything a test needs to steer (backend
//! state, IPs, peers, failures, certificate renewal, the daemon going away) is a method
//! on [`FakeTailscaled`].
//!
//! Shapes served, and the deliberate fidelity points:
//! - `GET /localapi/v0/status[?peers=false]` → `ipnstate.Status` JSON (see `wire.rs`);
//!   empty lists/maps are `null` as in Go.
//! - `GET /localapi/v0/whois?addr=IP[:PORT]|nodekey:…` → `{"Node":…,"UserProfile":…}`;
//!   unknown → 404 `no match for IP:port`; bad/missing addr → 400.
//! - `GET /localapi/v0/cert/DOMAIN?type=pair|key|cert` → `text/plain` PEM: a SEC1
//!   `EC PRIVATE KEY` then leaf and intermediate `CERTIFICATE`s. Only exact
//!   `cert_domains` entries (no trailing dot) are accepted; others → 500 with
//!   tailscaled's message.
//! - Anything else → 404 `404 page not found`.

mod pki;
mod wire;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::pki::Pki;
use crate::wire::GO_ZERO_TIME;

/// What the fake tailnet looks like from this node. Every field can be changed while
/// serving through [`FakeTailscaled::update_config`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TailnetConfig {
    /// `NoState`, `NeedsLogin`, `NeedsMachineAuth`, `Stopped`, `Starting` or `Running`.
    pub backend_state: String,
    pub self_ips: Vec<IpAddr>,
    /// MagicDNS FQDN of this node, with the trailing dot tailscaled writes.
    pub dns_name: String,
    /// Login of the node's owner; empty means logged out (no `User` map).
    pub self_login: String,
    /// `CurrentTailnet.Name`; empty means `CurrentTailnet: null`.
    pub tailnet_name: String,
    /// Without dots at either end, e.g. `tail1234.ts.net`.
    pub magic_dns_suffix: String,
    pub magic_dns_enabled: bool,
    /// Domains a certificate may be fetched for (no trailing dot), as `Status.CertDomains`.
    pub cert_domains: Vec<String>,
    /// Lifetime of each leaf issued from now on (see [`FakeTailscaled::reissue`]).
    pub cert_validity: Duration,
    pub version: String,
    pub auth_url: String,
    /// `Status.Health` warnings.
    pub health: Vec<String>,
}

impl TailnetConfig {
    /// A running node named `dns_name` (trailing dot optional) owned by `self_login`, with
    /// the MagicDNS suffix, tailnet name and certificate domain derived as tailscaled would.
    pub fn new(dns_name: &str, self_ips: Vec<IpAddr>, self_login: &str) -> Self {
        let bare = dns_name.trim_end_matches('.');
        let magic_dns_suffix = bare.split_once('.').map_or("", |(_, s)| s).to_owned();
        Self {
            backend_state: "Running".to_owned(),
            self_ips,
            dns_name: format!("{bare}."),
            self_login: self_login.to_owned(),
            tailnet_name: self_login.to_owned(),
            magic_dns_suffix,
            magic_dns_enabled: true,
            cert_domains: vec![bare.to_owned()],
            cert_validity: Duration::from_secs(90 * 24 * 60 * 60),
            version: "1.80.2-fake".to_owned(),
            auth_url: String::new(),
            health: Vec::new(),
        }
    }

    fn host_name(&self) -> &str {
        self.dns_name.split('.').next().unwrap_or_default()
    }
}

impl Default for TailnetConfig {
    /// `laptop.tail1234.ts.net.` at 100.64.0.1 / fd7a:115c:a1e0::1, owned by alice@example.com.
    fn default() -> Self {
        Self::new(
            "laptop.tail1234.ts.net.",
            vec![
                IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1)),
                IpAddr::V6(Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, 1)),
            ],
            "alice@example.com",
        )
    }
}

struct Peer {
    index: u64,
    ips: Vec<IpAddr>,
    login: String,
    host_name: String,
}

struct State {
    config: TailnetConfig,
    peers: Vec<Peer>,
    next_peer_index: u64,
    /// Logins in first-seen order; a login's UserID is derived from its position so it is
    /// stable for the life of the fake.
    logins: Vec<String>,
    fail_whois: bool,
    fail_cert: bool,
    fail_status: bool,
    requests: Vec<String>,
    cert_requests: usize,
    whois_requests: usize,
    status_requests: usize,
    pki: Pki,
    started: String,
}

struct Shared {
    socket_path: PathBuf,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not turn every later request into a second panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake tailscaled. Serves until dropped; dropping removes the socket.
pub struct FakeTailscaled {
    shared: Arc<Shared>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl FakeTailscaled {
    /// Generates the test CA, issues a leaf for each of `config.cert_domains` and starts
    /// serving on `socket_path`. A stale socket file at that path is replaced (as
    /// tailscaled does); any other existing file is an error. Serving runs on the calling
    /// tokio runtime, so it ends with that runtime.
    pub async fn start(socket_path: &Path, config: TailnetConfig) -> io::Result<Self> {
        let mut pki = Pki::new()?;
        for domain in &config.cert_domains {
            pki.issue(domain, config.cert_validity)?;
        }
        let mut state = State {
            config,
            peers: Vec::new(),
            next_peer_index: 1,
            logins: Vec::new(),
            fail_whois: false,
            fail_cert: false,
            fail_status: false,
            requests: Vec::new(),
            cert_requests: 0,
            whois_requests: 0,
            status_requests: 0,
            pki,
            started: now_rfc3339(),
        };
        let login = state.config.self_login.clone();
        state.user_id(&login);
        let fake = Self {
            shared: Arc::new(Shared {
                socket_path: socket_path.to_owned(),
                state: Mutex::new(state),
            }),
            server: Mutex::new(None),
        };
        fake.listen()?;
        Ok(fake)
    }

    fn listen(&self) -> io::Result<()> {
        let path = &self.shared.socket_path;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if meta.file_type().is_socket() {
                std::fs::remove_file(path)?;
            }
        }
        let listener = UnixListener::bind(path)?;
        let task = tokio::spawn(serve(listener, Arc::clone(&self.shared)));
        *self.server.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Ok(())
    }

    pub fn socket_path(&self) -> &Path {
        &self.shared.socket_path
    }

    /// Simulates tailscaled exiting: the socket file disappears (new connections fail with
    /// `NotFound`) and open connections are dropped. State, peers and certificates are kept
    /// for [`restart`](Self::restart). Idempotent.
    pub fn stop(&self) {
        let task = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            // Unlink first: it takes effect at once, whereas the abort lands at the task's
            // next poll.
            let _ = std::fs::remove_file(&self.shared.socket_path);
            task.abort();
        }
    }

    /// Serves again on the same path, as after tailscaled restarts (stopping first if
    /// still running).
    pub async fn restart(&self) -> io::Result<()> {
        self.stop();
        self.listen()
    }

    pub fn is_running(&self) -> bool {
        self.server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }

    pub fn config(&self) -> TailnetConfig {
        self.shared.lock().config.clone()
    }

    /// Changes anything about the node; the next `status` shows it. Certificates already
    /// issued are kept; a newly listed cert domain gets its leaf on first fetch.
    pub fn update_config(&self, change: impl FnOnce(&mut TailnetConfig)) {
        let mut state = self.shared.lock();
        change(&mut state.config);
        let login = state.config.self_login.clone();
        state.user_id(&login);
    }

    pub fn set_state(&self, backend_state: impl Into<String>) {
        let backend_state = backend_state.into();
        self.update_config(|c| c.backend_state = backend_state);
    }

    pub fn set_ips(&self, ips: Vec<IpAddr>) {
        self.update_config(|c| c.self_ips = ips);
    }

    /// Adds a peer node owning `ip`, or re-assigns `ip`'s existing peer to `login`.
    pub fn add_peer(&self, ip: IpAddr, login: &str, host_name: &str) {
        let mut state = self.shared.lock();
        state.user_id(login);
        if let Some(peer) = state.peers.iter_mut().find(|p| p.ips.contains(&ip)) {
            peer.login = login.to_owned();
            peer.host_name = host_name.to_owned();
            return;
        }
        let index = state.next_peer_index;
        state.next_peer_index += 1;
        state.peers.push(Peer {
            index,
            ips: vec![ip],
            login: login.to_owned(),
            host_name: host_name.to_owned(),
        });
    }

    /// Removes the peer owning `ip`; returns whether there was one.
    pub fn remove_peer(&self, ip: IpAddr) -> bool {
        let mut state = self.shared.lock();
        let before = state.peers.len();
        state.peers.retain(|p| !p.ips.contains(&ip));
        state.peers.len() != before
    }

    /// While set, `whois` answers HTTP 500.
    pub fn fail_whois(&self, fail: bool) {
        self.shared.lock().fail_whois = fail;
    }

    /// While set, `cert/…` answers HTTP 500 (as when the ACME order fails).
    pub fn fail_cert(&self, fail: bool) {
        self.shared.lock().fail_cert = fail;
    }

    /// While set, `status` answers HTTP 500.
    pub fn fail_status(&self, fail: bool) {
        self.shared.lock().fail_status = fail;
    }

    /// Issues a fresh leaf (new key, so new serial; validity from now for
    /// `cert_validity`) for every cert domain, as a renewal would.
    pub fn reissue(&self) -> io::Result<()> {
        let mut state = self.shared.lock();
        let State { config, pki, .. } = &mut *state;
        let mut domains = config.cert_domains.clone();
        for issued in pki.issued_domains() {
            if !domains.contains(&issued) {
                domains.push(issued);
            }
        }
        for domain in domains {
            pki.issue(&domain, config.cert_validity)?;
        }
        Ok(())
    }

    /// The root CA (PEM), the only certificate a test client should trust.
    pub fn ca_pem(&self) -> String {
        self.shared.lock().pki.ca_pem().to_owned()
    }

    /// The root CA (DER).
    pub fn ca_der(&self) -> Vec<u8> {
        self.shared.lock().pki.ca_der().to_vec()
    }

    /// The leaf currently served for `domain` (DER), if one was issued.
    pub fn leaf_der(&self, domain: &str) -> Option<Vec<u8>> {
        self.shared
            .lock()
            .pki
            .leaf(domain)
            .map(|l| l.leaf_der.clone())
    }

    /// `cert/…` requests answered so far, failures included.
    pub fn cert_requests(&self) -> usize {
        self.shared.lock().cert_requests
    }

    /// `whois` requests answered so far, failures included.
    pub fn whois_requests(&self) -> usize {
        self.shared.lock().whois_requests
    }

    /// `status` requests answered so far, failures included.
    pub fn status_requests(&self) -> usize {
        self.shared.lock().status_requests
    }

    /// Path and query of every request, in arrival order, e.g.
    /// `/localapi/v0/whois?addr=100.64.0.2:443`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }
}

impl Drop for FakeTailscaled {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(listener: UnixListener, shared: Arc<Shared>) {
    // Connections live in this set so aborting the serve task drops them too, as the
    // daemon exiting would.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let response = handle(&shared, &req);
                            async move { Ok::<_, Infallible>(response) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

type Reply = Response<Full<Bytes>>;

fn handle(shared: &Shared, req: &Request<Incoming>) -> Reply {
    let uri = req.uri();
    let path = percent_decode(uri.path(), false);
    let query = uri.query().unwrap_or_default();
    let mut state = shared.lock();
    state.requests.push(
        uri.path_and_query()
            .map_or(uri.path(), |p| p.as_str())
            .to_owned(),
    );

    if path == "/localapi/v0/status" {
        state.status_requests += 1;
        if state.fail_status {
            return go_error(StatusCode::INTERNAL_SERVER_ERROR, "injected status failure");
        }
        let with_peers = query_param(query, "peers").is_none_or(|v| !go_false(&v));
        json_reply(&state.status(with_peers))
    } else if path == "/localapi/v0/whois" {
        state.whois_requests += 1;
        if state.fail_whois {
            return go_error(StatusCode::INTERNAL_SERVER_ERROR, "injected whois failure");
        }
        state.whois(query)
    } else if let Some(domain) = path.strip_prefix("/localapi/v0/cert/") {
        state.cert_requests += 1;
        state.cert(domain, query)
    } else {
        go_error(StatusCode::NOT_FOUND, "404 page not found")
    }
}

impl State {
    fn user_id(&mut self, login: &str) -> i64 {
        const USER_ID_BASE: i64 = 3_066_361_403_632_000;
        let position = match self.logins.iter().position(|l| l == login) {
            Some(p) => p,
            None => {
                self.logins.push(login.to_owned());
                self.logins.len() - 1
            }
        };
        USER_ID_BASE + position as i64
    }

    fn profile(&mut self, login: &str) -> wire::UserProfile {
        wire::UserProfile {
            id: self.user_id(login),
            login_name: login.to_owned(),
            display_name: display_name(login),
        }
    }

    fn status(&mut self, with_peers: bool) -> wire::Status {
        let config = self.config.clone();
        let self_login = config.self_login.clone();
        let mut users = BTreeMap::new();
        if !self_login.is_empty() {
            let profile = self.profile(&self_login);
            users.insert(profile.id.to_string(), profile);
        }
        let logged_in = !matches!(config.backend_state.as_str(), "NoState" | "NeedsLogin");

        let self_status = wire::PeerStatus {
            id: stable_id(0),
            public_key: node_key(0),
            host_name: config.host_name().to_owned(),
            dns_name: config.dns_name.clone(),
            os: "linux".to_owned(),
            user_id: if self_login.is_empty() {
                0
            } else {
                self.user_id(&self_login)
            },
            tailscale_ips: non_empty(config.self_ips.iter().map(IpAddr::to_string).collect()),
            allowed_ips: non_empty(config.self_ips.iter().map(|ip| prefix(*ip)).collect()),
            addrs: Some(vec!["192.0.2.10:41641".to_owned()]),
            cur_addr: String::new(),
            relay: "nyc".to_owned(),
            rx_bytes: 0,
            tx_bytes: 0,
            created: "2024-05-01T12:00:00Z".to_owned(),
            last_write: GO_ZERO_TIME.to_owned(),
            last_seen: GO_ZERO_TIME.to_owned(),
            last_handshake: GO_ZERO_TIME.to_owned(),
            online: config.backend_state == "Running",
            exit_node: false,
            exit_node_option: false,
            active: false,
            peer_api_url: non_empty(
                config
                    .self_ips
                    .iter()
                    .map(|ip| format!("http://{}", SocketAddr::new(*ip, 50000)))
                    .collect(),
            ),
            taildrop_target: 0,
            no_file_sharing_reason: String::new(),
            in_network_map: true,
            in_magic_sock: false,
            in_engine: false,
            key_expiry: "2099-01-01T00:00:00Z".to_owned(),
        };

        let mut peers = BTreeMap::new();
        if with_peers {
            let listed: Vec<(u64, Vec<IpAddr>, String, String)> = self
                .peers
                .iter()
                .map(|p| (p.index, p.ips.clone(), p.login.clone(), p.host_name.clone()))
                .collect();
            for (index, ips, login, host_name) in listed {
                let profile = self.profile(&login);
                let status = wire::PeerStatus {
                    id: stable_id(index),
                    public_key: node_key(index),
                    host_name: host_name.clone(),
                    dns_name: format!("{host_name}.{}.", config.magic_dns_suffix),
                    os: "linux".to_owned(),
                    user_id: profile.id,
                    tailscale_ips: non_empty(ips.iter().map(IpAddr::to_string).collect()),
                    allowed_ips: non_empty(ips.iter().map(|ip| prefix(*ip)).collect()),
                    addrs: None,
                    cur_addr: String::new(),
                    relay: "nyc".to_owned(),
                    rx_bytes: 0,
                    tx_bytes: 0,
                    created: "2024-05-01T12:00:00Z".to_owned(),
                    last_write: GO_ZERO_TIME.to_owned(),
                    last_seen: self.started.clone(),
                    last_handshake: GO_ZERO_TIME.to_owned(),
                    online: true,
                    exit_node: false,
                    exit_node_option: false,
                    active: false,
                    peer_api_url: non_empty(
                        ips.iter()
                            .map(|ip| format!("http://{}", SocketAddr::new(*ip, 50000)))
                            .collect(),
                    ),
                    taildrop_target: 0,
                    no_file_sharing_reason: String::new(),
                    in_network_map: true,
                    in_magic_sock: true,
                    in_engine: true,
                    key_expiry: "2099-01-01T00:00:00Z".to_owned(),
                };
                users.insert(profile.id.to_string(), profile);
                peers.insert(node_key(index), status);
            }
        }

        wire::Status {
            version: config.version.clone(),
            tun: true,
            backend_state: config.backend_state.clone(),
            have_node_key: logged_in,
            auth_url: config.auth_url.clone(),
            tailscale_ips: non_empty(config.self_ips.iter().map(IpAddr::to_string).collect()),
            self_status,
            health: non_empty(config.health.clone()),
            magic_dns_suffix: config.magic_dns_suffix.clone(),
            current_tailnet: (!config.tailnet_name.is_empty()).then(|| wire::TailnetStatus {
                name: config.tailnet_name.clone(),
                magic_dns_suffix: config.magic_dns_suffix.clone(),
                magic_dns_enabled: config.magic_dns_enabled,
            }),
            cert_domains: non_empty(config.cert_domains.clone()),
            peer: (!peers.is_empty()).then_some(peers),
            user: (!users.is_empty()).then_some(users),
        }
    }

    fn whois(&mut self, query: &str) -> Reply {
        let Some(addr) = query_param(query, "addr").filter(|a| !a.is_empty()) else {
            return go_error(StatusCode::BAD_REQUEST, "missing 'addr' parameter");
        };
        // (index, ips, login, host name) of the matching node; index 0 is this node.
        let found = if addr.starts_with("nodekey:") {
            if addr == node_key(0) {
                Some(self.self_node())
            } else {
                self.peers
                    .iter()
                    .find(|p| node_key(p.index) == addr)
                    .map(Peer::node)
            }
        } else {
            let ip = match addr.parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => match addr.parse::<SocketAddr>() {
                    Ok(sa) => sa.ip(),
                    Err(_) => return go_error(StatusCode::BAD_REQUEST, "invalid 'addr' parameter"),
                },
            };
            // A logged-out node has no self entry in its netmap to match against.
            if self.config.self_ips.contains(&ip) && !self.config.self_login.is_empty() {
                Some(self.self_node())
            } else {
                self.peers
                    .iter()
                    .find(|p| p.ips.contains(&ip))
                    .map(Peer::node)
            }
        };
        let Some((index, ips, login, host_name)) = found else {
            return go_error(StatusCode::NOT_FOUND, "no match for IP:port");
        };

        let user_profile = self.profile(&login);
        let addresses: Vec<String> = ips.iter().map(|ip| prefix(*ip)).collect();
        let name = format!("{host_name}.{}.", self.config.magic_dns_suffix);
        json_reply(&wire::WhoIs {
            node: wire::Node {
                id: 7_285_432_100_000_000 + index as i64,
                stable_id: stable_id(index),
                name,
                user: user_profile.id,
                key: node_key(index),
                key_expiry: "2099-01-01T00:00:00Z".to_owned(),
                machine: hex_key("mkey", index),
                disco_key: hex_key("discokey", index),
                addresses: addresses.clone(),
                allowed_ips: addresses,
                endpoints: vec!["192.0.2.10:41641".to_owned()],
                home_derp: 1,
                hostinfo: wire::Hostinfo {
                    ipn_version: self.config.version.clone(),
                    os: "linux".to_owned(),
                    hostname: host_name.clone(),
                },
                created: "2024-05-01T12:00:00Z".to_owned(),
                cap: 106,
                online: true,
                machine_authorized: true,
                computed_name: host_name.clone(),
                computed_name_with_host: host_name,
            },
            user_profile,
        })
    }

    fn self_node(&self) -> (u64, Vec<IpAddr>, String, String) {
        (
            0,
            self.config.self_ips.clone(),
            self.config.self_login.clone(),
            self.config.host_name().to_owned(),
        )
    }

    fn cert(&mut self, domain: &str, query: &str) -> Reply {
        if self.fail_cert {
            return go_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "acme.GetReg: injected cert failure",
            );
        }
        let looks_valid = !domain.is_empty()
            && !domain.contains("..")
            && !domain.contains([':', '/', '\\', '\0'])
            && domain.contains('.');
        if !looks_valid {
            return go_error(StatusCode::INTERNAL_SERVER_ERROR, "invalid domain");
        }
        let domains = &self.config.cert_domains;
        if !domains.iter().any(|d| d == domain) {
            let message = if domains.is_empty() {
                "your Tailscale account does not support getting TLS certs".to_owned()
            } else {
                let quoted: Vec<String> = domains.iter().map(|d| format!("{d:?}")).collect();
                format!(
                    "invalid domain {domain:?}; must be one of [{}]",
                    quoted.join(" ")
                )
            };
            return go_error(StatusCode::INTERNAL_SERVER_ERROR, &message);
        }
        let leaf = match self.pki.leaf(domain) {
            Some(leaf) => leaf.clone(),
            None => match self.pki.issue(domain, self.config.cert_validity) {
                Ok(leaf) => leaf,
                Err(e) => return go_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            },
        };
        let body = match query_param(query, "type").as_deref().unwrap_or_default() {
            "" | "crt" | "cert" => leaf.chain_pem,
            "key" => leaf.key_pem,
            "pair" => leaf.key_pem + &leaf.chain_pem,
            _ => {
                return go_error(
                    StatusCode::BAD_REQUEST,
                    r#"invalid type; want "cert" (default), "key", or "pair""#,
                )
            }
        };
        reply(StatusCode::OK, "text/plain", body.into_bytes())
    }
}

impl Peer {
    fn node(&self) -> (u64, Vec<IpAddr>, String, String) {
        (
            self.index,
            self.ips.clone(),
            self.login.clone(),
            self.host_name.clone(),
        )
    }
}

fn reply(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Go's `http.Error`: the message plus a newline, as plain text.
fn go_error(status: StatusCode, message: &str) -> Reply {
    let mut response = reply(
        status,
        "text/plain; charset=utf-8",
        format!("{message}\n").into_bytes(),
    );
    response.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn json_reply<T: serde::Serialize>(value: &T) -> Reply {
    reply(StatusCode::OK, "application/json", wire::to_go_json(value))
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn prefix(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(_) => format!("{ip}/32"),
        IpAddr::V6(_) => format!("{ip}/128"),
    }
}

/// Deterministic but random-looking, so keys differ per node and are stable across runs.
fn hex_key(kind: &str, index: u64) -> String {
    let mut x = index.wrapping_add(kind.len() as u64 * 0x1000);
    let mut hex = String::with_capacity(64);
    for _ in 0..4 {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        hex.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    format!("{kind}:{hex}")
}

fn node_key(index: u64) -> String {
    hex_key("nodekey", index)
}

fn stable_id(index: u64) -> String {
    format!(
        "n{}FAKE{index}CNTRL",
        &hex_key("id", index)[3..9].to_uppercase()
    )
}

fn display_name(login: &str) -> String {
    let local = login.split('@').next().unwrap_or(login);
    let mut chars = local.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Go's `strconv.ParseBool` false spellings, as `defBool` uses for `?peers=`.
fn go_false(value: &str) -> bool {
    matches!(value, "0" | "f" | "F" | "false" | "FALSE" | "False")
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key, true) == name).then(|| percent_decode(value, true))
    })
}

/// `form`: decode `+` as a space, as Go's `ParseQuery` does for query strings (not paths).
fn percent_decode(input: &str, form: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if form => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| GO_ZERO_TIME.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_decoded() {
        let q = "addr=%5Bfd7a%3A115c%3Aa1e0%3A%3A1%5D%3A443&type=pair";
        assert_eq!(
            query_param(q, "addr").as_deref(),
            Some("[fd7a:115c:a1e0::1]:443")
        );
        assert_eq!(query_param(q, "type").as_deref(), Some("pair"));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("a%zzb", true), "a%zzb");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("a+b", false), "a+b");
    }

    #[test]
    fn keys_are_distinct_and_well_formed() {
        let a = node_key(0);
        let b = node_key(1);
        assert_ne!(a, b);
        assert_eq!(a.len(), "nodekey:".len() + 64);
        assert_ne!(hex_key("mkey", 0)[5..], hex_key("discokey", 0)[9..]);
    }

    #[test]
    fn config_derives_names() {
        let c = TailnetConfig::new("box.tail9.ts.net", vec![], "bob@example.org");
        assert_eq!(c.dns_name, "box.tail9.ts.net.");
        assert_eq!(c.magic_dns_suffix, "tail9.ts.net");
        assert_eq!(c.cert_domains, vec!["box.tail9.ts.net".to_owned()]);
        assert_eq!(c.host_name(), "box");
    }
}
