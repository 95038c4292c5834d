mod support;

use std::os::unix::fs::PermissionsExt;

use shared_protocol::{ErrorCode, HunkState};
use support::*;

/// A session whose worktree has two separate hunks in src/lib.rs and a new file.
fn two_hunks() -> (TestRepo, Host, shared_protocol::Session, String) {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    let lib = numbered("fn line", 40);
    let edited = edit_line(&edit_line(&lib, 5, "fn five()"), 30, "fn thirty()");
    write(&wt(&s, &h), "src/lib.rs", &edited);
    write(&wt(&s, &h), "src/new.rs", "pub fn new() {}\n");
    (repo, h, s, edited)
}

#[test]
fn approve_stages_exactly_that_hunk() {
    let (_repo, h, s, _) = two_hunks();
    let d = h.engine.diff(&s.id).unwrap();
    let lib = file_ids(&d, "src/lib.rs");
    let after = h.engine.approve(&s.id, &[lib[1].clone()]).unwrap();
    let states: Vec<HunkState> = hunks(&after).iter().map(|h| h.state).collect();
    assert_eq!(
        states,
        vec![HunkState::Pending, HunkState::Approved, HunkState::Pending]
    );
    let cached = git(&wt(&s, &h), &["diff", "--cached", "-U0"]);
    let changes: Vec<&str> = cached
        .lines()
        .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
        .collect();
    assert_eq!(changes, vec!["-fn line 30", "+fn thirty()"]);
    // Approving again is harmless; the state survives a re-diff.
    h.engine.approve(&s.id, &[lib[1].clone()]).unwrap();
    assert_eq!(
        hunks(&h.engine.diff(&s.id).unwrap())[1].state,
        HunkState::Approved
    );
}

#[test]
fn stale_or_unknown_ids_change_nothing() {
    let (_repo, h, s, edited) = two_hunks();
    let d = h.engine.diff(&s.id).unwrap();
    let lib = file_ids(&d, "src/lib.rs");
    let err = h
        .engine
        .approve(&s.id, &[lib[0].clone(), "0123456789abcdef".into()])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::HunkStale);
    assert!(err.to_string().contains("0123456789abcdef"), "{err}");
    assert!(hunks(&h.engine.diff(&s.id).unwrap())
        .iter()
        .all(|h| h.state == HunkState::Pending));
    assert_eq!(git(&wt(&s, &h), &["diff", "--cached"]), "");
    // The agent edits hunk 0 again: its old id is stale for approve and reject alike.
    write(
        &wt(&s, &h),
        "src/lib.rs",
        edit_line(&edited, 5, "fn FIVE()"),
    );
    for res in [
        h.engine.approve(&s.id, &[lib[0].clone()]),
        h.engine.reject(&s.id, &[lib[0].clone()], None),
    ] {
        assert_eq!(res.unwrap_err().code(), ErrorCode::HunkStale);
    }
    let text = std::fs::read_to_string(wt(&s, &h).join("src/lib.rs")).unwrap();
    assert!(text.contains("fn FIVE()"));
    assert_eq!(
        h.engine.approve(&s.id, &[]).unwrap_err().code(),
        ErrorCode::BadRequest
    );
}

#[test]
fn reject_reverts_exactly_those_hunks_and_keeps_approvals() {
    let (_repo, h, s, _) = two_hunks();
    let d = h.engine.diff(&s.id).unwrap();
    let lib = file_ids(&d, "src/lib.rs");
    let new = file_ids(&d, "src/new.rs");
    h.engine.approve(&s.id, &[lib[1].clone()]).unwrap();
    let after = h
        .engine
        .reject(&s.id, &[lib[0].clone(), new[0].clone()], Some("not this"))
        .unwrap();
    assert_eq!(ids(&after), vec![lib[1].clone()]);
    assert_eq!(hunks(&after)[0].state, HunkState::Approved);
    let wt = wt(&s, &h);
    assert!(!wt.join("src/new.rs").exists());
    assert_eq!(git(&wt, &["status", "--porcelain"]), "M  src/lib.rs\n");
    let text = std::fs::read_to_string(wt.join("src/lib.rs")).unwrap();
    assert_eq!(text, edit_line(&numbered("fn line", 40), 30, "fn thirty()"));
    let log = h.engine.store().tx(|tx| tx.review_log(&s.id)).unwrap();
    assert_eq!(
        log.iter()
            .filter(|(_, a, c)| a == "reject" && c.as_deref() == Some("not this"))
            .count(),
        2
    );
}

#[test]
fn apply_commits_exactly_the_approved_hunks() {
    let (repo, h, s, edited) = two_hunks();
    let d = h.engine.diff(&s.id).unwrap();
    let lib = file_ids(&d, "src/lib.rs");
    let new = file_ids(&d, "src/new.rs");
    assert_eq!(
        h.engine.apply(&s.id, None).unwrap_err().code(),
        ErrorCode::Conflict
    );
    h.engine
        .approve(&s.id, &[lib[1].clone(), new[0].clone()])
        .unwrap();
    let c = h.engine.apply(&s.id, Some("Add thirty")).unwrap();
    let wt = wt(&s, &h);
    assert_eq!(git(&wt, &["rev-parse", "HEAD"]).trim(), c.sha);
    assert_eq!(
        git(
            &wt,
            &["log", "--format=%s", &format!("{}..HEAD", s.base_commit)]
        ),
        "Add thirty\n"
    );
    assert_eq!(
        git(&wt, &["show", "--format=", "--name-status", "HEAD"]),
        "M\tsrc/lib.rs\nA\tsrc/new.rs\n"
    );
    assert_eq!(
        git(&wt, &["show", "HEAD:src/lib.rs"]),
        edit_line(&numbered("fn line", 40), 30, "fn thirty()")
    );
    // The pending hunk is still in the worktree, unstaged.
    assert_eq!(
        std::fs::read_to_string(wt.join("src/lib.rs")).unwrap(),
        edited
    );
    assert_eq!(git(&wt, &["status", "--porcelain"]), " M src/lib.rs\n");
    let rest = h.engine.diff(&s.id).unwrap();
    assert_eq!(hunks(&rest).len(), 1);
    assert_eq!(hunks(&rest)[0].state, HunkState::Pending);
    assert_eq!(h.engine.commits(&s.id).unwrap(), vec![c.clone()]);
    // The user's branch did not move.
    assert_eq!(repo.head(), s.base_commit);
}

#[test]
fn reject_all_discards_everything_including_new_files() {
    let (_repo, h, s, _) = two_hunks();
    let wt = wt(&s, &h);
    write(&wt, "deep/new/dir/file.txt", "x\n");
    std::fs::remove_file(wt.join("README.md")).unwrap();
    write(
        &wt,
        "keep.log",
        "ignored files are not the agent's changes\n",
    );
    let d = h
        .engine
        .approve(&s.id, &[ids(&h.engine.diff(&s.id).unwrap())[0].clone()])
        .unwrap();
    assert_eq!(d.files.len(), 4);
    let after = h.engine.reject_all(&s.id).unwrap();
    assert!(
        after.files.is_empty(),
        "{after:#?}\n{}",
        git(&wt, &["status", "--porcelain"])
    );
    assert_eq!(
        git(&wt, &["status", "--porcelain", "--ignored"]),
        "!! keep.log\n"
    );
    assert!(!wt.join("deep").exists(), "emptied folders go too");
    assert_eq!(
        std::fs::read_to_string(wt.join("README.md")).unwrap(),
        "# Demo\n\nA demo project.\n"
    );
    // Nothing left: reject_all again is a no-op.
    assert!(h.engine.reject_all(&s.id).unwrap().files.is_empty());
}

#[test]
fn undo_brings_the_commit_back_as_approved_hunks() {
    let (_repo, h, s, _) = two_hunks();
    let d = h.engine.diff(&s.id).unwrap();
    let lib = file_ids(&d, "src/lib.rs");
    assert_eq!(
        h.engine.undo(&s.id).unwrap_err().code(),
        ErrorCode::Conflict,
        "nothing to undo at base"
    );
    h.engine.approve(&s.id, &[lib[0].clone()]).unwrap();
    let c1 = h.engine.apply(&s.id, Some("one")).unwrap();
    let d2 = h.engine.diff(&s.id).unwrap();
    let rest = file_ids(&d2, "src/lib.rs");
    h.engine.approve(&s.id, &rest).unwrap();
    let c2 = h.engine.apply(&s.id, Some("two")).unwrap();
    let tip = h.engine.undo(&s.id).unwrap();
    assert_eq!(tip, c1.sha);
    let d3 = h.engine.diff(&s.id).unwrap();
    let lib3: Vec<_> = d3
        .files
        .iter()
        .find(|f| f.path == "src/lib.rs")
        .unwrap()
        .hunks
        .iter()
        .collect();
    assert_eq!(lib3.len(), 1);
    assert_eq!(lib3[0].state, HunkState::Approved);
    assert_eq!(h.engine.commits(&s.id).unwrap(), vec![c1.clone()]);
    // Apply again re-creates the same content.
    let c3 = h.engine.apply(&s.id, Some("two again")).unwrap();
    let wt = wt(&s, &h);
    assert_eq!(
        git(&wt, &["rev-parse", &format!("{}^{{tree}}", c3.sha)]),
        git(&wt, &["rev-parse", &format!("{}^{{tree}}", c2.sha)])
    );
    h.engine.undo(&s.id).unwrap();
    h.engine.undo(&s.id).unwrap();
    let err = h.engine.undo(&s.id).unwrap_err();
    assert!(err.to_string().contains("base commit"), "{err}");
    assert_eq!(git(&wt, &["rev-parse", "HEAD"]).trim(), s.base_commit);
    let all = h.engine.diff(&s.id).unwrap();
    assert!(hunks(&all)
        .iter()
        .filter(|h| h.id != file_ids(&all, "src/new.rs")[0])
        .all(|h| h.state == HunkState::Approved));
}

#[test]
fn binary_rename_and_mode_units_apply_whole() {
    let repo = TestRepo::new();
    repo.write("tool.sh", "#!/bin/sh\necho hi\n");
    repo.write("logo.bin", [0u8, 1, 2, 3]);
    repo.commit_all("more");
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    std::fs::rename(wt.join("src/util.rs"), wt.join("src/helpers.rs")).unwrap();
    write(&wt, "src/helpers.rs", "pub fn util() -> u32 {\n    43\n}\n");
    std::fs::set_permissions(wt.join("tool.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    write(&wt, "logo.bin", [0u8, 9, 9]);
    let d = h.engine.diff(&s.id).unwrap();
    let renamed = d.files.iter().find(|f| f.path == "src/helpers.rs").unwrap();
    assert_eq!(renamed.hunks.len(), 2, "a rename unit and a content hunk");
    let rename_only = renamed
        .hunks
        .iter()
        .find(|h| h.kind == shared_protocol::HunkKind::Rename)
        .unwrap()
        .id
        .clone();
    let mode = file_ids(&d, "tool.sh");
    let bin = file_ids(&d, "logo.bin");
    h.engine
        .approve(&s.id, &[rename_only, mode[0].clone(), bin[0].clone()])
        .unwrap();
    h.engine.apply(&s.id, Some("whole units")).unwrap();
    assert_eq!(
        git(&wt, &["show", "HEAD:src/helpers.rs"]),
        "pub fn util() -> u32 {\n    42\n}\n",
        "renamed with old content"
    );
    assert!(!git(&wt, &["ls-tree", "HEAD", "src/"]).contains("util.rs"));
    assert!(git(&wt, &["ls-tree", "HEAD", "tool.sh"]).starts_with("100755"));
    assert_eq!(
        git(&wt, &["cat-file", "-p", "HEAD:logo.bin"]).as_bytes(),
        &[0u8, 9, 9]
    );
    let rest = h.engine.diff(&s.id).unwrap();
    assert_eq!(rest.files.len(), 1);
    assert_eq!(rest.files[0].path, "src/helpers.rs");
    // Reject the remaining content hunk: the worktree matches the commit.
    h.engine.reject(&s.id, &ids(&rest), None).unwrap();
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
}

#[test]
fn rejecting_a_rename_moves_the_file_back_and_restores_deletions() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    std::fs::rename(wt.join("src/util.rs"), wt.join("src/helpers.rs")).unwrap();
    std::fs::remove_file(wt.join("README.md")).unwrap();
    let d = h.engine.diff(&s.id).unwrap();
    h.engine.reject(&s.id, &ids(&d), None).unwrap();
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    assert!(!wt.join("src/helpers.rs").exists());
}

#[test]
fn approvals_survive_a_restart_with_the_same_ids() {
    let (repo, mut h, s, _) = two_hunks();
    let d = h.engine.diff(&s.id).unwrap();
    h.engine.approve(&s.id, &[ids(&d)[1].clone()]).unwrap();
    let before = h.engine.diff(&s.id).unwrap();
    h.restart(&repo);
    assert_eq!(h.engine.diff(&s.id).unwrap(), before);
}
