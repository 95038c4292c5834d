//! The fake, driven through the real `tailscale-localapi` client over a real socket.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fake_tailscaled::{FakeTailscaled, TailnetConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivateSec1KeyDer, ServerName};
use tailscale_localapi::{BackendState, Error, LocalApi, UnixStreamClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};

const DOMAIN: &str = "laptop.tail1234.ts.net";

struct Harness {
    // Held for the socket's directory to outlive the fake.
    _dir: tempfile::TempDir,
    socket: PathBuf,
    fake: FakeTailscaled,
    api: LocalApi<UnixStreamClient>,
}

async fn harness(config: TailnetConfig) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("tailscaled.sock");
    let fake = FakeTailscaled::start(&socket, config).await.unwrap();
    let api = LocalApi::new_with_socket_path(&socket);
    Harness {
        _dir: dir,
        socket,
        fake,
        api,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The client hides status codes and bodies behind `UnprocessableEntity`; this shows them.
async fn raw_get(socket: &Path, path: &str) -> (u16, String, String) {
    let mut stream = UnixStream::connect(socket).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: local-tailscaled.sock\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn status_parses_with_the_real_client() {
    let h = harness(TailnetConfig::default()).await;
    h.fake
        .add_peer(ip("100.64.0.2"), "bob@example.com", "phone");

    let status = h.api.status().await.unwrap();
    assert!(matches!(status.backend_state, BackendState::Running));
    assert_eq!(
        status.tailscale_ips,
        vec![ip("100.64.0.1"), ip("fd7a:115c:a1e0::1")]
    );
    assert_eq!(status.self_status.dnsname, "laptop.tail1234.ts.net.");
    assert_eq!(status.self_status.hostname, "laptop");
    assert!(status.self_status.online);
    assert_eq!(status.cert_domains, vec![DOMAIN.to_owned()]);
    let tailnet = status.current_tailnet.unwrap();
    assert_eq!(tailnet.magic_dns_suffix, "tail1234.ts.net");
    assert_eq!(tailnet.name, "alice@example.com");

    let owner = &status.user[&status.self_status.user_id];
    assert_eq!(owner.login_name, "alice@example.com");
    assert_eq!(owner.display_name, "Alice");

    assert_eq!(status.peer.len(), 1);
    let (key, peer) = status.peer.iter().next().unwrap();
    assert_eq!(key, &peer.public_key);
    assert!(key.starts_with("nodekey:"));
    assert_eq!(peer.hostname, "phone");
    assert_eq!(peer.dnsname, "phone.tail1234.ts.net.");
    assert_eq!(peer.tailscale_ips, vec![ip("100.64.0.2")]);
    assert_eq!(status.user[&peer.user_id].login_name, "bob@example.com");
    assert_ne!(peer.user_id, status.self_status.user_id);
}

#[tokio::test]
async fn status_wire_format_matches_tailscaled() {
    let h = harness(TailnetConfig::default()).await;
    let (code, head, body) = raw_get(&h.socket, "/localapi/v0/status").await;
    assert_eq!(code, 200);
    assert!(head.contains("content-type: application/json"));
    // Go's MarshalIndent with a tab, and nil maps as null.
    assert!(body.starts_with("{\n\t\"Version\": "), "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["Peer"], serde_json::Value::Null);
    assert_eq!(json["Self"]["DNSName"], "laptop.tail1234.ts.net.");

    let (_, _, body) = raw_get(&h.socket, "/localapi/v0/status?peers=false").await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["Peer"], serde_json::Value::Null);

    let (code, _, body) = raw_get(&h.socket, "/localapi/v0/nope").await;
    assert_eq!((code, body.as_str()), (404, "404 page not found\n"));
}

#[tokio::test]
async fn status_follows_runtime_changes() {
    let h = harness(TailnetConfig::default()).await;
    h.fake.set_state("NeedsLogin");
    h.fake.set_ips(vec![]);
    let status = h.api.status().await.unwrap();
    assert!(matches!(status.backend_state, BackendState::NeedsLogin));
    assert!(status.tailscale_ips.is_empty());
    assert!(!status.self_status.online);

    h.fake.set_state("Running");
    h.fake.set_ips(vec![ip("100.100.1.1")]);
    let status = h.api.status().await.unwrap();
    assert!(matches!(status.backend_state, BackendState::Running));
    assert_eq!(status.tailscale_ips, vec![ip("100.100.1.1")]);

    h.fake.update_config(|c| c.self_login.clear());
    let status = h.api.status().await.unwrap();
    assert!(status.user.is_empty());

    h.fake.fail_status(true);
    assert!(matches!(
        h.api.status().await,
        Err(Error::UnprocessableEntity)
    ));
    h.fake.fail_status(false);
    assert!(h.api.status().await.is_ok());
    assert_eq!(h.fake.status_requests(), 5);
}

#[tokio::test]
async fn whois_answers_self_peers_and_unknowns() {
    let h = harness(TailnetConfig::default()).await;
    h.fake
        .add_peer(ip("100.64.0.2"), "bob@example.com", "phone");

    let me = h.api.whois(addr("100.64.0.1:443")).await.unwrap();
    assert_eq!(me.user_profile.login_name, "alice@example.com");
    assert_eq!(me.node.name, "laptop.tail1234.ts.net.");
    assert_eq!(me.node.computed_name, "laptop");
    assert_eq!(
        me.node.addresses,
        vec!["100.64.0.1/32", "fd7a:115c:a1e0::1/128"]
    );

    let me6 = h.api.whois(addr("[fd7a:115c:a1e0::1]:443")).await.unwrap();
    assert_eq!(me6.node.stable_id, me.node.stable_id);

    let bob = h.api.whois(addr("100.64.0.2:51234")).await.unwrap();
    assert_eq!(bob.user_profile.login_name, "bob@example.com");
    assert_eq!(bob.node.name, "phone.tail1234.ts.net.");
    assert_eq!(bob.node.hostinfo.hostname.as_deref(), Some("phone"));
    assert_eq!(bob.node.user, bob.user_profile.id);
    assert_ne!(bob.node.id, me.node.id);

    // The same login on a second device is the same user.
    h.fake
        .add_peer(ip("100.64.0.3"), "bob@example.com", "tablet");
    let tablet = h.api.whois(addr("100.64.0.3:1")).await.unwrap();
    assert_eq!(tablet.user_profile.id, bob.user_profile.id);

    let unknown = h.api.whois(addr("100.99.99.99:443")).await;
    assert!(matches!(unknown, Err(Error::UnprocessableEntity)));
    let (code, head, body) = raw_get(&h.socket, "/localapi/v0/whois?addr=100.99.99.99:443").await;
    assert_eq!((code, body.as_str()), (404, "no match for IP:port\n"));
    assert!(head.contains("content-type: text/plain; charset=utf-8"));

    let (code, _, body) = raw_get(&h.socket, "/localapi/v0/whois").await;
    assert_eq!((code, body.as_str()), (400, "missing 'addr' parameter\n"));
    let (code, _, _) = raw_get(&h.socket, "/localapi/v0/whois?addr=bogus").await;
    assert_eq!(code, 400);
    // Percent-encoded, as a browser-style client would send it; a bare IP works too.
    let (code, _, _) = raw_get(
        &h.socket,
        "/localapi/v0/whois?addr=%5Bfd7a%3A115c%3Aa1e0%3A%3A1%5D%3A443",
    )
    .await;
    assert_eq!(code, 200);
    let (code, _, _) = raw_get(&h.socket, "/localapi/v0/whois?addr=100.64.0.2").await;
    assert_eq!(code, 200);

    assert!(h.fake.remove_peer(ip("100.64.0.3")));
    assert!(h.api.whois(addr("100.64.0.3:1")).await.is_err());

    h.fake.fail_whois(true);
    assert!(matches!(
        h.api.whois(addr("100.64.0.2:1")).await,
        Err(Error::UnprocessableEntity)
    ));
    let (code, _, _) = raw_get(&h.socket, "/localapi/v0/whois?addr=100.64.0.2:1").await;
    assert_eq!(code, 500);
    h.fake.fail_whois(false);
    assert!(h.api.whois(addr("100.64.0.2:1")).await.is_ok());

    assert_eq!(h.fake.whois_requests(), 14);
    let requests = h.fake.requests();
    assert_eq!(requests[0], "/localapi/v0/whois?addr=100.64.0.1:443");
    assert_eq!(requests.len(), 14);
    h.fake.clear_requests();
    assert!(h.fake.requests().is_empty());
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A real TLS handshake: server with the served pair, client trusting only the fake's CA.
async fn handshake(
    ca_der: Vec<u8>,
    key: Vec<u8>,
    chain: Vec<Vec<u8>>,
    domain: &str,
) -> Result<(), String> {
    let chain = chain.into_iter().map(CertificateDer::from).collect();
    let key = PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(key));
    let server_config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der)).unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        if let Ok(mut tls) = acceptor.accept(tcp).await {
            let _ = tls.write_all(b"hello over the tailnet").await;
            let _ = tls.shutdown().await;
        }
    });
    let tcp = TcpStream::connect(local).await.unwrap();
    let name = ServerName::try_from(domain.to_owned()).unwrap();
    let result = async {
        let mut tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let mut got = String::new();
        tls.read_to_string(&mut got)
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(got, "hello over the tailnet");
        Ok(())
    }
    .await;
    server.await.unwrap();
    result
}

#[tokio::test]
async fn certificate_pair_parses_and_verifies_against_the_ca() {
    let h = harness(TailnetConfig::default()).await;
    let (key, chain) = h.api.certificate_pair(DOMAIN).await.unwrap();
    assert_eq!(chain.len(), 2, "leaf + intermediate, like Let's Encrypt");
    assert_eq!(chain[0].0, h.fake.leaf_der(DOMAIN).unwrap());
    assert_ne!(chain[1].0, h.fake.ca_der(), "the root is never served");

    handshake(
        h.fake.ca_der(),
        key.0.clone(),
        chain.iter().map(|c| c.0.clone()).collect(),
        DOMAIN,
    )
    .await
    .unwrap();

    // The name check is real: the leaf is only good for its domain.
    let wrong = handshake(
        h.fake.ca_der(),
        key.0,
        chain.iter().map(|c| c.0.clone()).collect(),
        "other.tail1234.ts.net",
    )
    .await;
    assert!(wrong.unwrap_err().contains("not valid for name"));

    // Another fake's CA must not vouch for this leaf.
    let other = harness(TailnetConfig::default()).await;
    let (key, chain) = h.api.certificate_pair(DOMAIN).await.unwrap();
    let foreign = handshake(
        other.fake.ca_der(),
        key.0,
        chain.into_iter().map(|c| c.0).collect(),
        DOMAIN,
    )
    .await;
    let foreign = foreign.unwrap_err();
    assert!(foreign.contains("UnknownIssuer"), "{foreign}");
    assert!(h.fake.ca_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
}

#[tokio::test]
async fn cert_wire_format_and_errors_match_tailscaled() {
    let h = harness(TailnetConfig::default()).await;
    let (code, head, body) =
        raw_get(&h.socket, &format!("/localapi/v0/cert/{DOMAIN}?type=pair")).await;
    assert_eq!(code, 200);
    assert!(head.contains("content-type: text/plain\r\n"), "{head}");
    assert!(body.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    assert_eq!(body.matches("-----BEGIN CERTIFICATE-----").count(), 2);

    let (_, _, key) = raw_get(&h.socket, &format!("/localapi/v0/cert/{DOMAIN}?type=key")).await;
    let (_, _, cert) = raw_get(&h.socket, &format!("/localapi/v0/cert/{DOMAIN}")).await;
    assert_eq!(format!("{key}{cert}"), body);

    // tailscaled wants the bare name; Self.DNSName's trailing dot is a client bug.
    let (code, _, body) = raw_get(
        &h.socket,
        "/localapi/v0/cert/laptop.tail1234.ts.net.?type=pair",
    )
    .await;
    assert_eq!(code, 500);
    assert_eq!(
        body,
        "invalid domain \"laptop.tail1234.ts.net.\"; must be one of [\"laptop.tail1234.ts.net\"]\n"
    );
    assert!(matches!(
        h.api.certificate_pair("other.tail1234.ts.net").await,
        Err(Error::UnprocessableEntity)
    ));
    let (code, _, _) = raw_get(&h.socket, &format!("/localapi/v0/cert/{DOMAIN}?type=bogus")).await;
    assert_eq!(code, 400);

    h.fake.fail_cert(true);
    assert!(h.api.certificate_pair(DOMAIN).await.is_err());
    let (code, _, _) = raw_get(&h.socket, &format!("/localapi/v0/cert/{DOMAIN}?type=pair")).await;
    assert_eq!(code, 500);
    h.fake.fail_cert(false);
    assert!(h.api.certificate_pair(DOMAIN).await.is_ok());

    assert_eq!(h.fake.cert_requests(), 9);

    h.fake.update_config(|c| c.cert_domains.clear());
    let (code, _, body) = raw_get(&h.socket, &format!("/localapi/v0/cert/{DOMAIN}")).await;
    assert_eq!(code, 500);
    assert_eq!(
        body,
        "your Tailscale account does not support getting TLS certs\n"
    );
}

#[tokio::test]
async fn reissue_serves_a_new_leaf() {
    let h = harness(TailnetConfig::default()).await;
    let (key1, chain1) = h.api.certificate_pair(DOMAIN).await.unwrap();
    let (_, again) = h.api.certificate_pair(DOMAIN).await.unwrap();
    assert_eq!(again[0].0, chain1[0].0, "cached until renewed");

    h.fake.reissue().unwrap();
    let (key2, chain2) = h.api.certificate_pair(DOMAIN).await.unwrap();
    assert_ne!(chain2[0].0, chain1[0].0);
    assert_ne!(key2.0, key1.0);
    assert_eq!(chain2[0].0, h.fake.leaf_der(DOMAIN).unwrap());
    handshake(
        h.fake.ca_der(),
        key2.0,
        chain2.into_iter().map(|c| c.0).collect(),
        DOMAIN,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn short_validity_expires_and_renewal_recovers() {
    let config = TailnetConfig {
        cert_validity: Duration::from_secs(1),
        ..TailnetConfig::default()
    };
    let h = harness(config).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (key, chain) = h.api.certificate_pair(DOMAIN).await.unwrap();
    let expired = handshake(
        h.fake.ca_der(),
        key.0,
        chain.into_iter().map(|c| c.0).collect(),
        DOMAIN,
    )
    .await;
    assert!(expired.unwrap_err().contains("certificate expired"));

    h.fake
        .update_config(|c| c.cert_validity = Duration::from_secs(3600));
    h.fake.reissue().unwrap();
    let (key, chain) = h.api.certificate_pair(DOMAIN).await.unwrap();
    handshake(
        h.fake.ca_der(),
        key.0,
        chain.into_iter().map(|c| c.0).collect(),
        DOMAIN,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn new_cert_domain_is_issued_on_first_fetch() {
    let h = harness(TailnetConfig::default()).await;
    h.fake
        .update_config(|c| c.cert_domains.push("laptop.example.ts.net".to_owned()));
    assert!(h.fake.leaf_der("laptop.example.ts.net").is_none());
    let (_, chain) = h
        .api
        .certificate_pair("laptop.example.ts.net")
        .await
        .unwrap();
    assert_eq!(
        chain[0].0,
        h.fake.leaf_der("laptop.example.ts.net").unwrap()
    );
}

#[tokio::test]
async fn stop_and_restart_like_the_daemon() {
    let h = harness(TailnetConfig::default()).await;
    h.fake
        .add_peer(ip("100.64.0.2"), "bob@example.com", "phone");
    let (_, before) = h.api.certificate_pair(DOMAIN).await.unwrap();

    h.fake.stop();
    assert!(!h.fake.is_running());
    assert!(!h.socket.exists());
    match h.api.status().await {
        Err(Error::IoError(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
        other => panic!("want a connection error, got {:?}", other.map(|_| ())),
    }
    assert!(matches!(
        h.api.whois(addr("100.64.0.2:1")).await,
        Err(Error::IoError(_))
    ));
    h.fake.stop();

    h.fake.restart().await.unwrap();
    assert!(h.fake.is_running());
    let status = h.api.status().await.unwrap();
    assert_eq!(
        status.peer.len(),
        1,
        "the tailnet survives a daemon restart"
    );
    let (_, after) = h.api.certificate_pair(DOMAIN).await.unwrap();
    assert_eq!(after[0].0, before[0].0, "and so does the cert cache");
    assert_eq!(h.fake.cert_requests(), 2);

    // Restarting a running fake is a stop + start.
    h.fake.restart().await.unwrap();
    assert!(h.api.status().await.is_ok());
}

#[tokio::test]
async fn drop_removes_the_socket_and_stale_sockets_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("tailscaled.sock");
    // A socket left behind by a crashed daemon.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());

    let fake = FakeTailscaled::start(&socket, TailnetConfig::default())
        .await
        .unwrap();
    assert!(LocalApi::new_with_socket_path(&socket)
        .status()
        .await
        .is_ok());
    drop(fake);
    assert!(!socket.exists());

    // Anything that is not a socket is left alone.
    std::fs::write(&socket, "not a socket").unwrap();
    assert!(FakeTailscaled::start(&socket, TailnetConfig::default())
        .await
        .is_err());
    assert_eq!(std::fs::read_to_string(&socket).unwrap(), "not a socket");
}
