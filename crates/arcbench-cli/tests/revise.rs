//! Review that talks back, end to end with real Aider: rejected hunks and comments become the
//! agent's next prompt.

mod support;

use fake_claude::{FakeClaude, TextReply};
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_and_comments_become_the_next_prompt() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let claude = FakeClaude::start().await;
    let host = start_host(&repo.path, data.path(), &claude, &[]);
    let s = host.session().await;

    // Nothing reviewed yet: revise is refused and queues nothing.
    let (code, body) = host
        .call("GET", &format!("/sessions/{s}/revise"), None)
        .await;
    assert_eq!((code, body["code"].as_str()), (409, Some("conflict")));
    let (code, _) = host
        .call(
            "POST",
            &format!("/sessions/{s}/revise"),
            Some(json!({"client_id": "r-0"})),
        )
        .await;
    assert_eq!(code, 409);
    assert_eq!(
        host.ok("GET", &format!("/sessions/{s}/prompts"), None)
            .await["prompts"],
        json!([])
    );

    claude.push(TextReply::new("I need src/lib.rs."));
    claude.push(TextReply::new(
        edit("src/lib.rs", "fn line 5\n", "fn five()\n")
            + &edit("src/lib.rs", "fn line 30\n", "fn thirty()\n"),
    ));
    let p1 = host.prompt(&s, "rename two functions", "r-1").await;
    assert_eq!(host.wait_prompt(&s, &p1).await["state"], "done");
    let d = host.ok("GET", &format!("/sessions/{s}/diff"), None).await;
    let hunks = d["files"][0]["hunks"].as_array().unwrap().clone();
    let (five, thirty) = (hunks[0]["id"].clone(), hunks[1]["id"].clone());

    host.ok(
        "POST",
        &format!("/sessions/{s}/hunks/reject"),
        Some(json!({"ids": [five], "comment": "Keep line 5; rename line 6 to six() instead."})),
    )
    .await;
    let (code, note) = host
        .call(
            "POST",
            &format!("/sessions/{s}/comments"),
            Some(json!({"hunk_id": thirty, "comment": "Call it thirty_one()."})),
        )
        .await;
    assert_eq!(code, 201, "{note}");
    assert_eq!(note["note"]["hunk_state"], "pending");
    let (code, stale) = host
        .call(
            "POST",
            &format!("/sessions/{s}/comments"),
            Some(json!({"hunk_id": "0000000000000000", "comment": "x"})),
        )
        .await;
    assert_eq!((code, stale["code"].as_str()), (409, Some("hunk_stale")));

    let preview = host.ok("GET", &format!("/sessions/{s}/revise"), None).await;
    let text = preview["text"].as_str().unwrap();
    for needle in [
        "Keep line 5; rename line 6 to six() instead.",
        "Call it thirty_one().",
        "+fn five()",
        "-fn line 5",
        "+fn thirty()",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    assert_eq!(preview["files"], json!(["src/lib.rs"]));

    claude.push(TextReply::new(
        edit("src/lib.rs", "fn line 6\n", "fn six()\n")
            + &edit("src/lib.rs", "fn thirty()\n", "fn thirty_one()\n"),
    ));
    let (code, p2) = host
        .call(
            "POST",
            &format!("/sessions/{s}/revise"),
            Some(json!({"client_id": "r-2"})),
        )
        .await;
    assert_eq!(code, 202, "{p2}");
    assert_eq!(p2["kind"], "revision");
    let (code, again) = host
        .call(
            "POST",
            &format!("/sessions/{s}/revise"),
            Some(json!({"client_id": "r-2"})),
        )
        .await;
    assert_eq!((code, &again["id"]), (200, &p2["id"]), "exactly once");
    let p2 = p2["id"].as_str().unwrap().to_owned();
    assert_eq!(host.wait_prompt(&s, &p2).await["state"], "done");

    let sent = claude.requests().last().unwrap().clone();
    for needle in [
        "Keep line 5; rename line 6 to six() instead.",
        "Call it thirty_one().",
        "+fn five()",
        "+fn thirty()",
    ] {
        assert!(
            sent.last_user_text().contains(needle),
            "the agent received {needle}"
        );
    }
    let lib =
        std::fs::read_to_string(host.data.join("worktrees").join(&s).join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("fn six()") && lib.contains("fn thirty_one()") && lib.contains("fn line 5\n"),
        "{lib}"
    );
    assert!(!lib.contains("fn five()"));

    // The notes were used once; the history shows the round, its notes and the diff it left.
    let (code, _) = host
        .call("GET", &format!("/sessions/{s}/revise"), None)
        .await;
    assert_eq!(code, 409);
    let h = host
        .ok("GET", &format!("/sessions/{s}/history"), None)
        .await;
    let rounds = h["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    assert_eq!(rounds[1]["prompt"]["kind"], "revision");
    assert_eq!(
        rounds[1]["prompt"]["files"],
        json!(["src/lib.rs"]),
        "the reviewed file goes into the chat"
    );
    assert_eq!(rounds[1]["notes"].as_array().unwrap().len(), 2);
    let left: String = rounds[1]["diff"]["files"][0]["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["lines"].as_array().unwrap().clone())
        .filter(|l| l["kind"] == "add")
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        left.contains("fn six()") && left.contains("fn thirty_one()"),
        "{left}"
    );
}
