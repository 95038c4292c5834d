//! What protects the host from misbehaving clients: failed-auth rate limiting per client
//! address, request body limits, and CORS only for the host's own UI and the Tauri apps.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Method, Request};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Largest request body: a long prompt with room to spare; anything bigger is a mistake.
pub const MAX_BODY: usize = 2 << 20;

/// Bad keys a client address may send: a burst of 20, then one every 3 s. A right key is never
/// slowed; a 256-bit key cannot be guessed, so this only stops floods of bad attempts.
pub fn failed_auth_limiter() -> Arc<DefaultKeyedRateLimiter<IpAddr>> {
    let quota = Quota::with_period(std::time::Duration::from_secs(3))
        .expect("non-zero period")
        .allow_burst(NonZeroU32::new(20).expect("non-zero"));
    Arc::new(RateLimiter::keyed(quota))
}

/// The client's address (loopback when the server runs without connect info, as in tests).
pub fn client_ip<B>(req: &Request<B>) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// Cross-origin calls only from the Tauri apps; the PWA is served by the host itself
/// (same origin), so browsers on other sites cannot drive the API with a stolen key.
pub fn cors() -> CorsLayer {
    let allowed = [
        "tauri://localhost",
        "http://tauri.localhost",
        "https://tauri.localhost",
    ];
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            allowed.iter().map(|o| HeaderValue::from_static(o)),
        ))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}
