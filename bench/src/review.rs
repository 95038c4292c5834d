//! Diff + hunk split, and approving one hunk, against `git diff` on the same worktree.

use std::path::Path;
use std::process::Command;

use arcbench_engine::{CreateSessionRequest, Engine, EngineConfig};
use arcbench_fixtures::{git, numbered, wide_repo, write};

use crate::table::{measure, print, Row};

fn git_diff(wt: &Path) {
    let out = Command::new("git")
        .arg("-C")
        .arg(wt)
        .args(["diff", "--no-color", "--no-ext-diff"])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::hint::black_box(out.stdout.len());
}

struct Case {
    _dir: tempfile::TempDir,
    engine: Engine,
    session: String,
    wt: std::path::PathBuf,
}

fn case(files: usize, setup_repo: impl Fn(&Path), edit: impl Fn(&Path)) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    if files > 0 {
        wide_repo(&repo, files);
    } else {
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
    }
    setup_repo(&repo);
    let engine = Engine::open(EngineConfig {
        data_dir: dir.path().join("data"),
        repos: vec![repo],
        ..Default::default()
    })
    .unwrap();
    let s = engine
        .create_session(CreateSessionRequest::default())
        .unwrap();
    let wt = engine.data_dir().join("worktrees").join(&s.id);
    edit(&wt);
    // Warm both sides once (page cache, the index's stat data).
    engine.diff(&s.id).unwrap();
    git_diff(&wt);
    Case {
        _dir: dir,
        engine,
        session: s.id,
        wt,
    }
}

pub fn run(quick: bool) {
    let n = if quick { 5 } else { 21 };
    let wide = if quick { 2_000 } else { 10_000 };
    let many = if quick { 200 } else { 1_000 };
    let mut rows = Vec::new();

    let a = case(
        wide,
        |_| {},
        |wt| write(wt, "d000/f00000.txt", numbered("changed line", 20)),
    );
    rows.push(Row {
        case: format!("(a) 1 changed file in a {wide}-file repo"),
        ours: measure(n, || drop(a.engine.diff(&a.session).unwrap())),
        base: measure(n, || git_diff(&a.wt)),
    });
    drop(a);

    let b = case(
        many,
        |_| {},
        |wt| {
            for i in 0..many {
                let p = format!("d{:03}/f{i:05}.txt", i / 100);
                let text = std::fs::read_to_string(wt.join(&p)).unwrap();
                write(wt, &p, text.replacen("line 10\n", "line ten\n", 1));
            }
        },
    );
    rows.push(Row {
        case: format!("(b) {many} changed files"),
        ours: measure(n, || drop(b.engine.diff(&b.session).unwrap())),
        base: measure(n, || git_diff(&b.wt)),
    });
    drop(b);

    let big = numbered("original line", 10_000);
    let c = case(
        0,
        |repo| {
            write(repo, "big.txt", &big);
            git(repo, &["add", "-A"]);
            git(repo, &["commit", "-q", "-m", "big"]);
        },
        |wt| {
            // Every 20th line changed: 500 hunks separated by more than 2×3 context lines.
            let edited: String = big
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i % 20 == 10 {
                        format!("{l} edited\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            write(wt, "big.txt", edited);
        },
    );
    let d = c.engine.diff(&c.session).unwrap();
    let hunks = d.files[0].hunks.len();
    rows.push(Row {
        case: format!("(c) one 10,000-line file, {hunks} hunks"),
        ours: measure(n, || drop(c.engine.diff(&c.session).unwrap())),
        base: measure(n, || git_diff(&c.wt)),
    });
    let ids: Vec<String> = d.files[0].hunks.iter().map(|h| h.id.clone()).collect();
    let mut i = 0;
    rows.push(Row {
        case: "(c) approve one hunk (re-diff, check, stage, record)".into(),
        ours: measure(n, || {
            c.engine
                .approve(&c.session, &[ids[i % ids.len()].clone()])
                .unwrap();
            i += 1;
        }),
        base: measure(n, || git_diff(&c.wt)),
    });
    print(
        "Review engine: diff + hunk split vs `git diff` (same worktree)",
        "arcbench",
        "git diff",
        &rows,
    );
    println!("\nn = {n} runs per cell; ratio > 1 means slower than `git diff`, which only prints a patch\n(no hunk ids, no untracked files, no rename detection, no persistence).");
}
