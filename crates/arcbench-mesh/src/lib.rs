//! The private mesh a host meets its devices on: tailscaled's LocalAPI (the node's state,
//! addresses and name; who is behind a peer address; the node's HTTPS certificate), TLS with that
//! certificate, and pairing QR codes. No axum, no Tauri: the server and the apps adapt it.

pub mod qr;
pub mod tailscale;
pub mod tls;

pub use qr::Qr;
pub use tailscale::{join_hint, MeshError, Node, Peer, Tailscale, DEFAULT_SOCKET};
pub use tls::{certified_key, server_config, CertSlot};
