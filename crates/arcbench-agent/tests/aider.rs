//! Real Aider (the managed venv's) in a real git worktree against the local Messages API.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use arcbench_agent::aider::{install_bridge, AiderConfig, AiderExecutor};
use arcbench_agent::{AgentEvent, Executor, Outcome, PromptRequest, RawUsage};
use arcbench_fixtures::TestRepo;
use fake_claude::{FakeClaude, Reply, TextReply, Usage};
use tokio::sync::mpsc;

fn python() -> PathBuf {
    arcbench_fixtures::aider_python()
}

struct Rig {
    repo: TestRepo,
    claude: FakeClaude,
    aider: AiderExecutor,
    late: mpsc::UnboundedReceiver<(String, AgentEvent)>,
    _scratch: tempfile::TempDir,
}

async fn rig() -> Rig {
    let repo = TestRepo::new();
    let claude = FakeClaude::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let cfg = AiderConfig {
        python: python(),
        bridge: install_bridge(&scratch.path().join("bridge")).unwrap(),
        model: "claude-sonnet-4-5".into(),
        weak_model: Some("claude-haiku-4-5".into()),
        api_base: claude.base_url(),
        api_key: "sk-test".into(),
        home: scratch.path().join("home"),
        retry_timeout: Some(1.0),
        map_tokens: Some(0),
    };
    let (late_tx, late) = mpsc::unbounded_channel();
    let aider = AiderExecutor::start(&cfg, &repo.path, late_tx)
        .await
        .unwrap();
    Rig {
        repo,
        claude,
        aider,
        late,
        _scratch: scratch,
    }
}

#[derive(Debug, Default)]
struct Turn {
    text: String,
    discarded: usize,
    files: Vec<String>,
    confirms: Vec<String>,
    /// (action, path) of each attempt the bridge refused outside the worktree.
    refused: Vec<(String, String)>,
    /// The chat after the prompt, as a new agent would continue it.
    history: Option<arcbench_agent::Transcript>,
    usage: Vec<RawUsage>,
    /// The answer's edit blocks as the bridge proposed them while it streamed.
    proposed: Vec<arcbench_agent::ProposedEdit>,
    outcome: Option<Outcome>,
}

async fn run(aider: &mut AiderExecutor, id: &str, text: &str, files: &[&str]) -> Turn {
    let rx = aider
        .prompt(PromptRequest {
            id: id.into(),
            text: text.into(),
            files: files.iter().map(|f| f.to_string()).collect(),
        })
        .await
        .unwrap();
    collect(rx).await
}

async fn collect(mut rx: mpsc::UnboundedReceiver<AgentEvent>) -> Turn {
    let mut t = Turn::default();
    while let Some(e) = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("agent answers")
    {
        match e {
            AgentEvent::Text(c) => t.text.push_str(&c),
            AgentEvent::TextDiscarded { .. } => {
                t.discarded += 1;
                t.text.clear();
                t.proposed.clear();
            }
            AgentEvent::FilesWritten(f) => t.files.extend(f),
            AgentEvent::Confirm { question, .. } => t.confirms.push(question),
            AgentEvent::Usage(u) => t.usage.push(u),
            AgentEvent::Finished(o) => {
                t.outcome = Some(o);
                break;
            }
            AgentEvent::Refused { action, path, .. } => t.refused.push((action, path)),
            AgentEvent::History(h) => t.history = Some(h),
            AgentEvent::Proposed(p) => t.proposed.push(p),
            AgentEvent::Log { .. } => {}
        }
    }
    t
}

fn edit(path: &str, search: &str, replace: &str) -> String {
    format!("I'll make that change.\n\n{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
}

#[tokio::test]
async fn two_prompts_keep_history_and_usage_is_exact() {
    let mut r = rig().await;
    r.claude
        .push(TextReply::new("Hello from the fake API.").usage(Usage::exact(1200, 9, 300, 4000)));
    let t = run(&mut r.aider, "p1", "say hello", &[]).await;
    assert_eq!(t.outcome, Some(Outcome::Done));
    assert_eq!(t.text.trim(), "Hello from the fake API.");
    assert_eq!(
        t.usage,
        vec![RawUsage {
            model: "claude-sonnet-4-5".into(),
            input_tokens: 1200,
            output_tokens: 9,
            cache_creation_input_tokens: 300,
            cache_read_input_tokens: 4000,
            partial: false
        }]
    );
    r.claude.push(TextReply::new("Second answer."));
    let t2 = run(&mut r.aider, "p2", "and again", &[]).await;
    assert_eq!(t2.outcome, Some(Outcome::Done));
    let reqs = r.claude.requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[1].contains_text("say hello") && reqs[1].contains_text("Hello from the fake API."),
        "history kept"
    );
    assert!(r.late.try_recv().is_err());
}

#[tokio::test]
async fn an_edit_and_a_new_file_are_written_without_commits() {
    let mut r = rig().await;
    let head = r.repo.head();
    r.claude.push(TextReply::new(
        edit("src/util.rs", "    42\n", "    43\n") + &edit("src/new.rs", "", "pub fn new() {}\n"),
    ));
    let t = run(
        &mut r.aider,
        "p1",
        "bump util and add new.rs",
        &["src/util.rs"],
    )
    .await;
    assert_eq!(t.outcome, Some(Outcome::Done), "{t:?}");
    assert_eq!(
        std::fs::read_to_string(r.repo.path.join("src/util.rs")).unwrap(),
        "pub fn util() -> u32 {\n    43\n}\n"
    );
    assert_eq!(
        std::fs::read_to_string(r.repo.path.join("src/new.rs")).unwrap(),
        "pub fn new() {}\n"
    );
    let mut files = t.files.clone();
    files.sort();
    files.dedup();
    assert_eq!(
        files,
        vec!["src/new.rs".to_string(), "src/util.rs".to_string()]
    );
    assert_eq!(r.repo.head(), head, "Aider never commits");
    // Each block was proposed before Aider wrote it: the files as they are now.
    let proposed: Vec<(u32, &str, Option<&str>)> = t
        .proposed
        .iter()
        .map(|p| (p.index, p.path.as_str(), p.content.as_deref()))
        .collect();
    assert_eq!(
        proposed,
        [
            (
                0,
                "src/util.rs",
                Some("pub fn util() -> u32 {\n    43\n}\n")
            ),
            (1, "src/new.rs", Some("pub fn new() {}\n")),
        ]
    );
}

#[tokio::test]
async fn naming_a_file_outside_the_chat_adds_it_and_asks_again() {
    let mut r = rig().await;
    r.claude
        .push(TextReply::new("I need to see src/util.rs to do that."));
    r.claude
        .push(TextReply::new(edit("src/util.rs", "    42\n", "    44\n")));
    let t = run(&mut r.aider, "p1", "change util", &[]).await;
    assert_eq!(t.outcome, Some(Outcome::Done), "{t:?}");
    assert!(
        t.confirms.iter().any(|q| q.contains("Add file")),
        "{:?}",
        t.confirms
    );
    assert_eq!(r.claude.requests().len(), 2);
    assert!(
        r.claude.requests()[1].contains_text("pub fn util()"),
        "the follow-up carries the file"
    );
    assert!(
        std::fs::read_to_string(r.repo.path.join("src/util.rs"))
            .unwrap()
            .contains("44"),
        "{t:?}"
    );
}

#[tokio::test]
async fn a_401_fails_at_once_with_the_reason() {
    let mut r = rig().await;
    r.claude.push(Reply::http_error(401));
    let t = run(&mut r.aider, "p1", "hello", &[]).await;
    match t.outcome {
        Some(Outcome::Failed { reason, status }) => {
            assert_eq!(status, Some(401));
            assert!(reason.to_lowercase().contains("auth"), "{reason}");
        }
        other => panic!("expected failed, got {other:?}"),
    }
    assert_eq!(r.claude.requests().len(), 1, "no retry storm");
    r.claude.push(TextReply::new("fine now"));
    assert_eq!(
        run(&mut r.aider, "p2", "again", &[]).await.outcome,
        Some(Outcome::Done)
    );
}

#[tokio::test]
async fn a_500_is_retried_then_succeeds() {
    let mut r = rig().await;
    r.claude.push(Reply::http_error(500));
    r.claude.push(TextReply::new("recovered"));
    let t = run(&mut r.aider, "p1", "hello", &[]).await;
    assert_eq!(t.outcome, Some(Outcome::Done));
    assert_eq!(t.text.trim(), "recovered", "{t:?}");
    assert_eq!(
        r.claude.requests().len(),
        2,
        "{t:?} {:#?}",
        r.claude.requests()
    );
}

#[tokio::test]
async fn cancel_mid_stream_is_quick_and_the_next_prompt_works() {
    let mut r = rig().await;
    r.claude.push(
        TextReply::new("word ".repeat(400))
            .chunk_chars(5)
            .chunk_delay(Duration::from_millis(20)),
    );
    let mut rx = r
        .aider
        .prompt(PromptRequest {
            id: "p1".into(),
            text: "write a lot".into(),
            files: vec![],
        })
        .await
        .unwrap();
    loop {
        if let Some(AgentEvent::Text(_)) = rx.recv().await {
            break;
        }
    }
    let asked = Instant::now();
    r.aider.cancel("p1");
    let t = collect(rx).await;
    assert_eq!(t.outcome, Some(Outcome::Cancelled));
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "cancel took {:?}",
        asked.elapsed()
    );
    r.claude.push(TextReply::new("after cancel"));
    assert_eq!(
        run(&mut r.aider, "p2", "again", &[]).await.outcome,
        Some(Outcome::Done)
    );
}

#[tokio::test]
async fn cancel_while_the_api_hangs() {
    let mut r = rig().await;
    r.claude.push(Reply::hang());
    let rx = r
        .aider
        .prompt(PromptRequest {
            id: "p1".into(),
            text: "hi".into(),
            files: vec![],
        })
        .await
        .unwrap();
    while r.claude.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let asked = Instant::now();
    r.aider.cancel("p1");
    assert_eq!(collect(rx).await.outcome, Some(Outcome::Cancelled));
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "cancel took {:?}",
        asked.elapsed()
    );
}

#[tokio::test]
async fn killing_aider_mid_turn_fails_the_prompt_with_a_reason() {
    let mut r = rig().await;
    r.claude.push(Reply::hang());
    let rx = r
        .aider
        .prompt(PromptRequest {
            id: "p1".into(),
            text: "hi".into(),
            files: vec![],
        })
        .await
        .unwrap();
    while r.claude.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // kill -9 the bridge as an OOM killer would.
    std::process::Command::new("kill")
        .args(["-9", &r.aider.pid().to_string()])
        .status()
        .unwrap();
    match collect(rx).await.outcome {
        Some(Outcome::Failed { reason, .. }) => {
            assert!(reason.contains("exited unexpectedly"), "{reason}")
        }
        other => panic!("expected failed, got {other:?}"),
    }
    assert!(!r.aider.is_alive());
    assert!(r
        .aider
        .prompt(PromptRequest {
            id: "p2".into(),
            text: "x".into(),
            files: vec![]
        })
        .await
        .is_err());
}
