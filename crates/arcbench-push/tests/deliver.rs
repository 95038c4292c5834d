//! Delivery against the stand-in push service: it checks the VAPID signature and decrypts the
//! payload with the subscription's own key, as a browser's push service and the browser do.

use arcbench_push::{Delivery, Notification, Subscription, VapidKey, WebPush};
use fake_push::FakePush;

fn note(n: u32) -> Notification {
    Notification {
        title: format!("Turn {n} finished"),
        body: "2 hunks await review".into(),
        url: "/app/#/s/abc123".into(),
        tag: "abc123:turn".into(),
        session_id: Some("abc123".into()),
    }
}

fn sender() -> (WebPush, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("arcbench-push-deliver-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = VapidKey::load_or_create(&dir.join("vapid.pem")).unwrap();
    (WebPush::new(key, "mailto:host@arcbench.invalid"), dir)
}

#[tokio::test]
async fn a_push_is_signed_for_its_service_and_readable_only_by_its_subscriber() {
    let push = FakePush::start().await;
    let (web, dir) = sender();
    let s = push.subscribe();
    let to = Subscription {
        endpoint: s.endpoint.clone(),
        p256dh: s.p256dh.clone(),
        auth: s.auth.clone(),
    };
    assert_eq!(web.deliver(&to, &note(1)).await, Delivery::Delivered);
    let got = push.wait(1).await;
    assert!(push.refused().is_empty(), "{:?}", push.refused());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, serde_json::to_value(note(1)).unwrap());
    assert_eq!(got[0].vapid_key, web.public_key());
    assert_eq!(got[0].contact, "mailto:host@arcbench.invalid");

    // Encrypted for another subscriber's key: the service cannot read it.
    let other = push.subscribe();
    let wrong = Subscription {
        endpoint: s.endpoint.clone(),
        p256dh: other.p256dh,
        auth: other.auth,
    };
    assert!(matches!(
        web.deliver(&wrong, &note(2)).await,
        Delivery::Failed(_)
    ));
    assert!(push
        .refused()
        .iter()
        .any(|r| r.contains("does not decrypt")));

    // Gone subscriptions say so.
    for status in [404, 410] {
        push.answer(&s.id, status);
        assert_eq!(web.deliver(&to, &note(3)).await, Delivery::Gone);
    }
    push.answer(&s.id, 500);
    assert!(matches!(web.deliver(&to, &note(4)).await, Delivery::Failed(m) if m.contains("500")));
    std::fs::remove_dir_all(dir).unwrap();
}
