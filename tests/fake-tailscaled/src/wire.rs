//! The JSON tailscaled answers with, field for field in Go's declaration order.
//!
//! Go's `omitempty` fields are skipped when empty and nil slices/maps are `null`, because
//! clients differ in how they cope with each (tailscale-localapi 0.6 rejects a `null`
//! `Tags` in a whois Node but accepts a `null` `Peer` map); serving `[]` where tailscaled
//! serves `null` would hide such bugs.

use std::collections::BTreeMap;

use serde::Serialize;

/// `ipnstate.Status`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Status {
    pub version: String,
    #[serde(rename = "TUN")]
    pub tun: bool,
    pub backend_state: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub have_node_key: bool,
    #[serde(rename = "AuthURL")]
    pub auth_url: String,
    #[serde(rename = "TailscaleIPs")]
    pub tailscale_ips: Option<Vec<String>>,
    #[serde(rename = "Self")]
    pub self_status: PeerStatus,
    pub health: Option<Vec<String>>,
    #[serde(rename = "MagicDNSSuffix")]
    pub magic_dns_suffix: String,
    pub current_tailnet: Option<TailnetStatus>,
    pub cert_domains: Option<Vec<String>>,
    /// Keyed by the peer's `PublicKey`.
    pub peer: Option<BTreeMap<String, PeerStatus>>,
    /// Keyed by `UserID`; JSON object keys are strings, as Go writes map[int64].
    pub user: Option<BTreeMap<String, UserProfile>>,
}

/// `ipnstate.TailnetStatus`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TailnetStatus {
    pub name: String,
    #[serde(rename = "MagicDNSSuffix")]
    pub magic_dns_suffix: String,
    #[serde(rename = "MagicDNSEnabled")]
    pub magic_dns_enabled: bool,
}

/// `ipnstate.PeerStatus`, used for `Self` and every `Peer` entry.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PeerStatus {
    #[serde(rename = "ID")]
    pub id: String,
    pub public_key: String,
    pub host_name: String,
    #[serde(rename = "DNSName")]
    pub dns_name: String,
    #[serde(rename = "OS")]
    pub os: String,
    #[serde(rename = "UserID")]
    pub user_id: i64,
    #[serde(rename = "TailscaleIPs")]
    pub tailscale_ips: Option<Vec<String>>,
    #[serde(rename = "AllowedIPs")]
    pub allowed_ips: Option<Vec<String>>,
    pub addrs: Option<Vec<String>>,
    pub cur_addr: String,
    pub relay: String,
    pub rx_bytes: i64,
    pub tx_bytes: i64,
    pub created: String,
    pub last_write: String,
    pub last_seen: String,
    pub last_handshake: String,
    pub online: bool,
    pub exit_node: bool,
    pub exit_node_option: bool,
    pub active: bool,
    #[serde(rename = "PeerAPIURL")]
    pub peer_api_url: Option<Vec<String>>,
    pub taildrop_target: i32,
    pub no_file_sharing_reason: String,
    pub in_network_map: bool,
    pub in_magic_sock: bool,
    pub in_engine: bool,
    pub key_expiry: String,
}

/// `tailcfg.UserProfile`.
#[derive(Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UserProfile {
    #[serde(rename = "ID")]
    pub id: i64,
    pub login_name: String,
    pub display_name: String,
}

/// `apitype.WhoIsResponse`; `CapMap` is omitted as tailscaled does when no grants apply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WhoIs {
    pub node: Node,
    pub user_profile: UserProfile,
}

/// `tailcfg.Node` as it appears in a whois answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Node {
    #[serde(rename = "ID")]
    pub id: i64,
    #[serde(rename = "StableID")]
    pub stable_id: String,
    /// The MagicDNS FQDN with its trailing dot.
    pub name: String,
    pub user: i64,
    pub key: String,
    pub key_expiry: String,
    pub machine: String,
    pub disco_key: String,
    pub addresses: Vec<String>,
    #[serde(rename = "AllowedIPs")]
    pub allowed_ips: Vec<String>,
    pub endpoints: Vec<String>,
    #[serde(rename = "HomeDERP")]
    pub home_derp: i32,
    pub hostinfo: Hostinfo,
    pub created: String,
    pub cap: i32,
    pub online: bool,
    pub machine_authorized: bool,
    pub computed_name: String,
    pub computed_name_with_host: String,
}

/// `tailcfg.Hostinfo` (every field is `omitempty` in Go; these are the ones always set).
#[derive(Serialize)]
pub(crate) struct Hostinfo {
    #[serde(rename = "IPNVersion")]
    pub ipn_version: String,
    #[serde(rename = "OS")]
    pub os: String,
    #[serde(rename = "Hostname")]
    pub hostname: String,
}

/// Go's zero `time.Time`, which tailscaled writes for "never".
pub(crate) const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `json.MarshalIndent(v, "", "\t")` plus the newline `json.Encoder` appends.
pub(crate) fn to_go_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut serializer)
        .expect("wire types serialize infallibly");
    out.push(b'\n');
    out
}
