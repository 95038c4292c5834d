//! Issue 13: live edits and instant sessions.
//!
//! 1. Session start and memory: a session's warm agent started as a process of its own (the
//!    baseline: `AiderExecutor::start`, importing Aider and litellm each time) against one forked
//!    from the agent template (`AiderExecutor::start_via`), with 1 and 4 sessions alive. Memory
//!    is USS (pages only that process holds) after each agent answered one prompt, so its
//!    warm-up (tokenizers) is in the figure.
//! 2. `>>>>>>> REPLACE` → hunk at a WebSocket client: the real release host, real Aider, a
//!    5-block reply paced by the fake API. For each block: the arrival of the `agent.text` that
//!    completed it → the arrival of its `edit.proposed` (now), against → the `diff.updated` after
//!    the turn (the first moment the hunk existed before live edits).

use std::path::Path;
use std::time::{Duration, Instant};

use arcbench_agent::aider::{install_bridge, AiderConfig, AiderExecutor, Template};
use arcbench_agent::{AgentEvent, Executor, PromptRequest};
use arcbench_fixtures::TestRepo;
use fake_claude::{FakeClaude, RecordedRequest, Reply, TextReply};
use tokio::sync::mpsc;

use crate::host::diff_latency::Observer;
use crate::host::proc_stats::{mib, uss_kib};
use crate::host::server::Host;
use crate::table::{ms, print, print_grid, ratio, summarize, Row};

const MODEL: &str = "claude-sonnet-4-5";
const LIVE_MARK: &str = "arcbench-bench live sample";
const WARMUP: &str = "arcbench-bench warm-up";

pub fn run(quick: bool) {
    let rt = crate::runtime();
    let claude = rt
        .block_on(FakeClaude::builder().responder(answer).start())
        .expect("fake-claude starts");
    sessions(&rt, &claude, quick);
    live_edits(&rt, &claude, quick);
}

fn answer(req: &RecordedRequest) -> Reply {
    if req.model.as_deref() != Some(MODEL) {
        return Reply::text("A short summary of the chat.");
    }
    let last = req.last_user_text();
    if let Some(n) = last
        .find(LIVE_MARK)
        .and_then(|i| last[i + LIVE_MARK.len()..].split_whitespace().next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        // Five blocks, 8 lines apart, on lines not edited by earlier samples.
        let text: String = (0..5)
            .map(|b| {
                let line = 1 + n + 8 * b;
                format!(
                    "Block {b}.\n\nsrc/lib.rs\n```\n<<<<<<< SEARCH\nfn line {line}\n=======\nfn live_{n}_{b}()\n>>>>>>> REPLACE\n```\n"
                )
            })
            .collect();
        return TextReply::new(text + "Done.")
            .chunk_chars(16)
            .chunk_delay(Duration::from_millis(20))
            .into();
    }
    if last.contains(WARMUP) {
        return Reply::text("I need src/lib.rs.");
    }
    Reply::text("Ok.")
}

fn config(claude: &FakeClaude, scratch: &Path) -> AiderConfig {
    AiderConfig {
        python: arcbench_fixtures::aider_python(),
        bridge: install_bridge(&scratch.join("bridge")).unwrap(),
        model: MODEL.into(),
        weak_model: Some("claude-haiku-4-5".into()),
        api_base: claude.base_url(),
        api_key: "sk-bench".into(),
        home: scratch.join("home"),
        retry_timeout: Some(1.0),
        map_tokens: Some(0),
    }
}

async fn start(cfg: &AiderConfig, repo: &Path, template: Option<&Template>) -> AiderExecutor {
    let (late, _) = mpsc::unbounded_channel();
    AiderExecutor::start_via(cfg, repo, late, template)
        .await
        .expect("the agent starts")
}

async fn one_prompt(x: &mut AiderExecutor, id: &str) {
    let mut rx = x
        .prompt(PromptRequest {
            id: id.into(),
            text: "say ok".into(),
            files: vec![],
        })
        .await
        .expect("prompt accepted");
    while let Some(e) = rx.recv().await {
        if matches!(e, AgentEvent::Finished(_)) {
            return;
        }
    }
}

fn sessions(rt: &tokio::runtime::Runtime, claude: &FakeClaude, quick: bool) {
    let scratch = tempfile::tempdir().unwrap();
    let cfg = config(claude, scratch.path());
    let repos: Vec<TestRepo> = (0..4).map(|_| TestRepo::new()).collect();
    let (spawns, forks) = if quick { (2, 5) } else { (4, 20) };
    rt.block_on(async {
        // Start time.
        let mut spawn_times = Vec::new();
        for i in 0..spawns {
            let t = Instant::now();
            let x = start(&cfg, &repos[i % 4].path, None).await;
            spawn_times.push(t.elapsed());
            x.shutdown().await;
        }
        let template = Template::new(cfg.clone()).unwrap();
        let t = Instant::now();
        template.warm().await.expect("the template starts");
        let template_start = t.elapsed();
        let mut fork_times = Vec::new();
        for i in 0..forks {
            let t = Instant::now();
            let x = start(&cfg, &repos[i % 4].path, Some(&template)).await;
            fork_times.push(t.elapsed());
            x.shutdown().await;
        }
        let (s50, s95) = summarize(spawn_times, 0.95);
        let (f50, f95) = summarize(fork_times, 0.95);
        print(
            "Instant sessions: a session's agent, start → ready",
            "forked from the template",
            "a process of its own",
            &[Row {
                case: format!(
                    "{forks} forks vs {spawns} spawns (the template's own start, once per host: {})",
                    ms(template_start)
                ),
                ours: (f50, f95),
                base: (s50, s95),
            }],
        );

        // Memory with 1 and 4 sessions alive.
        let mut rows = Vec::new();
        for n in [1usize, 4] {
            let mut figures = Vec::new();
            for forked in [false, true] {
                let mut agents = Vec::new();
                for (i, repo) in repos.iter().take(n).enumerate() {
                    let tpl = forked.then_some(&template);
                    let mut x = start(&cfg, &repo.path, tpl).await;
                    one_prompt(&mut x, &format!("m{n}-{forked}-{i}")).await;
                    agents.push(x);
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                let per: Vec<u64> = agents.iter().map(|a| uss_kib(a.pid())).collect();
                let own = per.iter().sum::<u64>() / n as u64;
                let extra = if forked {
                    uss_kib(template.pid().await.expect("the template runs"))
                } else {
                    0
                };
                figures.push((own, per.iter().sum::<u64>() + extra));
                for a in agents {
                    a.shutdown().await;
                }
            }
            let (spawned, forked) = (figures[0], figures[1]);
            rows.push(vec![
                n.to_string(),
                mib(forked.0),
                mib(spawned.0),
                ratio(forked.0 as f64, spawned.0 as f64),
                mib(forked.1),
                mib(spawned.1),
                ratio(forked.1 as f64, spawned.1 as f64),
            ]);
        }
        print_grid(
            "Instant sessions: memory (USS) per warm session, forked vs a process of its own",
            &[
                "sessions",
                "forked: each (mean)",
                "own process: each (mean)",
                "ratio",
                "forked: all incl. template",
                "own processes: all",
                "ratio",
            ],
            &rows,
        );
    });
}

fn live_edits(rt: &tokio::runtime::Runtime, claude: &FakeClaude, quick: bool) {
    let samples = if quick { 2 } else { 7 };
    let repo = TestRepo::new();
    let host = Host::start(&repo.path, &claude.base_url());
    let (now, before) = rt.block_on(async {
        let session = host.session().await;
        let mut obs = Observer::new(host.ws(0).await);
        let p = host.prompt(&session, WARMUP).await;
        obs.until_finished(&p).await;
        let (mut now, mut before) = (Vec::new(), Vec::new());
        for n in 0..samples {
            let p = host.prompt(&session, &format!("{LIVE_MARK} {n}")).await;
            let mut text = String::new();
            let mut completed: Vec<Instant> = Vec::new();
            let mut proposed: Vec<Option<Instant>> = vec![None; 5];
            let mut finished = false;
            loop {
                let (at, e) = obs.next().await;
                let of_prompt = e["prompt_id"] == p.as_str()
                    || e["proposal"]["prompt_id"] == p.as_str()
                    || e["type"] == "diff.updated";
                if !of_prompt {
                    continue;
                }
                match e["type"].as_str() {
                    Some("agent.text") => {
                        text.push_str(e["chunk"].as_str().unwrap_or(""));
                        while text.matches(">>>>>>> REPLACE").count() > completed.len() {
                            completed.push(at);
                        }
                    }
                    Some("agent.text_discarded") => {
                        text.clear();
                        completed.clear();
                    }
                    Some("edit.proposed") => {
                        let i = e["proposal"]["index"].as_u64().unwrap() as usize;
                        if i < 5 && proposed[i].is_none() {
                            proposed[i] = Some(at);
                        }
                    }
                    Some("prompt.finished") => finished = true,
                    Some("diff.updated") if finished => {
                        for (i, done) in completed.iter().enumerate() {
                            if let Some(p) = proposed[i] {
                                now.push(p.saturating_duration_since(*done));
                            }
                            before.push(at.saturating_duration_since(*done));
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
        (now, before)
    });
    let count = now.len();
    let (n50, n95) = summarize(now, 0.95);
    let (b50, b95) = summarize(before, 0.95);
    print(
        "Live edits: the model's `>>>>>>> REPLACE` → its hunk at a WebSocket client",
        "`edit.proposed` (live)",
        "`diff.updated` after the turn (before)",
        &[Row {
            case: format!("{count} blocks, 5 per reply, paced 16 chars / 20 ms"),
            ours: (n50, n95),
            base: (b50, b95),
        }],
    );
}
