//! The stand-in itself: it must behave like logind where the keep-awake code relies on it
//! (argument checks, one descriptor per lock, release on close), and its process form must report
//! what happens.

use std::io::{BufRead, BufReader, Lines};
use std::os::fd::OwnedFd;
use std::process::{ChildStdout, Command, Stdio};
use std::time::Duration;

use fake_logind::{
    FakeLogind, FakeLogindError, PrivateBus, LOGIND_NAME, LOGIND_PATH, MANAGER_INTERFACE,
};

const WAIT: Duration = Duration::from_secs(10);

async fn connect(address: &str) -> zbus::Connection {
    zbus::connection::Builder::address(address)
        .unwrap()
        .build()
        .await
        .unwrap()
}

async fn inhibit(connection: &zbus::Connection, what: &str, mode: &str) -> zbus::Result<OwnedFd> {
    let reply = connection
        .call_method(
            Some(LOGIND_NAME),
            LOGIND_PATH,
            Some(MANAGER_INTERFACE),
            "Inhibit",
            &(what, "tester", "testing", mode),
        )
        .await?;
    let fd: zbus::zvariant::OwnedFd = reply.body().deserialize()?;
    Ok(fd.into())
}

#[tokio::test]
async fn records_each_lock_until_its_descriptor_closes() {
    let bus = PrivateBus::start().unwrap();
    let fake = FakeLogind::start(&bus.address).await.unwrap();
    let client = connect(&bus.address).await;

    let first = inhibit(&client, "sleep:idle", "block").await.unwrap();
    let second = inhibit(&client, "shutdown", "delay").await.unwrap();
    fake.wait_active(2, WAIT).await.unwrap();
    let records = fake.inhibitors();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (records[0].what.as_str(), records[0].mode.as_str()),
        ("sleep:idle", "block")
    );
    assert_eq!(records[0].who, "tester");
    assert_eq!(records[0].pid, std::process::id());
    assert_eq!(records[0].sender, client.unique_name().unwrap().as_str());

    // ListInhibitors, as systemd-inhibit --list would read it.
    let listed: Vec<(String, String, String, String, u32, u32)> = client
        .call_method(
            Some(LOGIND_NAME),
            LOGIND_PATH,
            Some(MANAGER_INTERFACE),
            "ListInhibitors",
            &(),
        )
        .await
        .unwrap()
        .body()
        .deserialize()
        .unwrap();
    assert_eq!(listed.len(), 2);

    drop(first);
    fake.wait_active(1, WAIT).await.unwrap();
    let records = fake.inhibitors();
    assert!(records[0].released_at.is_some());
    assert!(records[1].released_at.is_none());
    drop(second);
    fake.wait_active(0, WAIT).await.unwrap();

    // A lock outlives the connection that asked for it: only the descriptor counts.
    let third = inhibit(&client, "sleep", "block").await.unwrap();
    drop(client);
    fake.wait_active(1, WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.active(), 1);
    drop(third);
    fake.wait_active(0, WAIT).await.unwrap();
}

#[tokio::test]
async fn refuses_what_logind_refuses() {
    let bus = PrivateBus::start().unwrap();
    let fake = FakeLogind::start(&bus.address).await.unwrap();
    let client = connect(&bus.address).await;
    for (what, mode) in [("sleep:nap", "block"), ("", "block"), ("sleep", "forever")] {
        match inhibit(&client, what, mode).await {
            Err(zbus::Error::MethodError(name, _, _)) => {
                assert_eq!(name.as_str(), "org.freedesktop.DBus.Error.InvalidArgs")
            }
            other => panic!("{what:?}/{mode:?}: expected InvalidArgs, got {other:?}"),
        }
    }
    assert!(fake.inhibitors().is_empty());
}

#[tokio::test]
async fn wait_active_times_out_with_the_count() {
    let bus = PrivateBus::start().unwrap();
    let fake = FakeLogind::start(&bus.address).await.unwrap();
    match fake.wait_active(1, Duration::from_millis(50)).await {
        Err(FakeLogindError::WaitTimeout { wanted, active, .. }) => {
            assert_eq!((wanted, active), (1, 0))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn a_second_login_manager_on_the_same_bus_is_refused() {
    let bus = PrivateBus::start().unwrap();
    let _fake = FakeLogind::start(&bus.address).await.unwrap();
    let second = FakeLogind::start(&bus.address).await;
    assert!(
        matches!(second, Err(FakeLogindError::Serve { .. })),
        "the name is taken"
    );
}

#[test]
fn the_private_bus_goes_away_on_drop() {
    let bus = PrivateBus::start().unwrap();
    let path = bus
        .address
        .strip_prefix("unix:path=")
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .to_owned();
    assert!(std::path::Path::new(&path).exists());
    let pid = bus.child.id();
    drop(bus);
    assert!(!std::path::Path::new(&path).exists());
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    lines.next().expect("a line").expect("readable")
}

/// The binary with its own private bus: `address`, `ready`, then one line per event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_reports_locks_taken_and_released() {
    let mut fake = Command::new(env!("CARGO_BIN_EXE_fake-logind"))
        .arg("--exit-on-stdin-eof")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = fake.stdout.take().unwrap();
    let mut lines = tokio::task::spawn_blocking(move || BufReader::new(stdout).lines())
        .await
        .unwrap();
    let address = next_line(&mut lines)
        .strip_prefix("address ")
        .expect("address first")
        .to_owned();
    assert_eq!(next_line(&mut lines), "ready");

    let client = connect(&address).await;
    let lock = inhibit(&client, "sleep:idle", "block").await.unwrap();
    let (taken, mut lines) = tokio::task::spawn_blocking(move || (next_line(&mut lines), lines))
        .await
        .unwrap();
    assert_eq!(
        taken,
        format!(
            "taken 0 pid={} what=sleep:idle mode=block who=tester why=testing",
            std::process::id()
        )
    );
    drop(lock);
    let released = tokio::task::spawn_blocking(move || next_line(&mut lines))
        .await
        .unwrap();
    assert_eq!(released, "released 0");

    // Closing its standard input stops it, and its private bus with it.
    drop(fake.stdin.take());
    let status = fake.wait().unwrap();
    assert!(status.success(), "{status}");
    let socket = address
        .strip_prefix("unix:path=")
        .and_then(|rest| rest.split(',').next())
        .unwrap();
    assert!(!std::path::Path::new(socket).exists());
}
