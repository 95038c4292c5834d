mod support;

use shared_protocol::ErrorCode;
use support::*;

/// A session with one applied commit touching src/util.rs.
fn applied(repo: &TestRepo) -> (Host, shared_protocol::Session) {
    let h = host(repo);
    let s = h.session();
    write(
        &wt(&s, &h),
        "src/util.rs",
        "pub fn util() -> u32 {\n    43\n}\n",
    );
    let d = h.engine.diff(&s.id).unwrap();
    h.engine.approve(&s.id, &ids(&d)).unwrap();
    h.engine.apply(&s.id, Some("bump util")).unwrap();
    (h, s)
}

#[test]
fn fast_forward_updates_a_clean_checkout_and_spares_untracked_and_ignored_files() {
    let repo = TestRepo::new();
    repo.write("notes.txt", "untracked notes\n");
    repo.write("debug.log", "ignored log\n");
    let (h, s) = applied(&repo);
    let tip = git(&wt(&s, &h), &["rev-parse", "HEAD"]).trim().to_owned();
    let merged = h.engine.merge(&s.id).unwrap();
    assert_eq!(merged, tip);
    assert_eq!(repo.head(), tip);
    assert_eq!(
        std::fs::read_to_string(repo.path.join("src/util.rs")).unwrap(),
        "pub fn util() -> u32 {\n    43\n}\n"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--ignored"]),
        "?? notes.txt\n!! debug.log\n"
    );
    let err = h.engine.merge(&s.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("nothing to merge"), "{err}");
}

#[test]
fn a_dirty_checkout_refuses_and_nothing_changes() {
    let repo = TestRepo::new();
    let (h, s) = applied(&repo);
    repo.write("README.md", "user's unsaved work\n");
    let before = snapshot(&repo.path);
    let head = repo.head();
    let err = h.engine.merge(&s.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("README.md"), "{err}");
    assert_eq!(repo.head(), head);
    assert_eq!(snapshot(&repo.path), before);
}

#[test]
fn an_untracked_file_in_the_way_refuses_and_nothing_changes() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    write(&wt(&s, &h), "src/new.rs", "from the agent\n");
    h.engine
        .approve(&s.id, &ids(&h.engine.diff(&s.id).unwrap()))
        .unwrap();
    h.engine.apply(&s.id, None).unwrap();
    repo.write("src/new.rs", "the user's own untracked file\n");
    let before = snapshot(&repo.path);
    let head = repo.head();
    let err = h.engine.merge(&s.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("src/new.rs"), "{err}");
    assert_eq!(repo.head(), head);
    assert_eq!(snapshot(&repo.path), before);
}

#[test]
fn diverged_base_gets_a_merge_commit_or_a_conflict() {
    let repo = TestRepo::new();
    let (h, s) = applied(&repo);
    repo.write("README.md", "# Demo\n\nMoved on.\n");
    let moved = repo.commit_all("user moved on");
    let merged = h.engine.merge(&s.id).unwrap();
    assert_eq!(repo.head(), merged);
    assert_eq!(
        repo.git(&["log", "-1", "--format=%P"]).trim(),
        format!(
            "{moved} {}",
            git(&wt(&s, &h), &["rev-parse", "HEAD"]).trim()
        )
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(std::fs::read_to_string(repo.path.join("src/util.rs"))
        .unwrap()
        .contains("43"));

    // A second session edits the line the user also edits: conflict, nothing changes.
    let s2 = h.session();
    write(&wt(&s2, &h), "README.md", "# Demo\n\nAgent's words.\n");
    h.engine
        .approve(&s2.id, &ids(&h.engine.diff(&s2.id).unwrap()))
        .unwrap();
    h.engine.apply(&s2.id, None).unwrap();
    repo.write("README.md", "# Demo\n\nUser's words.\n");
    let head = repo.commit_all("user edit");
    let before = snapshot(&repo.path);
    let err = h.engine.merge(&s2.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("conflicts in: README.md"), "{err}");
    assert_eq!(repo.head(), head);
    assert_eq!(snapshot(&repo.path), before);
}

#[test]
fn merging_into_a_branch_not_checked_out_moves_only_the_ref() {
    let repo = TestRepo::new();
    repo.git(&["branch", "dev"]);
    let h = host(&repo);
    let s = h
        .engine
        .create_session(arcbench_engine::CreateSessionRequest {
            base: Some("dev".into()),
            ..Default::default()
        })
        .unwrap();
    write(&wt(&s, &h), "README.md", "dev work\n");
    h.engine
        .approve(&s.id, &ids(&h.engine.diff(&s.id).unwrap()))
        .unwrap();
    let c = h.engine.apply(&s.id, None).unwrap();
    let before = snapshot(&repo.path);
    assert_eq!(h.engine.merge(&s.id).unwrap(), c.sha);
    assert_eq!(repo.git(&["rev-parse", "dev"]).trim(), c.sha);
    assert_eq!(snapshot(&repo.path), before);
}

#[test]
fn a_merge_rollback_restores_only_the_paths_the_merge_wrote() {
    // The rollback after a lost race on the branch ref: put back what the merge's checkout
    // wrote (changed, added and deleted files), and leave everything else as it is now.
    let repo = TestRepo::new();
    repo.write("gone.txt", "deleted by the merge\n");
    repo.commit_all("a file the session deletes");
    let base = repo.head();
    repo.write("src/util.rs", "pub fn util() -> u32 {\n    43\n}\n");
    repo.write("added.txt", "new in the merge\n");
    std::fs::remove_file(repo.path.join("gone.txt")).unwrap();
    let merged = repo.commit_all("what the merge brought");
    // What the user did meanwhile elsewhere in the checkout: an edit and an untracked file.
    repo.write("README.md", "the user's edit, made during the merge\n");
    repo.write("notes.txt", "untracked\n");
    let git = arcbench_git::Repository::open(&repo.path).unwrap();
    let oid = |s: &str| arcbench_git::Oid::from_str(s).unwrap();
    arcbench_git::merge::restore_paths(&git, oid(&merged), oid(&base)).unwrap();
    assert_eq!(
        std::fs::read_to_string(repo.path.join("src/util.rs")).unwrap(),
        git_show(&repo, &base, "src/util.rs")
    );
    assert!(!repo.path.join("added.txt").exists());
    assert_eq!(
        std::fs::read_to_string(repo.path.join("gone.txt")).unwrap(),
        "deleted by the merge\n"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path.join("README.md")).unwrap(),
        "the user's edit, made during the merge\n"
    );
    // The index holds the base's versions of the restored paths and nothing else changed.
    let status = repo.git(&["diff", "--cached", "--name-status", &base]);
    assert_eq!(status, "", "index differs from the base: {status}");
    assert_eq!(
        std::fs::read_to_string(repo.path.join("notes.txt")).unwrap(),
        "untracked\n"
    );
}

fn git_show(repo: &TestRepo, rev: &str, path: &str) -> String {
    repo.git(&["show", &format!("{rev}:{path}")])
}
