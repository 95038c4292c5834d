//! Native push for the phone app while it is closed: Apple's APNs (HTTP/2, a provider token
//! signed with the team's `.p8` key, ES256) and Firebase Cloud Messaging's HTTP v1 API (an OAuth
//! access token from a service account, RS256). Both deliver the same [`Notification`] the
//! browsers get; which devices get what is the host's notifier's business, as for Web Push.
//!
//! Neither service can be reached from tests: `tests/fake-push` stands in for both on a real
//! socket (APNs over cleartext HTTP/2, FCM's token and send endpoints), checking the signatures
//! and answering as they do, including "this token is gone".

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use crate::{Delivery, Notification, PushError};

/// Which native service a token belongs to (the wire type: the host's API names it the same).
pub use shared_protocol::NativePlatform;

/// Apple's production endpoint; development builds of the app use [`APNS_SANDBOX`].
pub const APNS_PRODUCTION: &str = "https://api.push.apple.com";
pub const APNS_SANDBOX: &str = "https://api.sandbox.push.apple.com";
/// FCM's HTTP v1 API.
pub const FCM_ENDPOINT: &str = "https://fcm.googleapis.com";
const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// APNs wants a provider token renewed at most every 20 minutes and at least every hour.
const APNS_TOKEN_AGE: Duration = Duration::from_secs(40 * 60);
/// How long a push service may keep a notification for an unreachable phone.
const KEEP_FOR: Duration = Duration::from_secs(12 * 3600);

/// Checks a device token's shape before it is kept: APNs tokens are hex (32 bytes today, longer
/// allowed), FCM registration tokens are URL-safe text.
pub fn check_token(platform: NativePlatform, token: &str) -> Result<(), PushError> {
    let bad = |why: &str| PushError::BadSubscription(why.to_owned());
    match platform {
        NativePlatform::Apns => {
            if token.len() < 32
                || token.len() > 200
                || !token.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(bad("an APNs device token is 64 or more hex digits"));
            }
        }
        NativePlatform::Fcm => {
            let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.');
            if token.len() < 20 || token.len() > 4096 || !token.bytes().all(ok) {
                return Err(bad(
                    "an FCM registration token is 20 to 4096 URL-safe characters",
                ));
            }
        }
    }
    Ok(())
}

/// A token signed by the caller's key: `header.claims.signature`, each base64url.
fn jwt(
    header: serde_json::Value,
    claims: serde_json::Value,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn client(http2_only: bool) -> reqwest::Client {
    let b = reqwest::Client::builder().timeout(Duration::from_secs(15));
    // APNs speaks HTTP/2 only: over TLS it is agreed by ALPN; over cleartext (the stand-in on
    // loopback) only with prior knowledge.
    let b = if http2_only {
        b.http2_prior_knowledge()
    } else {
        b
    };
    b.build().expect("an HTTP client")
}

fn loopback_http(endpoint: &str) -> Result<bool, PushError> {
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|_| PushError::BadSubscription(format!("{endpoint} is not a URL")))?;
    let loopback = matches!(
        uri.host(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    match uri.scheme_str() {
        Some("https") => Ok(false),
        Some("http") if loopback => Ok(true),
        _ => Err(PushError::BadSubscription(format!(
            "{endpoint}: a push service is reached over https"
        ))),
    }
}

/// What the host needs to send through APNs (`[push.apns]` in config.toml).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApnsConfig {
    /// The `.p8` signing key made under Certificates, Identifiers & Profiles → Keys.
    pub key_file: PathBuf,
    /// That key's id (10 characters).
    pub key_id: String,
    /// The Apple developer team id (10 characters).
    pub team_id: String,
    /// The app's bundle id (`dev.arcbench.remote`).
    pub topic: String,
    /// [`APNS_PRODUCTION`] unless said otherwise (`APNS_SANDBOX` for development builds).
    pub endpoint: Option<String>,
}

pub struct Apns {
    key: p256::ecdsa::SigningKey,
    key_id: String,
    team_id: String,
    topic: String,
    endpoint: String,
    http: reqwest::Client,
    /// The provider token and when it was made (APNs refuses one renewed too often).
    token: Mutex<Option<(String, Instant)>>,
}

impl Apns {
    pub fn new(config: &ApnsConfig) -> Result<Apns, PushError> {
        use p256::pkcs8::DecodePrivateKey;
        let bad = |reason: String| PushError::BadKey {
            path: config.key_file.display().to_string(),
            reason,
        };
        let pem = std::fs::read_to_string(&config.key_file).map_err(|e| bad(e.to_string()))?;
        let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| bad(format!("not an APNs .p8 key (PKCS#8 P-256): {e}")))?;
        let endpoint = config
            .endpoint
            .clone()
            .unwrap_or_else(|| APNS_PRODUCTION.to_owned());
        let cleartext = loopback_http(&endpoint)?;
        Ok(Apns {
            key,
            key_id: config.key_id.clone(),
            team_id: config.team_id.clone(),
            topic: config.topic.clone(),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            http: client(cleartext),
            token: Mutex::new(None),
        })
    }

    fn provider_token(&self) -> String {
        use p256::ecdsa::signature::Signer;
        let mut kept = self.token.lock().expect("apns token");
        if let Some((token, made)) = kept.as_ref() {
            if made.elapsed() < APNS_TOKEN_AGE {
                return token.clone();
            }
        }
        let token = jwt(
            json!({"alg": "ES256", "kid": self.key_id}),
            json!({"iss": self.team_id, "iat": unix_now()}),
            |input| {
                let signature: p256::ecdsa::Signature = self.key.sign(input);
                signature.to_bytes().to_vec()
            },
        );
        *kept = Some((token.clone(), Instant::now()));
        token
    }

    /// The JSON APNs gets: the alert, and where a tap goes (the app reads `url`/`session_id`).
    pub fn payload(what: &Notification) -> serde_json::Value {
        json!({
            "aps": {
                "alert": {"title": what.title, "body": what.body},
                "sound": "default",
                "thread-id": what.session_id.as_deref().unwrap_or("host"),
            },
            "url": what.url,
            "session_id": what.session_id,
        })
    }

    pub async fn deliver(&self, device_token: &str, what: &Notification) -> Delivery {
        let expires = unix_now() + KEEP_FOR.as_secs();
        // The collapse id replaces an earlier notification of the same session and kind; APNs
        // caps it at 64 bytes (tags are a session id and a short kind).
        let collapse: String = what.tag.chars().take(64).collect();
        let sent = self
            .http
            .post(format!("{}/3/device/{device_token}", self.endpoint))
            .header("authorization", format!("bearer {}", self.provider_token()))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", expires.to_string())
            .header("apns-collapse-id", collapse)
            .json(&Apns::payload(what))
            .send()
            .await;
        let res = match sent {
            Ok(r) => r,
            Err(e) => return Delivery::Failed(format!("APNs is unreachable: {e}")),
        };
        let status = res.status().as_u16();
        if status == 200 {
            return Delivery::Delivered;
        }
        let reason = res
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["reason"].as_str().map(str::to_owned))
            .unwrap_or_default();
        match (status, reason.as_str()) {
            // The app was removed, or the token is not (any more) this app's.
            (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => Delivery::Gone,
            (403, "ExpiredProviderToken" | "InvalidProviderToken") => {
                *self.token.lock().expect("apns token") = None;
                Delivery::Failed(format!("APNs refused the provider token ({reason})"))
            }
            _ => Delivery::Failed(format!("APNs answered {status} {reason}")),
        }
    }
}

/// What the host needs to send through FCM (`[push.fcm]` in config.toml).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcmConfig {
    /// The Firebase project's service-account key (JSON, from Project settings → Service accounts).
    pub service_account: PathBuf,
    /// [`FCM_ENDPOINT`] unless said otherwise.
    pub endpoint: Option<String>,
}

#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    private_key_id: Option<String>,
    private_key: String,
    client_email: String,
    token_uri: String,
}

pub struct Fcm {
    project_id: String,
    client_email: String,
    key: rsa::RsaPrivateKey,
    key_id: Option<String>,
    token_uri: String,
    endpoint: String,
    http: reqwest::Client,
    /// The OAuth access token and when it stops being good.
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

impl Fcm {
    pub fn new(config: &FcmConfig) -> Result<Fcm, PushError> {
        use rsa::pkcs8::DecodePrivateKey;
        let path = &config.service_account;
        let bad = |reason: String| PushError::BadKey {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let account: ServiceAccount = serde_json::from_str(&text)
            .map_err(|e| bad(format!("not a service-account key file: {e}")))?;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&account.private_key)
            .map_err(|e| bad(format!("its private_key is not an RSA key: {e}")))?;
        let endpoint = config
            .endpoint
            .clone()
            .unwrap_or_else(|| FCM_ENDPOINT.to_owned());
        loopback_http(&endpoint)?;
        loopback_http(&account.token_uri)?;
        Ok(Fcm {
            project_id: account.project_id,
            client_email: account.client_email,
            key,
            key_id: account.private_key_id,
            token_uri: account.token_uri,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            http: client(false),
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// An access token for FCM: kept until a minute before it expires, then asked for again
    /// with a fresh assertion signed by the service account's key (RFC 7523).
    async fn access_token(&self) -> Result<String, String> {
        use rsa::signature::{SignatureEncoding, Signer};
        let mut kept = self.token.lock().await;
        if let Some((token, until)) = kept.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let now = unix_now();
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.key.clone());
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.key_id {
            header["kid"] = json!(kid);
        }
        let assertion = jwt(
            header,
            json!({
                "iss": self.client_email,
                "scope": FCM_SCOPE,
                "aud": self.token_uri,
                "iat": now,
                "exp": now + 3600,
            }),
            |input| signer.sign(input).to_vec(),
        );
        #[derive(Deserialize)]
        struct Granted {
            access_token: String,
            expires_in: u64,
        }
        let res = self
            .http
            .post(&self.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("the OAuth token endpoint is unreachable: {e}"))?;
        if !res.status().is_success() {
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            return Err(format!("no FCM access token ({status}): {body}"));
        }
        let granted: Granted = res
            .json()
            .await
            .map_err(|e| format!("the OAuth token endpoint answered nonsense: {e}"))?;
        let until = Instant::now() + Duration::from_secs(granted.expires_in.saturating_sub(60));
        *kept = Some((granted.access_token.clone(), until));
        Ok(granted.access_token)
    }

    /// The `message` FCM gets: the notification, and where a tap goes (`data`).
    pub fn message(token: &str, what: &Notification) -> serde_json::Value {
        json!({
            "message": {
                "token": token,
                "notification": {"title": what.title, "body": what.body},
                "data": {
                    "url": what.url,
                    "tag": what.tag,
                    "session_id": what.session_id.clone().unwrap_or_default(),
                },
                "android": {
                    "priority": "high",
                    "ttl": format!("{}s", KEEP_FOR.as_secs()),
                    "collapse_key": what.tag,
                    "notification": {"tag": what.tag},
                },
            }
        })
    }

    pub async fn deliver(&self, device_token: &str, what: &Notification) -> Delivery {
        let access = match self.access_token().await {
            Ok(t) => t,
            Err(e) => return Delivery::Failed(e),
        };
        let sent = self
            .http
            .post(format!(
                "{}/v1/projects/{}/messages:send",
                self.endpoint, self.project_id
            ))
            .bearer_auth(access)
            .json(&Fcm::message(device_token, what))
            .send()
            .await;
        let res = match sent {
            Ok(r) => r,
            Err(e) => return Delivery::Failed(format!("FCM is unreachable: {e}")),
        };
        let status = res.status().as_u16();
        if res.status().is_success() {
            return Delivery::Delivered;
        }
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let code = body["error"]["details"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|d| d["errorCode"].as_str())
            .or_else(|| body["error"]["status"].as_str())
            .unwrap_or_default()
            .to_owned();
        match (status, code.as_str()) {
            // The app was uninstalled or the token expired.
            (404, _) | (_, "UNREGISTERED") => Delivery::Gone,
            (401, _) => {
                *self.token.lock().await = None;
                Delivery::Failed("FCM refused the access token".into())
            }
            _ => Delivery::Failed(format!("FCM answered {status} {code}")),
        }
    }
}
