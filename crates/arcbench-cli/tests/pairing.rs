//! Pairing, black-box against the real `arcbench serve`: a code minted with the master key is
//! redeemed without any key for a device's own key (stored hashed); a revoked device is refused
//! at once and its sockets closed with 4401 while the master key's stay; `POST /pair` is
//! rate-limited per address; and the `arcbench pair` / `arcbench devices` commands.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use fake_claude::FakeClaude;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A host with a fixture repo and the fake Messages API, never asking tailscaled.
struct Setup {
    host: Host,
    _repo: TestRepo,
    _data: tempfile::TempDir,
    _claude: FakeClaude,
}

async fn setup() -> Setup {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host(&repo.path, data.path(), &claude, &["--no-tailscale"]);
    Setup {
        host,
        _repo: repo,
        _data: data,
        _claude: claude,
    }
}

/// `POST /pair` without a key, as a phone that has only the code.
async fn pair(host: &Host, code: &str, name: &str) -> (u16, Value) {
    call_as(
        host,
        None,
        "POST",
        "/pair",
        Some(json!({"code": code, "device_name": name})),
    )
    .await
}

async fn mint(host: &Host) -> Value {
    let (status, v) = host.call("POST", "/pairing-codes", Some(json!({}))).await;
    assert_eq!(status, 201, "{v}");
    v
}

fn assert_refused(got: &(u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        got.1
    );
}

/// `XXXX-XXXX-XXXX` in Crockford's base32.
fn assert_code_shape(code: &str) {
    let groups: Vec<&str> = code.split('-').collect();
    assert_eq!(groups.len(), 3, "{code}");
    for g in groups {
        assert_eq!(g.len(), 4, "{code}");
        assert!(
            g.bytes()
                .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)),
            "{code}"
        );
    }
}

fn assert_links(links: &Value, code: &str) {
    let links = links.as_array().expect("links");
    assert!(!links.is_empty(), "at least the loopback link");
    for l in links {
        let l = l.as_str().unwrap();
        assert!(l.contains(&format!("/app/#/pair?code={code}")), "{l}");
        assert!(!l.contains(KEY), "a link never carries the master key: {l}");
    }
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The database with its WAL: a fresh write may not be checkpointed into the main file yet.
fn database_bytes(data: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(data).unwrap() {
        let entry = entry.unwrap();
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("arcbench.sqlite3")
        {
            all.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    assert!(!all.is_empty(), "a database in {}", data.display());
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A WebSocket with `token` in its Authorization header.
async fn ws_header(host: &Host, token: &str) -> Ws {
    let url = format!("{}/ws", host.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// A WebSocket that sends its key as the first message, as a browser does.
async fn ws_first_message(host: &Host, token: &str) -> Ws {
    let url = format!("{}/ws", host.base.replace("http://", "ws://"));
    let mut socket = tokio_tungstenite::connect_async(url).await.unwrap().0;
    socket
        .send(Message::Text(
            json!({"type": "auth", "token": token}).to_string().into(),
        ))
        .await
        .unwrap();
    socket
}

/// Reads until the socket closes; returns the events read and the close code.
async fn events_until_close(ws: &mut Ws) -> (Vec<Value>, Option<u16>) {
    let mut events = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("the socket closes in time");
        match msg {
            Some(Ok(Message::Text(t))) => events.push(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(frame))) => {
                return (events, frame.map(|f| u16::from(f.code)));
            }
            Some(Ok(other)) => panic!("unexpected message {other:?}"),
            Some(Err(_)) | None => return (events, None),
        }
    }
}

async fn arcbench(args: &[&str], data: &Path) -> std::process::Output {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_arcbench"))
        .args(args)
        .env("ARCBENCH_API_KEY", KEY)
        .env("ARCBENCH_DATA_DIR", data)
        .env("ARCBENCH_LOG", "warn")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("the command ends in time")
        .unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_pairs_a_device_once_for_its_own_hashed_key() {
    let s = setup().await;
    let host = &s.host;

    // Minting needs a key.
    let (status, v) = call_as(host, None, "POST", "/pairing-codes", None).await;
    assert_eq!((status, v["code"].as_str()), (401, Some("unauthorized")));

    let minted = mint(host).await;
    let code = minted["code"].as_str().unwrap().to_owned();
    assert_code_shape(&code);
    assert!(minted["expires_at"].as_str().is_some_and(|e| !e.is_empty()));
    assert_links(&minted["links"], &code);
    let svg = minted["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    assert!(!minted.to_string().contains(KEY), "{minted}");

    // Redeemed without any key; the name is trimmed.
    let (status, paired) = pair(host, &code, "  Alice's phone  ").await;
    assert_eq!(status, 201, "{paired}");
    let key = paired["key"].as_str().unwrap().to_owned();
    assert_ne!(key, KEY);
    assert_eq!(key.len(), 64, "{key}");
    let device = &paired["device"];
    let id = device["id"].as_str().unwrap().to_owned();
    assert_eq!(device["name"], "Alice's phone");

    // The device's key is a key.
    let (status, v) = call_as(host, Some(&key), "GET", "/status", None).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = call_as(host, Some(&key), "GET", "/sessions", None).await;
    assert_eq!(status, 200, "{v}");

    // Each code works once; malformed and unknown codes are invalid; a name is required.
    assert_refused(&pair(host, &code, "again").await, 410, "pairing_code_used");
    assert_refused(
        &pair(host, "not-a-code", "x").await,
        401,
        "pairing_code_invalid",
    );
    assert_refused(
        &pair(host, "0000-0000-0000", "x").await,
        401,
        "pairing_code_invalid",
    );
    let other = mint(host).await["code"].as_str().unwrap().to_owned();
    assert_refused(&pair(host, &other, "  ").await, 400, "bad_request");

    let devices = host.ok("GET", "/devices", None).await;
    let list = devices["devices"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{devices}");
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["name"], "Alice's phone");
    assert!(
        list[0]["last_seen_at"].is_string(),
        "seen when it called: {devices}"
    );

    // Only the key's SHA-256 is stored.
    let db = database_bytes(&host.data);
    assert!(!contains(&db, &key), "the device key is stored in clear");
    assert!(contains(&db, &sha256_hex(&key)), "the key's hash is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_refused_at_once_and_its_sockets_close() {
    let s = setup().await;
    let host = &s.host;
    let code = mint(host).await["code"].as_str().unwrap().to_owned();
    let (status, paired) = pair(host, &code, "phone").await;
    assert_eq!(status, 201, "{paired}");
    let key = paired["key"].as_str().unwrap().to_owned();
    let id = paired["device"]["id"].as_str().unwrap().to_owned();

    let mut by_header = ws_header(host, &key).await;
    let mut by_message = ws_first_message(host, &key).await;
    let mut master = ws_header(host, KEY).await;
    // Each socket is live before the revocation: it gets this session's event.
    let session = host.session().await;
    for socket in [&mut by_header, &mut by_message, &mut master] {
        read_until(socket, |e| {
            e["type"] == "session.created" && e["session"]["id"] == session.as_str()
        })
        .await;
    }

    let revoked = host.ok("DELETE", &format!("/devices/{id}"), None).await;
    assert_eq!(revoked["id"], id.as_str(), "{revoked}");

    for socket in [&mut by_header, &mut by_message] {
        let (events, close) = events_until_close(socket).await;
        let last = events.last().expect("device.revoked before the close");
        assert_eq!(last["type"], "device.revoked", "{events:?}");
        assert_eq!(last["device_id"], id.as_str());
        assert_eq!(close, Some(4401));
    }

    // Refused at once over REST, and for a new socket.
    let (status, v) = call_as(host, Some(&key), "GET", "/status", None).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("unauthorized")),
        "{v}"
    );
    let url = format!("{}/ws", host.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    let mut late = ws_first_message(host, &key).await;
    let (_, close) = events_until_close(&mut late).await;
    assert_eq!(close, Some(4401));

    // The master key's socket stays: it saw the revocation and sees what follows.
    let seen = read_until(&mut master, |e| e["type"] == "device.revoked").await;
    assert_eq!(seen.last().unwrap()["device_id"], id.as_str());
    let later = host.session().await;
    read_until(&mut master, |e| {
        e["type"] == "session.created" && e["session"]["id"] == later.as_str()
    })
    .await;
    assert!(host.ok("GET", "/devices", None).await["devices"]
        .as_array()
        .unwrap()
        .is_empty());

    let (status, v) = host.call("DELETE", &format!("/devices/{id}"), None).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (404, Some("not_found")),
        "{v}"
    );
    let _ = master.close(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_attempts_are_rate_limited_without_spending_the_code() {
    let s = setup().await;
    let host = &s.host;
    let code = mint(host).await["code"].as_str().unwrap().to_owned();

    for i in 0..5 {
        let got = pair(host, &format!("0000-0000-000{i}"), "guesser").await;
        assert_refused(&got, 401, "pairing_code_invalid");
    }
    let fifth = Instant::now();
    assert_refused(
        &pair(host, "0000-0000-0009", "guesser").await,
        429,
        "rate_limited",
    );
    // Limited: even the right code is not looked at.
    assert_refused(&pair(host, &code, "phone").await, 429, "rate_limited");

    // One attempt comes back every 12 s; the refused attempt did not spend the code.
    tokio::time::sleep_until((fifth + Duration::from_millis(12_500)).into()).await;
    let (status, v) = pair(host, &code, "phone").await;
    assert_eq!(status, 201, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pair_and_devices_commands_talk_to_the_running_host() {
    let s = setup().await;
    let host = &s.host;
    let data = host.data.clone();
    let files = tempfile::tempdir().unwrap();
    let png = files.path().join("f.png");
    let svg = files.path().join("f.svg");

    let data_arg = data.to_str().unwrap();
    let out = arcbench(
        &[
            "pair",
            "--json",
            "--data-dir",
            data_arg,
            "--png",
            png.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
        ],
        Path::new("/nonexistent-env-data-dir"),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let code = printed["code"].as_str().unwrap().to_owned();
    assert_code_shape(&code);
    assert!(printed["expires_at"].is_string(), "{printed}");
    assert_links(&printed["links"], &code);
    assert!(!stdout(&out).contains(KEY));
    let png_bytes = std::fs::read(&png).unwrap();
    assert!(png_bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.contains("<svg"), "{svg_text}");

    // The code lives in that host: a phone redeems it (typed loosely).
    let typed = code.to_lowercase().replace('-', " ");
    let (status, paired) = pair(host, &typed, "tablet").await;
    assert_eq!(status, 201, "{paired}");
    let key = paired["key"].as_str().unwrap().to_owned();
    let id = paired["device"]["id"].as_str().unwrap().to_owned();

    // Without --json: a QR code in the terminal and the link.
    let out = arcbench(&["pair"], &data).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("/app/#/pair?code="),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains(KEY));

    let out = arcbench(&["devices", "list"], &data).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(
        listed.contains(&id) && listed.contains("tablet"),
        "{listed}"
    );

    let out = arcbench(&["devices", "revoke", &id], &data).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&id), "{}", stdout(&out));
    let (status, _) = call_as(host, Some(&key), "GET", "/status", None).await;
    assert_eq!(status, 401, "the revoked key is refused");

    let out = arcbench(&["devices", "list"], &data).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("no paired devices"),
        "{}",
        stdout(&out)
    );

    let out = arcbench(&["devices", "revoke", &id], &data).await;
    assert!(!out.status.success(), "revoking twice fails");
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));

    // No host on a data dir: said plainly, and a failure.
    let empty = tempfile::tempdir().unwrap();
    for args in [&["pair", "--json"][..], &["devices", "list"][..]] {
        let out = arcbench(args, empty.path()).await;
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains("no host runs"), "{}", stderr(&out));
    }
}
