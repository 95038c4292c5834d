//! Instant sessions: bridges forked from the agent template, with real Aider against the local
//! Messages API. Each forked agent is the template's child with a process group, working
//! directory and channels of its own, inherits none of the template's pipes, works like a
//! spawned one (edits, history restored); killing the template or one agent harms no other; a
//! template that cannot fork means the slow start, not a failure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use arcbench_agent::aider::{install_bridge, AiderConfig, AiderExecutor, Template};
use arcbench_agent::{AgentEvent, Executor, Outcome, PromptRequest, Transcript};
use arcbench_fixtures::TestRepo;
use fake_claude::{FakeClaude, TextReply};
use tokio::sync::mpsc;

struct Rig {
    claude: FakeClaude,
    cfg: AiderConfig,
    _scratch: tempfile::TempDir,
}

async fn rig() -> Rig {
    let claude = FakeClaude::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let cfg = AiderConfig {
        python: arcbench_fixtures::aider_python(),
        bridge: install_bridge(&scratch.path().join("bridge")).unwrap(),
        model: "claude-sonnet-4-5".into(),
        weak_model: Some("claude-haiku-4-5".into()),
        api_base: claude.base_url(),
        api_key: "sk-test".into(),
        home: scratch.path().join("home"),
        retry_timeout: Some(1.0),
        map_tokens: Some(0),
    };
    Rig {
        claude,
        cfg,
        _scratch: scratch,
    }
}

async fn fork(cfg: &AiderConfig, t: &Template, root: &Path) -> AiderExecutor {
    let (late, _) = mpsc::unbounded_channel();
    AiderExecutor::start_via(cfg, root, late, Some(t))
        .await
        .unwrap()
}

/// (parent pid, process group, session) from /proc/<pid>/stat.
fn stat(pid: u32) -> (u32, u32, u32) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest: Vec<&str> = s[s.rfind(')').unwrap() + 2..].split(' ').collect();
    (
        rest[1].parse().unwrap(),
        rest[2].parse().unwrap(),
        rest[3].parse().unwrap(),
    )
}

fn fd_targets(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|p| p.display().to_string())
        .collect()
}

async fn run(x: &mut AiderExecutor, id: &str, text: &str, files: &[&str]) -> (Outcome, String) {
    let mut rx = x
        .prompt(PromptRequest {
            id: id.into(),
            text: text.into(),
            files: files.iter().map(|f| f.to_string()).collect(),
        })
        .await
        .unwrap();
    let mut said = String::new();
    loop {
        let e = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("the agent answers")
            .expect("the prompt ends");
        match e {
            AgentEvent::Text(c) => said.push_str(&c),
            AgentEvent::TextDiscarded { .. } => said.clear(),
            AgentEvent::Finished(o) => return (o, said),
            _ => {}
        }
    }
}

fn edit(path: &str, search: &str, replace: &str) -> String {
    format!(
        "Done.\n\n{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forked_agents_are_the_templates_children_with_their_own_everything() {
    let r = rig().await;
    let t = Template::new(r.cfg.clone()).unwrap();
    let tpid = t.warm().await.unwrap();
    assert_eq!(
        std::fs::read_dir(format!("/proc/{tpid}/task"))
            .unwrap()
            .count(),
        1,
        "the template is single-threaded"
    );
    let template_pipes: Vec<String> = fd_targets(tpid)
        .into_iter()
        .filter(|t| t.starts_with("pipe:"))
        .collect();
    assert!(!template_pipes.is_empty());

    let repos: Vec<TestRepo> = (0..4).map(|_| TestRepo::new()).collect();
    let mut agents = Vec::new();
    for repo in &repos {
        agents.push(fork(&r.cfg, &t, &repo.path).await);
    }
    let mut pids = Vec::new();
    for (a, repo) in agents.iter().zip(&repos) {
        let pid = a.pid();
        let (parent, group, session) = stat(pid);
        assert_eq!(parent, tpid, "forked from the template");
        assert_eq!(
            (group, session),
            (pid, pid),
            "a process group and session of its own"
        );
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
            repo.path.canonicalize().unwrap()
        );
        let fds = fd_targets(pid);
        for pipe in &template_pipes {
            assert!(!fds.contains(pipe), "{pid} inherited the template's {pipe}");
        }
        pids.push(pid);
    }
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 4);

    // Each works on its own worktree.
    for (i, (a, repo)) in agents.iter_mut().zip(&repos).enumerate() {
        r.claude.push(TextReply::new(edit(
            "src/util.rs",
            "    42\n",
            &format!("    {}\n", 100 + i),
        )));
        let (outcome, _) = run(a, &format!("p{i}"), "change util", &["src/util.rs"]).await;
        assert_eq!(outcome, Outcome::Done);
        assert_eq!(
            std::fs::read_to_string(repo.path.join("src/util.rs")).unwrap(),
            format!("pub fn util() -> u32 {{\n    {}\n}}\n", 100 + i)
        );
    }
    for a in agents {
        a.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_agent_continues_a_restored_chat() {
    let r = rig().await;
    let t = Template::new(r.cfg.clone()).unwrap();
    let repo = TestRepo::new();
    let mut a = fork(&r.cfg, &t, &repo.path).await;
    r.claude.push(TextReply::new("The answer is forty-two."));
    assert_eq!(
        run(&mut a, "h1", "what is the answer?", &[]).await.0,
        Outcome::Done
    );
    a.shutdown().await;

    let mut b = fork(&r.cfg, &t, &repo.path).await;
    let transcript = Transcript {
        messages: vec![
            arcbench_agent::ChatMessage {
                role: arcbench_agent::Role::User,
                content: "what is the answer?".into(),
            },
            arcbench_agent::ChatMessage {
                role: arcbench_agent::Role::Assistant,
                content: "The answer is forty-two.".into(),
            },
        ],
        files: vec![],
    };
    b.restore(&transcript).await.unwrap();
    r.claude.push(TextReply::new("Still forty-two."));
    assert_eq!(run(&mut b, "h2", "and now?", &[]).await.0, Outcome::Done);
    let last = r.claude.requests().last().cloned().unwrap();
    assert!(
        last.contains_text("The answer is forty-two."),
        "history kept"
    );
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_template_or_one_agent_harms_no_other() {
    let r = rig().await;
    let t = Template::new(r.cfg.clone()).unwrap();
    let (one, two) = (TestRepo::new(), TestRepo::new());
    let mut a = fork(&r.cfg, &t, &one.path).await;
    let b = fork(&r.cfg, &t, &two.path).await;
    let old = t.pid().await.unwrap();

    kill9(old);
    wait_gone(old).await;
    r.claude.push(TextReply::new("A lives."));
    assert_eq!(
        run(&mut a, "k1", "still there?", &[]).await.0,
        Outcome::Done
    );

    // The next fork starts a new template.
    let three = TestRepo::new();
    let mut c = fork(&r.cfg, &t, &three.path).await;
    let new = t.pid().await.unwrap();
    assert_ne!(new, old);
    assert_eq!(stat(c.pid()).0, new);

    kill9(b.pid());
    for _ in 0..200 {
        if !b.is_alive() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(!b.is_alive(), "a killed agent is seen gone");
    r.claude.push(TextReply::new("C lives."));
    assert_eq!(run(&mut c, "k2", "you?", &[]).await.0, Outcome::Done);
    r.claude.push(TextReply::new("A still lives."));
    assert_eq!(run(&mut a, "k3", "and you?", &[]).await.0, Outcome::Done);
    a.shutdown().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_that_cannot_start_means_the_slow_start() {
    let r = rig().await;
    let broken = AiderConfig {
        python: PathBuf::from("/nonexistent/python3"),
        ..r.cfg.clone()
    };
    let t = Template::new(broken).unwrap();
    let repo = TestRepo::new();
    let mut a = fork(&r.cfg, &t, &repo.path).await;
    assert_eq!(
        stat(a.pid()).0,
        std::process::id(),
        "started as a process of its own"
    );
    r.claude.push(TextReply::new("Slow but fine."));
    assert_eq!(run(&mut a, "s1", "hello", &[]).await.0, Outcome::Done);
    a.shutdown().await;
}

fn kill9(pid: u32) {
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
}

async fn wait_gone(pid: u32) {
    for _ in 0..200 {
        let zombie_or_gone = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s[s.rfind(')').unwrap() + 2..].starts_with('Z'))
            .unwrap_or(true);
        if zombie_or_gone {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{pid} still runs");
}
