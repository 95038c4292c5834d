//! Rebuilding a file image from a selection of its hunks.
//!
//! Works on raw bytes split after each `\n`, exactly as git's xdiff splits lines, so CRLF,
//! a missing final newline and non-UTF-8 content come through byte for byte.

/// The line ranges of one text hunk, as in its `@@ -old_start,old_lines +new_start,new_lines @@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranges {
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
}

impl Ranges {
    /// 0-based index of the first line a hunk covers; a zero-length side names the line before.
    fn old_index(&self) -> usize {
        start_index(self.old_start, self.old_lines)
    }
    fn new_index(&self) -> usize {
        start_index(self.new_start, self.new_lines)
    }
}

fn start_index(start: u32, len: u32) -> usize {
    if len == 0 {
        start as usize
    } else {
        start as usize - 1
    }
}

pub fn split_lines(buf: &[u8]) -> Vec<&[u8]> {
    buf.split_inclusive(|&b| b == b'\n').collect()
}

/// `old` with the selected hunks replaced by their new side taken from `new`.
/// `selected` must be hunks of the diff `old -> new`, in any order.
pub fn rebuild(old: &[u8], new: &[u8], selected: &[Ranges]) -> Vec<u8> {
    let old_lines = split_lines(old);
    let new_lines = split_lines(new);
    let mut sorted = selected.to_vec();
    sorted.sort_by_key(|r| r.old_start);
    let mut out = Vec::with_capacity(new.len().max(old.len()));
    let mut cursor = 0usize;
    for r in sorted {
        let at = r.old_index();
        for line in &old_lines[cursor..at] {
            out.extend_from_slice(line);
        }
        let from = r.new_index();
        for line in &new_lines[from..from + r.new_lines as usize] {
            out.extend_from_slice(line);
        }
        cursor = at + r.old_lines as usize;
    }
    for line in &old_lines[cursor..] {
        out.extend_from_slice(line);
    }
    out
}

/// Which of `hunks` (of `old -> new`, sorted by position) an image holds: a hunk counts as taken
/// when the image has its new side where its old side was. `None` when the image is not
/// `old` with some subset of the hunks applied (it was edited some other way).
pub fn selection_in(old: &[u8], new: &[u8], hunks: &[Ranges], image: &[u8]) -> Option<Vec<bool>> {
    let new_lines = split_lines(new);
    let old_lines = split_lines(old);
    let img = split_lines(image);
    let mut taken = Vec::with_capacity(hunks.len());
    let mut shift: isize = 0;
    for r in hunks {
        let at = (r.old_index() as isize + shift) as usize;
        let new_side = &new_lines[r.new_index()..r.new_index() + r.new_lines as usize];
        let old_side = &old_lines[r.old_index()..r.old_index() + r.old_lines as usize];
        let window = |n: usize| img.get(at..at + n);
        if window(new_side.len()) == Some(new_side) {
            taken.push(true);
            shift += r.new_lines as isize - r.old_lines as isize;
        } else if window(old_side.len()) == Some(old_side) {
            taken.push(false);
        } else {
            return None;
        }
    }
    let chosen: Vec<Ranges> = hunks
        .iter()
        .zip(&taken)
        .filter(|(_, t)| **t)
        .map(|(r, _)| *r)
        .collect();
    (rebuild(old, new, &chosen) == image).then_some(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Ranges {
        Ranges {
            old_start,
            old_lines,
            new_start,
            new_lines,
        }
    }

    #[test]
    fn rebuild_none_all_and_one() {
        let old = b"a\nb\nc\nd\n";
        let new = b"a\nB\nc\nd\nE\n";
        let hunks = [r(2, 1, 2, 1), r(4, 0, 5, 1)];
        assert_eq!(rebuild(old, new, &[]), old.to_vec());
        assert_eq!(rebuild(old, new, &hunks), new.to_vec());
        assert_eq!(rebuild(old, new, &hunks[1..]), b"a\nb\nc\nd\nE\n".to_vec());
        assert_eq!(rebuild(old, new, &hunks[..1]), b"a\nB\nc\nd\n".to_vec());
    }

    #[test]
    fn keeps_crlf_and_missing_final_newline() {
        let old = b"x\r\ny";
        let new = b"x\r\nz";
        assert_eq!(rebuild(old, new, &[r(2, 1, 2, 1)]), new.to_vec());
    }

    #[test]
    fn selection_roundtrip() {
        let old = b"a\nb\nc\nd\n";
        let new = b"a\nB\nc\nd\nE\n";
        let hunks = [r(2, 1, 2, 1), r(4, 0, 5, 1)];
        assert_eq!(
            selection_in(old, new, &hunks, b"a\nb\nc\nd\nE\n"),
            Some(vec![false, true])
        );
        assert_eq!(selection_in(old, new, &hunks, new), Some(vec![true, true]));
        assert_eq!(selection_in(old, new, &hunks, b"zzz\n"), None);
    }
}
