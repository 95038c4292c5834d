use serde::{Deserialize, Serialize};
use specta::Type;

/// What a paired device may be told by a push notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PushEvent {
    /// A turn finished (with how many hunks await review).
    TurnFinished,
    /// The agent needs the user: its turn failed or was held.
    NeedsYou,
    /// A budget warned or was reached.
    Budget,
}

impl PushEvent {
    pub const ALL: [PushEvent; 3] = [
        PushEvent::TurnFinished,
        PushEvent::NeedsYou,
        PushEvent::Budget,
    ];
}

/// The browser's subscription keys, as `PushSubscription.toJSON().keys` gives them (base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

/// `PUT /push/subscription`: the calling device's Web Push subscription (one per device; a new
/// one replaces the old).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscriptionRequest {
    pub endpoint: String,
    pub keys: PushKeys,
    /// Which events notify this device; absent means all of them.
    #[serde(default)]
    pub events: Option<Vec<PushEvent>>,
}

/// A device's subscription as the host keeps it (the keys are not echoed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscriptionInfo {
    pub endpoint: String,
    pub events: Vec<PushEvent>,
    pub created_at: String,
}

/// `GET /push/key`: the host's VAPID public key, for `PushManager.subscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKey {
    /// The uncompressed P-256 point, base64url without padding (`applicationServerKey`).
    pub public_key: String,
}

/// `DELETE /push/subscription`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushDeleted {
    /// False when the device had none.
    pub deleted: bool,
}
