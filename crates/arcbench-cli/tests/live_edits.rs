//! Live edits, end to end: the real `arcbench serve`, real Aider and the local Messages API
//! pacing its reply. A WebSocket client sees each edit block as an `edit.proposed` hunk while
//! the model is still writing the later ones; every proposed hunk is the hunk the real diff has
//! after the turn (same id, same lines); a block that does not match is reported as such, with
//! Aider's own reason; the prompt's usage moves as an estimate while the reply streams.

mod support;

use std::time::Duration;

use fake_claude::{FakeClaude, Reply, TextReply, Usage};
use serde_json::Value;
use support::*;

/// Five blocks on lines 8 apart (their hunks never merge), each the `i`-th change.
fn five_blocks() -> String {
    (0..5)
        .map(|i| {
            let line = 3 + 8 * i;
            edit(
                "src/lib.rs",
                &format!("fn line {line}\n"),
                &format!("fn changed_{i}()\n"),
            )
        })
        .collect()
}

/// A host on a fixture repository; requests beyond the scripted replies get a harmless answer.
async fn live_host() -> (TestRepo, tempfile::TempDir, FakeClaude, Host) {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    claude.set_responder(|_| Reply::text("(no scripted reply for this request)"));
    let host = start_host(&repo.path, data.path(), &claude, &[]);
    (repo, data, claude, host)
}

fn of<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposed_hunks_arrive_while_the_reply_streams_and_equal_the_real_diff() {
    let (_repo, _data, claude, host) = live_host().await;
    let s = host.session().await;
    let mut socket = ws(&host, 0).await;

    claude.push(TextReply::new("I need src/lib.rs."));
    // About 80 chunks 40 ms apart: the reply streams for several seconds.
    claude.push(
        TextReply::new(five_blocks() + "All five renamed.")
            .chunk_chars(16)
            .chunk_delay(Duration::from_millis(40))
            .usage(Usage::exact(1500, 400, 0, 0)),
    );
    let p = host.prompt(&s, "rename five functions", "live-1").await;
    let events = read_until(&mut socket, |e| e["type"] == "prompt.finished").await;
    assert_gapless(&events, 1);
    assert_eq!(
        events.last().unwrap()["state"],
        "done",
        "{:?}",
        events.last()
    );

    // The answer that counts starts after the follow-up's discard.
    let discard = events
        .iter()
        .rposition(|e| e["type"] == "agent.text_discarded")
        .expect("Aider asked for src/lib.rs first");
    let answer = &events[discard..];
    let proposed = of(answer, "edit.proposed");
    let indices: Vec<u64> = proposed
        .iter()
        .map(|e| e["proposal"]["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [0, 1, 2, 3, 4], "one proposal per block, in order");

    // The first proposed hunk came while the model had not yet written the fifth block.
    let first = answer
        .iter()
        .position(|e| e["type"] == "edit.proposed")
        .unwrap();
    let streamed_before: String = of(&answer[..first], "agent.text")
        .iter()
        .map(|e| e["chunk"].as_str().unwrap())
        .collect();
    assert!(streamed_before.contains("fn changed_0()"));
    assert!(
        !streamed_before.contains("fn changed_4()"),
        "the first block was proposed only after the fifth was written"
    );

    for e in &proposed {
        let prop = &e["proposal"];
        assert_eq!(prop["prompt_id"], p.as_str());
        assert_eq!(prop["status"], "proposed", "{prop}");
        assert_eq!(prop["path"], "src/lib.rs");
        assert_eq!(prop["edit_format"], "diff");
        assert_eq!(prop["block_hunks"].as_array().unwrap().len(), 1, "{prop}");
    }

    // Each proposed hunk is the real diff's hunk after the turn: same id, same lines.
    let diff = host.ok("GET", &format!("/sessions/{s}/diff"), None).await;
    let real = diff["files"][0]["hunks"].as_array().unwrap();
    assert_eq!(real.len(), 5, "{diff}");
    for (i, e) in proposed.iter().enumerate() {
        let prop = &e["proposal"];
        let id = &prop["block_hunks"][0];
        let shown = prop["file"]["hunks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| &h["id"] == id)
            .unwrap();
        assert_eq!(
            shown, &real[i],
            "block {i}'s proposed hunk differs from the diff's"
        );
    }
    let last_file = &proposed[4]["proposal"]["file"];
    assert_eq!(last_file["hunks"], diff["files"][0]["hunks"]);

    // Usage moved while the reply streamed, marked as an estimate, then the exact figures.
    let estimates = of(answer, "usage.estimated");
    assert!(estimates.len() >= 2, "{} estimates", estimates.len());
    let outputs: Vec<u64> = estimates
        .iter()
        .map(|e| e["usage"]["output_tokens"].as_u64().unwrap())
        .collect();
    assert!(outputs.windows(2).all(|w| w[0] < w[1]), "{outputs:?}");
    assert!(estimates.iter().all(|e| e["estimated"] == true));
    let finished = events.last().unwrap();
    assert!(
        finished["usage"]["output_tokens"].as_u64().unwrap() >= 400,
        "the exact figures replace the estimate: {finished}"
    );

    // A client that starts from the snapshot gets the same proposals.
    let snap = host
        .ok("GET", &format!("/sessions/{s}/snapshot"), None)
        .await;
    let kept: Vec<&Value> = snap["proposals"].as_array().unwrap().iter().collect();
    let sent: Vec<&Value> = proposed.iter().map(|e| &e["proposal"]).collect();
    assert_eq!(kept, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_that_does_not_match_is_reported_with_aiders_reason() {
    let (_repo, _data, claude, host) = live_host().await;
    let s = host.session().await;
    let mut socket = ws(&host, 0).await;

    claude.push(TextReply::new("I need src/lib.rs."));
    let reply = edit("src/lib.rs", "fn line 5\n", "fn five()\n")
        + &edit("src/lib.rs", "fn no such line\n", "fn never()\n");
    claude.push(TextReply::new(reply).chunk_chars(24));
    let p = host.prompt(&s, "two edits, one wrong", "live-2").await;
    let events = read_until(&mut socket, |e| e["type"] == "prompt.finished").await;
    assert_eq!(host.wait_prompt(&s, &p).await["state"], "done");

    let bad: Vec<&Value> = of(&events, "edit.proposed")
        .into_iter()
        .map(|e| &e["proposal"])
        .filter(|p| p["index"] == 1 && p["status"] == "will_not_apply")
        .collect();
    assert_eq!(bad.len(), 2, "dry run, then Aider's word: {bad:?}");
    assert!(bad[0]["file"].is_null());
    assert!(
        bad[0]["reason"]
            .as_str()
            .unwrap()
            .contains("does not match"),
        "{}",
        bad[0]
    );
    assert!(
        bad[1]["reason"]
            .as_str()
            .unwrap()
            .contains("SearchReplaceNoExactMatch"),
        "{}",
        bad[1]
    );
    let good = of(&events, "edit.proposed")
        .into_iter()
        .map(|e| &e["proposal"])
        .find(|p| p["index"] == 0 && p["answer"] == 1)
        .expect("the good block");
    assert_eq!(good["status"], "proposed");
    // The good block was written; the bad one changed nothing.
    let wt = host.data.join("worktrees").join(&s);
    let lib = std::fs::read_to_string(wt.join("src/lib.rs")).unwrap();
    assert!(lib.contains("fn five()") && !lib.contains("fn never()"));
}
