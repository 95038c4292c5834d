//! A file too large to show (an agent's or a build's output in the worktree) is never read into
//! memory: it is hashed and committed by streaming. Alone in its test binary, so the process's
//! peak memory is this test's.

mod support;

use shared_protocol::HunkKind;
use support::*;

/// The process's peak resident memory so far, in bytes (Linux).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

const SIZE: u64 = 128 << 20;

#[test]
fn a_huge_untracked_file_is_reviewed_and_committed_without_being_held_in_memory() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    // Sparse: no disk is used, but reading it would put 128 MiB in memory.
    let f = std::fs::File::create(wt.join("dump.bin")).unwrap();
    f.set_len(SIZE).unwrap();
    drop(f);
    std::fs::write(wt.join("small.txt"), "small\n").unwrap();
    let before = peak_rss();

    let d = h.engine.diff(&s.id).unwrap();
    let big = d.files.iter().find(|f| f.path == "dump.bin").unwrap();
    assert!(big.too_large || big.binary, "{big:?}");
    assert_eq!(big.hunks.len(), 1);
    let unit = &big.hunks[0];
    assert!(matches!(unit.kind, HunkKind::TooLarge | HunkKind::Binary));
    // The id is stable while the file is, and is refused once it changes.
    assert_eq!(h.engine.diff(&s.id).unwrap(), d);
    h.engine.approve(&s.id, &ids(&d)).unwrap();
    let commit = h.engine.apply(&s.id, Some("dump")).unwrap().sha;
    assert!(
        peak_rss() < before + (SIZE / 2),
        "peak memory grew by {} MiB",
        (peak_rss() - before) >> 20
    );
    assert_eq!(
        git(&wt, &["cat-file", "-s", &format!("{commit}:dump.bin")]).trim(),
        SIZE.to_string()
    );
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");

    // A large file changed by the agent and then rejected comes back as committed.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(wt.join("dump.bin"))
        .unwrap();
    f.set_len(SIZE + 1).unwrap();
    drop(f);
    let d = h.engine.diff(&s.id).unwrap();
    assert_eq!(d.files.len(), 1);
    let stale = unit.id.clone();
    assert_eq!(
        h.engine.approve(&s.id, &[stale]).unwrap_err().code(),
        shared_protocol::ErrorCode::HunkStale
    );
    h.engine.reject_all(&s.id).unwrap();
    assert_eq!(std::fs::metadata(wt.join("dump.bin")).unwrap().len(), SIZE);
    assert!(h.engine.diff(&s.id).unwrap().files.is_empty());
}
