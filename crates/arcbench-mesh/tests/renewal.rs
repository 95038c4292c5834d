//! Certificate renewal end to end: tailscaled's certificate (the stand-in's) fetched with
//! [`Tailscale::certificate`], served through a swappable [`CertSlot`] with real rustls on a
//! loopback socket, and checked by a client trusting only the stand-in's CA. A renewed
//! certificate serves new handshakes while connections already open keep working.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arcbench_mesh::{server_config, CertSlot, MeshError, Tailscale};
use fake_tailscaled::{FakeTailscaled, TailnetConfig};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

const DOMAIN: &str = "laptop.tail1234.ts.net";
const DEADLINE: Duration = Duration::from_secs(20);

async fn fake(dir: &Path, name: &str) -> FakeTailscaled {
    FakeTailscaled::start(&dir.join(name), TailnetConfig::default())
        .await
        .expect("the stand-in tailscaled starts")
}

/// Serves `slot` over TLS on loopback: every connection echoes what it reads until EOF.
async fn echo_server(slot: Arc<CertSlot>) -> std::net::SocketAddr {
    let acceptor = TlsAcceptor::from(server_config(slot));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (untrusted CA, no certificate yet) just ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 1024];
                loop {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if tls.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                            let _ = tls.flush().await;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn connector(ca_der: Vec<u8>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der)).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Every connection a full handshake: a resumed session presents no certificate (rustls
    // reports the one remembered from the first), which is not what a new client sees.
    config.resumption = rustls::client::Resumption::disabled();
    TlsConnector::from(Arc::new(config))
}

async fn connect(
    connector: &TlsConnector,
    addr: std::net::SocketAddr,
) -> Result<TlsStream<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(DOMAIN.to_owned()).unwrap();
    tokio::time::timeout(DEADLINE, connector.connect(name, tcp))
        .await
        .expect("handshake in time")
        .map_err(|e| e.to_string())
}

/// One message there and back on an open connection.
async fn round_trip(tls: &mut TlsStream<TcpStream>, msg: &str) {
    tokio::time::timeout(DEADLINE, async {
        tls.write_all(msg.as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        let mut got = vec![0u8; msg.len()];
        tls.read_exact(&mut got).await.unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), msg);
    })
    .await
    .expect("echo in time");
}

/// The leaf (DER) the server presented on this connection.
fn peer_leaf(tls: &TlsStream<TcpStream>) -> Vec<u8> {
    tls.get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .expect("the server presented a certificate")
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_serves_new_connections_and_keeps_open_ones() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake(dir.path(), "tailscaled.sock").await;
    let ts = Tailscale::new(fake.socket_path());

    let first = ts.certificate(DOMAIN).await.unwrap();
    let old_leaf = fake.leaf_der(DOMAIN).unwrap();
    assert_eq!(first.cert[0].as_ref(), old_leaf.as_slice());
    assert_eq!(first.cert.len(), 2, "leaf and intermediate are both served");

    let slot = Arc::new(CertSlot::default());
    slot.set(first.clone());
    assert!(slot.serves(&first));
    let addr = echo_server(slot.clone()).await;
    let client = connector(fake.ca_der());

    let mut open = connect(&client, addr).await.unwrap();
    assert_eq!(open.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert!(peer_leaf(&open) == old_leaf, "the first leaf is served");
    round_trip(&mut open, "before renewal").await;

    fake.reissue().unwrap();
    let renewed = ts.certificate(DOMAIN).await.unwrap();
    let new_leaf = fake.leaf_der(DOMAIN).unwrap();
    assert!(new_leaf != old_leaf, "a renewal is a new leaf");
    assert_eq!(renewed.cert[0].as_ref(), new_leaf.as_slice());
    assert!(!slot.serves(&renewed));
    slot.set(renewed.clone());
    assert!(slot.serves(&renewed));
    assert!(!slot.serves(&first));

    // The connection opened before the swap is untouched: same leaf, still echoing.
    round_trip(&mut open, "after renewal, same connection").await;
    assert!(
        peer_leaf(&open) == old_leaf,
        "an open connection keeps its leaf"
    );

    // A new connection gets the new leaf, and works.
    let mut fresh = connect(&client, addr).await.unwrap();
    assert!(
        peer_leaf(&fresh) == new_leaf,
        "a new connection gets the renewed leaf"
    );
    round_trip(&mut fresh, "new connection").await;
    round_trip(&mut open, "both open at once").await;

    // Asking again without a renewal gives the same leaf: nothing to swap.
    let again = ts.certificate(DOMAIN).await.unwrap();
    assert!(slot.serves(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_another_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ours = fake(dir.path(), "ours.sock").await;
    let theirs = fake(dir.path(), "theirs.sock").await;
    assert!(ours.ca_der() != theirs.ca_der(), "two CAs");

    let slot = Arc::new(CertSlot::default());
    slot.set(
        Tailscale::new(ours.socket_path())
            .certificate(DOMAIN)
            .await
            .unwrap(),
    );
    let addr = echo_server(slot).await;

    let err = connect(&connector(theirs.ca_der()), addr)
        .await
        .expect_err("a certificate from an untrusted CA is refused");
    assert!(err.contains("UnknownIssuer"), "{err}");

    // The same server is fine for a client trusting the right CA.
    let mut ok = connect(&connector(ours.ca_der()), addr).await.unwrap();
    round_trip(&mut ok, "trusted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_slot_refuses_handshakes_until_filled() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake(dir.path(), "tailscaled.sock").await;
    let slot = Arc::new(CertSlot::default());
    assert!(slot.get().is_none());
    let addr = echo_server(slot.clone()).await;
    let client = connector(fake.ca_der());

    assert!(connect(&client, addr).await.is_err(), "no certificate yet");

    let key = Tailscale::new(fake.socket_path())
        .certificate(DOMAIN)
        .await
        .unwrap();
    slot.set(key);
    let mut tls = connect(&client, addr).await.unwrap();
    round_trip(&mut tls, "now served").await;
}

#[tokio::test]
async fn a_failed_certificate_order_says_to_enable_https_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake(dir.path(), "tailscaled.sock").await;
    let ts = Tailscale::new(fake.socket_path());

    fake.fail_cert(true);
    let err = ts.certificate(DOMAIN).await.expect_err("refused");
    assert!(
        matches!(&err, MeshError::Cert { domain, .. } if domain == DOMAIN),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("enable HTTPS certificates"), "{msg}");
    assert!(msg.contains(DOMAIN), "{msg}");

    // A name tailscaled has no certificate for is the same kind of refusal.
    fake.fail_cert(false);
    let err = ts
        .certificate("elsewhere.tail1234.ts.net")
        .await
        .expect_err("refused");
    assert!(matches!(err, MeshError::Cert { .. }), "{err:?}");

    assert!(ts.certificate(DOMAIN).await.is_ok(), "works once fixed");
}

#[tokio::test]
async fn a_stopped_tailscaled_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake(dir.path(), "tailscaled.sock").await;
    let ts = Tailscale::new(fake.socket_path());
    assert!(ts.certificate(DOMAIN).await.is_ok());

    fake.stop();
    let err = ts.certificate(DOMAIN).await.expect_err("nobody answers");
    match &err {
        MeshError::Absent { socket, .. } => assert_eq!(socket, fake.socket_path()),
        other => panic!("expected Absent, got {other:?}"),
    }
    assert!(err.to_string().contains("no tailscaled answers"), "{err}");

    // Back again: the certificate is there as before.
    fake.restart().await.unwrap();
    let key = ts.certificate(DOMAIN).await.unwrap();
    assert_eq!(
        key.cert[0].as_ref(),
        fake.leaf_der(DOMAIN).unwrap().as_slice()
    );
}
