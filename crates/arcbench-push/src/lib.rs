//! Web Push (RFC 8030) from the host to paired browsers: the payload encrypted for the
//! subscription (RFC 8291, aes128gcm) and signed for the push service (VAPID, RFC 8292), both by
//! `web-push-native`; this crate keeps the host's VAPID key and speaks to push services.
//!
//! The host's notifier decides *what* to tell *whom*; a [`PushService`] only delivers, to a
//! browser's subscription or, for the phone app while it is closed, to a device token through
//! APNs or FCM ([`native`]). [`Pushers`] is the host's: Web Push always, each native service
//! when the host is set up for it.

pub mod native;

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::p256;
use web_push_native::{Auth, WebPushBuilder};

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the push subscription is not valid: {0}")]
    BadSubscription(String),
    #[error("the VAPID key in {path} cannot be used: {reason}")]
    BadKey { path: String, reason: String },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// The host's application-server key pair (VAPID). Browsers bind a subscription to its public
/// key, so it is kept across restarts (a PEM file, 0600, in the data dir).
pub struct VapidKey(ES256KeyPair);

impl VapidKey {
    /// Loads the key at `path`, or makes and stores a new one.
    pub fn load_or_create(path: &Path) -> Result<VapidKey, PushError> {
        let bad = |reason: String| PushError::BadKey {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(path) {
            Ok(pem) => ES256KeyPair::from_pem(&pem)
                .map(VapidKey)
                .map_err(|e| bad(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = ES256KeyPair::generate();
                let pem = key.to_pem().map_err(|e| bad(e.to_string()))?;
                write_private(path, pem.as_bytes())?;
                Ok(VapidKey(key))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The public key as `PushManager.subscribe({applicationServerKey})` takes it: the
    /// uncompressed P-256 point, base64url without padding.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.public_key().public_key().to_bytes_uncompressed())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(tmp, path)
}

/// A browser's push subscription (`PushSubscription.toJSON()`): where to post, and the keys the
/// payload is encrypted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The browser's 16-byte auth secret, base64url.
    pub auth: String,
}

impl Subscription {
    /// Checks what can be checked before the first push: an https (or loopback http) endpoint,
    /// a P-256 point and a 16-byte secret.
    pub fn check(&self) -> Result<(), PushError> {
        self.parts().map(|_| ())
    }

    fn parts(&self) -> Result<(http::Uri, p256::PublicKey, Auth), PushError> {
        let bad = |what: &str| PushError::BadSubscription(what.to_owned());
        let uri: http::Uri = self
            .endpoint
            .parse()
            .map_err(|_| bad("endpoint is not a URL"))?;
        let loopback = matches!(
            uri.host(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        );
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if loopback => {}
            _ => return Err(bad("endpoint must be an https URL")),
        }
        let key = URL_SAFE_NO_PAD
            .decode(self.p256dh.trim_end_matches('='))
            .ok()
            .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
            .ok_or_else(|| bad("keys.p256dh is not a P-256 public key (base64url)"))?;
        let auth = URL_SAFE_NO_PAD
            .decode(self.auth.trim_end_matches('='))
            .ok()
            .filter(|b| b.len() == 16)
            .ok_or_else(|| bad("keys.auth is not a 16-byte secret (base64url)"))?;
        Ok((uri, key, *Auth::from_slice(&auth)))
    }
}

/// What a notification says; the service worker shows `title` and `body` and opens `url`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub title: String,
    pub body: String,
    /// The page to open on a tap, e.g. `/app/#/s/<session>`.
    pub url: String,
    /// Notifications with the same tag replace each other (one per session and kind).
    pub tag: String,
    pub session_id: Option<String>,
}

/// How one delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The push service says the subscription is gone (404/410): forget it.
    Gone,
    /// Anything else (network, 4xx/5xx): kept, said in the log.
    Failed(String),
}

/// Where one device is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A browser's Web Push subscription (the PWA).
    Web(Subscription),
    /// The phone app's device token for APNs or FCM.
    Native {
        platform: native::NativePlatform,
        token: String,
    },
}

/// Delivers notifications to devices.
pub trait PushService: Send + Sync {
    fn deliver(
        &self,
        to: &Target,
        what: &Notification,
    ) -> impl std::future::Future<Output = Delivery> + Send;
}

/// The host's push services: Web Push always; APNs and FCM when configured.
pub struct Pushers {
    pub web: WebPush,
    pub apns: Option<native::Apns>,
    pub fcm: Option<native::Fcm>,
}

impl Pushers {
    /// Whether tokens of `platform` can be pushed to from this host.
    pub fn serves(&self, platform: native::NativePlatform) -> bool {
        match platform {
            native::NativePlatform::Apns => self.apns.is_some(),
            native::NativePlatform::Fcm => self.fcm.is_some(),
        }
    }
}

impl PushService for Pushers {
    async fn deliver(&self, to: &Target, what: &Notification) -> Delivery {
        use native::NativePlatform;
        match to {
            Target::Web(s) => self.web.deliver(s, what).await,
            Target::Native {
                platform: NativePlatform::Apns,
                token,
            } => match &self.apns {
                Some(apns) => apns.deliver(token, what).await,
                None => Delivery::Failed("APNs is not set up on this host".into()),
            },
            Target::Native {
                platform: NativePlatform::Fcm,
                token,
            } => match &self.fcm {
                Some(fcm) => fcm.deliver(token, what).await,
                None => Delivery::Failed("FCM is not set up on this host".into()),
            },
        }
    }
}

/// How long a push service may keep a notification (and the VAPID token's lifetime).
const VALID_FOR: Duration = Duration::from_secs(12 * 3600);

/// Web Push: encrypted for the subscription, VAPID-signed, posted to its endpoint.
pub struct WebPush {
    key: VapidKey,
    /// The VAPID `sub` claim: how a push service reaches the sender's operator.
    contact: String,
    http: reqwest::Client,
}

impl WebPush {
    pub fn new(key: VapidKey, contact: impl Into<String>) -> WebPush {
        WebPush {
            key,
            contact: contact.into(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn public_key(&self) -> String {
        self.key.public_key()
    }

    /// The request a push service receives (public for tests of the wire format).
    pub fn request(
        &self,
        to: &Subscription,
        what: &Notification,
    ) -> Result<http::Request<Vec<u8>>, String> {
        let (uri, key, auth) = to.parts().map_err(|e| e.to_string())?;
        let body = serde_json::to_vec(what).expect("notifications serialize");
        let vapid = self.vapid(&uri)?;
        let mut req = WebPushBuilder::new(uri, key, auth)
            .with_valid_duration(VALID_FOR)
            .build(body)
            .map_err(|e| e.to_string())?;
        req.headers_mut().insert(
            http::header::AUTHORIZATION,
            vapid.parse().map_err(|_| "a VAPID header".to_string())?,
        );
        Ok(req)
    }

    /// `vapid t=<JWT>, k=<public key>` (RFC 8292). Signed here rather than by web-push-native,
    /// whose audience leaves out a non-default port: the audience is the endpoint's origin.
    fn vapid(&self, endpoint: &http::Uri) -> Result<String, String> {
        use web_push_native::jwt_simple::algorithms::ECDSAP256KeyPairLike;
        use web_push_native::jwt_simple::claims::Claims;
        let origin = match (endpoint.scheme_str(), endpoint.authority()) {
            (Some(scheme), Some(authority)) => {
                let host = authority.host();
                match authority.port_u16() {
                    Some(port)
                        if !(scheme == "https" && port == 443
                            || scheme == "http" && port == 80) =>
                    {
                        format!("{scheme}://{host}:{port}")
                    }
                    _ => format!("{scheme}://{host}"),
                }
            }
            _ => return Err("the endpoint has no origin".into()),
        };
        let claims = Claims::create(VALID_FOR.into())
            .with_audience(origin)
            .with_subject(&self.contact);
        let token = self.key.0.sign(claims).map_err(|e| e.to_string())?;
        Ok(format!("vapid t={token}, k={}", self.public_key()))
    }
}

impl WebPush {
    pub async fn deliver(&self, to: &Subscription, what: &Notification) -> Delivery {
        let req = match self.request(to, what) {
            Ok(r) => r,
            Err(e) => return Delivery::Failed(e),
        };
        let (parts, body) = req.into_parts();
        let mut out = self.http.post(parts.uri.to_string()).body(body);
        for (name, value) in &parts.headers {
            out = out.header(name.as_str(), value.as_bytes());
        }
        match out.send().await {
            Ok(res) if res.status().is_success() => Delivery::Delivered,
            Ok(res) if matches!(res.status().as_u16(), 404 | 410) => Delivery::Gone,
            Ok(res) => Delivery::Failed(format!("the push service answered {}", res.status())),
            Err(e) => Delivery::Failed(format!("the push service is unreachable: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_kept_and_private() {
        let dir = tempfile_dir();
        let path = dir.join("vapid.pem");
        let a = VapidKey::load_or_create(&path).unwrap();
        let b = VapidKey::load_or_create(&path).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(URL_SAFE_NO_PAD.decode(a.public_key()).unwrap().len(), 65);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_subscriptions_are_refused_with_the_reason() {
        let good_key = URL_SAFE_NO_PAD.encode(
            ES256KeyPair::generate()
                .public_key()
                .public_key()
                .to_bytes_uncompressed(),
        );
        let sub = |endpoint: &str, p256dh: &str, auth: &str| Subscription {
            endpoint: endpoint.into(),
            p256dh: p256dh.into(),
            auth: auth.into(),
        };
        let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
        assert!(sub("https://push.example/x", &good_key, &auth)
            .check()
            .is_ok());
        assert!(sub("http://127.0.0.1:9/x", &good_key, &auth)
            .check()
            .is_ok());
        for (s, why) in [
            (sub("http://push.example/x", &good_key, &auth), "https"),
            (sub("not a url", &good_key, &auth), "URL"),
            (sub("https://push.example/x", "AAAA", &auth), "p256dh"),
            (sub("https://push.example/x", &good_key, "AAAA"), "auth"),
        ] {
            let err = s.check().unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("arcbench-push-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
