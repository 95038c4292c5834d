//! Prompts through the runner with real Aider against the local Messages API: streaming into
//! events, exactly-once client ids, busy sessions, cancel, budgets and interrupted prompts.

mod support;

use std::sync::Arc;
use std::time::Duration;

use arcbench_agent::aider::{install_bridge, AiderConfig};
use arcbench_engine::runner::{AgentSetup, Runner, RunnerConfig};
use arcbench_engine::{Budget, CreateSessionRequest, Engine, EngineConfig};
use fake_claude::{FakeClaude, Reply, TextReply, Usage as FakeUsage};
use shared_protocol::{ErrorCode, EventBody, HunkState, PromptState};
use support::*;

struct Rig {
    repo: TestRepo,
    claude: FakeClaude,
    engine: Arc<Engine>,
    runner: Arc<Runner>,
    data: tempfile::TempDir,
    session: String,
}

fn agent_config(data: &std::path::Path, claude: &FakeClaude) -> AiderConfig {
    AiderConfig {
        python: arcbench_fixtures::aider_python(),
        bridge: install_bridge(&data.join("bridge")).unwrap(),
        model: "claude-sonnet-4-5".into(),
        weak_model: Some("claude-haiku-4-5".into()),
        api_base: claude.base_url(),
        api_key: "sk-test".into(),
        home: data.join("aider-home"),
        retry_timeout: Some(0.5),
        map_tokens: Some(0),
    }
}

async fn rig() -> Rig {
    rig_with(Duration::from_secs(600), 3).await
}

async fn rig_with(idle_timeout: Duration, max_agents: usize) -> Rig {
    let repo = TestRepo::new();
    let claude = FakeClaude::start().await;
    let data = tempfile::tempdir().unwrap();
    let engine = Arc::new(
        Engine::open(EngineConfig {
            data_dir: data.path().into(),
            repos: vec![repo.path.clone()],
            ..Default::default()
        })
        .unwrap(),
    );
    let runner = Runner::start(
        engine.clone(),
        RunnerConfig {
            agent: AgentSetup::Ready(agent_config(data.path(), &claude)),
            idle_timeout,
            max_agents,
            instant_sessions: true,
        },
    )
    .await
    .unwrap();
    let session = engine
        .create_session(CreateSessionRequest::default())
        .unwrap()
        .id;
    Rig {
        repo,
        claude,
        engine,
        runner,
        data,
        session,
    }
}

impl Rig {
    fn submit(&self, text: &str, client_id: &str) -> shared_protocol::Prompt {
        let (p, _) = self
            .engine
            .submit_prompt(&self.session, text, client_id)
            .unwrap();
        self.runner.kick(&self.session);
        p
    }
}

/// Waits for the prompt's `prompt.finished` event (from the log, so none is missed).
async fn finished(engine: &Engine, prompt_id: &str) -> (PromptState, Option<String>) {
    for _ in 0..600 {
        for e in engine.events_since(0, u32::MAX).unwrap() {
            if let EventBody::PromptFinished {
                prompt_id: p,
                state,
                reason,
                ..
            } = e.body
            {
                if p == prompt_id {
                    return (state, reason);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kinds: Vec<String> = engine
        .events_since(0, u32::MAX)
        .unwrap()
        .iter()
        .map(|e| format!("{}:{:?}", e.seq, e.body))
        .collect();
    panic!(
        "prompt {prompt_id} did not finish in 60 s; events:\n{}",
        kinds.join("\n")
    );
}

async fn started(engine: &Engine, session: &str) {
    for _ in 0..600 {
        if engine.running_prompt(session).is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no prompt started");
}

fn texts(engine: &Engine, prompt_id: &str) -> String {
    engine
        .events_since(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.body {
            EventBody::AgentText {
                prompt_id: p,
                chunk,
            } if p == prompt_id => Some(chunk),
            _ => None,
        })
        .collect()
}

fn edit(path: &str, search: &str, replace: &str) -> String {
    format!(
        "Done.\n\n{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_streams_edits_the_worktree_and_is_priced_from_raw_usage() {
    let r = rig().await;
    r.claude
        .push(TextReply::new("I need src/util.rs.\n").usage(FakeUsage::exact(1000, 10, 0, 0)));
    r.claude.push(
        TextReply::new(edit("src/util.rs", "    42\n", "    43\n"))
            .usage(FakeUsage::exact(2000, 50, 1000, 3000)),
    );
    let p = r.submit("bump util", "c-1");
    assert_eq!(p.state, PromptState::Queued);
    assert_eq!(finished(&r.engine, &p.id).await, (PromptState::Done, None));
    assert!(texts(&r.engine, &p.id).contains("<<<<<<< SEARCH"));
    let d = r.engine.diff(&r.session).unwrap();
    assert_eq!(d.files.len(), 1);
    assert_eq!(d.files[0].path, "src/util.rs");
    assert_eq!(d.files[0].hunks[0].state, HunkState::Pending);
    let prompts = r.engine.prompts(&r.session).unwrap();
    let u = &prompts[0].usage;
    assert_eq!(
        (
            u.input_tokens,
            u.output_tokens,
            u.cache_creation_input_tokens,
            u.cache_read_input_tokens
        ),
        (3000, 60, 1000, 3000)
    );
    let expected = 3000.0 * 3e-6 + 60.0 * 15e-6 + 1000.0 * 3.75e-6 + 3000.0 * 0.3e-6;
    assert!(
        (u.cost_usd - expected).abs() < 1e-12,
        "{} vs {expected}",
        u.cost_usd
    );
    assert_eq!(
        r.repo.head(),
        r.engine.session(&r.session).unwrap().base_commit,
        "the user's branch never moves"
    );
    // The session stays warm: the next prompt reuses the same agent (history included).
    assert!(r.runner.has_agent(&r.session));
    r.claude.push(TextReply::new("ok"));
    let p2 = r.submit("thanks", "c-2");
    assert_eq!(finished(&r.engine, &p2.id).await.0, PromptState::Done);
    assert!(r
        .claude
        .requests()
        .last()
        .unwrap()
        .contains_text("bump util"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_client_id_runs_once_even_when_sent_concurrently() {
    let r = rig().await;
    r.claude.push(TextReply::new("once"));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let e = r.engine.clone();
            let s = r.session.clone();
            std::thread::spawn(move || e.submit_prompt(&s, "hello", "same-id").unwrap())
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    assert!(results.windows(2).all(|w| w[0].0.id == w[1].0.id));
    r.runner.kick(&r.session);
    assert_eq!(
        finished(&r.engine, &results[0].0.id).await.0,
        PromptState::Done
    );
    assert_eq!(r.claude.requests().len(), 1);
    assert_eq!(r.engine.prompts(&r.session).unwrap().len(), 1);
    let other = r
        .engine
        .create_session(CreateSessionRequest::default())
        .unwrap();
    let err = r
        .engine
        .submit_prompt(&other.id, "hello", "same-id")
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    for (text, id) in [("", "x"), ("hi", ""), ("hi", &"x".repeat(201))] {
        assert_eq!(
            r.engine
                .submit_prompt(&r.session, text, id)
                .unwrap_err()
                .code(),
            ErrorCode::BadRequest
        );
    }
    assert_eq!(
        r.engine
            .submit_prompt("nope", "hi", "y")
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_is_refused_while_a_prompt_runs_and_cancel_stops_it() {
    let r = rig().await;
    write(&wt_of(&r), "README.md", "edited by hand\n");
    r.claude.push(Reply::hang());
    let p = r.submit("take your time", "c-1");
    started(&r.engine, &r.session).await;
    let ids = ids(&r.engine.diff(&r.session).unwrap());
    let err = r.engine.approve(&r.session, &ids).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SessionBusy);
    assert_eq!(
        r.engine.apply(&r.session, None).unwrap_err().code(),
        ErrorCode::SessionBusy
    );
    assert_eq!(
        r.engine
            .delete_session(&r.session, false, false)
            .unwrap_err()
            .code(),
        ErrorCode::SessionBusy
    );
    assert_eq!(
        r.engine.session(&r.session).unwrap().state,
        shared_protocol::SessionState::Running
    );
    while r.claude.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let asked = std::time::Instant::now();
    assert!(r.runner.cancel(&r.session).await);
    assert_eq!(finished(&r.engine, &p.id).await.0, PromptState::Cancelled);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    r.engine.approve(&r.session, &ids).unwrap();
    assert!(!r.runner.cancel(&r.session).await, "nothing left to cancel");
}

fn wt_of(r: &Rig) -> std::path::PathBuf {
    r.data.path().join("worktrees").join(&r.session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_warn_refuse_and_hold_until_raised() {
    let r = rig().await;
    // 1000 input tokens on sonnet = $0.003; a limit of $0.0035 is crossed at 80 % by the first.
    r.engine
        .set_budget(Budget {
            session_limit_usd: Some(0.0035),
            daily_limit_usd: None,
            warning_ratio: None,
        })
        .unwrap();
    r.claude
        .push(TextReply::new("one").usage(FakeUsage::exact(1000, 0, 0, 0)));
    let p1 = r.submit("first", "b-1");
    assert_eq!(finished(&r.engine, &p1.id).await.0, PromptState::Done);
    let events = r.engine.events_since(0, u32::MAX).unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e.body, EventBody::BudgetWarning { .. })));
    assert!(!events
        .iter()
        .any(|e| matches!(e.body, EventBody::BudgetExceeded { .. })));
    // Two prompts queued back to back: the first runs and crosses the limit, the second is held.
    r.claude
        .push(TextReply::new("two").usage(FakeUsage::exact(1000, 0, 0, 0)));
    let (p2, _) = r.engine.submit_prompt(&r.session, "second", "b-2").unwrap();
    let (p3, _) = r.engine.submit_prompt(&r.session, "third", "b-3").unwrap();
    r.runner.kick(&r.session);
    assert_eq!(finished(&r.engine, &p2.id).await.0, PromptState::Done);
    for _ in 0..100 {
        if r.engine.prompts(&r.session).unwrap()[2].reason.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let held = &r.engine.prompts(&r.session).unwrap()[2];
    assert_eq!(held.state, PromptState::Queued);
    assert!(
        held.reason
            .as_deref()
            .unwrap()
            .contains("session budget reached"),
        "{held:?}"
    );
    assert!(r
        .engine
        .events_since(0, u32::MAX)
        .unwrap()
        .iter()
        .any(|e| matches!(e.body, EventBody::BudgetExceeded { .. })));
    let err = r
        .engine
        .submit_prompt(&r.session, "fourth", "b-4")
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BudgetExceeded);
    assert_eq!(r.claude.requests().len(), 2);
    // Raising the limit releases the held prompt.
    r.claude.push(TextReply::new("three"));
    r.engine
        .set_budget(Budget {
            session_limit_usd: Some(1.0),
            daily_limit_usd: None,
            warning_ratio: None,
        })
        .unwrap();
    r.runner.kick_all();
    assert_eq!(finished(&r.engine, &p3.id).await.0, PromptState::Done);
    assert_eq!(
        r.engine
            .set_budget(Budget {
                session_limit_usd: Some(-1.0),
                daily_limit_usd: None,
                warning_ratio: None,
            })
            .unwrap_err()
            .code(),
        ErrorCode::BadRequest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_interrupts_the_running_prompt_and_a_restart_runs_the_queue() {
    let r = rig().await;
    r.claude.push(Reply::hang());
    let p1 = r.submit("long one", "s-1");
    let (p2, _) = r
        .engine
        .submit_prompt(&r.session, "queued behind it", "s-2")
        .unwrap();
    started(&r.engine, &r.session).await;
    // Mid-request, not mid-start (a stop during Aider's start is interrupted too, but would
    // leave the hanging reply queued for the next prompt).
    assert!(r
        .claude
        .wait_for_requests(1, Duration::from_secs(60))
        .await
        .is_some());
    r.runner.shutdown().await;
    assert_eq!(
        finished(&r.engine, &p1.id).await.0,
        PromptState::Interrupted
    );
    assert_eq!(
        r.engine.prompts(&r.session).unwrap()[1].state,
        PromptState::Queued
    );
    r.claude.push(TextReply::new("after restart"));
    let runner = Runner::start(
        r.engine.clone(),
        RunnerConfig {
            agent: AgentSetup::Ready(agent_config(r.data.path(), &r.claude)),
            idle_timeout: Duration::from_secs(600),
            max_agents: 3,
            instant_sessions: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(finished(&r.engine, &p2.id).await.0, PromptState::Done);
    runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_agent_prompts_fail_with_the_reason() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let engine = Arc::new(
        Engine::open(EngineConfig {
            data_dir: data.path().into(),
            repos: vec![repo.path.clone()],
            ..Default::default()
        })
        .unwrap(),
    );
    let runner = Runner::start(
        engine.clone(),
        RunnerConfig {
            agent: AgentSetup::Unavailable("no Python with aider-chat found".into()),
            idle_timeout: Duration::from_secs(60),
            max_agents: 3,
            instant_sessions: true,
        },
    )
    .await
    .unwrap();
    let s = engine
        .create_session(CreateSessionRequest::default())
        .unwrap();
    let (p, _) = engine.submit_prompt(&s.id, "hi", "n-1").unwrap();
    runner.kick(&s.id);
    let (state, reason) = finished(&engine, &p.id).await;
    assert_eq!(state, PromptState::Failed);
    assert!(reason.unwrap().contains("no Python with aider-chat"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_agent_is_stopped_and_its_successor_continues_the_chat() {
    let r = rig_with(Duration::from_secs(1), 3).await;
    let (claude, engine, runner, s) = (&r.claude, &r.engine, &r.runner, r.session.clone());
    claude.push(TextReply::new("Noted: the secret word is pelican."));
    let (p, _) = engine
        .submit_prompt(&s, "remember the secret word pelican", "i-1")
        .unwrap();
    runner.kick(&s);
    assert_eq!(finished(engine, &p.id).await.0, PromptState::Done);
    assert!(runner.has_agent(&s));
    for _ in 0..100 {
        if !runner.has_agent(&s) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!runner.has_agent(&s), "the idle agent was stopped");
    claude.push(TextReply::new("It was pelican."));
    let (p, _) = engine
        .submit_prompt(&s, "what was the word?", "i-2")
        .unwrap();
    runner.kick(&s);
    assert_eq!(finished(engine, &p.id).await.0, PromptState::Done);
    // The new Aider process sent the first exchange along with the second prompt.
    let last = claude.requests().into_iter().rfind(|r| r.stream).unwrap();
    assert!(
        last.contains_text("remember the secret word pelican")
            && last.contains_text("Noted: the secret word is pelican."),
        "the restarted agent forgot the chat: {}",
        last.all_text()
    );
    let warned = engine.events_since(0, u32::MAX).unwrap().into_iter().any(|e| {
        matches!(e.body, EventBody::AgentLog { ref line, .. } if line.contains("does not remember"))
    });
    assert!(!warned, "no history-lost note when the chat was restored");
    runner.shutdown().await;
}

/// The reason a queued prompt was last held with (from its `prompt.updated` events).
fn held_reason(engine: &Engine, prompt_id: &str) -> Option<String> {
    engine
        .events_since(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.body {
            EventBody::PromptUpdated { prompt } if prompt.id == prompt_id => prompt.reason,
            _ => None,
        })
        .next_back()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_agents_a_session_waits_visibly_then_takes_an_idle_agents_slot() {
    let r = rig_with(Duration::from_secs(600), 1).await;
    let other = r
        .engine
        .create_session(CreateSessionRequest::default())
        .unwrap()
        .id;
    // The first session's reply is slow, so its agent is busy when the second asks for one.
    r.claude
        .push(TextReply::new("first, slowly").first_token_delay(Duration::from_secs(3)));
    r.claude.push(TextReply::new("second"));
    let p1 = r.submit("take your time", "max-1");
    started(&r.engine, &r.session).await;
    let (p2, _) = r.engine.submit_prompt(&other, "me too", "max-2").unwrap();
    r.runner.kick(&other);
    let mut reason = None;
    for _ in 0..100 {
        reason = held_reason(&r.engine, &p2.id);
        if reason.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reason = reason.expect("the waiting prompt says why");
    assert!(
        reason.contains("waiting for an agent") && reason.contains("max_agents = 1"),
        "{reason}"
    );
    assert_eq!(
        r.engine.prompts(&other).unwrap()[0].state,
        PromptState::Queued
    );
    assert_eq!(r.runner.agents_alive(), 1);

    assert_eq!(finished(&r.engine, &p1.id).await.0, PromptState::Done);
    assert_eq!(finished(&r.engine, &p2.id).await.0, PromptState::Done);
    // The first session's idle agent gave its slot up; never more than one alive.
    assert!(!r.runner.has_agent(&r.session));
    assert!(r.runner.has_agent(&other));
    assert_eq!(r.runner.agents_alive(), 1);
    assert_eq!(texts(&r.engine, &p2.id), "second");
    r.runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_live_on_prompts_and_compaction_never_leaves_a_silent_gap() {
    let r = rig().await;
    r.claude
        .push(TextReply::new("A reply that streams in several chunks of text.").chunk_chars(7));
    let p = r.submit("say something", "snap-1");
    assert_eq!(finished(&r.engine, &p.id).await.0, PromptState::Done);
    let streamed = texts(&r.engine, &p.id);
    let snap = r.engine.snapshot(&r.session).unwrap();
    assert_eq!(snap.prompts[0].reply, streamed);
    assert_eq!(
        snap.prompts[0].reply,
        "A reply that streams in several chunks of text."
    );
    let last = snap.last_seq;
    r.engine.check_since(0).unwrap();
    r.runner.shutdown().await;

    // A restart compacts the finished prompt's chunks: its reply stays on the prompt, and a
    // client resuming from before the compaction is told to start from a snapshot again.
    let reopened = Engine::open(EngineConfig {
        data_dir: r.data.path().into(),
        repos: vec![r.repo.path.clone()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(texts(&reopened, &p.id), "", "chunks compacted");
    let snap = reopened.snapshot(&r.session).unwrap();
    assert_eq!(snap.prompts[0].reply, streamed);
    assert_eq!(
        snap.last_seq, last,
        "compaction never drops the newest event"
    );
    let err = reopened.check_since(0).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Resync, "{err}");
    reopened.check_since(last).unwrap();
    let err = reopened.check_since(last + 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadRequest);
    assert!(err.to_string().contains("ahead"), "{err}");
    assert_eq!(
        reopened.snapshot("nosuchid").unwrap_err().code(),
        ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warning_threshold_is_configurable_and_kept_when_limits_change() {
    let r = rig().await;
    let bad = r.engine.set_budget(Budget {
        warning_ratio: Some(1.5),
        ..Budget::default()
    });
    assert_eq!(bad.unwrap_err().code(), ErrorCode::BadRequest);
    // Warn at 90 %: the first $0.003 of a $0.0035 limit (86 %) does not warn any more.
    r.engine
        .set_budget(Budget {
            warning_ratio: Some(0.9),
            ..Budget::default()
        })
        .unwrap();
    // Changing only the limits keeps the threshold.
    r.engine
        .set_budget(Budget {
            session_limit_usd: Some(0.0035),
            ..Budget::default()
        })
        .unwrap();
    assert_eq!(r.engine.usage_report().unwrap().budget.warning_ratio, 0.9);
    r.claude
        .push(TextReply::new("one").usage(FakeUsage::exact(1000, 0, 0, 0)));
    let p1 = r.submit("first", "w-1");
    assert_eq!(finished(&r.engine, &p1.id).await.0, PromptState::Done);
    let warned = |r: &Rig| {
        r.engine
            .events_since(0, u32::MAX)
            .unwrap()
            .iter()
            .any(|e| matches!(e.body, EventBody::BudgetWarning { .. }))
    };
    assert!(!warned(&r), "86 % is under a 90 % threshold");
    // A lower threshold: the next request crosses it.
    r.engine
        .set_budget(Budget {
            session_limit_usd: Some(0.0070),
            warning_ratio: Some(0.5),
            ..Budget::default()
        })
        .unwrap();
    r.claude
        .push(TextReply::new("two").usage(FakeUsage::exact(200, 0, 0, 0)));
    let p2 = r.submit("second", "w-2");
    assert_eq!(finished(&r.engine, &p2.id).await.0, PromptState::Done);
    assert!(warned(&r), "$0.0036 of $0.0070 crosses 50 %");
}
