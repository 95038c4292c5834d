//! The user's checkout (tracked, untracked and ignored files) is byte-identical after every
//! session operation except merge, and random reviews commit exactly what was approved.

mod support;

use shared_protocol::HunkState;
use support::*;

#[test]
fn the_users_checkout_is_untouched_by_every_session_operation() {
    let repo = TestRepo::new();
    repo.write("notes.txt", "untracked\n");
    repo.write("target/out.bin", [0u8, 1, 2]);
    repo.write("src/lib.rs", "user's uncommitted edit\n");
    let before = snapshot(&repo.path);
    let index_before = std::fs::read(repo.path.join(".git/index")).unwrap();
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    let check = |step: &str| {
        assert_eq!(snapshot(&repo.path), before, "after {step}");
        assert_eq!(
            std::fs::read(repo.path.join(".git/index")).unwrap(),
            index_before,
            "index after {step}"
        );
        assert_eq!(
            repo.git(&["rev-parse", "HEAD"]).trim(),
            s.base_commit,
            "HEAD after {step}"
        );
    };
    check("create");
    write(
        &wt,
        "src/lib.rs",
        edit_line(&numbered("fn line", 40), 3, "x"),
    );
    write(&wt, "src/util.rs", "changed\n");
    write(&wt, "new.txt", "new\n");
    let d = h.engine.diff(&s.id).unwrap();
    check("diff");
    let all = ids(&d);
    h.engine.approve(&s.id, &all[..2]).unwrap();
    check("approve");
    h.engine.reject(&s.id, &all[2..], None).unwrap();
    check("reject");
    h.engine.apply(&s.id, None).unwrap();
    check("apply");
    h.engine.undo(&s.id).unwrap();
    check("undo");
    h.engine.reject_all(&s.id).unwrap();
    check("reject_all");
    h.engine.delete_session(&s.id, true, false).unwrap();
    check("delete");
}

/// xorshift64*: a tiny seeded generator so every failing case can be replayed from its seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random line edits (replace, insert, delete) across three files, some without a final newline.
fn random_edit(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for _ in 0..(1 + rng.below(6)) {
        let at = rng.below(lines.len() as u64 + 1) as usize;
        match rng.below(3) {
            0 if at < lines.len() => lines[at] = format!("changed {}", rng.next() % 1000),
            1 => lines.insert(at, format!("inserted {}", rng.next() % 1000)),
            _ if at < lines.len() && lines.len() > 1 => {
                lines.remove(at);
            }
            _ => {}
        }
    }
    let mut out = lines.join("\n");
    if rng.below(4) != 0 {
        out.push('\n');
    }
    out
}

#[test]
fn random_reviews_commit_exactly_what_was_approved() {
    let repo = TestRepo::new();
    for f in ["a.txt", "b.txt", "c.txt"] {
        repo.write(f, numbered(f, 60));
    }
    repo.commit_all("files");
    let h = host(&repo);
    for seed in 1..=25u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let s = h.session();
        let wt = wt(&s, &h);
        for f in ["a.txt", "b.txt", "c.txt"] {
            if rng.below(4) != 0 {
                write(&wt, f, random_edit(&mut rng, &numbered(f, 60)));
            }
        }
        let d = h.engine.diff(&s.id).unwrap();
        let all = ids(&d);
        if all.is_empty() {
            continue;
        }
        if seed % 2 == 0 {
            // Approve everything: the commit equals the worktree.
            h.engine.approve(&s.id, &all).unwrap();
            h.engine.apply(&s.id, None).unwrap();
            assert_eq!(git(&wt, &["status", "--porcelain"]), "", "seed {seed}");
        } else {
            let (keep, drop): (Vec<String>, Vec<String>) =
                all.iter().cloned().partition(|_| rng.below(2) == 0);
            if !drop.is_empty() {
                let after = h.engine.reject(&s.id, &drop, None).unwrap();
                assert_eq!(
                    ids(&after).len(),
                    keep.len(),
                    "seed {seed}: rejecting leaves the kept hunks, same ids"
                );
                assert_eq!(ids(&after), keep, "seed {seed}");
            }
            if keep.is_empty() {
                assert_eq!(git(&wt, &["status", "--porcelain"]), "", "seed {seed}");
                continue;
            }
            h.engine.approve(&s.id, &keep).unwrap();
            let c = h.engine.apply(&s.id, None).unwrap();
            // Worktree after rejecting = base + kept hunks = the commit.
            assert_eq!(git(&wt, &["status", "--porcelain"]), "", "seed {seed}");
            assert_eq!(git(&wt, &["rev-parse", "HEAD"]).trim(), c.sha);
        }
        assert!(hunks(&h.engine.diff(&s.id).unwrap())
            .iter()
            .all(|h| h.state == HunkState::Pending));
    }
}

#[test]
fn random_partial_approval_commits_only_the_subset() {
    let repo = TestRepo::new();
    repo.write("a.txt", numbered("a", 200));
    repo.commit_all("a");
    let h = host(&repo);
    for seed in 1..=20u64 {
        let mut rng = Rng(seed * 7919);
        let s = h.session();
        let wt = wt(&s, &h);
        let once = random_edit(&mut rng, &numbered("a", 200));
        let edited = random_edit(&mut rng, &once);
        write(&wt, "a.txt", &edited);
        let d = h.engine.diff(&s.id).unwrap();
        let all = ids(&d);
        if all.is_empty() {
            continue;
        }
        let subset: Vec<String> = all.iter().filter(|_| rng.below(2) == 0).cloned().collect();
        if subset.is_empty() {
            continue;
        }
        // The expected commit, built independently: git applies just those hunks' patches.
        let expected = expected_with_git(&wt, &d, &subset);
        h.engine.approve(&s.id, &subset).unwrap();
        let c = h.engine.apply(&s.id, None).unwrap();
        assert_eq!(
            git(&wt, &["show", &format!("{}:a.txt", c.sha)]),
            expected,
            "seed {seed}"
        );
        // Pending work untouched.
        assert_eq!(
            std::fs::read_to_string(wt.join("a.txt")).unwrap(),
            edited,
            "seed {seed}"
        );
    }
}

/// Applies only the selected hunks of the file with `git apply` to a copy of the base content.
fn expected_with_git(wt: &std::path::Path, d: &shared_protocol::Diff, subset: &[String]) -> String {
    let file = &d.files[0];
    let mut patch = format!("--- a/{0}\n+++ b/{0}\n", file.path);
    for h in file.hunks.iter().filter(|h| subset.contains(&h.id)) {
        patch.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            h.old_start, h.old_lines, h.old_start, h.new_lines
        ));
        for l in &h.lines {
            let sign = match l.kind {
                shared_protocol::LineKind::Context => ' ',
                shared_protocol::LineKind::Add => '+',
                shared_protocol::LineKind::Del => '-',
            };
            patch.push_str(&format!("{sign}{}\n", l.text));
            if l.no_newline {
                patch.push_str("\\ No newline at end of file\n");
            }
        }
    }
    let scratch = tempfile::tempdir().unwrap();
    git(scratch.path(), &["init", "-q"]);
    std::fs::write(
        scratch.path().join(&file.path),
        git(wt, &["show", &format!("HEAD:{}", file.path)]),
    )
    .unwrap();
    std::fs::write(scratch.path().join("p.diff"), patch).unwrap();
    git(
        scratch.path(),
        &["apply", "--recount", "--unidiff-zero", "p.diff"],
    );
    std::fs::read_to_string(scratch.path().join(&file.path)).unwrap()
}

#[test]
fn the_hosts_own_writes_never_go_through_a_symlinked_folder() {
    // The agent (or anyone) replaces a committed folder by a link to a folder outside; rejecting
    // the deletion would restore docs/a.md *through* the link, i.e. outside the worktree.
    let repo = TestRepo::new();
    repo.write("docs/a.md", "the committed doc\n");
    repo.commit_all("docs");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("a.md"), "outside, not ours\n").unwrap();
    let outside_before = snapshot(outside.path());
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    std::fs::remove_dir_all(wt.join("docs")).unwrap();
    std::os::unix::fs::symlink(outside.path(), wt.join("docs")).unwrap();
    let d = h.engine.diff(&s.id).unwrap();
    let err = h.engine.reject_all(&s.id).unwrap_err();
    assert_eq!(err.code(), shared_protocol::ErrorCode::Conflict);
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(snapshot(outside.path()), outside_before);
    assert_eq!(h.engine.diff(&s.id).unwrap(), d, "nothing changed half-way");

    // Rejecting the link first removes it; the doc then comes back as a real file inside.
    let link = d.files.iter().find(|f| f.path == "docs").unwrap().hunks[0]
        .id
        .clone();
    h.engine.reject(&s.id, &[link], None).unwrap();
    h.engine.reject_all(&s.id).unwrap();
    assert!(!std::fs::symlink_metadata(wt.join("docs"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(wt.join("docs/a.md")).unwrap(),
        "the committed doc\n"
    );
    assert_eq!(snapshot(outside.path()), outside_before);
    assert!(h.engine.diff(&s.id).unwrap().files.is_empty());
}
