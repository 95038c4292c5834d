//! The keep-awake lock against a stand-in login manager on a private D-Bus bus: each test starts
//! its own `dbus-daemon` (fake_logind::PrivateBus) and, where it needs one, the fake
//! `org.freedesktop.login1` on it. Nothing here touches the machine's own buses.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcbench_awake::{
    AwakeError, AwakeStatus, Bus, Keeper, StayAwake, INHIBIT_MODE, INHIBIT_WHAT, INHIBIT_WHO,
};
use fake_logind::{FakeLogind, PrivateBus};

/// Generous: releases travel kernel → fake's watcher task; this only bounds a failure.
const WAIT: Duration = Duration::from_secs(10);

fn private_bus() -> PrivateBus {
    PrivateBus::start().expect("start a private dbus-daemon")
}

async fn bus_and_fake() -> (PrivateBus, FakeLogind) {
    let bus = private_bus();
    let fake = FakeLogind::start(&bus.address)
        .await
        .expect("start the fake login manager");
    (bus, fake)
}

#[tokio::test]
async fn hold_takes_a_blocking_sleep_idle_lock_and_release_ends_it() {
    let (bus, fake) = bus_and_fake().await;
    let awake = StayAwake::new(Bus::Address(bus.address.clone()));
    assert!(!awake.is_held());

    awake.hold("a prompt is running").await.unwrap();
    assert!(awake.is_held());
    fake.wait_active(1, WAIT).await.unwrap();
    let records = fake.inhibitors();
    assert_eq!(records.len(), 1);
    let lock = &records[0];
    assert_eq!(lock.what, "sleep:idle");
    assert_eq!(lock.mode, "block");
    assert_eq!(
        (lock.what.as_str(), lock.mode.as_str()),
        (INHIBIT_WHAT, INHIBIT_MODE)
    );
    assert_eq!(lock.who, INHIBIT_WHO);
    assert_eq!(lock.why, "a prompt is running");
    assert_eq!(
        lock.pid,
        std::process::id(),
        "the lock belongs to this process"
    );
    assert!(lock.released_at.is_none());

    assert!(awake.release());
    assert!(!awake.is_held());
    fake.wait_active(0, WAIT).await.unwrap();
    let released = fake.inhibitors().remove(0);
    assert!(released.released_at.unwrap() >= released.taken_at);
    // Releasing again is a no-op.
    assert!(!awake.release());
}

#[tokio::test]
async fn a_second_hold_while_held_takes_nothing_more() {
    let (bus, fake) = bus_and_fake().await;
    let awake = StayAwake::new(Bus::Address(bus.address.clone()));
    awake.hold("first").await.unwrap();
    awake.hold("second").await.unwrap();
    // Concurrent holds are serialised: still one lock.
    let (a, b) = tokio::join!(awake.hold("third"), awake.hold("fourth"));
    a.unwrap();
    b.unwrap();
    fake.wait_active(1, WAIT).await.unwrap();
    assert_eq!(fake.inhibitors().len(), 1, "{:?}", fake.inhibitors());
    assert_eq!(fake.inhibitors()[0].why, "first");

    // After a release, the next hold takes a fresh lock.
    awake.release();
    fake.wait_active(0, WAIT).await.unwrap();
    awake.hold("again").await.unwrap();
    fake.wait_active(1, WAIT).await.unwrap();
    assert_eq!(fake.inhibitors().len(), 2);
}

#[tokio::test]
async fn dropping_the_lock_releases_it() {
    let (bus, fake) = bus_and_fake().await;
    let awake = StayAwake::new(Bus::Address(bus.address.clone()));
    awake.hold("dropped soon").await.unwrap();
    fake.wait_active(1, WAIT).await.unwrap();
    drop(awake);
    fake.wait_active(0, WAIT).await.unwrap();
}

#[tokio::test]
async fn processes_spawned_while_held_do_not_inherit_the_lock() {
    let (bus, fake) = bus_and_fake().await;
    let awake = StayAwake::new(Bus::Address(bus.address.clone()));
    awake.hold("spawning").await.unwrap();
    fake.wait_active(1, WAIT).await.unwrap();
    // The host spawns long-lived children (the agent) while a prompt runs; a copy of the
    // descriptor in one of them would keep the machine awake after the release.
    let mut child = Command::new("sleep").arg("60").spawn().unwrap();
    awake.release();
    let released = fake.wait_active(0, WAIT).await;
    child.kill().unwrap();
    child.wait().unwrap();
    released.expect("the release must not wait for a child spawned while the lock was held");
}

#[tokio::test]
async fn a_holder_killed_with_sigkill_loses_its_lock() {
    let (bus, fake) = bus_and_fake().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_arcbench-awake-hold"))
        .args(["--bus", &bus.address, "held by a child process"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Blocking reads on a blocking thread: this runtime must keep serving the fake meanwhile.
    let saw_held = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line == "held")
    });
    let saw_held = tokio::time::timeout(WAIT, saw_held).await;
    if !matches!(saw_held, Ok(Ok(true))) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child never reported its lock held: {saw_held:?}");
    }
    fake.wait_active(1, WAIT).await.unwrap();
    assert_eq!(
        fake.inhibitors()[0].pid,
        child.id(),
        "the child holds the lock"
    );

    // SIGKILL: no destructor runs in the child; the kernel closing its descriptors is the release.
    child.kill().unwrap();
    child.wait().unwrap();
    fake.wait_active(0, WAIT).await.unwrap();
}

#[tokio::test]
async fn the_keeper_holds_while_busy_and_releases_when_idle() {
    let (bus, fake) = bus_and_fake().await;
    let keeper = Keeper::new(Bus::Address(bus.address.clone()), true);
    assert_eq!(keeper.status(), AwakeStatus::Idle);

    keeper.set_busy(true);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Held);
    fake.wait_active(1, WAIT).await.unwrap();
    assert_eq!(fake.inhibitors()[0].why, arcbench_awake::KEEPER_WHY);

    // More "busy" news while held: nothing new is taken.
    for _ in 0..5 {
        keeper.set_busy(true);
    }
    keeper.settled().await;
    assert_eq!(fake.inhibitors().len(), 1);

    keeper.set_busy(false);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Idle);
    fake.wait_active(0, WAIT).await.unwrap();

    // Quick flapping ends in the last state, with never more than one lock at once.
    for _ in 0..10 {
        keeper.set_busy(true);
        keeper.set_busy(false);
    }
    keeper.set_busy(true);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Held);
    fake.wait_active(1, WAIT).await.unwrap();

    // Dropping the keeper (the host exiting) releases.
    drop(keeper);
    fake.wait_active(0, WAIT).await.unwrap();
}

#[tokio::test]
async fn turning_the_setting_off_releases_and_on_again_holds() {
    let (bus, fake) = bus_and_fake().await;
    let keeper = Keeper::new(Bus::Address(bus.address.clone()), true);
    keeper.set_busy(true);
    keeper.settled().await;
    fake.wait_active(1, WAIT).await.unwrap();

    keeper.set_enabled(false);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Off);
    fake.wait_active(0, WAIT).await.unwrap();

    keeper.set_enabled(true);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Held, "still busy: held again");
    fake.wait_active(1, WAIT).await.unwrap();
    assert_eq!(fake.inhibitors().len(), 2);
}

#[tokio::test]
async fn a_disabled_keeper_never_connects_to_dbus() {
    let (bus, fake) = bus_and_fake().await;
    let before = bus.peers().await.unwrap();
    assert_eq!(before.len(), 1, "only the fake: {before:?}");

    let keeper = Keeper::new(Bus::Address(bus.address.clone()), false);
    assert_eq!(keeper.status(), AwakeStatus::Off);
    keeper.set_busy(true);
    keeper.settled().await;
    keeper.set_busy(false);
    keeper.set_busy(true);
    keeper.settled().await;

    assert_eq!(keeper.status(), AwakeStatus::Off);
    assert_eq!(bus.peers().await.unwrap(), before, "no new connection");
    assert!(fake.inhibitors().is_empty());
    // Keeper::disabled() is the same with the system bus named: it never gets that far either.
    let keeper = Keeper::disabled();
    keeper.set_busy(true);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Off);
}

/// Collects what the keeper logs, to count its warnings.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

// A current-thread runtime (tokio::test's default) runs the keeper's task on this thread, so the
// thread-local subscriber below sees its events.
#[tokio::test]
async fn a_bus_without_a_login_manager_gives_one_clear_warning_and_nothing_breaks() {
    let bus = private_bus();
    let address = bus.address.clone();
    let expected = format!(
        "no login manager on the D-Bus bus at {address} (org.freedesktop.login1): the machine \
         may sleep during a prompt"
    );

    // The lock itself: a typed error with the clear message.
    let awake = StayAwake::new(Bus::Address(address.clone()));
    let err = awake.hold("nobody listens").await.unwrap_err();
    assert!(matches!(err, AwakeError::NoLoginManager { .. }), "{err:?}");
    assert_eq!(err.to_string(), expected);
    assert!(!awake.is_held());

    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let keeper = Keeper::new(Bus::Address(address.clone()), true);
    keeper.set_busy(true);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Unavailable(expected.clone()));
    // Still busy: no retry on every queue change.
    keeper.set_busy(true);
    keeper.settled().await;
    // Idle: the warning stays visible.
    keeper.set_busy(false);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Unavailable(expected.clone()));
    // A new busy period tries once more; it fails quietly (debug, not a second warning).
    keeper.set_busy(true);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Unavailable(expected.clone()));

    let lines = log.lines();
    let warnings: Vec<_> = lines.iter().filter(|l| l.contains(" WARN ")).collect();
    assert_eq!(warnings.len(), 1, "{lines:#?}");
    assert!(warnings[0].contains(&expected), "{warnings:?}");
    let retries = lines
        .iter()
        .filter(|l| l.contains("still cannot keep the machine awake"))
        .count();
    assert_eq!(retries, 1, "one retry for one new busy period: {lines:#?}");

    // Nothing lost: once a login manager appears, the next busy period holds.
    let fake = FakeLogind::start(&address).await.unwrap();
    keeper.set_busy(false);
    keeper.set_busy(true);
    keeper.settled().await;
    assert_eq!(keeper.status(), AwakeStatus::Held);
    fake.wait_active(1, WAIT).await.unwrap();
    assert_eq!(fake.inhibitors().len(), 1);
    assert!(log
        .lines()
        .iter()
        .any(|l| l.contains("login manager reachable again")));
}

#[test]
fn the_system_bus_message_reads_as_the_issue_asks() {
    let err = AwakeError::NoLoginManager { bus: Bus::System };
    assert_eq!(
        err.to_string(),
        "no login manager on the system bus (org.freedesktop.login1): the machine may sleep \
         during a prompt"
    );
}

#[tokio::test]
async fn no_bus_at_all_is_unavailable_too() {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", dir.path().join("nothing-here").display());
    let keeper = Keeper::new(Bus::Address(address.clone()), true);
    keeper.set_busy(true);
    keeper.settled().await;
    match keeper.status() {
        AwakeStatus::Unavailable(reason) => {
            assert!(
                reason.starts_with(&format!(
                    "cannot connect to the D-Bus bus at {address} to reach the login manager"
                )),
                "{reason}"
            );
            assert!(
                reason.ends_with("the machine may sleep during a prompt"),
                "{reason}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }

    let err = StayAwake::new(Bus::Address("not an address".into()))
        .hold("x")
        .await
        .unwrap_err();
    assert!(matches!(err, AwakeError::Connect { .. }), "{err:?}");
}

#[test]
fn status_serialises_for_the_host() {
    let held = serde_json::to_value(AwakeStatus::Held).unwrap();
    assert_eq!(held, serde_json::json!({ "state": "held" }));
    let unavailable = serde_json::to_value(AwakeStatus::Unavailable("why".into())).unwrap();
    assert_eq!(
        unavailable,
        serde_json::json!({ "state": "unavailable", "reason": "why" })
    );
}
