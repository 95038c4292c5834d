//! Web Push, end to end: the real `arcbench serve`, real Aider, the local Messages API and a
//! stand-in push service that checks the VAPID signature and decrypts each payload with the
//! subscription's own key. A paired device subscribes for itself; a finished turn reaches it
//! with how many hunks await review and a link to the session; a failed turn says the agent
//! needs the user; a device that chose fewer events gets only those; a revoked device and a
//! subscription the service calls gone (410) get nothing more. The phone app's native tokens
//! go the same way through stand-ins for APNs and FCM, set up in the host's config.toml.

mod support;

use std::time::Duration;

use fake_claude::{FakeClaude, Reply, TextReply};
use fake_push::native::{FakeApns, FakeFcm};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_app_is_told_through_apns_or_fcm_as_config_toml_sets_up() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    claude.set_responder(|_| Reply::text("(no scripted reply for this request)"));
    let apns = FakeApns::start("dev.arcbench.remote").await;
    let fcm = FakeFcm::start().await;
    // The .p8 key beside config.toml, named by its file name; the service account elsewhere.
    let p8 = apns.write_key(data.path());
    let keys = tempfile::tempdir().unwrap();
    let account = fcm.write_service_account(keys.path());
    std::fs::write(
        data.path().join("config.toml"),
        format!(
            "[push.apns]\nkey_file = {:?}\nkey_id = {:?}\nteam_id = {:?}\ntopic = {:?}\nendpoint = {:?}\n\n\
             [push.fcm]\nservice_account = {:?}\nendpoint = {:?}\n",
            p8.file_name().unwrap().to_str().unwrap(),
            apns.key_id,
            apns.team_id,
            apns.topic,
            apns.base(),
            account.to_str().unwrap(),
            fcm.base(),
        ),
    )
    .unwrap();
    let host = start_host(&repo.path, data.path(), &claude, &["--no-tailscale"]);
    let s = host.session().await;
    assert_eq!(
        host.ok("GET", "/push/key", None).await["native"],
        json!(["apns", "fcm"])
    );

    let iphone = paired_device(&host, "iphone").await;
    let android = paired_device(&host, "android").await;
    let ios_token = apns.register();
    let android_token = fcm.register();

    // Bad input: the master key, a token of the wrong shape, an unknown service. Nothing kept.
    let native = |platform: &str, token: &str, events: Option<Value>| {
        let mut v = json!({"platform": platform, "token": token});
        if let Some(e) = events {
            v["events"] = e;
        }
        v
    };
    let (status, v) = call_as(
        &host,
        Some(KEY),
        "PUT",
        "/push/native",
        Some(native("apns", &ios_token, None)),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("bad_request")),
        "{v}"
    );
    let (status, v) = call_as(
        &host,
        Some(&iphone),
        "PUT",
        "/push/native",
        Some(native("apns", "not hex", None)),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("APNs device token"),
        "{v}"
    );
    let (status, _) = call_as(
        &host,
        Some(&iphone),
        "PUT",
        "/push/native",
        Some(native("mqtt", &ios_token, None)),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = call_as(&host, Some(&iphone), "GET", "/push/native", None).await;
    assert_eq!(status, 404);

    // The iPhone wants everything; the Android phone only budget news.
    let (status, v) = call_as(
        &host,
        Some(&iphone),
        "PUT",
        "/push/native",
        Some(native("apns", &ios_token, None)),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["platform"], "apns");
    assert_eq!(v["events"], json!(["turn_finished", "needs_you", "budget"]));
    assert!(v.get("token").is_none(), "the token is not echoed: {v}");
    let (status, v) = call_as(
        &host,
        Some(&android),
        "PUT",
        "/push/native",
        Some(native(
            "fcm",
            &android_token,
            Some(json!(["budget", "budget"])),
        )),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["events"], json!(["budget"]));

    claude.push(TextReply::new("I need src/lib.rs."));
    claude.push(TextReply::new(
        edit("src/lib.rs", "fn line 5\n", "fn five()\n")
            + &edit("src/lib.rs", "fn line 30\n", "fn thirty()\n"),
    ));
    let p = host.prompt(&s, "two edits", "native-1").await;
    assert_eq!(host.wait_prompt(&s, &p).await["state"], "done");
    let got = apns.wait(1).await;
    assert!(apns.refused().is_empty(), "{:?}", apns.refused());
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].token, ios_token);
    assert_eq!(got[0].payload["aps"]["alert"]["title"], "Turn finished");
    assert!(
        got[0].payload["aps"]["alert"]["body"]
            .as_str()
            .unwrap()
            .ends_with("2 hunks await review"),
        "{:?}",
        got[0]
    );
    assert_eq!(got[0].payload["session_id"], s.as_str());
    assert_eq!(got[0].payload["url"], format!("/app/#/s/{s}"));

    // A budget the next prompt crosses: both phones hear of it.
    let spent = host.ok("GET", "/usage", None).await["today"]["cost_usd"]
        .as_f64()
        .unwrap();
    host.ok(
        "PUT",
        "/budget",
        Some(json!({"daily_limit_usd": spent + 1e-9})),
    )
    .await;
    // The iPhone app was removed meanwhile: APNs calls its token gone, and the host forgets it.
    apns.answer(&ios_token, 410, "Unregistered");
    claude.push(TextReply::new("Spending a little."));
    let p = host.prompt(&s, "spend", "native-2").await;
    host.wait_prompt(&s, &p).await;
    let got = fcm.wait(1).await;
    assert!(fcm.refused().is_empty(), "{:?}", fcm.refused());
    assert!(!got.is_empty(), "the budget news reached Android");
    assert_eq!(got[0].token, android_token);
    assert!(got[0].payload["message"]["notification"]["title"]
        .as_str()
        .unwrap()
        .starts_with("Budget"));
    assert_eq!(fcm.tokens_issued(), 1);
    let mut gone = false;
    for _ in 0..100 {
        let (status, _) = call_as(&host, Some(&iphone), "GET", "/push/native", None).await;
        if status == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "a token APNs calls gone is forgotten");
    let (status, v) = call_as(&host, Some(&android), "DELETE", "/push/native", None).await;
    assert_eq!((status, v["deleted"].as_bool()), (200, Some(true)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_not_set_up_for_native_push_refuses_tokens_and_a_bad_key_stops_the_start() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host(&repo.path, data.path(), &claude, &["--no-tailscale"]);
    assert_eq!(host.ok("GET", "/push/key", None).await["native"], json!([]));
    let phone = paired_device(&host, "phone").await;
    let (status, v) = call_as(
        &host,
        Some(&phone),
        "PUT",
        "/push/native",
        Some(json!({"platform": "fcm", "token": format!("fcm:{}", "a".repeat(100))})),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("conflict")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("[push.fcm]"), "{v}");
    drop(host);

    // A key file that is no key: the host says so and does not start.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("AuthKey.p8"), "not a key").unwrap();
    std::fs::write(
        other.path().join("config.toml"),
        "[push.apns]\nkey_file = \"AuthKey.p8\"\nkey_id = \"K\"\nteam_id = \"T\"\ntopic = \"dev.arcbench.remote\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_arcbench"))
        .args(["serve", "--port", "0", "--no-tailscale", "--repo"])
        .arg(&repo.path)
        .arg("--data-dir")
        .arg(other.path())
        .env("ARCBENCH_API_KEY", KEY)
        .env("ANTHROPIC_API_KEY", "sk-test")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("push.apns") && err.contains("not an APNs .p8 key"),
        "{err}"
    );
}
