//! One host per data dir: a second `arcbench serve` on a data dir in use stops before it
//! touches anything, naming the running host; the lock dies with its holder (kill -9 included).

mod support;

use std::process::Stdio;
use std::time::Duration;

use fake_claude::{FakeClaude, TextReply};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_host_on_a_busy_data_dir_stops_without_touching_the_running_turn() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let mut first = start_host(&repo.path, data.path(), &claude, &[]);
    let s = first.session().await;
    claude.push(TextReply::new("slow answer").first_token_delay(Duration::from_secs(3)));
    let p = first.prompt(&s, "take your time", "k-1").await;
    // A second queued prompt: a second host recovering the queue would run it too.
    claude.push(TextReply::new("second answer"));
    let p2 = first.prompt(&s, "then this", "k-2").await;
    assert!(claude
        .wait_for_requests(1, Duration::from_secs(60))
        .await
        .is_some());

    let mut second = tokio::process::Command::new(env!("CARGO_BIN_EXE_arcbench"));
    second
        .args(["serve", "--port", "0"])
        .arg("--repo")
        .arg(&repo.path)
        .arg("--data-dir")
        .arg(data.path())
        .env("ARCBENCH_API_KEY", KEY)
        .env("ARCBENCH_PYTHON", arcbench_fixtures::aider_python())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // A host that does not stop would serve (and recover the queue) forever: fail, not hang.
    let second = tokio::time::timeout(Duration::from_secs(60), second.output())
        .await
        .expect("the second host stops on its own")
        .expect("arcbench runs");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "the second host must stop");
    assert!(
        stderr.contains("another ArcBench host already runs")
            && stderr.contains(&format!("pid {}", first.child.id()))
            && stderr.contains(&first.base),
        "the refusal names the running host: {stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&second.stdout).contains("listening on"),
        "the second host never listened"
    );

    assert_eq!(first.wait_prompt(&s, &p).await["state"], "done");
    assert_eq!(first.wait_prompt(&s, &p2).await["state"], "done");
    let events = first.events(0).await;
    for prompt in [&p, &p2] {
        let finished = events
            .iter()
            .filter(|e| e["type"] == "prompt.finished" && e["prompt_id"] == prompt.as_str())
            .count();
        assert_eq!(finished, 1, "{prompt} finished exactly once");
    }
    assert_eq!(
        claude.request_count(),
        2,
        "each prompt reached the API once"
    );

    // The kernel drops the lock with its holder: no stale lock after kill -9.
    first.kill9();
    let again = start_host(&repo.path, data.path(), &claude, &[]);
    let (_, status) = again.call("GET", "/status", None).await;
    assert_eq!(status["name"], "arcbench");
}
