//! The WebSocket over a real socket: both ways to authenticate, refusals, and gap-free resume
//! while events are being written.

mod support;

use std::sync::Arc;
use std::time::Duration;

use arcbench_engine::{CreateSessionRequest, Engine};
use arcbench_fixtures::TestRepo;
use arcbench_server::{router, CLOSE_BAD_SINCE, CLOSE_TOO_BIG, CLOSE_UNAUTHORIZED, MAX_INBOUND};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use support::test_state;

const KEY: &str = "ws-test-key-0123456789";

struct Host {
    engine: Arc<Engine>,
    addr: std::net::SocketAddr,
    _data: tempfile::TempDir,
}

async fn host(repo: &TestRepo) -> Host {
    host_with_buffer(repo, 0).await
}

async fn host_with_buffer(repo: &TestRepo, event_buffer: usize) -> Host {
    let t = test_state(repo, KEY, event_buffer).await;
    let app = router(t.state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Host {
        engine: t.engine,
        addr,
        _data: t.data,
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    h: &Host,
    since: u64,
    header: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{}/ws?since={since}", h.addr)
        .into_client_request()
        .unwrap();
    if let Some(k) = header {
        req.headers_mut()
            .insert("authorization", format!("Bearer {k}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
}

/// Reads events until `until` seq arrives; returns their seqs.
async fn read_until(ws: &mut Socket, until: u64) -> Vec<u64> {
    let mut seqs = Vec::new();
    while seqs.last().copied().unwrap_or(0) < until {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("event in time");
        match msg.unwrap().unwrap() {
            Message::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                seqs.push(v["seq"].as_u64().unwrap());
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    seqs
}

fn create(h: &Host) {
    h.engine
        .create_session(CreateSessionRequest::default())
        .unwrap();
}

fn last_seq(h: &Host) -> u64 {
    h.engine
        .events_since(0, u32::MAX)
        .unwrap()
        .last()
        .map_or(0, |e| e.seq)
}

#[tokio::test]
async fn header_auth_replays_then_streams_live() {
    let repo = TestRepo::new();
    let h = host(&repo).await;
    create(&h);
    create(&h);
    let mut ws = connect(&h, 0, Some(KEY)).await.unwrap();
    assert_eq!(read_until(&mut ws, 2).await, vec![1, 2]);
    create(&h);
    assert_eq!(read_until(&mut ws, 3).await, vec![3]);
    let mut resumed = connect(&h, 2, Some(KEY)).await.unwrap();
    assert_eq!(read_until(&mut resumed, 3).await, vec![3]);
}

#[tokio::test]
async fn first_message_auth_and_refusals() {
    let repo = TestRepo::new();
    let h = host(&repo).await;
    create(&h);
    let mut ws = connect(&h, 0, None).await.unwrap();
    ws.send(Message::Text(
        format!(r#"{{"type":"auth","token":"{KEY}"}}"#).into(),
    ))
    .await
    .unwrap();
    assert_eq!(read_until(&mut ws, 1).await, vec![1]);

    let mut bad = connect(&h, 0, None).await.unwrap();
    bad.send(Message::Text(r#"{"type":"auth","token":"nope"}"#.into()))
        .await
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), bad.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), CLOSE_UNAUTHORIZED),
        other => panic!("expected a close, got {other:?}"),
    }

    let err = connect(&h, 0, Some("wrong")).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let plain = reqwest_get(&format!("http://{}/ws", h.addr)).await;
    assert_eq!(plain, 401);
}

async fn connect_with(
    h: &Host,
    headers: &[(&'static str, String)],
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{}/ws", h.addr).into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
}

/// The close code the host ends the socket with (skipping events and pings).
async fn close_code(ws: &mut Socket) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(Some(f)))) => return u16::from(f.code),
            Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("socket error instead of a close: {e}"),
        }
    }
}

#[tokio::test]
async fn pages_of_other_origins_cannot_open_a_socket() {
    let repo = TestRepo::new();
    let h = host(&repo).await;
    let bearer = ("authorization", format!("Bearer {KEY}"));
    let err = connect_with(
        &h,
        &[bearer.clone(), ("origin", "https://evil.example".into())],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    // The host's own page (same origin), the Tauri apps and native clients (no Origin) may.
    for origin in [
        Some(format!("http://{}", h.addr)),
        Some("tauri://localhost".into()),
        None,
    ] {
        let mut headers = vec![bearer.clone()];
        headers.extend(origin.clone().map(|o| ("origin", o)));
        assert!(connect_with(&h, &headers).await.is_ok(), "{origin:?}");
    }
}

#[tokio::test]
async fn unauthenticated_sockets_are_capped_per_address_and_must_authenticate_in_time() {
    let repo = TestRepo::new();
    let h = host(&repo).await;
    let mut waiting = Vec::new();
    for _ in 0..8 {
        waiting.push(connect_with(&h, &[]).await.unwrap());
    }
    let err = connect_with(&h, &[]).await.unwrap_err();
    assert!(err.to_string().contains("429"), "{err}");
    // A key in the header needs no pending slot.
    let bearer = ("authorization", format!("Bearer {KEY}"));
    assert!(connect_with(&h, &[bearer]).await.is_ok());
    // Silent sockets are closed at the auth deadline, which frees their slots.
    for ws in &mut waiting {
        assert_eq!(close_code(ws).await, CLOSE_UNAUTHORIZED);
    }
    drop(waiting);
    let mut ws = connect_with(&h, &[]).await.unwrap();
    ws.send(Message::Text(
        format!(r#"{{"type":"auth","token":"{KEY}"}}"#).into(),
    ))
    .await
    .unwrap();
    create(&h);
    assert_eq!(read_until(&mut ws, 1).await, vec![1]);
}

#[tokio::test]
async fn an_inbound_message_over_the_limit_closes_the_socket() {
    let repo = TestRepo::new();
    let h = host(&repo).await;
    let huge = "x".repeat(MAX_INBOUND + 1);
    // Before authenticating (the first message) and after.
    let mut first = connect_with(&h, &[]).await.unwrap();
    first
        .send(Message::Text(huge.clone().into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut first).await, CLOSE_TOO_BIG);
    let mut ws = connect(&h, 0, Some(KEY)).await.unwrap();
    ws.send(Message::Text(huge.into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, CLOSE_TOO_BIG);
}

async fn reqwest_get(url: &str) -> u16 {
    // A bare HTTP GET without upgrade headers, spoken by hand to keep dependencies small.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let u = url.trim_start_matches("http://");
    let (host, path) = u.split_once('/').unwrap();
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(
        format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.unwrap();
    buf[9..12].parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_joining_during_writes_see_every_event_exactly_once() {
    let repo = TestRepo::new();
    let h = host(&repo).await;
    let engine = h.engine.clone();
    let writer = std::thread::spawn(move || {
        for _ in 0..40 {
            engine
                .create_session(CreateSessionRequest::default())
                .unwrap();
        }
    });
    let mut clients = Vec::new();
    for i in 0..8u64 {
        tokio::time::sleep(Duration::from_millis(15)).await;
        let since = i.min(last_seq(&h));
        clients.push((since, connect(&h, since, Some(KEY)).await.unwrap()));
    }
    writer.join().unwrap();
    let end = last_seq(&h);
    assert_eq!(end, 40);
    for (since, mut ws) in clients {
        let seqs = read_until(&mut ws, end).await;
        assert_eq!(
            seqs,
            ((since + 1)..=end).collect::<Vec<_>>(),
            "client from since={since}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_with_the_resume_code() {
    let repo = TestRepo::new();
    let h = host_with_buffer(&repo, 64).await;
    let engine = h.engine.clone();
    let mut slow = connect(&h, 0, Some(KEY)).await.unwrap();
    // Far more than the socket buffers and the 64-event window hold, written while the client
    // reads nothing: the host must drop it instead of buffering without bound.
    let big = "x".repeat(2000);
    let s = engine
        .create_session(CreateSessionRequest::default())
        .unwrap();
    for _ in 0..20 {
        engine
            .store()
            .tx(|tx| {
                for _ in 0..500 {
                    tx.append_event(
                        Some(&s.id),
                        shared_protocol::EventBody::AgentText {
                            prompt_id: "p".into(),
                            chunk: big.clone(),
                        },
                    )?;
                }
                Ok::<_, arcbench_store::StoreError>(())
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut got = 0;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(20), slow.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Text(t))) => {
                got = serde_json::from_str::<serde_json::Value>(&t).unwrap()["seq"]
                    .as_u64()
                    .unwrap();
            }
            Some(Ok(Message::Close(f))) => break f.expect("a close frame with a code"),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), arcbench_server::CLOSE_RESUME);
    assert!(
        close.reason.contains(&format!("since={got}")),
        "{}",
        close.reason
    );
    // Resuming from there gets the rest, gaplessly.
    let mut again = connect(&h, got, Some(KEY)).await.unwrap();
    let end = last_seq(&h);
    let seqs = read_until(&mut again, end).await;
    assert_eq!(seqs.first().copied(), Some(got + 1));
    assert_eq!(seqs.len() as u64, end - got);
}

#[tokio::test]
async fn a_since_from_the_future_is_refused_with_a_close_code_a_browser_can_read() {
    let repo = TestRepo::new();
    let h = host(&repo).await;
    create(&h);
    let mut ws = connect(&h, 99, Some(KEY)).await.unwrap();
    assert_eq!(close_code(&mut ws).await, CLOSE_BAD_SINCE);
    let mut ok = connect(&h, 1, Some(KEY)).await.unwrap();
    create(&h);
    assert_eq!(read_until(&mut ok, 2).await, vec![2]);
}
