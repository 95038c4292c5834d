//! What protects the host from misbehaving clients and hostile pages: failed-auth rate limiting
//! per client address (consulted before any key comparison), a cap on sockets that have not
//! authenticated yet, request body limits, the Host allowlist against DNS rebinding, and CORS
//! only for the Tauri apps.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Largest request body: a long prompt with room to spare; anything bigger is a mistake.
pub const MAX_BODY: usize = 2 << 20;

/// Bad keys a client address may send: a burst of [`FAILED_AUTH_BURST`], then one every
/// [`FAILED_AUTH_REFILL`]. Once the bucket is empty the address gets 429 *before* its key is
/// compared, right key or not: a guesser learns nothing from further attempts.
pub const FAILED_AUTH_BURST: f64 = 20.0;
pub const FAILED_AUTH_REFILL: Duration = Duration::from_secs(3);
/// Addresses remembered at most; beyond it, addresses whose bucket is full again are forgotten.
const MAX_TRACKED: usize = 10_000;

/// Per-address token buckets of failed authentication attempts.
#[derive(Default)]
pub struct AuthLimiter {
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl AuthLimiter {
    fn refill(tokens: f64, since: Instant, now: Instant) -> f64 {
        let gained = now.duration_since(since).as_secs_f64() / FAILED_AUTH_REFILL.as_secs_f64();
        (tokens + gained).min(FAILED_AUTH_BURST)
    }

    /// Whether `ip` used up its bad attempts: it must wait before any key is even looked at.
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets
            .get(&ip)
            .is_some_and(|&(t, at)| Self::refill(t, at, Instant::now()) < 1.0)
    }

    /// Counts one failed attempt of `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
            buckets.retain(|_, &mut (t, at)| Self::refill(t, at, now) < FAILED_AUTH_BURST);
        }
        let entry = buckets.entry(ip).or_insert((FAILED_AUTH_BURST, now));
        *entry = ((Self::refill(entry.0, entry.1, now) - 1.0).max(0.0), now);
    }
}

/// Pairing attempts (right or wrong code) an address may make: a burst of
/// [`PAIRING_BURST`], then one every [`PAIRING_REFILL`] (five a minute); all addresses together
/// get [`PAIRING_GLOBAL_BURST`], one more every [`PAIRING_GLOBAL_REFILL`]. With 60-bit codes
/// living five minutes, that leaves a guesser about one chance in 10^15.
pub const PAIRING_BURST: f64 = 5.0;
pub const PAIRING_REFILL: Duration = Duration::from_secs(12);
pub const PAIRING_GLOBAL_BURST: f64 = 20.0;
pub const PAIRING_GLOBAL_REFILL: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct PairingLimiter {
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    global: Mutex<Option<(f64, Instant)>>,
}

fn take(slot: &mut (f64, Instant), burst: f64, refill: Duration, now: Instant) -> bool {
    let gained = now.duration_since(slot.1).as_secs_f64() / refill.as_secs_f64();
    let tokens = (slot.0 + gained).min(burst);
    if tokens < 1.0 {
        *slot = (tokens, now);
        return false;
    }
    *slot = (tokens - 1.0, now);
    true
}

impl PairingLimiter {
    /// Counts one attempt from `ip`; `false` when it (or everyone together) must wait.
    pub fn attempt(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        {
            let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
                buckets.retain(|_, (_, at)| now.duration_since(*at) < PAIRING_REFILL * 5);
            }
            let slot = buckets.entry(ip).or_insert((PAIRING_BURST, now));
            if !take(slot, PAIRING_BURST, PAIRING_REFILL, now) {
                return false;
            }
        }
        let mut global = self.global.lock().unwrap_or_else(|p| p.into_inner());
        let slot = global.get_or_insert((PAIRING_GLOBAL_BURST, now));
        take(slot, PAIRING_GLOBAL_BURST, PAIRING_GLOBAL_REFILL, now)
    }
}

/// WebSockets per client address that are open but not authenticated yet. Beyond it the
/// upgrade is refused: a page cannot pile up sockets waiting for their auth deadline.
pub const MAX_PENDING_SOCKETS: usize = 8;

#[derive(Default)]
pub struct PendingSockets {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// Holds one pending slot of an address; dropping it (authenticated, refused, closed) frees it.
pub struct PendingSlot {
    owner: Arc<PendingSockets>,
    ip: IpAddr,
}

impl PendingSockets {
    /// A slot for `ip`, or `None` when it has [`MAX_PENDING_SOCKETS`] already.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Option<PendingSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= MAX_PENDING_SOCKETS {
            return None;
        }
        *n += 1;
        Some(PendingSlot {
            owner: self.clone(),
            ip,
        })
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// The names a request's `Host` may carry. A page on another site that re-points its own DNS
/// name at 127.0.0.1 (DNS rebinding) reaches the host with *its* name in `Host`; such requests
/// are refused. IP literals are always fine (rebinding needs a name), and so are `localhost`
/// and `*.localhost`; other names (a tailnet or WireGuard DNS name) are added explicitly.
#[derive(Default)]
pub struct HostAllowlist {
    names: RwLock<HashSet<String>>,
}

impl HostAllowlist {
    pub fn add(&self, name: &str) {
        self.names
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.trim_end_matches('.').to_ascii_lowercase());
    }

    /// Whether a `Host` header value (`name[:port]`, `[v6]:port`) is one of ours.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host).trim_end_matches('.').to_ascii_lowercase();
        if name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        self.names
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&name)
    }
}

/// The name part of a `Host` value, without port or IPv6 brackets.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Origins of the Tauri apps (desktop and mobile webviews).
pub const TAURI_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// Whether a WebSocket's `Origin` may connect: none (native clients send none), a Tauri app,
/// or the host's own pages (the origin's authority is the `Host` the request came to, which
/// the allowlist checked). Any other web page the user visits is refused.
pub fn origin_allowed(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if TAURI_ORIGINS.contains(&origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
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
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            TAURI_ORIGINS.iter().map(|o| HeaderValue::from_static(o)),
        ))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_the_burst_and_only_that_address() {
        let l = AuthLimiter::default();
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        for _ in 0..FAILED_AUTH_BURST as usize {
            assert!(!l.blocked(a));
            l.failed(a);
        }
        assert!(l.blocked(a));
        assert!(!l.blocked(b));
    }

    #[test]
    fn pairing_attempts_are_limited_per_address_and_overall() {
        let l = PairingLimiter::default();
        let a = IpAddr::from([100, 64, 0, 1]);
        for _ in 0..PAIRING_BURST as usize {
            assert!(l.attempt(a));
        }
        assert!(!l.attempt(a), "a sixth attempt within the minute waits");
        let mut others = 0;
        for i in 0..100u8 {
            if l.attempt(IpAddr::from([100, 64, 1, i])) {
                others += 1;
            }
        }
        assert_eq!(
            others + PAIRING_BURST as usize,
            PAIRING_GLOBAL_BURST as usize,
            "many addresses together get the global burst"
        );
    }

    #[test]
    fn pending_slots_are_capped_per_address_and_freed_on_drop() {
        let p = Arc::new(PendingSockets::default());
        let ip = IpAddr::from([127, 0, 0, 1]);
        let slots: Vec<_> = (0..MAX_PENDING_SOCKETS)
            .map(|_| p.take(ip).unwrap())
            .collect();
        assert!(p.take(ip).is_none());
        assert!(p.take(IpAddr::from([127, 0, 0, 2])).is_some());
        drop(slots);
        assert!(p.take(ip).is_some());
    }

    #[test]
    fn host_allowlist() {
        let l = HostAllowlist::default();
        for ok in [
            "127.0.0.1:8000",
            "localhost:8000",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:8000",
            "100.101.102.103:8000",
        ] {
            assert!(l.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example:8000",
            "localhost.evil.example",
            "box.tail1234.ts.net",
        ] {
            assert!(!l.allows(bad), "{bad}");
        }
        l.add("Box.tail1234.ts.net.");
        assert!(l.allows("box.tail1234.ts.net:443"));
    }

    #[test]
    fn origins() {
        let h = |origin: Option<&str>, host: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, host.parse().unwrap());
            if let Some(o) = origin {
                m.insert(header::ORIGIN, o.parse().unwrap());
            }
            origin_allowed(&m)
        };
        assert!(h(None, "127.0.0.1:8000"));
        assert!(h(Some("http://127.0.0.1:8000"), "127.0.0.1:8000"));
        assert!(h(Some("tauri://localhost"), "127.0.0.1:8000"));
        assert!(!h(Some("https://evil.example"), "127.0.0.1:8000"));
        assert!(!h(Some("http://127.0.0.1:9999"), "127.0.0.1:8000"));
        assert!(!h(Some("null"), "127.0.0.1:8000"));
    }
}
