//! The worktree is a boundary, end to end: the real `arcbench serve`, real git, real Aider and
//! the local Messages API. Replies try to write through committed symlinks, to `../` and
//! absolute paths, and to pull a symlinked secret into the chat (by a mention, and through a
//! revision's files). Nothing outside the session worktree may change or appear, the secret may
//! never reach the API, and every refusal must show on the prompt (`reason`) and in `/events`.
//!
//! Each test would fail without the bridge's guard: Aider follows symlinks and `..` on its own,
//! so it would write `outside/target.txt`, create `outside/new.txt`, `escape-*.txt` next to the
//! worktree and `outside/abs-escape.txt`, and send the secret (as a chat file, after adding the
//! mentioned `notes.md` or the revision's `leak.md`); and no `refused` event would exist.

mod support;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

use fake_claude::{FakeClaude, Reply, TextReply};
use serde_json::{json, Value};
use support::*;

/// A repository whose committed symlinks lead to `outside/` (a folder next to the repository,
/// never part of any worktree), a host with a session on it, and snapshots of everything the
/// agent must not touch. Fields drop in order: the host stops before its data dir goes.
struct Fixture {
    host: Host,
    claude: FakeClaude,
    _data: tempfile::TempDir,
    repo: TestRepo,
    outside: PathBuf,
    secret: String,
    session: String,
    worktree: PathBuf,
    outside_before: BTreeMap<PathBuf, (u32, Vec<u8>)>,
    listings_before: Vec<(PathBuf, Vec<String>)>,
}

const TARGET: &str = "target line one\ntarget line two\n";

impl Fixture {
    async fn new() -> Self {
        let repo = TestRepo::new();
        let outside = repo.sibling("outside");
        std::fs::create_dir(&outside).unwrap();
        // Canonical, so the paths below are exactly what the bridge resolves and reports.
        let outside = outside.canonicalize().unwrap();
        let secret = format!("TOP-SECRET-{}", random_hex());
        std::fs::write(outside.join("secret.txt"), format!("{secret}\n")).unwrap();
        std::fs::write(outside.join("target.txt"), TARGET).unwrap();
        let link = |target: PathBuf, name: &str| {
            std::os::unix::fs::symlink(target, repo.path.join(name)).unwrap()
        };
        link(outside.join("target.txt"), "link.txt");
        link(outside.clone(), "sub");
        link(outside.join("secret.txt"), "notes.md");
        repo.commit_all("symlinks that lead out of the repository");
        let outside_before = arcbench_fixtures::snapshot(&outside);

        let data = tempfile::tempdir().unwrap();
        let claude = FakeClaude::start().await;
        // Any request beyond the scripted replies (a follow-up the boundary should have
        // prevented) gets a harmless answer instead of a 500 and Aider's minute of retries, so
        // a broken boundary fails fast on the checks below; each test counts the requests.
        claude.set_responder(|_| Reply::text("(no scripted reply for this request)"));
        let host = start_host(&repo.path, data.path(), &claude, &[]);
        let session = host.session().await;
        let worktree = host.data.join("worktrees").join(&session);
        assert_eq!(
            std::fs::read_link(worktree.join("link.txt")).unwrap(),
            outside.join("target.txt"),
            "the worktree holds the committed symlinks"
        );

        // A harmless first prompt starts Aider, so whatever the host and Aider keep in the data
        // dir exists before the listings are taken: any entry that appears later is an escape.
        claude.push(TextReply::new("Hello."));
        let p = host.prompt(&session, "hello", "warm-up").await;
        assert_eq!(host.wait_prompt(&session, &p).await["state"], "done");

        let mut fixture = Fixture {
            host,
            claude,
            _data: data,
            repo,
            outside,
            secret,
            session,
            worktree,
            outside_before,
            listings_before: Vec::new(),
        };
        fixture.listings_before = fixture.listings();
        fixture
    }

    /// The folders a `../` or absolute path could land in: the worktree's parent (the
    /// worktrees dir, holding only this session's worktree), the data dir above it, and the
    /// folder holding the repository and `outside/`.
    fn listings(&self) -> Vec<(PathBuf, Vec<String>)> {
        let worktrees = self.host.data.join("worktrees");
        [
            worktrees.clone(),
            self.host.data.clone(),
            self.repo.path.parent().unwrap().to_path_buf(),
        ]
        .into_iter()
        .map(|dir| {
            let names = listing(&dir);
            (dir, names)
        })
        .collect()
    }

    async fn prompt(&self, text: &str, client_id: &str) -> Value {
        let p = self.host.prompt(&self.session, text, client_id).await;
        self.host.wait_prompt(&self.session, &p).await
    }

    /// Nothing outside the worktree changed or appeared, and the secret reached no request.
    fn assert_nothing_escaped(&self) {
        assert_eq!(
            arcbench_fixtures::snapshot(&self.outside),
            self.outside_before,
            "every file in outside/ is byte-identical and none is new"
        );
        assert_eq!(
            self.listings(),
            self.listings_before,
            "no file appeared next to the worktree"
        );
        assert_eq!(
            listing(&self.host.data.join("worktrees")),
            vec![self.session.clone()]
        );
        self.assert_secret_never_sent();
    }

    /// Checks every request the stand-in API received (the warm-up, follow-ups, the weak
    /// model's), by its text and by its whole JSON body.
    fn assert_secret_never_sent(&self) {
        let requests = self.claude.requests();
        assert!(!requests.is_empty());
        for r in &requests {
            assert!(
                !r.contains_text(&self.secret) && !r.body.to_string().contains(&self.secret),
                "request {} carried the secret",
                r.seq
            );
        }
    }

    /// The session's uncommitted work: nothing may show through the links.
    async fn assert_no_change(&self) {
        let d = self
            .host
            .ok("GET", &format!("/sessions/{}/diff", self.session), None)
            .await;
        assert_eq!(d["files"], json!([]), "{d}");
        assert_eq!(git(&self.worktree, &["status", "--porcelain"]), "");
    }

    /// The `agent.log` warnings the host made of the bridge's `refused` events for `prompt`.
    async fn refusal_logs(&self, prompt: &Value) -> Vec<String> {
        self.host
            .events(0)
            .await
            .into_iter()
            .filter(|e| {
                e["type"] == "agent.log"
                    && e["prompt_id"] == prompt["id"]
                    && e["session_id"] == self.session.as_str()
            })
            .filter(|e| e["line"].as_str().unwrap().starts_with("refused to "))
            .map(|e| {
                assert_eq!(e["level"], "warning", "{e}");
                e["line"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// Asserts the prompt ended `done`, its reason names each `(action, path)` as refused, and
    /// `/events` has the matching warning; returns each warning's line.
    async fn assert_refused(&self, prompt: &Value, expected: &[(&str, &str)]) -> Vec<String> {
        assert_eq!(prompt["state"], "done", "the model answered: {prompt}");
        let reason = prompt["reason"].as_str().expect("the prompt has a reason");
        let (_, list) = reason
            .split_once("refused outside the worktree: ")
            .unwrap_or_else(|| panic!("no refusals named in {reason:?}"));
        let named: Vec<&str> = list.split("; ").collect();
        let logs = self.refusal_logs(prompt).await;
        expected
            .iter()
            .map(|(action, path)| {
                let what = format!("{action} `{path}`");
                assert!(named.contains(&what.as_str()), "{what} in {reason:?}");
                let prefix = format!("refused to {what}: ");
                let line = logs
                    .iter()
                    .find(|l| l.starts_with(&prefix))
                    .unwrap_or_else(|| panic!("`{prefix}` among the warnings {logs:#?}"));
                assert!(line.contains("outside the worktree"), "{line}");
                line.clone()
            })
            .collect()
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// 64 random bits as hex (std's hasher keys are seeded from the OS), so the secret cannot be
/// in any request by accident, e.g. in a prompt or a fixture file.
fn random_hex() -> String {
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{bits:016x}")
}

// Each test checks what happened first (files outside, the secret in requests), then how it was
// reported (the prompt's reason, the `agent.log` warnings).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_through_a_symlinked_file_or_folder_are_refused() {
    let f = Fixture::new().await;
    let target = f.outside.join("target.txt");
    let sent = f.claude.request_count();
    // What unguarded Aider 0.86.2 does (checked with the bridge's check switched off):
    // * `sub/new.txt`: creates outside/new.txt through the folder link, then fails to
    //   `git add` it and applies none of the reply's edits;
    // * `./link.txt` (no mention of the tracked `link.txt`, so Aider goes straight to the
    //   edit), alone in a reply: writes through the link into outside/target.txt;
    // * `sub/target.txt` alone: stops at `git add` of the outside path before writing, so
    //   without the guard that prompt fails only on the missing refusal; the content check
    //   stays for an Aider that would not `git add` first.
    // No reply text may name a tracked path (`link.txt`, `sub`) as a word of its own: Aider
    // would take it as a mention and ask to add it (the notes.md test's case) instead of
    // editing, so without the guard the writes would not even be tried.
    f.claude.push(TextReply::new(
        edit(
            "./link.txt",
            "target line one\n",
            "PWNED through the file link\n",
        ) + &edit("sub/new.txt", "", "created through the folder link\n")
            + &edit(
                "sub/target.txt",
                "target line two\n",
                "PWNED through the folder link\n",
            ),
    ));
    let p = f
        .prompt("change both target files and add a new one", "links-1")
        .await;
    assert!(!f.outside.join("new.txt").exists());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), TARGET);
    f.assert_nothing_escaped();
    assert_eq!(
        f.claude.request_count(),
        sent + 1,
        "one request, no follow-up"
    );
    // `sub/target.txt` is the same file as `./link.txt`, and the bridge reports a refusal once
    // per resolved path and prompt: that write is named in a prompt of its own below.
    let lines = f
        .assert_refused(&p, &[("write", "./link.txt"), ("create", "sub/new.txt")])
        .await;
    assert!(
        lines[0].contains(&format!("resolves to {} ", target.display()))
            && lines[0].contains("via a symlink"),
        "the warning says where the link leads: {}",
        lines[0]
    );

    for (n, path, line) in [
        (2, "./link.txt", "target line one\n"),
        (3, "sub/target.txt", "target line two\n"),
    ] {
        f.claude
            .push(TextReply::new(edit(path, line, "PWNED through a link\n")));
        let p = f
            .prompt("change the target file", &format!("links-{n}"))
            .await;
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            TARGET,
            "written through {path}"
        );
        f.assert_nothing_escaped();
        assert_eq!(f.claude.request_count(), sent + n);
        let lines = f.assert_refused(&p, &[("write", path)]).await;
        assert!(lines[0].contains("via a symlink"), "{}", lines[0]);
    }

    // The links themselves are untouched, and the session shows no change through them.
    assert_eq!(
        std::fs::read_link(f.worktree.join("link.txt")).unwrap(),
        target
    );
    assert_eq!(
        std::fs::read_link(f.worktree.join("sub")).unwrap(),
        f.outside
    );
    f.assert_no_change().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotdot_and_absolute_paths_outside_are_not_created() {
    let f = Fixture::new().await;
    let sent = f.claude.request_count();
    // `../escape-file.txt` lands in the data dir's worktrees folder, next to the session's
    // worktree; the absolute path is in outside/. Unguarded, Aider creates both.
    let next_to_worktree = f.host.data.join("worktrees").join("escape-file.txt");
    let absolute = f.outside.join("abs-escape.txt");
    let absolute_name = absolute.to_str().unwrap();
    f.claude.push(TextReply::new(
        edit("../escape-file.txt", "", "escaped\n") + &edit(absolute_name, "", "escaped\n"),
    ));
    let p = f.prompt("create the two files", "escape-1").await;
    assert_eq!(
        f.claude.request_count(),
        sent + 1,
        "one request, no follow-up"
    );
    assert!(!next_to_worktree.exists());
    assert!(!absolute.exists());
    f.assert_nothing_escaped();

    let lines = f
        .assert_refused(
            &p,
            &[("create", "../escape-file.txt"), ("create", absolute_name)],
        )
        .await;
    assert_eq!(
        lines[1],
        format!("refused to create `{absolute_name}`: outside the worktree"),
        "no symlink is involved"
    );
    f.assert_no_change().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mentioned_symlinked_secret_never_reaches_the_model() {
    let f = Fixture::new().await;
    let sent = f.claude.request_count();
    // A reply that mentions the tracked `notes.md` makes Aider ask to add it to the chat and
    // send a follow-up with its content: the secret, read through the link. The bridge says
    // no, so there is no follow-up.
    f.claude
        .push(TextReply::new("I need to read notes.md first."));
    let p = f.prompt("what do the notes say?", "notes-1").await;
    f.assert_nothing_escaped();
    assert_eq!(f.claude.request_count(), sent + 1, "no follow-up request");

    let lines = f.assert_refused(&p, &[("add", "notes.md")]).await;
    assert!(lines[0].contains("via a symlink"), "{}", lines[0]);
    // Aider's question was answered no, and no streamed text was discarded for a follow-up.
    let events = f.host.events(0).await;
    let of_prompt = |kind: &str| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["type"] == kind && e["prompt_id"] == p["id"])
            .cloned()
            .collect()
    };
    let confirms = of_prompt("agent.confirm");
    assert_eq!(confirms.len(), 1, "{confirms:?}");
    assert_eq!(
        (
            &confirms[0]["question"],
            &confirms[0]["subject"],
            &confirms[0]["answer"]
        ),
        (
            &json!("Add file to the chat?"),
            &json!("notes.md"),
            &json!(false)
        )
    );
    assert_eq!(of_prompt("agent.text_discarded"), Vec::<Value>::new());
    f.assert_no_change().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_does_not_put_an_outside_file_in_the_chat() {
    let f = Fixture::new().await;
    let s = &f.session;
    // An untracked symlink to the secret, made by hand in the worktree, is work to review like
    // any other file; commenting on it makes the revision put `leak.md` into Aider's chat,
    // which (unguarded) sends the secret as the file's content.
    let secret_file = f.outside.join("secret.txt");
    std::os::unix::fs::symlink(&secret_file, f.worktree.join("leak.md")).unwrap();
    let d = f.host.ok("GET", &format!("/sessions/{s}/diff"), None).await;
    let files = d["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{d}");
    assert_eq!(files[0]["path"], "leak.md");
    let hunk = files[0]["hunks"][0]["id"].clone();
    let comment = "Summarize what leak.md says in the README.";
    let (code, note) = f
        .host
        .call(
            "POST",
            &format!("/sessions/{s}/comments"),
            Some(json!({"hunk_id": hunk, "comment": comment})),
        )
        .await;
    assert_eq!(code, 201, "{note}");

    let sent = f.claude.request_count();
    f.claude
        .push(TextReply::new(edit("../escape-rev.txt", "", "escaped\n")));
    let (code, p) = f
        .host
        .call(
            "POST",
            &format!("/sessions/{s}/revise"),
            Some(json!({"client_id": "rev-1"})),
        )
        .await;
    assert_eq!(code, 202, "{p}");
    assert_eq!(p["kind"], "revision");
    assert_eq!(
        p["files"],
        json!(["leak.md"]),
        "the reviewed file is for the chat"
    );
    let p = f.host.wait_prompt(s, p["id"].as_str().unwrap()).await;

    // The revision reached the model (one request, carrying the comment), without the secret.
    f.assert_secret_never_sent();
    assert_eq!(f.claude.request_count(), sent + 1);
    let request = f.claude.requests().last().unwrap().clone();
    assert!(
        request.last_user_text().contains(comment),
        "the revision was sent"
    );
    assert!(!f
        .host
        .data
        .join("worktrees")
        .join("escape-rev.txt")
        .exists());
    f.assert_nothing_escaped();

    let lines = f
        .assert_refused(&p, &[("add", "leak.md"), ("create", "../escape-rev.txt")])
        .await;
    assert!(lines[0].contains("via a symlink"), "{}", lines[0]);
    assert_eq!(
        std::fs::read_link(f.worktree.join("leak.md")).unwrap(),
        secret_file
    );
}
