mod support;

use arcbench_engine::{CreateSessionRequest, Engine, EngineConfig};
use shared_protocol::{ErrorCode, SessionState};
use support::*;

#[test]
fn create_makes_branch_and_worktree_outside_the_repo() {
    let repo = TestRepo::new();
    let before = snapshot(&repo.path);
    let h = host(&repo);
    let s = h.session();
    assert_eq!(s.branch, format!("session/{}", s.id));
    assert_eq!(s.id.len(), 8);
    assert_eq!(s.base_commit, repo.head());
    assert_eq!(s.base_branch.as_deref(), Some("main"));
    assert_eq!(s.state, SessionState::Idle);
    assert_eq!(s.repo, "repo");
    let wt = wt(&s, &h);
    assert!(!wt.starts_with(&repo.path));
    assert_eq!(
        git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        s.branch
    );
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    assert!(repo
        .git(&["worktree", "list"])
        .contains(&*wt.display().to_string()));
    // The user's checkout: same branch, same files, byte for byte.
    assert_eq!(
        repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    assert_eq!(snapshot(&repo.path), before);
    let exclude = std::fs::read_to_string(repo.path.join(".git/info/exclude")).unwrap();
    assert!(exclude.lines().any(|l| l == ".aider*"));
}

#[test]
fn create_from_tag_or_commit_has_no_base_branch() {
    let repo = TestRepo::new();
    let first = repo.head();
    repo.git(&["tag", "v1"]);
    repo.write("README.md", "changed\n");
    repo.commit_all("second");
    let h = host(&repo);
    let s = h
        .engine
        .create_session(CreateSessionRequest {
            base: Some("v1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.base_commit, first);
    assert_eq!(s.base_branch, None);
    let s2 = h
        .engine
        .create_session(CreateSessionRequest {
            base: Some(first[..10].into()),
            title: Some(" Fix ".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s2.base_commit, first);
    assert_eq!(s2.title, "Fix");
    let err = h.engine.merge(&s.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("not a branch"), "{err}");
}

fn session_branches(repo: &TestRepo) -> String {
    repo.git(&["branch", "--list", "session/*"])
}

#[test]
fn bad_base_refs_are_typed_errors_and_leave_nothing() {
    let repo = TestRepo::new();
    let h = host(&repo);
    for base in ["nope", "", "--all", "HEAD~99"] {
        let err = h
            .engine
            .create_session(CreateSessionRequest {
                base: Some(base.into()),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadRequest, "{base}: {err}");
    }
    let err = h
        .engine
        .create_session(CreateSessionRequest {
            repo: Some("other".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadRequest);
    assert!(err.to_string().contains("unknown repo `other`"), "{err}");
    assert_eq!(session_branches(&repo), "");
    assert_eq!(
        std::fs::read_dir(h.data.path().join("worktrees"))
            .unwrap()
            .count(),
        0
    );
    assert!(h.engine.sessions().unwrap().is_empty());
}

#[test]
fn detached_head_needs_an_explicit_base() {
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "--detach"]);
    let h = host(&repo);
    let err = h
        .engine
        .create_session(CreateSessionRequest::default())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadRequest);
    assert!(err.to_string().contains("detached"), "{err}");
    assert_eq!(session_branches(&repo), "");
    let s = h
        .engine
        .create_session(CreateSessionRequest {
            base: Some("main".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.base_branch.as_deref(), Some("main"));
}

#[test]
fn unusable_repositories_are_refused_clearly() {
    let data = tempfile::tempdir().unwrap();
    let open = |p: &std::path::Path| {
        Engine::open(EngineConfig {
            data_dir: data.path().into(),
            repos: vec![p.into()],
            ..Default::default()
        })
        .err()
        .expect("refused")
    };
    let plain = tempfile::tempdir().unwrap();
    let e = open(plain.path());
    assert_eq!(e.code(), ErrorCode::BadRequest);
    assert!(e.to_string().contains("not a git repository"), "{e}");

    let empty = TestRepo::empty();
    let e = open(&empty.path);
    assert!(e.to_string().contains("no commits"), "{e}");

    let repo = TestRepo::new();
    let bare = repo.sibling("bare.git");
    git(
        &repo.path,
        &["clone", "-q", "--bare", ".", bare.to_str().unwrap()],
    );
    let e = open(&bare);
    assert_eq!(e.code(), ErrorCode::BadRequest);
    assert!(e.to_string().contains("bare"), "{e}");

    let e = open(&plain.path().join("missing"));
    assert_eq!(e.code(), ErrorCode::BadRequest);
}

#[test]
fn a_folder_inside_a_repo_is_not_that_repo() {
    let repo = TestRepo::new();
    let data = tempfile::tempdir().unwrap();
    let err = Engine::open(EngineConfig {
        data_dir: data.path().into(),
        repos: vec![repo.path.join("src")],
        ..Default::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("not a git repository"), "{err}");
}

#[test]
fn delete_keeps_branch_unless_asked() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let a = h.session();
    let b = h.session();
    h.engine.delete_session(&a.id, false, false).unwrap();
    assert!(!wt(&a, &h).exists());
    assert!(session_branches(&repo).contains(&a.branch));
    h.engine.delete_session(&b.id, true, false).unwrap();
    assert!(!session_branches(&repo).contains(&b.branch));
    assert_eq!(
        repo.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert!(h.engine.sessions().unwrap().is_empty());
    assert_eq!(
        h.engine.session(&a.id).unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.engine
            .delete_session(&a.id, false, false)
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.engine.diff("zzzzzzzz").unwrap_err().code(),
        ErrorCode::NotFound
    );
}

#[test]
fn worktree_deleted_by_hand_is_reported_and_deletable() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    std::fs::remove_dir_all(wt(&s, &h)).unwrap();
    assert_eq!(
        h.engine.session(&s.id).unwrap().state,
        SessionState::WorktreeMissing
    );
    let err = h.engine.diff(&s.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("missing"), "{err}");
    h.engine.delete_session(&s.id, false, false).unwrap();
    assert_eq!(
        repo.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
}

#[test]
fn restart_keeps_sessions_and_sweeps_orphans() {
    let repo = TestRepo::new();
    let mut h = host(&repo);
    let s = h.session();
    let gone = h.session();
    // An orphan: a registered ArcBench worktree no session knows (a crash mid-create), and a stray folder.
    let orphan = h.data.path().join("worktrees").join("orphan01");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "session/orphan01",
        orphan.to_str().unwrap(),
    ]);
    std::fs::rename(
        repo.path.join(".git/worktrees/orphan01"),
        repo.path.join(".git/worktrees/arcbench-orphan01"),
    )
    .unwrap();
    std::fs::write(
        orphan.join(".git"),
        format!(
            "gitdir: {}\n",
            repo.path.join(".git/worktrees/arcbench-orphan01").display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(h.data.path().join("worktrees/stray")).unwrap();
    h.engine.delete_session(&gone.id, false, false).unwrap();
    h.restart(&repo);
    let sessions = h.engine.sessions().unwrap();
    assert_eq!(sessions, vec![s.clone()]);
    assert!(wt(&s, &h).exists());
    assert!(!orphan.exists());
    assert!(!h.data.path().join("worktrees/stray").exists());
    let list = repo.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("worktree ").count(), 2, "{list}");
}

#[test]
fn a_create_that_fails_after_making_the_branch_leaves_nothing() {
    let repo = TestRepo::new();
    let h = host(&repo);
    // git keeps worktree records under .git/worktrees; a file there makes libgit2's add fail
    // after the branch was created.
    std::fs::write(repo.path.join(".git/worktrees"), "in the way").unwrap();
    let err = h
        .engine
        .create_session(CreateSessionRequest::default())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Internal, "{err}");
    std::fs::remove_file(repo.path.join(".git/worktrees")).unwrap();
    assert_eq!(session_branches(&repo), "");
    assert_eq!(
        std::fs::read_dir(h.data.path().join("worktrees"))
            .unwrap()
            .count(),
        0
    );
    assert!(h.engine.sessions().unwrap().is_empty());
    h.session();
}

#[test]
fn deleting_a_session_cancels_its_queued_prompts() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    let (p, _) = h.engine.submit_prompt(&s.id, "never runs", "d-1").unwrap();
    h.engine.delete_session(&s.id, false, false).unwrap();
    let row = h.engine.store().tx(|tx| tx.prompt(&p.id)).unwrap().unwrap();
    assert_eq!(row.prompt.state, shared_protocol::PromptState::Cancelled);
    assert!(row.prompt.reason.unwrap().contains("deleted"));
    assert_eq!(
        h.engine.store().tx(|tx| tx.sessions_with_queued()).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn two_hosts_on_one_repo_never_sweep_each_others_worktrees() {
    // The desktop app beside a headless `serve` (or a demo, or a test): two data dirs, one repo.
    let repo = TestRepo::new();
    let mut a = host(&repo);
    let mut b = host(&repo);
    let sa = a.session();
    let sb = b.session();
    write(
        &wt(&sa, &a),
        "src/lib.rs",
        "// host A's uncommitted agent work\n",
    );
    write(&wt(&sb, &b), "new-in-b.txt", "host B's new file\n");
    let diff_a = a.engine.diff(&sa.id).unwrap();
    let diff_b = b.engine.diff(&sb.id).unwrap();
    let (files_a, files_b) = (snapshot(&wt(&sa, &a)), snapshot(&wt(&sb, &b)));

    // Restart either, then the other: each sweep keeps the other host's session whole.
    a.restart(&repo);
    b.restart(&repo);
    a.restart(&repo);
    assert_eq!(a.engine.diff(&sa.id).unwrap(), diff_a);
    assert_eq!(b.engine.diff(&sb.id).unwrap(), diff_b);
    assert_eq!(snapshot(&wt(&sa, &a)), files_a);
    assert_eq!(snapshot(&wt(&sb, &b)), files_b);
    let list = repo.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("worktree ").count(), 3, "{list}");
    assert_eq!(b.engine.sessions().unwrap(), vec![sb]);
}

#[test]
fn deleting_a_branch_with_unmerged_commits_needs_force() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    write(&wt(&s, &h), "README.md", "agent work worth keeping\n");
    let all = ids(&h.engine.diff(&s.id).unwrap());
    h.engine.approve(&s.id, &all).unwrap();
    let commit = h.engine.apply(&s.id, None).unwrap().sha;
    let err = h.engine.delete_session(&s.id, true, false).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(
        err.to_string().contains("1 commit(s) not merged into main")
            && err.to_string().contains("force=true"),
        "{err}"
    );
    // Nothing happened: the session, its worktree and its branch are all still there.
    assert_eq!(h.engine.session(&s.id).unwrap().state, SessionState::Idle);
    assert!(wt(&s, &h).exists());
    assert!(session_branches(&repo).contains(&s.branch));
    // Merged, the branch goes without force; a fresh unmerged one goes with it.
    h.engine.merge(&s.id).unwrap();
    h.engine.delete_session(&s.id, true, false).unwrap();
    assert!(!session_branches(&repo).contains(&s.branch));
    assert_eq!(repo.head(), commit);

    let t = h.session();
    write(&wt(&t, &h), "README.md", "thrown away\n");
    let all = ids(&h.engine.diff(&t.id).unwrap());
    h.engine.approve(&t.id, &all).unwrap();
    h.engine.apply(&t.id, None).unwrap();
    h.engine.delete_session(&t.id, true, true).unwrap();
    assert!(!session_branches(&repo).contains(&t.branch));
}
