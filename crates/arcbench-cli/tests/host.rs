//! Black-box tests of the `arcbench` binary over HTTP and WebSocket, with real Aider.

mod support;

use std::time::Duration;

use fake_claude::{FakeClaude, Reply, TextReply, Usage};
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_loop_over_http_and_ws() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host(&repo.path, data.path(), &claude, &[]);
    let status = host.ok("GET", "/status", None).await;
    assert_eq!(status["agent"]["available"], true, "{status}");
    assert_eq!(status["demo"], false);

    let s = host.session().await;
    let mut socket = ws(&host, 0).await;
    let lib = numbered("fn line", 40);
    let two_edits = edit("src/lib.rs", "fn line 5\n", "fn five()\n")
        + &edit("src/lib.rs", "fn line 30\n", "fn thirty()\n");
    claude.push(TextReply::new("I need src/lib.rs."));
    claude.push(
        TextReply::new(two_edits)
            .chunk_chars(16)
            .usage(Usage::exact(1500, 80, 0, 0)),
    );
    let p = host.prompt(&s, "rename two functions", "loop-1").await;
    let events = read_until(&mut socket, |e| e["type"] == "prompt.finished").await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for t in [
        "session.created",
        "prompt.queued",
        "prompt.started",
        "agent.text",
        "usage.updated",
        "prompt.finished",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    assert_gapless(&events, 1);
    let last = events.last().unwrap();
    assert_eq!(
        (last["prompt_id"].as_str(), last["state"].as_str()),
        (Some(p.as_str()), Some("done"))
    );
    let streamed: String = events
        .iter()
        .filter(|e| e["type"] == "agent.text")
        .map(|e| e["chunk"].as_str().unwrap())
        .collect();
    assert!(streamed.contains("fn thirty()"), "{streamed}");
    let after = read_until(&mut socket, |e| e["type"] == "diff.updated").await;
    assert_eq!(after.last().unwrap()["hunks"], 2);

    let d = host.ok("GET", &format!("/sessions/{s}/diff"), None).await;
    let hunks = d["files"][0]["hunks"].as_array().unwrap().clone();
    assert_eq!(hunks.len(), 2);
    let (h0, h1) = (hunks[0]["id"].clone(), hunks[1]["id"].clone());
    host.ok(
        "POST",
        &format!("/sessions/{s}/hunks/approve"),
        Some(json!({"ids": [h1]})),
    )
    .await;
    host.ok(
        "POST",
        &format!("/sessions/{s}/hunks/reject"),
        Some(json!({"ids": [h0], "comment": "keep line 5"})),
    )
    .await;
    let c = host
        .ok(
            "POST",
            &format!("/sessions/{s}/apply"),
            Some(json!({"message": "thirty"})),
        )
        .await;
    let sha = c["commit"].as_str().unwrap();
    let wt = host.data.join("worktrees").join(&s);
    assert_eq!(
        git(&wt, &["show", &format!("{sha}:src/lib.rs")]),
        lib.replace("fn line 30\n", "fn thirty()\n")
    );
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    let u = host.ok("POST", &format!("/sessions/{s}/undo"), None).await;
    assert_eq!(u["commit"], git(&wt, &["rev-parse", "HEAD"]).trim());
    let d = host.ok("GET", &format!("/sessions/{s}/diff"), None).await;
    assert_eq!(d["files"][0]["hunks"][0]["state"], "approved");
    let d = host
        .ok("POST", &format!("/sessions/{s}/reject"), None)
        .await;
    assert_eq!(d["files"], json!([]));
    assert_eq!(std::fs::read_to_string(wt.join("src/lib.rs")).unwrap(), lib);
    let usage = host.ok("GET", "/usage", None).await;
    assert!(usage["total"]["input_tokens"].as_u64().unwrap() >= 1500);
    assert!(usage["sessions"][0]["cost_usd"].as_f64().unwrap() > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reconnecting_mid_turn_sees_every_event_once() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host(&repo.path, data.path(), &claude, &[]);
    let s = host.session().await;
    claude.push(
        TextReply::new("chunk ".repeat(60))
            .chunk_chars(6)
            .chunk_delay(Duration::from_millis(15)),
    );
    let mut first = ws(&host, 0).await;
    host.prompt(&s, "talk", "rc-1").await;
    let part = read_until(&mut first, |e| e["type"] == "agent.text").await;
    let mut seen = part.clone();
    for _ in 0..3 {
        seen.push(next_event(&mut first).await.unwrap());
    }
    drop(first);
    let last = seen.last().unwrap()["seq"].as_u64().unwrap();
    let mut second = ws(&host, last).await;
    seen.extend(read_until(&mut second, |e| e["type"] == "prompt.finished").await);
    assert_gapless(&seen, 1);
    let text: String = seen
        .iter()
        .filter(|e| e["type"] == "agent.text")
        .map(|e| e["chunk"].as_str().unwrap())
        .collect();
    assert_eq!(text.trim(), "chunk ".repeat(60).trim());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_turn_loses_nothing_and_the_queue_resumes() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let mut host = start_host(&repo.path, data.path(), &claude, &[]);
    let s = host.session().await;
    claude.push(Reply::hang());
    let p1 = host.prompt(&s, "first", "k-1").await;
    let p2 = host.prompt(&s, "second", "k-2").await;
    assert!(claude
        .wait_for_requests(1, Duration::from_secs(60))
        .await
        .is_some());
    let before = host.events(0).await;
    host.kill9();
    // Aider was in the host's process tree; a stale bridge must not keep the API busy.
    claude.push(TextReply::new("second done"));
    let host = start_host(&repo.path, data.path(), &claude, &[]);
    let first = host.wait_prompt(&s, &p1).await;
    assert_eq!(first["state"], "interrupted");
    assert_eq!(host.wait_prompt(&s, &p2).await["state"], "done");
    let after = host.events(0).await;
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "nothing recorded before the kill was lost"
    );
    assert_gapless(&after, 1);
    // The same client_id after the restart is still the same prompt.
    let (code, again) = host
        .call(
            "POST",
            &format!("/sessions/{s}/prompts"),
            Some(json!({"text": "first", "client_id": "k-1"})),
        )
        .await;
    assert_eq!((code, again["id"].as_str()), (200, Some(p1.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_survives_a_kill_9_of_the_host() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let mut host = start_host(&repo.path, data.path(), &claude, &[]);
    let s = host.session().await;
    claude.push(TextReply::new("Understood: tabs, never spaces."));
    let p1 = host
        .prompt(&s, "from now on we indent with tabs", "c-1")
        .await;
    assert_eq!(host.wait_prompt(&s, &p1).await["state"], "done");
    host.kill9();
    let host = start_host(&repo.path, data.path(), &claude, &[]);
    claude.push(TextReply::new("Tabs, as agreed."));
    let p2 = host.prompt(&s, "how do we indent?", "c-2").await;
    assert_eq!(host.wait_prompt(&s, &p2).await["state"], "done");
    // A fresh Aider in a fresh host sent the first exchange with the second prompt.
    let last = claude.requests().into_iter().rfind(|r| r.stream).unwrap();
    assert!(
        last.contains_text("from now on we indent with tabs")
            && last.contains_text("Understood: tabs, never spaces."),
        "{}",
        last.all_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_records_the_running_prompt_as_interrupted() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let mut host = start_host(&repo.path, data.path(), &claude, &[]);
    let s = host.session().await;
    claude.push(Reply::hang());
    let p = host.prompt(&s, "long", "t-1").await;
    assert!(claude
        .wait_for_requests(1, Duration::from_secs(60))
        .await
        .is_some());
    let status = host.sigterm();
    assert!(status.success(), "clean exit: {status:?}");
    let host = start_host(&repo.path, data.path(), &claude, &[]);
    let events = host.events(0).await;
    let fin = events
        .iter()
        .find(|e| e["type"] == "prompt.finished" && e["prompt_id"] == p.as_str())
        .unwrap();
    assert_eq!(fin["state"], "interrupted");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "prompt.finished")
            .count(),
        1,
        "recorded once, at shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_clients_and_one_client_id_from_two_clients() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let host = std::sync::Arc::new(start_host(&repo.path, data.path(), &claude, &[]));
    let s = host.session().await;
    claude.push(TextReply::new("only once"));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let h = host.clone();
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut socket = ws(&h, 0).await;
            let first = next_event(&mut socket).await.unwrap();
            assert_eq!(first["seq"], 1);
            let (code, p) = h
                .call(
                    "POST",
                    &format!("/sessions/{s}/prompts"),
                    Some(json!({"text": "hello", "client_id": "shared"})),
                )
                .await;
            assert!(code == 202 || code == 200, "{code} {p}");
            let _ = h.call("GET", &format!("/sessions/{s}/diff"), None).await;
            (i, code, p["id"].as_str().unwrap().to_owned())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(
        results.iter().filter(|(_, code, _)| *code == 202).count(),
        1,
        "{results:?}"
    );
    assert!(results.windows(2).all(|w| w[0].2 == w[1].2));
    host.wait_prompt(&s, &results[0].2).await;
    assert_eq!(claude.requests().len(), 1, "ran once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_warning_then_refusal_with_402() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host(
        &repo.path,
        data.path(),
        &claude,
        &["--daily-budget", "0.01"],
    );
    let s = host.session().await;
    // sonnet: 3000 input tokens = $0.009 (90 % of $0.01), then 1000 more crosses it.
    claude.push(TextReply::new("a").usage(Usage::exact(3000, 0, 0, 0)));
    let p = host.prompt(&s, "one", "b-1").await;
    host.wait_prompt(&s, &p).await;
    assert!(host
        .events(0)
        .await
        .iter()
        .any(|e| e["type"] == "budget.warning" && e["scope"] == "daily"));
    claude.push(TextReply::new("b").usage(Usage::exact(1000, 0, 0, 0)));
    let p = host.prompt(&s, "two", "b-2").await;
    host.wait_prompt(&s, &p).await;
    assert!(host
        .events(0)
        .await
        .iter()
        .any(|e| e["type"] == "budget.exceeded"));
    let (code, body) = host
        .call(
            "POST",
            &format!("/sessions/{s}/prompts"),
            Some(json!({"text": "three", "client_id": "b-3"})),
        )
        .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (402, Some("budget_exceeded"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("daily budget"),
        "{body}"
    );
    let b = host.ok("GET", "/budget", None).await;
    assert_eq!(b["daily_limit_usd"], 0.01);
    let (code, body) = host
        .call("PUT", "/budget", Some(json!({"daily_limit_usd": -3})))
        .await;
    assert_eq!((code, body["code"].as_str()), (400, Some("bad_request")));
    host.ok("PUT", "/budget", Some(json!({"daily_limit_usd": 5.0})))
        .await;
    claude.push(TextReply::new("c"));
    let p = host.prompt(&s, "three", "b-3").await;
    assert_eq!(host.wait_prompt(&s, &p).await["state"], "done");
}

/// `serve` with no ARCBENCH_PYTHON and a HOME without any venv, so only `data`'s managed venv
/// can serve (pip's download cache is shared, so CI does not fetch Aider twice).
fn start_unprovisioned(repo: &TestRepo, home: &std::path::Path, claude: &FakeClaude) -> Host {
    let pip_cache = std::env::var_os("HOME")
        .map(|h| std::path::PathBuf::from(h).join(".cache/pip"))
        .unwrap();
    start_host_with(&repo.path, &home.join("data"), claude, &[], |cmd| {
        cmd.env_remove("ARCBENCH_PYTHON")
            .env_remove("ARCBENCH_DATA_DIR")
            .env("HOME", home)
            .env("PIP_CACHE_DIR", pip_cache);
    })
}

/// Posts a prompt right away and waits (the install takes a while) until it ends; asserts it
/// said it waits for the agent meanwhile and ended `done`.
async fn prompt_while_installing(host: &Host, claude: &FakeClaude, s: &str, client_id: &str) {
    let status = host.ok("GET", "/status", None).await;
    assert_eq!(status["agent"]["state"], "installing", "{status}");
    assert_eq!(status["agent"]["available"], false);
    claude.push(TextReply::new("Hello from a freshly installed Aider."));
    let p = host.prompt(s, "hello", client_id).await;
    let mut waited = false;
    let mut done = None;
    for _ in 0..1200 {
        let ps = host
            .ok("GET", &format!("/sessions/{s}/prompts"), None)
            .await;
        let now = ps["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == p.as_str())
            .cloned()
            .unwrap();
        let reason = now["reason"].as_str().unwrap_or_default();
        waited |= now["state"] == "queued" && reason.contains("waiting for the agent");
        if now["state"] != "queued" && now["state"] != "running" {
            done = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let done = done.expect("the prompt finished within 10 minutes");
    assert_eq!(done["state"], "done", "{done}");
    assert!(waited, "the queued prompt said it waits for the agent");
    let status = host.ok("GET", "/status", None).await;
    assert_eq!(status["agent"]["state"], "ready", "{status}");
    assert_eq!(status["agent"]["version"], "0.86.2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_host_installs_its_agent_and_repairs_a_broken_one() {
    let repo = TestRepo::new();
    let home = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let mut host = start_unprovisioned(&repo, home.path(), &claude);
    let s = host.session().await;
    prompt_while_installing(&host, &claude, &s, "fresh-1").await;
    let states: Vec<String> = host
        .events(0)
        .await
        .iter()
        .filter(|e| e["type"] == "agent.state")
        .map(|e| e["agent"]["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states.first().map(String::as_str), Some("installing"));
    assert_eq!(states.last().map(String::as_str), Some("ready"));
    let venv = host.data.join("aider-venv");
    assert!(venv.join("bin/python").exists());

    // Broken half-way (Aider's package gone from the venv): the next start repairs it.
    host.kill9();
    let site = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages/aider");
    std::fs::remove_dir_all(&site).unwrap();
    let host = start_unprovisioned(&repo, home.path(), &claude);
    prompt_while_installing(&host, &claude, &s, "fresh-2").await;
    assert!(site.join("__init__.py").exists(), "aider reinstalled");
}
