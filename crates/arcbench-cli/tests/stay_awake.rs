//! The host keeps the machine awake while a prompt runs: a sleep inhibitor from the login
//! manager (here a stand-in on a private D-Bus bus, reached through `ARCBENCH_LOGIND_BUS`),
//! taken when a prompt starts and released when the queue is idle, or by the kernel when the
//! host is killed.

mod support;

use std::time::Duration;

use fake_claude::{FakeClaude, TextReply};
use fake_logind::{FakeLogind, PrivateBus};
use support::*;

async fn host_on_bus(
    repo: &TestRepo,
    data: &std::path::Path,
    claude: &FakeClaude,
    bus: &str,
    extra: &[&str],
) -> Host {
    let bus = bus.to_owned();
    start_host_with(&repo.path, data, claude, extra, move |cmd| {
        cmd.env("ARCBENCH_LOGIND_BUS", bus);
    })
}

async fn until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen in 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inhibitor_is_held_while_a_prompt_runs_and_released_after_and_on_kill() {
    let bus = PrivateBus::start().unwrap();
    let logind = FakeLogind::start(&bus.address).await.unwrap();
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let mut host = host_on_bus(&repo, data.path(), &claude, &bus.address, &[]).await;
    let s = host.session().await;
    assert_eq!(logind.active(), 0, "nothing held while idle");

    claude.push(TextReply::new("slow").first_token_delay(Duration::from_secs(2)));
    let p = host.prompt(&s, "think", "k-1").await;
    logind
        .wait_active(1, Duration::from_secs(20))
        .await
        .unwrap();
    let held = logind.inhibitors();
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].what.as_str(), held[0].mode.as_str()),
        ("sleep:idle", "block")
    );
    assert_eq!(held[0].pid, host.child.id(), "the host holds it");
    assert_eq!(host.wait_prompt(&s, &p).await["state"], "done");
    until("the release after the queue went idle", || {
        logind.active() == 0
    })
    .await;

    // Killed mid-prompt: the kernel closes the descriptor, so the lock goes with the host.
    claude.push(fake_claude::Reply::hang());
    host.prompt(&s, "hang", "k-2").await;
    logind
        .wait_active(1, Duration::from_secs(20))
        .await
        .unwrap();
    host.kill9();
    until("the release by the kernel", || logind.active() == 0).await;
    assert_eq!(logind.inhibitors().len(), 2, "one lock per busy period");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_by_setting_and_harmless_without_a_login_manager() {
    let bus = PrivateBus::start().unwrap();
    let logind = FakeLogind::start(&bus.address).await.unwrap();
    let repo = TestRepo::new();
    let claude = FakeClaude::start().await;
    let data = tempfile::tempdir().unwrap();
    let host = host_on_bus(
        &repo,
        data.path(),
        &claude,
        &bus.address,
        &["--no-stay-awake"],
    )
    .await;
    let s = host.session().await;
    claude.push(TextReply::new("slow").first_token_delay(Duration::from_secs(1)));
    let p = host.prompt(&s, "think", "k-1").await;
    assert_eq!(host.wait_prompt(&s, &p).await["state"], "done");
    assert!(logind.inhibitors().is_empty(), "the setting turns it off");
    drop(host);

    // A bus without a login manager: the prompt runs all the same (the host warns once).
    let empty = PrivateBus::start().unwrap();
    let data = tempfile::tempdir().unwrap();
    let host = host_on_bus(&repo, data.path(), &claude, &empty.address, &[]).await;
    let s = host.session().await;
    claude.push(TextReply::new("fine"));
    let p = host.prompt(&s, "go", "k-2").await;
    assert_eq!(host.wait_prompt(&s, &p).await["state"], "done");
}
