//! Stand-ins for the phone push services, on real sockets, checking what the real ones check:
//!
//! - [`FakeApns`]: Apple's provider API. HTTP/2 only (cleartext, prior knowledge, on loopback);
//!   `POST /3/device/<token>` with a provider token (an ES256 JWT whose `kid` is the key's id
//!   and `iss` the team's, signed by the `.p8` key it hands out), `apns-topic` = the app's bundle
//!   id, `apns-push-type: alert`. Answers 200, or 410 `Unregistered` / 400 `BadDeviceToken`
//!   for tokens told to, as APNs does for an app that was removed.
//! - [`FakeFcm`]: Google's OAuth token endpoint (RFC 7523: a service account's RS256 assertion
//!   for the firebase.messaging scope, exchanged for an access token) and FCM's HTTP v1
//!   `POST /v1/projects/<project>/messages:send` (bearer token, a registered device token).
//!   Answers 404 `UNREGISTERED` for tokens told to.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

/// One notification as the phone would get it.
#[derive(Debug, Clone)]
pub struct NativeReceived {
    pub token: String,
    pub payload: Value,
    /// The headers that steer it (APNs: topic, collapse id, push type, priority).
    pub headers: HashMap<String, String>,
}

#[derive(Default)]
struct Book {
    tokens: HashSet<String>,
    /// token → (status, reason) to answer instead.
    answers: HashMap<String, (u16, String)>,
    received: Vec<NativeReceived>,
    refused: Vec<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn random_hex(bytes: usize) -> String {
    use p256::elliptic_curve::rand_core::{OsRng, RngCore};
    let mut b = vec![0u8; bytes];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A JWT's header and claims, once its signature checked out with `verify`.
fn open_jwt(token: &str, verify: impl Fn(&[u8], &[u8]) -> bool) -> Result<(Value, Value), String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, c, s] = parts[..] else {
        return Err("not a JWT (three parts)".into());
    };
    let decode = |p: &str| {
        URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|e| format!("not base64url: {e}"))
    };
    let signature = decode(s)?;
    if !verify(format!("{h}.{c}").as_bytes(), &signature) {
        return Err("the signature does not verify".into());
    }
    let json = |b: Vec<u8>| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string());
    Ok((json(decode(h)?)?, json(decode(c)?)?))
}

#[derive(Clone)]
pub struct FakeApns {
    base: String,
    pub team_id: String,
    pub key_id: String,
    pub topic: String,
    key: p256::ecdsa::SigningKey,
    book: Arc<Mutex<Book>>,
}

impl FakeApns {
    pub async fn start(topic: &str) -> FakeApns {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let key = p256::ecdsa::SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let apns = FakeApns {
            base,
            team_id: "TEAM123456".into(),
            key_id: "KEY1234567".into(),
            topic: topic.to_owned(),
            key,
            book: Arc::default(),
        };
        let app = Router::new()
            .route("/3/device/{token}", post(apns_push))
            .with_state(apns.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        apns
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Writes the signing key as Apple hands it out (`AuthKey_<id>.p8`, PKCS#8 PEM) into `dir`.
    pub fn write_key(&self, dir: &Path) -> PathBuf {
        use p256::pkcs8::EncodePrivateKey;
        let pem = self.key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap();
        let path = dir.join(format!("AuthKey_{}.p8", self.key_id));
        std::fs::write(&path, pem.as_bytes()).unwrap();
        path
    }

    /// A device token, as iOS gives the app after `registerForRemoteNotifications`.
    pub fn register(&self) -> String {
        let token = random_hex(32);
        self.book.lock().unwrap().tokens.insert(token.clone());
        token
    }

    /// From now on `token` answers `status` with `reason` (410 `Unregistered`: the app is gone).
    pub fn answer(&self, token: &str, status: u16, reason: &str) {
        self.book
            .lock()
            .unwrap()
            .answers
            .insert(token.to_owned(), (status, reason.to_owned()));
    }

    pub fn received(&self) -> Vec<NativeReceived> {
        self.book.lock().unwrap().received.clone()
    }

    pub fn refused(&self) -> Vec<String> {
        self.book.lock().unwrap().refused.clone()
    }

    /// Waits until `n` notifications arrived (or 30 s passed), and returns them.
    pub async fn wait(&self, n: usize) -> Vec<NativeReceived> {
        wait(&self.book, n).await
    }
}

async fn wait(book: &Mutex<Book>, n: usize) -> Vec<NativeReceived> {
    for _ in 0..600 {
        let got = book.lock().unwrap().received.clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    book.lock().unwrap().received.clone()
}

fn apns_error(status: u16, reason: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"reason": reason})),
    )
        .into_response()
}

async fn apns_push(
    State(apns): State<FakeApns>,
    UrlPath(token): UrlPath<String>,
    request: Request,
) -> Response {
    let refuse = |status: u16, reason: &str, why: String| {
        apns.book.lock().unwrap().refused.push(why);
        apns_error(status, reason)
    };
    if request.version() != Version::HTTP_2 {
        return refuse(
            505,
            "BadRequest",
            format!("APNs speaks HTTP/2 only, got {:?}", request.version()),
        );
    }
    let headers: HeaderMap = request.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let Some(jwt) =
        header("authorization").and_then(|a| a.strip_prefix("bearer ").map(str::to_owned))
    else {
        return refuse(
            403,
            "MissingProviderToken",
            "no bearer provider token".into(),
        );
    };
    let public = *apns.key.verifying_key();
    let opened = open_jwt(&jwt, |input, signature| {
        use p256::ecdsa::signature::Verifier;
        p256::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|s| public.verify(input, &s).is_ok())
    });
    let (head, claims) = match opened {
        Ok(x) => x,
        Err(e) => return refuse(403, "InvalidProviderToken", format!("provider token: {e}")),
    };
    if head["alg"] != "ES256" || head["kid"] != apns.key_id.as_str() {
        return refuse(
            403,
            "InvalidProviderToken",
            format!("provider token header {head}"),
        );
    }
    let iat = claims["iat"].as_u64().unwrap_or(0);
    if claims["iss"] != apns.team_id.as_str() || iat + 3600 < now() || iat > now() + 60 {
        return refuse(
            403,
            "ExpiredProviderToken",
            format!("provider token claims {claims}"),
        );
    }
    if header("apns-topic").as_deref() != Some(apns.topic.as_str()) {
        return refuse(
            400,
            "TopicDisallowed",
            format!("apns-topic {:?}", header("apns-topic")),
        );
    }
    if header("apns-push-type").as_deref() != Some("alert") {
        return refuse(400, "InvalidPushType", "apns-push-type is not alert".into());
    }
    if let Some((status, reason)) = apns.book.lock().unwrap().answers.get(&token).cloned() {
        return apns_error(status, &reason);
    }
    if !apns.book.lock().unwrap().tokens.contains(&token) {
        return apns_error(400, "BadDeviceToken");
    }
    let body = match axum::body::to_bytes(request.into_body(), 4096).await {
        Ok(b) => b,
        Err(_) => return refuse(413, "PayloadTooLarge", "over 4 KB".into()),
    };
    let payload: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return refuse(400, "BadPayload", format!("not JSON: {e}")),
    };
    if payload["aps"]["alert"]["title"].as_str().is_none() {
        return refuse(
            400,
            "PayloadEmpty",
            format!("no aps.alert.title: {payload}"),
        );
    }
    let kept = [
        "apns-topic",
        "apns-collapse-id",
        "apns-push-type",
        "apns-priority",
    ]
    .into_iter()
    .filter_map(|h| header(h).map(|v| (h.to_owned(), v)))
    .collect();
    apns.book.lock().unwrap().received.push(NativeReceived {
        token,
        payload,
        headers: kept,
    });
    StatusCode::OK.into_response()
}

#[derive(Clone)]
pub struct FakeFcm {
    base: String,
    pub project_id: String,
    pub client_email: String,
    public: rsa::RsaPublicKey,
    access: Arc<Mutex<HashSet<String>>>,
    book: Arc<Mutex<Book>>,
}

/// The stand-in's service account key (see `keys/README.md`).
const SERVICE_KEY: &str = include_str!("../keys/fcm-test-service-account.pem");

impl FakeFcm {
    pub async fn start() -> FakeFcm {
        use rsa::pkcs8::DecodePrivateKey;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(SERVICE_KEY).unwrap();
        let fcm = FakeFcm {
            base,
            project_id: "arcbench-test".into(),
            client_email: "push@arcbench-test.iam.gserviceaccount.com".into(),
            public: private.to_public_key(),
            access: Arc::default(),
            book: Arc::default(),
        };
        let app = Router::new()
            .route("/token", post(fcm_token))
            .route("/v1/projects/{project}/messages:send", post(fcm_send))
            .with_state(fcm.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fcm
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Writes the service-account key file as the Firebase console hands it out into `dir`.
    pub fn write_service_account(&self, dir: &Path) -> PathBuf {
        let path = dir.join("firebase-service-account.json");
        let account = json!({
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": "0123456789abcdef",
            "private_key": SERVICE_KEY,
            "client_email": self.client_email,
            "client_id": "1",
            "token_uri": format!("{}/token", self.base),
        });
        std::fs::write(&path, account.to_string()).unwrap();
        path
    }

    /// A registration token, as Firebase gives the app.
    pub fn register(&self) -> String {
        let token = format!("fcm:{}", random_hex(40));
        self.book.lock().unwrap().tokens.insert(token.clone());
        token
    }

    /// From now on `token` answers `status` (404: `UNREGISTERED`).
    pub fn answer(&self, token: &str, status: u16, code: &str) {
        self.book
            .lock()
            .unwrap()
            .answers
            .insert(token.to_owned(), (status, code.to_owned()));
    }

    pub fn received(&self) -> Vec<NativeReceived> {
        self.book.lock().unwrap().received.clone()
    }

    pub fn refused(&self) -> Vec<String> {
        self.book.lock().unwrap().refused.clone()
    }

    /// Access tokens handed out so far.
    pub fn tokens_issued(&self) -> usize {
        self.access.lock().unwrap().len()
    }

    pub async fn wait(&self, n: usize) -> Vec<NativeReceived> {
        wait(&self.book, n).await
    }
}

fn fcm_error(status: u16, code: &str) -> Response {
    let body = json!({"error": {
        "code": status,
        "status": if status == 404 { "NOT_FOUND" } else { "INVALID_ARGUMENT" },
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}],
    }});
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

async fn fcm_token(
    State(fcm): State<FakeFcm>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let refuse = |why: String| {
        fcm.book.lock().unwrap().refused.push(why.clone());
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": why})),
        )
            .into_response()
    };
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return refuse(format!("grant_type {:?}", form.get("grant_type")));
    }
    let Some(assertion) = form.get("assertion") else {
        return refuse("no assertion".into());
    };
    let public = fcm.public.clone();
    let opened = open_jwt(assertion, |input, signature| {
        use rsa::signature::Verifier;
        let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public.clone());
        rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|s| key.verify(input, &s).is_ok())
    });
    let (head, claims) = match opened {
        Ok(x) => x,
        Err(e) => return refuse(format!("assertion: {e}")),
    };
    let t = now();
    let ok = head["alg"] == "RS256"
        && claims["iss"] == fcm.client_email.as_str()
        && claims["aud"] == format!("{}/token", fcm.base).as_str()
        && claims["scope"].as_str().is_some_and(|s| {
            s.split(' ')
                .any(|x| x == "https://www.googleapis.com/auth/firebase.messaging")
        })
        && claims["exp"]
            .as_u64()
            .is_some_and(|e| e > t && e <= t + 3700)
        && claims["iat"].as_u64().is_some_and(|i| i <= t + 60);
    if !ok {
        return refuse(format!("assertion {head} {claims}"));
    }
    let token = format!("ya29.{}", random_hex(24));
    fcm.access.lock().unwrap().insert(token.clone());
    Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})).into_response()
}

async fn fcm_send(
    State(fcm): State<FakeFcm>,
    UrlPath(project): UrlPath<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::to_owned);
    if !bearer.is_some_and(|b| fcm.access.lock().unwrap().contains(&b)) {
        fcm.book
            .lock()
            .unwrap()
            .refused
            .push("no valid access token".into());
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}})),
        )
            .into_response();
    }
    if project != fcm.project_id {
        return fcm_error(403, "SENDER_ID_MISMATCH");
    }
    let payload: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            fcm.book
                .lock()
                .unwrap()
                .refused
                .push(format!("not JSON: {e}"));
            return fcm_error(400, "INVALID_ARGUMENT");
        }
    };
    let token = payload["message"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // FCM's data values are strings only.
    let data_ok = payload["message"]["data"]
        .as_object()
        .is_none_or(|d| d.values().all(Value::is_string));
    if !data_ok
        || payload["message"]["notification"]["title"]
            .as_str()
            .is_none()
    {
        fcm.book
            .lock()
            .unwrap()
            .refused
            .push(format!("bad message {payload}"));
        return fcm_error(400, "INVALID_ARGUMENT");
    }
    if let Some((status, code)) = fcm.book.lock().unwrap().answers.get(&token).cloned() {
        return fcm_error(status, &code);
    }
    if !fcm.book.lock().unwrap().tokens.contains(&token) {
        return fcm_error(400, "INVALID_ARGUMENT");
    }
    fcm.book.lock().unwrap().received.push(NativeReceived {
        token,
        payload,
        headers: HashMap::new(),
    });
    Json(json!({"name": format!("projects/{project}/messages/{}", random_hex(8))})).into_response()
}
