//! A stand-in for a browser vendor's Web Push service, on a real socket. It hands out
//! subscriptions like `PushManager.subscribe()` does (an endpoint on this server, a P-256 key
//! pair and an auth secret it keeps, as the browser would), and for each push it receives:
//! checks the VAPID `Authorization` (an ES256 JWT for this origin, signed by the key in `k`, not
//! expired, with a `sub`) and the aes128gcm body, decrypts the payload with the subscription's
//! private key and records it. A subscription can be made to answer 404 or 410, as a push
//! service does for one that expired or was unsubscribed.

pub mod native;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
use web_push_native::jwt_simple::claims::NoCustomClaims;
use web_push_native::jwt_simple::common::VerificationOptions;
use web_push_native::p256;
use web_push_native::Auth;

/// One push as the browser would see it.
#[derive(Debug, Clone)]
pub struct Received {
    pub subscription: String,
    /// The decrypted payload, as the service worker gets it, and parsed.
    pub plaintext: String,
    pub payload: serde_json::Value,
    /// The VAPID key that signed it (base64url), and its `sub` claim.
    pub vapid_key: String,
    pub contact: String,
    pub ttl: Option<String>,
}

/// The keys a subscription's owner (the browser) keeps, and what the page would send the host.
#[derive(Debug, Clone)]
pub struct FakeSubscription {
    pub id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, (p256::SecretKey, Auth)>,
    answers: HashMap<String, u16>,
    received: Vec<Received>,
    refused: Vec<String>,
}

#[derive(Clone)]
pub struct FakePush {
    base: String,
    inner: Arc<Mutex<Inner>>,
    notify: Arc<tokio::sync::Notify>,
}

impl FakePush {
    pub async fn start() -> FakePush {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let notify = Arc::new(tokio::sync::Notify::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().route("/push/{id}", post(push)).with_state((
            base.clone(),
            inner.clone(),
            notify.clone(),
        ));
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakePush {
            base,
            inner,
            notify,
        }
    }

    /// Where subscriptions point (`http://127.0.0.1:PORT`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Resolves once a push was received or refused (since the last time it resolved).
    pub async fn changed(&self) {
        self.notify.notified().await
    }

    /// A new subscription, as `PushManager.subscribe()` would make it.
    pub fn subscribe(&self) -> FakeSubscription {
        let mut rng = web_push_native::p256::elliptic_curve::rand_core::OsRng;
        let secret = p256::SecretKey::random(&mut rng);
        let mut auth = [0u8; 16];
        getrandom_fill(&mut auth);
        let id = URL_SAFE_NO_PAD.encode(&auth[..6]);
        let public = secret.public_key();
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let p256dh = URL_SAFE_NO_PAD.encode(public.to_encoded_point(false).as_bytes());
        self.inner
            .lock()
            .unwrap()
            .keys
            .insert(id.clone(), (secret, *Auth::from_slice(&auth)));
        FakeSubscription {
            endpoint: format!("{}/push/{id}", self.base),
            p256dh,
            auth: URL_SAFE_NO_PAD.encode(auth),
            id,
        }
    }

    /// From now on `id` answers `status` (404 or 410: the subscription is gone).
    pub fn answer(&self, id: &str, status: u16) {
        self.inner
            .lock()
            .unwrap()
            .answers
            .insert(id.to_owned(), status);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Pushes refused, with why (a bad signature, an undecryptable body, ...).
    pub fn refused(&self) -> Vec<String> {
        self.inner.lock().unwrap().refused.clone()
    }

    /// Waits until `n` pushes arrived (or 30 s passed), and returns them.
    pub async fn wait(&self, n: usize) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.received()
    }
}

fn getrandom_fill(buf: &mut [u8]) {
    use web_push_native::p256::elliptic_curve::rand_core::RngCore;
    web_push_native::p256::elliptic_curve::rand_core::OsRng.fill_bytes(buf);
}

type Shared = (String, Arc<Mutex<Inner>>, Arc<tokio::sync::Notify>);

async fn push(
    State((base, inner, notify)): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let status = judge(&base, &inner, id, headers, body);
    // One permit is kept when nobody waits, so a push between two looks is never missed.
    notify.notify_one();
    status
}

fn judge(
    base: &str,
    inner: &Arc<Mutex<Inner>>,
    id: String,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let refuse = |why: String| {
        inner.lock().unwrap().refused.push(why);
        StatusCode::BAD_REQUEST
    };
    let (secret, auth) = {
        let g = inner.lock().unwrap();
        if let Some(status) = g.answers.get(&id) {
            return StatusCode::from_u16(*status).unwrap();
        }
        match g.keys.get(&id) {
            Some(k) => k.clone(),
            None => return StatusCode::NOT_FOUND,
        }
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if header("content-encoding").as_deref() != Some("aes128gcm") {
        return refuse("Content-Encoding is not aes128gcm".into());
    }
    // Authorization: vapid t=<jwt>, k=<public key>
    let Some(authz) = header("authorization") else {
        inner
            .lock()
            .unwrap()
            .refused
            .push("no Authorization".into());
        return StatusCode::UNAUTHORIZED;
    };
    let mut token = None;
    let mut key = None;
    for part in authz
        .strip_prefix("vapid ")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
    {
        if let Some(t) = part.strip_prefix("t=") {
            token = Some(t.to_owned());
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k.to_owned());
        }
    }
    let (Some(token), Some(key)) = (token, key) else {
        inner
            .lock()
            .unwrap()
            .refused
            .push(format!("not a VAPID Authorization: {authz}"));
        return StatusCode::UNAUTHORIZED;
    };
    let public = match URL_SAFE_NO_PAD
        .decode(&key)
        .ok()
        .and_then(|b| ES256PublicKey::from_bytes(&b).ok())
    {
        Some(p) => p,
        None => return refuse("k is not a P-256 public key".into()),
    };
    let options = VerificationOptions {
        allowed_audiences: Some(std::iter::once(base.to_owned()).collect()),
        ..Default::default()
    };
    let claims = match public.verify_token::<NoCustomClaims>(&token, Some(options)) {
        Ok(c) => c,
        Err(e) => {
            inner
                .lock()
                .unwrap()
                .refused
                .push(format!("VAPID signature refused: {e}"));
            return StatusCode::UNAUTHORIZED;
        }
    };
    let Some(contact) = claims.subject else {
        return refuse("VAPID token without sub".into());
    };
    if claims.expires_at.is_none() {
        return refuse("VAPID token without exp".into());
    }
    let plain = match web_push_native::decrypt(body.to_vec(), &secret, &auth) {
        Ok(p) => p,
        Err(e) => return refuse(format!("payload does not decrypt: {e}")),
    };
    let plaintext = String::from_utf8_lossy(&plain).into_owned();
    let payload = match serde_json::from_slice(&plain) {
        Ok(v) => v,
        Err(e) => return refuse(format!("payload is not JSON: {e}")),
    };
    inner.lock().unwrap().received.push(Received {
        subscription: id,
        plaintext,
        payload,
        vapid_key: key,
        contact,
        ttl: header("ttl"),
    });
    StatusCode::CREATED
}
