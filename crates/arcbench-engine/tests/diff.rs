mod support;

use std::os::unix::fs::PermissionsExt;

use shared_protocol::{FileStatus, HunkKind, HunkState, LineKind};
use support::*;

#[test]
fn modified_added_deleted_and_ignored() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    let lib = numbered("fn line", 40);
    write(
        &wt,
        "src/lib.rs",
        edit_line(&edit_line(&lib, 5, "fn five()"), 30, "fn thirty()"),
    );
    write(&wt, "src/new.rs", "pub fn new() {}\n");
    write(&wt, "build.log", "ignored\n");
    write(&wt, ".aider.chat.history.md", "aider's own file\n");
    std::fs::remove_file(wt.join("src/util.rs")).unwrap();
    let d = h.engine.diff(&s.id).unwrap();
    let summary: Vec<(String, FileStatus, usize)> = d
        .files
        .iter()
        .map(|f| (f.path.clone(), f.status, f.hunks.len()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("src/lib.rs".into(), FileStatus::Modified, 2),
            ("src/new.rs".into(), FileStatus::Added, 1),
            ("src/util.rs".into(), FileStatus::Deleted, 1),
        ]
    );
    let h0 = &d.files[0].hunks[0];
    // Like git, the header names the enclosing "function" line.
    assert_eq!(h0.header, "@@ -2,7 +2,7 @@ fn line 1");
    assert_eq!(
        (h0.old_start, h0.old_lines, h0.new_start, h0.new_lines),
        (2, 7, 2, 7)
    );
    assert_eq!(h0.kind, HunkKind::Text);
    assert_eq!(h0.state, HunkState::Pending);
    let changed: Vec<(LineKind, &str)> = h0
        .lines
        .iter()
        .filter(|l| l.kind != LineKind::Context)
        .map(|l| (l.kind, l.text.as_str()))
        .collect();
    assert_eq!(
        changed,
        vec![(LineKind::Del, "fn line 5"), (LineKind::Add, "fn five()")]
    );
    assert_eq!(d.files[1].hunks[0].lines[0].text, "pub fn new() {}");
    assert!(d.files[2].hunks[0]
        .lines
        .iter()
        .all(|l| l.kind == LineKind::Del));
}

#[test]
fn rename_mode_binary_and_empty_files() {
    let repo = TestRepo::new();
    repo.write("tool.sh", "#!/bin/sh\necho hi\n");
    repo.write("logo.bin", [0u8, 1, 2, 3, 0, 5]);
    repo.commit_all("more");
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    std::fs::rename(wt.join("src/util.rs"), wt.join("src/helpers.rs")).unwrap();
    std::fs::set_permissions(wt.join("tool.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    write(&wt, "logo.bin", [0u8, 9, 9, 9]);
    write(&wt, "empty.txt", "");
    let d = h.engine.diff(&s.id).unwrap();
    let by = |p: &str| {
        d.files
            .iter()
            .find(|f| f.path == p)
            .unwrap_or_else(|| panic!("{p} in {d:#?}"))
    };
    let renamed = by("src/helpers.rs");
    assert_eq!(renamed.status, FileStatus::Renamed);
    assert_eq!(renamed.old_path.as_deref(), Some("src/util.rs"));
    assert_eq!(
        renamed.hunks.iter().map(|h| h.kind).collect::<Vec<_>>(),
        vec![HunkKind::Rename]
    );
    let tool = by("tool.sh");
    assert_eq!(
        tool.hunks.iter().map(|h| h.kind).collect::<Vec<_>>(),
        vec![HunkKind::Mode]
    );
    assert_eq!(
        (tool.old_mode.as_deref(), tool.new_mode.as_deref()),
        (Some("100644"), Some("100755"))
    );
    let bin = by("logo.bin");
    assert!(bin.binary);
    assert_eq!(bin.hunks.len(), 1);
    assert_eq!(bin.hunks[0].kind, HunkKind::Binary);
    assert!(bin.hunks[0].lines.is_empty());
    let empty = by("empty.txt");
    assert_eq!(
        (empty.status, empty.hunks[0].kind),
        (FileStatus::Added, HunkKind::WholeFile)
    );
}

#[test]
fn newline_crlf_non_utf8_and_large_files() {
    let repo = TestRepo::new();
    repo.write("crlf.txt", "one\r\ntwo\r\nthree\r\n");
    repo.write("nonl.txt", "a\nb");
    repo.commit_all("more");
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    write(&wt, "crlf.txt", "one\r\nTWO\r\nthree\r\n");
    write(&wt, "nonl.txt", "a\nc");
    write(&wt, "latin1.txt", b"caf\xe9\n");
    let odd = std::ffi::OsStr::from_encoded_bytes_checked(b"na\xefve.txt");
    std::fs::write(wt.join(odd), "x\n").unwrap();
    let big = "x".repeat(5 << 20);
    write(&wt, "big.txt", &big);
    let d = h.engine.diff(&s.id).unwrap();
    let by = |p: &str| {
        d.files.iter().find(|f| f.path == p).unwrap_or_else(|| {
            panic!(
                "{p}: {:?}",
                d.files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
    };
    let crlf = &by("crlf.txt").hunks[0];
    let changed: Vec<&str> = crlf
        .lines
        .iter()
        .filter(|l| l.kind != LineKind::Context)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(changed, vec!["two", "TWO"]);
    let nonl = &by("nonl.txt").hunks[0];
    assert!(nonl
        .lines
        .iter()
        .filter(|l| l.kind != LineKind::Context)
        .all(|l| l.no_newline));
    assert_eq!(by("latin1.txt").hunks[0].lines[0].text, "caf\u{fffd}");
    assert_eq!(by("na\u{fffd}ve.txt").status, FileStatus::Added);
    let big = by("big.txt");
    assert!(big.too_large);
    assert_eq!(big.hunks[0].kind, HunkKind::TooLarge);
    assert!(big.hunks[0].header.contains("too large"));
}

/// A helper so ids can be compared before and after.
trait Extra {
    fn from_encoded_bytes_checked(b: &[u8]) -> &std::ffi::OsStr;
}
impl Extra for std::ffi::OsStr {
    fn from_encoded_bytes_checked(b: &[u8]) -> &std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b)
    }
}

#[test]
fn hunk_ids_are_stable_until_their_hunk_changes() {
    let repo = TestRepo::new();
    let h = host(&repo);
    let s = h.session();
    let wt = wt(&s, &h);
    let lib = numbered("fn line", 40);
    let v1 = edit_line(&lib, 30, "fn thirty()");
    write(&wt, "src/lib.rs", &v1);
    let a = file_ids(&h.engine.diff(&s.id).unwrap(), "src/lib.rs");
    assert_eq!(
        a,
        file_ids(&h.engine.diff(&s.id).unwrap(), "src/lib.rs"),
        "same worktree, same ids"
    );
    // A new hunk above (with extra lines, so the old hunk's new-side position moves) keeps the old id.
    let v2 = v1.replacen("fn line 5\n", "fn five()\nfn five-and-a-half()\n", 1);
    write(&wt, "src/lib.rs", &v2);
    let b = file_ids(&h.engine.diff(&s.id).unwrap(), "src/lib.rs");
    assert_eq!(b.len(), 2);
    assert_eq!(b[1], a[0]);
    // Editing the hunk itself changes its id.
    write(&wt, "src/lib.rs", edit_line(&v2, 31, "fn THIRTY()"));
    let c = file_ids(&h.engine.diff(&s.id).unwrap(), "src/lib.rs");
    assert_eq!(c[0], b[0]);
    assert_ne!(c[1], b[1]);
}
