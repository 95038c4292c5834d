//! Pairing and devices: `POST /pair` (a single-use code for a device key; the one route without
//! a key), `POST /pairing-codes`, `GET /devices`, `DELETE /devices/{id}`, and a device's own Web
//! Push subscription (`GET /push/key`, `GET|PUT|DELETE /push/subscription`) and the phone app's
//! native push token (`GET|PUT|DELETE /push/native`). Each calls one host operation.

use arcbench_host::Caller;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use shared_protocol::{
    ApiError, Device, DevicesResponse, ErrorCode, NativePushInfo, NativePushRequest, PairRequest,
    PairResponse, PairingCode, PushDeleted, PushKey, PushSubscriptionInfo, PushSubscriptionRequest,
};

use crate::json::Json;
use crate::routes::Answer;
use crate::{AppState, Failure};

/// Redeems a pairing code for this device's own key. No key needed: the code is the proof.
#[utoipa::path(post, path = "/pair", request_body = PairRequest, responses((status = 201, body = PairResponse), (status = 400, body = ApiError, description = "bad input"), (status = 401, body = ApiError, description = "pairing_code_invalid"), (status = 410, body = ApiError, description = "pairing_code_expired or pairing_code_used"), (status = 429, body = ApiError, description = "too many attempts")))]
pub(crate) async fn pair(
    State(state): State<AppState>,
    connect: Option<Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Json(req): Json<PairRequest>,
) -> Result<(StatusCode, axum::Json<PairResponse>), Failure> {
    let ip = connect
        .map(|c| c.0 .0.ip())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    if !state.pairing.attempt(ip) {
        return Err(Failure::new(
            ErrorCode::RateLimited,
            "too many pairing attempts; wait a minute and try again",
        ));
    }
    let paired = state.host.pair(req).await?;
    Ok((StatusCode::CREATED, axum::Json(paired)))
}

/// A single-use pairing code (five minutes) with its links and QR code.
#[utoipa::path(post, path = "/pairing-codes", responses((status = 201, body = PairingCode), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn create_pairing_code(
    State(state): State<AppState>,
) -> Result<(StatusCode, axum::Json<PairingCode>), Failure> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.host.create_pairing_code().await?),
    ))
}

#[utoipa::path(get, path = "/devices", responses((status = 200, body = DevicesResponse), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn list_devices(State(state): State<AppState>) -> Answer<DevicesResponse> {
    Ok(axum::Json(state.host.list_devices().await?))
}

/// Revokes a device's key: refused at once, its open WebSockets closed (4401).
#[utoipa::path(delete, path = "/devices/{id}", params(("id" = String, Path, description = "device id")), responses((status = 200, body = Device), (status = 404, body = ApiError, description = "unknown device"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn revoke_device(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<Device> {
    Ok(axum::Json(state.host.revoke_device(id).await?))
}

/// The host's VAPID public key, for the page's `PushManager.subscribe({applicationServerKey})`.
#[utoipa::path(get, path = "/push/key", responses((status = 200, body = PushKey), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn push_key(State(state): State<AppState>) -> Answer<PushKey> {
    Ok(axum::Json(state.host.push_key()))
}

/// The calling device's Web Push subscription (a device key only: the master key has no device).
#[utoipa::path(get, path = "/push/subscription", responses((status = 200, body = PushSubscriptionInfo), (status = 404, body = ApiError, description = "no subscription"), (status = 400, body = ApiError, description = "called with the master key"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn push_subscription(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Answer<PushSubscriptionInfo> {
    Ok(axum::Json(state.host.push_subscription(&caller).await?))
}

/// Sets the calling device's Web Push subscription (replacing its earlier one) and which events
/// notify it (default: all). Checked first: an https endpoint, a P-256 key, a 16-byte secret.
#[utoipa::path(put, path = "/push/subscription", request_body = PushSubscriptionRequest, responses((status = 200, body = PushSubscriptionInfo), (status = 400, body = ApiError, description = "bad subscription, or the master key"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn set_push_subscription(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<PushSubscriptionRequest>,
) -> Answer<PushSubscriptionInfo> {
    Ok(axum::Json(
        state.host.set_push_subscription(&caller, req).await?,
    ))
}

/// Forgets the calling device's Web Push subscription.
#[utoipa::path(delete, path = "/push/subscription", responses((status = 200, body = PushDeleted), (status = 400, body = ApiError, description = "called with the master key"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn delete_push_subscription(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Answer<PushDeleted> {
    Ok(axum::Json(PushDeleted {
        deleted: state.host.delete_push_subscription(&caller).await?,
    }))
}

/// The calling device's native push token registration (the phone app; the token is not echoed).
#[utoipa::path(get, path = "/push/native", responses((status = 200, body = NativePushInfo), (status = 404, body = ApiError, description = "no native push token"), (status = 400, body = ApiError, description = "called with the master key"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn native_push(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Answer<NativePushInfo> {
    Ok(axum::Json(state.host.native_push(&caller).await?))
}

/// Sets the calling device's APNs or FCM token (replacing its earlier one) and which events
/// notify it (default: all), for notifications while the app is closed. Refused with 409 when
/// the host is not set up for that service (`GET /push/key` lists those it is).
#[utoipa::path(put, path = "/push/native", request_body = NativePushRequest, responses((status = 200, body = NativePushInfo), (status = 400, body = ApiError, description = "a token of the wrong shape, or the master key"), (status = 409, body = ApiError, description = "the host is not set up for that service"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn set_native_push(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<NativePushRequest>,
) -> Answer<NativePushInfo> {
    Ok(axum::Json(state.host.set_native_push(&caller, req).await?))
}

/// Forgets the calling device's native push token.
#[utoipa::path(delete, path = "/push/native", responses((status = 200, body = PushDeleted), (status = 400, body = ApiError, description = "called with the master key"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn delete_native_push(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Answer<PushDeleted> {
    Ok(axum::Json(PushDeleted {
        deleted: state.host.delete_native_push(&caller).await?,
    }))
}
