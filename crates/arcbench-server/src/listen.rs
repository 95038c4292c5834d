//! Where the API listens and how connections are taken: plain HTTP on loopback (and on addresses
//! the user named), HTTPS with the node's certificate on the tailnet addresses, which follow
//! tailscaled (bound when they appear, dropped when they go). Every connection from a tailnet
//! address is checked with WhoIs once, at accept, before any request is read.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arcbench_host::{Host, HostError, PeerRefusal};
use arcbench_mesh::{CertSlot, Node};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::AppState;

/// A client must finish its TLS handshake within this long.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// A connection turned away by the WhoIs check: every request on it answers 403.
#[derive(Debug, Clone)]
pub struct PeerRefused(pub String);

/// One bound address.
pub struct Listener {
    tcp: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    pub url: String,
}

/// The tailnet side: its certificate (swapped on renewal) and its addresses.
struct Tailnet {
    slot: Arc<CertSlot>,
    config: Arc<ServerConfig>,
    /// The MagicDNS name the certificate is for.
    domain: Option<String>,
    fetched: Option<Instant>,
    new: HashMap<IpAddr, Listener>,
}

/// Everything bound before serving: what `arcbench serve` prints and the app shows.
pub struct Listeners {
    fixed: Vec<Listener>,
    tailnet: Option<Tailnet>,
    port: u16,
}

impl Listeners {
    /// Every URL the host listens on, loopback first.
    pub fn urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self.fixed.iter().map(|l| l.url.clone()).collect();
        if let Some(t) = &self.tailnet {
            urls.extend(t.new.values().map(|l| l.url.clone()));
        }
        urls
    }

    /// The tailnet HTTPS URL by name, when the host serves one.
    pub fn https_url(&self) -> Option<String> {
        let t = self.tailnet.as_ref()?;
        listeners_https(t, self.port, !t.new.is_empty())
    }
}

async fn bind_one(
    ip: IpAddr,
    port: u16,
    tls: Option<Arc<ServerConfig>>,
) -> std::io::Result<Listener> {
    let tcp = TcpListener::bind(SocketAddr::new(ip, port)).await?;
    let addr = tcp.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    Ok(Listener {
        tcp,
        tls,
        url: format!("{scheme}://{addr}"),
    })
}

/// Binds the configured addresses (port 0: one free port for all). With no address named, that
/// is loopback plus, when tailscaled runs, the node's tailnet addresses over HTTPS.
pub async fn bind(host: &Host) -> Result<Listeners, HostError> {
    let config = host.config();
    let mut port = config.port;
    let mut fixed = Vec::new();
    for ip in &config.binds {
        let l = bind_one(*ip, port, None)
            .await
            .map_err(|source| HostError::Listen {
                addr: SocketAddr::new(*ip, port),
                source,
            })?;
        if port == 0 {
            port = l.tcp.local_addr().map(|a| a.port()).unwrap_or(0);
        }
        fixed.push(l);
    }
    let tailnet = if config.auto_bind && host.tailscale().is_some() {
        let slot = Arc::new(CertSlot::default());
        let mut t = Tailnet {
            config: arcbench_mesh::server_config(slot.clone()),
            slot,
            domain: None,
            fetched: None,
            new: HashMap::new(),
        };
        if let Some(node) = host.refresh_mesh().await {
            follow(host, &mut t, &node, port, &HashMap::new()).await;
        }
        Some(t)
    } else {
        if config.auto_bind {
            host.refresh_mesh().await;
        }
        None
    };
    let listeners = Listeners {
        fixed,
        tailnet,
        port,
    };
    host.record_urls(listeners.urls(), listeners.https_url());
    Ok(listeners)
}

/// Brings the tailnet side in line with `node`: the certificate fetched (or refreshed when due)
/// and a listener for each new address; `bound` are those already served.
async fn follow(
    host: &Host,
    t: &mut Tailnet,
    node: &Node,
    port: u16,
    bound: &HashMap<IpAddr, watch::Sender<bool>>,
) {
    let Some(domain) = node.dns_name.clone() else {
        host.mesh_problem(Some(
            "this node has no MagicDNS name: enable MagicDNS for your tailnet".into(),
        ));
        return;
    };
    let due = t
        .fetched
        .is_none_or(|at| at.elapsed() >= host.config().cert_refresh)
        || t.domain.as_deref() != Some(domain.as_str());
    if due {
        let ts = host.tailscale().expect("tailnet side only with tailscaled");
        match ts.certificate(&domain).await {
            Ok(key) => {
                if !t.slot.serves(&key) {
                    tracing::info!(%domain, "serving the tailnet certificate");
                }
                t.slot.set(key);
                t.fetched = Some(Instant::now());
                t.domain = Some(domain.clone());
                host.mesh_problem(None);
            }
            Err(e) => {
                // A served certificate stays until it is replaced; without one, no tailnet
                // listener: plain HTTP never goes on the tailnet.
                tracing::warn!(%e, "tailnet certificate");
                host.mesh_problem(Some(e.to_string()));
                // Retry at the next poll rather than after a whole refresh period.
                t.fetched = None;
            }
        }
    }
    if t.slot.get().is_none() {
        return;
    }
    for ip in &node.ips {
        if bound.contains_key(ip) || t.new.contains_key(ip) {
            continue;
        }
        match bind_one(*ip, port, Some(t.config.clone())).await {
            Ok(l) => {
                t.new.insert(*ip, l);
            }
            Err(e) => tracing::warn!(%ip, port, %e, "cannot listen on the tailnet address"),
        }
    }
}

/// Serves every listener until `stop` turns true; the tailnet side keeps following tailscaled.
pub(crate) async fn run(
    host: Arc<Host>,
    listeners: Listeners,
    state: AppState,
    app: Router,
    stop: watch::Receiver<bool>,
) {
    let fixed_urls: Vec<String> = listeners.fixed.iter().map(|l| l.url.clone()).collect();
    for l in listeners.fixed {
        tokio::spawn(accept_loop(
            l,
            host.clone(),
            app.clone(),
            stop.clone(),
            stop.clone(),
        ));
    }
    let Some(mut tailnet) = listeners.tailnet else {
        return;
    };
    let port = listeners.port;
    let mut bound: HashMap<IpAddr, (watch::Sender<bool>, String)> = HashMap::new();
    let mut stop = stop;
    // What was last recorded (status, lock file): written again only when it changes.
    let mut recorded = (fixed_urls.clone(), listeners_https(&tailnet, port, false));
    loop {
        for (ip, l) in tailnet.new.drain() {
            let (tx, rx) = watch::channel(false);
            let url = l.url.clone();
            tracing::info!(%url, "listening on the tailnet");
            tokio::spawn(accept_loop(l, host.clone(), app.clone(), rx, stop.clone()));
            bound.insert(ip, (tx, url));
        }
        if let Some(domain) = &tailnet.domain {
            state.allowed_hosts.add(domain);
        }
        let mut urls = fixed_urls.clone();
        let mut tailnet_urls: Vec<String> = bound.values().map(|(_, u)| u.clone()).collect();
        tailnet_urls.sort();
        urls.extend(tailnet_urls);
        let now = (urls, listeners_https(&tailnet, port, !bound.is_empty()));
        if now != recorded {
            host.record_urls(now.0.clone(), now.1.clone());
            recorded = now;
        }

        tokio::select! {
            _ = tokio::time::sleep(host.config().mesh_poll) => {}
            _ = stop.changed() => break,
        }
        let node = host.refresh_mesh().await;
        match node {
            Some(node) => {
                // Addresses the node no longer has stop being served.
                bound.retain(|ip, (tx, url)| {
                    let keep = node.ips.contains(ip);
                    if !keep {
                        tracing::info!(%url, "the tailnet address is gone; not listening there any more");
                        let _ = tx.send(true);
                    }
                    keep
                });
                let senders = bound
                    .iter()
                    .map(|(ip, (tx, _))| (*ip, tx.clone()))
                    .collect();
                follow(&host, &mut tailnet, &node, port, &senders).await;
            }
            None => {
                // tailscaled stopped or logged out: its addresses are not ours to serve. (When
                // only its socket is gone, WhoIs fails and every new tailnet connection is
                // refused; loopback keeps serving.)
                if host.mesh_status().tailscale != shared_protocol::TailscaleState::Absent {
                    for (_, (tx, url)) in bound.drain() {
                        tracing::info!(%url, "Tailscale is down; not listening there any more");
                        let _ = tx.send(true);
                    }
                }
            }
        }
    }
}

/// The tailnet HTTPS URL by name, while a tailnet address is served.
fn listeners_https(t: &Tailnet, port: u16, serving: bool) -> Option<String> {
    serving
        .then(|| t.domain.as_ref().map(|d| format!("https://{d}:{port}")))
        .flatten()
}

async fn accept_loop(
    l: Listener,
    host: Arc<Host>,
    app: Router,
    mut stop: watch::Receiver<bool>,
    shutdown: watch::Receiver<bool>,
) {
    let acceptor = l.tls.map(TlsAcceptor::from);
    loop {
        let (tcp, addr) = tokio::select! {
            r = l.tcp.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(%e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let (host, app, acceptor, shutdown) = (
            host.clone(),
            app.clone(),
            acceptor.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move {
            let verdict = host.check_peer(addr).await.err();
            if let Some(refusal) = &verdict {
                if !matches!(refusal, PeerRefusal::NotAllowed { .. }) {
                    tracing::warn!(%addr, %refusal, "tailnet peer refused");
                }
            }
            let verdict = verdict.map(|r| PeerRefused(r.to_string()));
            match acceptor {
                None => serve_connection(tcp, addr, verdict, app, shutdown).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => serve_connection(tls, addr, verdict, app, shutdown).await,
                        // Plain HTTP sent to the HTTPS port, a client that distrusts the
                        // certificate, a scanner: nothing to serve.
                        Ok(Err(e)) => tracing::debug!(%addr, %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

async fn serve_connection<I>(
    io: I,
    addr: SocketAddr,
    verdict: Option<PeerRefused>,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = tower::ServiceExt::map_request(app, move |mut req: axum::http::Request<_>| {
        req.extensions_mut().insert(ConnectInfo(addr));
        if let Some(v) = &verdict {
            req.extensions_mut().insert(v.clone());
        }
        req
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let conn =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(svc));
    let mut conn = std::pin::pin!(conn);
    let ended = tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.changed() => {
            // Finish the request in flight, then close; WebSockets already left hyper.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%addr, %e, "connection ended with an error");
    }
}
