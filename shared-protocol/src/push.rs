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

    /// The kinds in `chosen`, each once, in the listed order (how a device's choice is kept).
    pub fn ordered(chosen: &[PushEvent]) -> Vec<PushEvent> {
        PushEvent::ALL
            .into_iter()
            .filter(|k| chosen.contains(k))
            .collect()
    }
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
    /// The native push services this host is set up to send through (the phone app registers
    /// its device token with `PUT /push/native` only for these).
    #[serde(default)]
    pub native: Vec<NativePlatform>,
}

/// A phone's native push service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NativePlatform {
    /// Apple Push Notification service (iOS): the app's device token, hex.
    Apns,
    /// Firebase Cloud Messaging (Android): the app's registration token.
    Fcm,
}

/// `PUT /push/native`: the calling device's native push token (the phone app, for notifications
/// while it is closed; one per device, a new one replaces the old).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NativePushRequest {
    pub platform: NativePlatform,
    pub token: String,
    /// Which events notify this device; absent means all of them.
    #[serde(default)]
    pub events: Option<Vec<PushEvent>>,
}

/// A device's native push registration as the host keeps it (the token is not echoed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NativePushInfo {
    pub platform: NativePlatform,
    pub events: Vec<PushEvent>,
    pub created_at: String,
}

/// `DELETE /push/subscription`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushDeleted {
    /// False when the device had none.
    pub deleted: bool,
}
