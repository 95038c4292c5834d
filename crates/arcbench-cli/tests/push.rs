//! Web Push, end to end: the real `arcbench serve`, real Aider, the local Messages API and a
//! stand-in push service that checks the VAPID signature and decrypts each payload with the
//! subscription's own key. A paired device subscribes for itself; a finished turn reaches it
//! with how many hunks await review and a link to the session; a failed turn says the agent
//! needs the user; a device that chose fewer events gets only those; a revoked device and a
//! subscription the service calls gone (410) get nothing more.

mod support;

use std::time::Duration;

use fake_claude::{FakeClaude, Reply, TextReply};
use fake_push::FakePush;
use serde_json::{json, Value};
use support::*;

async fn paired_device(host: &Host, name: &str) -> String {
    let code = host.ok("POST", "/pairing-codes", Some(json!({}))).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = host
        .http
        .post(format!("{}/pair", host.base))
        .json(&json!({"code": code, "device_name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    res.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn subscription(s: &fake_push::FakeSubscription, events: Option<Value>) -> Value {
    let mut v = json!({"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}});
    if let Some(e) = events {
        v["events"] = e;
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paired_devices_are_nudged_with_what_they_chose_and_nothing_after_revocation() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    claude.set_responder(|_| Reply::text("(no scripted reply for this request)"));
    let push = FakePush::start().await;
    let host = start_host(&repo.path, data.path(), &claude, &["--no-tailscale"]);
    let s = host.session().await;

    let phone = paired_device(&host, "phone").await;
    let tablet = paired_device(&host, "tablet").await;
    let key = host.ok("GET", "/push/key", None).await["public_key"]
        .as_str()
        .unwrap()
        .to_owned();

    // Bad input is refused with the reason and changes nothing.
    let p_sub = push.subscribe();
    let (status, v) = call_as(
        &host,
        Some(KEY),
        "PUT",
        "/push/subscription",
        Some(subscription(&p_sub, None)),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("bad_request")),
        "master key: {v}"
    );
    let mut bad = subscription(&p_sub, None);
    bad["keys"]["auth"] = json!("AAAA");
    let (status, v) = call_as(&host, Some(&phone), "PUT", "/push/subscription", Some(bad)).await;
    assert_eq!(status, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("auth"), "{v}");
    let (status, _) = call_as(&host, Some(&phone), "GET", "/push/subscription", None).await;
    assert_eq!(status, 404);

    // The phone wants everything; the tablet only budget news.
    let (status, v) = call_as(
        &host,
        Some(&phone),
        "PUT",
        "/push/subscription",
        Some(subscription(&p_sub, None)),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["events"], json!(["turn_finished", "needs_you", "budget"]));
    let t_sub = push.subscribe();
    let (status, _) = call_as(
        &host,
        Some(&tablet),
        "PUT",
        "/push/subscription",
        Some(subscription(&t_sub, Some(json!(["budget"])))),
    )
    .await;
    assert_eq!(status, 200);

    // A turn that leaves two hunks.
    claude.push(TextReply::new("I need src/lib.rs."));
    claude.push(TextReply::new(
        edit("src/lib.rs", "fn line 5\n", "fn five()\n")
            + &edit("src/lib.rs", "fn line 30\n", "fn thirty()\n"),
    ));
    let p = host.prompt(&s, "two edits", "push-1").await;
    assert_eq!(host.wait_prompt(&s, &p).await["state"], "done");
    let got = push.wait(1).await;
    assert!(push.refused().is_empty(), "{:?}", push.refused());
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0].subscription, p_sub.id,
        "the tablet did not ask for turns"
    );
    assert_eq!(
        got[0].vapid_key, key,
        "signed with the key the page subscribed with"
    );
    let n = &got[0].payload;
    assert_eq!(n["title"], "Turn finished");
    assert!(
        n["body"]
            .as_str()
            .unwrap()
            .ends_with("2 hunks await review"),
        "{n}"
    );
    assert_eq!(n["url"], format!("/app/#/s/{s}"));
    assert_eq!(n["session_id"], s.as_str());

    // The phone is revoked: its subscription goes with it.
    let phone_id = host.ok("GET", "/devices", None).await["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "phone")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    host.ok("DELETE", &format!("/devices/{phone_id}"), None)
        .await;

    // A limit the next prompt crosses: the budget news reaches the tablet only.
    let just_above = |v: Value| {
        let spent = v["today"]["cost_usd"].as_f64().unwrap();
        json!({"daily_limit_usd": spent + 1e-9})
    };
    host.ok(
        "PUT",
        "/budget",
        Some(just_above(host.ok("GET", "/usage", None).await)),
    )
    .await;
    claude.push(TextReply::new("Spending a little."));
    let p = host.prompt(&s, "spend", "push-2").await;
    host.wait_prompt(&s, &p).await;
    let got = push.wait(2).await;
    let budget: Vec<_> = got.iter().skip(1).collect();
    assert!(!budget.is_empty(), "{got:?}");
    assert!(
        budget.iter().all(|r| r.subscription == t_sub.id),
        "{budget:?}"
    );
    assert!(
        budget[0].payload["title"]
            .as_str()
            .unwrap()
            .starts_with("Budget"),
        "{:?}",
        budget[0]
    );

    // The tablet's push service now says its subscription is gone: the host forgets it.
    push.answer(&t_sub.id, 410);
    host.ok(
        "PUT",
        "/budget",
        Some(just_above(host.ok("GET", "/usage", None).await)),
    )
    .await;
    claude.push(TextReply::new("Spending again."));
    let p = host.prompt(&s, "spend again", "push-3").await;
    host.wait_prompt(&s, &p).await;
    let mut gone = false;
    for _ in 0..100 {
        let (status, _) = call_as(&host, Some(&tablet), "GET", "/push/subscription", None).await;
        if status == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "a subscription the service calls gone is forgotten");
}
