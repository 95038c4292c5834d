//! TLS for the tailnet: the node's certificate from tailscaled, served by rustls. The certificate
//! sits behind a resolver that can be swapped: a renewed certificate serves new handshakes while
//! connections already open keep theirs, so renewal drops nothing.

use std::sync::{Arc, RwLock};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

/// A key and chain (DER) as a servable certificate, or why not.
pub fn certified_key(key: Vec<u8>, chain: Vec<Vec<u8>>) -> Result<Arc<CertifiedKey>, String> {
    if chain.is_empty() {
        return Err("no certificate in tailscaled's answer".into());
    }
    let key = PrivateKeyDer::try_from(key).map_err(|e| e.to_string())?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| format!("unsupported private key: {e}"))?;
    let chain = chain.into_iter().map(CertificateDer::from).collect();
    Ok(Arc::new(CertifiedKey::new(chain, signer)))
}

/// The certificate new handshakes get; replaced on renewal.
#[derive(Debug, Default)]
pub struct CertSlot {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl CertSlot {
    pub fn set(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(key);
    }

    pub fn get(&self) -> Option<Arc<CertifiedKey>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether `key` is the one being served (same leaf).
    pub fn serves(&self, key: &CertifiedKey) -> bool {
        self.get()
            .is_some_and(|k| k.cert.first() == key.cert.first())
    }
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.get()
    }
}

/// A rustls server config serving whatever `slot` holds. HTTP/1.1 only: the API's WebSocket
/// upgrade is an HTTP/1.1 mechanism.
pub fn server_config(slot: Arc<CertSlot>) -> Arc<ServerConfig> {
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_no_client_auth()
            .with_cert_resolver(slot);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}
