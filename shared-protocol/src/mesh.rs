//! The private mesh and pairing: what a host says about its tailnet, and how a device pairs.

use serde::{Deserialize, Serialize};
use specta::Type;

/// A paired device: it holds its own key (only its hash is stored) until revoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: String,
    pub name: String,
    pub created_at: String,
    /// When a request last used its key (updated at most once a minute).
    pub last_seen_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DevicesResponse {
    pub devices: Vec<Device>,
}

/// `POST /pair`: redeems a single-use pairing code for a device key.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    pub code: String,
    /// Shown in the host's device list ("Alice's phone").
    pub device_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairResponse {
    pub device: Device,
    /// The device's own key: `Authorization: Bearer <key>`. Shown once; the host keeps its hash.
    pub key: String,
}

/// A fresh single-use pairing code (`POST /pairing-codes`, `arcbench pair`).
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairingCode {
    pub code: String,
    pub expires_at: String,
    /// Pairing links, best first (tailnet HTTPS, then others): `<origin>/app/#/pair?code=<code>`.
    /// They carry the code, never a key.
    pub links: Vec<String>,
    /// The first link as a QR code (SVG), for a screen to show.
    pub qr_svg: String,
}

/// How the host sits on the private mesh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeshStatus {
    pub tailscale: TailscaleState,
    /// The node's MagicDNS name, when on a tailnet.
    pub dns_name: Option<String>,
    /// The node's tailnet addresses.
    pub ips: Vec<String>,
    /// Where the host serves HTTPS on the tailnet, when it does.
    pub https_url: Option<String>,
    /// Every address the host listens on.
    pub urls: Vec<String>,
    /// What to do next when the host is not reachable over a tailnet (how to join, what failed).
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TailscaleState {
    /// No tailscaled answers on its socket.
    Absent,
    /// tailscaled runs but this node is not logged in.
    NeedsLogin,
    /// tailscaled runs, stopped (`tailscale down`) or starting.
    Stopped,
    Running,
    /// The host was told what to bind and does not ask tailscaled.
    NotUsed,
}
