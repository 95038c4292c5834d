//! Native push against the stand-ins for APNs and FCM (tests/fake-push), which check the
//! provider token, the OAuth assertion and the message as the real services do.

use arcbench_push::native::{check_token, Apns, ApnsConfig, Fcm, FcmConfig, NativePlatform};
use arcbench_push::{Delivery, Notification, PushService, Pushers, Target, VapidKey, WebPush};
use fake_push::native::{FakeApns, FakeFcm};

fn note() -> Notification {
    Notification {
        title: "Turn finished".into(),
        body: "Rate limits: 2 hunks await review".into(),
        url: "/app/#/s/abc123".into(),
        tag: "abc123:turn".into(),
        session_id: Some("abc123".into()),
    }
}

fn apns_config(fake: &FakeApns, dir: &std::path::Path) -> ApnsConfig {
    ApnsConfig {
        key_file: fake.write_key(dir),
        key_id: fake.key_id.clone(),
        team_id: fake.team_id.clone(),
        topic: fake.topic.clone(),
        endpoint: Some(fake.base().to_owned()),
    }
}

#[tokio::test]
async fn apns_gets_a_signed_http2_request_and_says_when_a_token_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApns::start("dev.arcbench.remote").await;
    let apns = Apns::new(&apns_config(&fake, dir.path())).unwrap();
    let phone = fake.register();

    assert_eq!(apns.deliver(&phone, &note()).await, Delivery::Delivered);
    assert_eq!(apns.deliver(&phone, &note()).await, Delivery::Delivered);
    assert!(fake.refused().is_empty(), "{:?}", fake.refused());
    let got = fake.wait(2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].token, phone);
    assert_eq!(got[0].payload["aps"]["alert"]["title"], "Turn finished");
    assert_eq!(
        got[0].payload["aps"]["alert"]["body"],
        "Rate limits: 2 hunks await review"
    );
    assert_eq!(got[0].payload["url"], "/app/#/s/abc123");
    assert_eq!(got[0].payload["session_id"], "abc123");
    assert_eq!(got[0].headers["apns-collapse-id"], "abc123:turn");
    assert_eq!(got[0].headers["apns-topic"], "dev.arcbench.remote");

    // The app was removed from the phone (410), or a token APNs never issued (400): gone.
    fake.answer(&phone, 410, "Unregistered");
    assert_eq!(apns.deliver(&phone, &note()).await, Delivery::Gone);
    assert_eq!(
        apns.deliver(&"ab".repeat(32), &note()).await,
        Delivery::Gone
    );

    // Signed by a key APNs does not know for this key id: refused, kept (not "gone").
    let other = FakeApns::start("dev.arcbench.remote").await;
    let mut wrong = apns_config(&fake, dir.path());
    let elsewhere = dir.path().join("other");
    std::fs::create_dir(&elsewhere).unwrap();
    wrong.key_file = other.write_key(&elsewhere);
    let forged = Apns::new(&wrong).unwrap();
    let fresh = fake.register();
    assert!(
        matches!(forged.deliver(&fresh, &note()).await, Delivery::Failed(m) if m.contains("InvalidProviderToken")),
    );
}

#[tokio::test]
async fn fcm_exchanges_a_signed_assertion_once_and_says_when_a_token_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeFcm::start().await;
    let fcm = Fcm::new(&FcmConfig {
        service_account: fake.write_service_account(dir.path()),
        endpoint: Some(fake.base().to_owned()),
    })
    .unwrap();
    let phone = fake.register();

    assert_eq!(fcm.deliver(&phone, &note()).await, Delivery::Delivered);
    assert_eq!(fcm.deliver(&phone, &note()).await, Delivery::Delivered);
    assert!(fake.refused().is_empty(), "{:?}", fake.refused());
    assert_eq!(
        fake.tokens_issued(),
        1,
        "the access token is kept until it expires"
    );
    let got = fake.wait(2).await;
    let message = &got[0].payload["message"];
    assert_eq!(message["token"], phone.as_str());
    assert_eq!(message["notification"]["title"], "Turn finished");
    assert_eq!(message["data"]["url"], "/app/#/s/abc123");
    assert_eq!(message["data"]["session_id"], "abc123");
    assert_eq!(message["android"]["collapse_key"], "abc123:turn");

    fake.answer(&phone, 404, "UNREGISTERED");
    assert_eq!(fcm.deliver(&phone, &note()).await, Delivery::Gone);
}

#[tokio::test]
async fn a_service_the_host_is_not_set_up_for_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let key = VapidKey::load_or_create(&dir.path().join("vapid.pem")).unwrap();
    let pushers = Pushers {
        web: WebPush::new(key, "mailto:host@arcbench.invalid"),
        apns: None,
        fcm: None,
    };
    assert!(!pushers.serves(NativePlatform::Apns));
    let to = Target::Native {
        platform: NativePlatform::Apns,
        token: "ab".repeat(32),
    };
    assert!(
        matches!(pushers.deliver(&to, &note()).await, Delivery::Failed(m) if m.contains("APNs is not set up"))
    );
}

#[test]
fn bad_keys_and_tokens_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("AuthKey_X.p8");
    std::fs::write(&junk, "not a key").unwrap();
    let err = Apns::new(&ApnsConfig {
        key_file: junk,
        key_id: "K".into(),
        team_id: "T".into(),
        topic: "dev.arcbench.remote".into(),
        endpoint: None,
    })
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("not an APNs .p8 key"), "{err}");
    let err = Fcm::new(&FcmConfig {
        service_account: dir.path().join("missing.json"),
        endpoint: None,
    })
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("missing.json"), "{err}");

    assert!(check_token(NativePlatform::Apns, &"0f".repeat(32)).is_ok());
    assert!(check_token(NativePlatform::Apns, "xyz").is_err());
    assert!(check_token(NativePlatform::Fcm, &format!("fcm:{}", "a".repeat(140))).is_ok());
    assert!(check_token(NativePlatform::Fcm, "has spaces in it, not a token").is_err());
}
