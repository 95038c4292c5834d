//! The session diff: the worktree against its branch tip, split into reviewable units.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{Delta, DiffFindOptions, DiffOptions, ObjectType, Oid, Patch, Repository};
use shared_protocol::{DiffLine, FileDiff, FileStatus, Hunk, HunkKind, HunkState, LineKind};

use crate::hunk_id::IdHasher;
use crate::image::{rebuild, Ranges};
use crate::Result;

/// Files larger than this are one "too large to show" unit (still approvable as a whole).
pub const MAX_SHOWN_BYTES: usize = 4 << 20;
/// Like git: a NUL byte in the first 8000 bytes makes a file binary.
const BINARY_SNIFF: usize = 8000;
const CONTEXT_LINES: u32 = 3;

pub const MODE_FILE: u32 = 0o100644;
pub const MODE_EXEC: u32 = 0o100755;
pub const MODE_LINK: u32 = 0o120000;

#[derive(Debug, Clone)]
pub struct Side {
    pub path: Vec<u8>,
    pub mode: u32,
    /// The file's bytes; for a [`Large`] worktree file only its first [`BINARY_SNIFF`] bytes.
    pub content: Arc<Vec<u8>>,
    /// Set for a worktree file over [`MAX_SHOWN_BYTES`]: it is never read into memory.
    pub large: Option<Large>,
}

/// A worktree file too large to show: hashed by streaming it, written to git from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Large {
    /// Where its bytes are (absolute).
    pub source: PathBuf,
    pub size: u64,
    pub oid: Oid,
}

impl Side {
    /// The blob id of the side's content.
    pub fn oid(&self) -> Oid {
        match &self.large {
            Some(l) => l.oid,
            None => Oid::hash_object(ObjectType::Blob, &self.content).unwrap_or(Oid::ZERO_SHA1),
        }
    }

    fn size(&self) -> u64 {
        self.large
            .as_ref()
            .map_or(self.content.len() as u64, |l| l.size)
    }
}

#[derive(Debug, Clone)]
pub struct Line {
    pub kind: LineKind,
    pub bytes: Vec<u8>,
    pub no_newline: bool,
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub id: String,
    pub kind: HunkKind,
    pub header: String,
    /// Zero for whole-file units.
    pub ranges: Ranges,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone)]
pub struct FileChange {
    pub status: FileStatus,
    pub old: Option<Side>,
    pub new: Option<Side>,
    pub binary: bool,
    pub too_large: bool,
    pub units: Vec<Unit>,
}

/// A file as a selection of units makes it: where it lives, its mode, its bytes.
#[derive(Debug, Clone)]
pub struct FileImage {
    pub path: Vec<u8>,
    pub mode: u32,
    /// Empty when `large` is set.
    pub content: Vec<u8>,
    /// A content too large to hold: its blob id, and the file to stream it from when git may
    /// not have it yet (`None` for an image read from git itself).
    pub large: Option<(Oid, Option<PathBuf>)>,
}

impl FileImage {
    fn of(side: &Side) -> Self {
        FileImage {
            path: side.path.clone(),
            mode: side.mode,
            content: if side.large.is_some() {
                Vec::new()
            } else {
                side.content.to_vec()
            },
            large: side.large.as_ref().map(|l| (l.oid, Some(l.source.clone()))),
        }
    }

    /// The blob id of the image's content.
    pub fn oid(&self) -> Oid {
        match &self.large {
            Some((oid, _)) => *oid,
            None => Oid::hash_object(ObjectType::Blob, &self.content).unwrap_or(Oid::ZERO_SHA1),
        }
    }

    /// The image's blob in `repo`'s object database (streamed from disk for a large file).
    pub fn write_blob(&self, repo: &Repository) -> Result<Oid> {
        Ok(match &self.large {
            Some((oid, _)) if repo.odb()?.exists(*oid) => *oid,
            Some((_, Some(source))) => repo.blob_path(source)?,
            Some((oid, None)) => {
                return Err(git2::Error::from_str(&format!("blob {oid} is missing")).into())
            }
            None => repo.blob(&self.content)?,
        })
    }
}

/// Images are the same file when path, mode and content are (compared by blob id, so a large
/// file is never read to compare it).
impl PartialEq for FileImage {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.mode == other.mode && self.oid() == other.oid()
    }
}

impl Eq for FileImage {}

impl FileChange {
    /// The path shown for the file: the new one, or the old one for a deletion.
    pub fn path(&self) -> &[u8] {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map(|s| &s.path[..])
            .unwrap_or_default()
    }

    /// Every path this change touches (one, or two for a rename).
    pub fn paths(&self) -> Vec<&[u8]> {
        let mut v: Vec<&[u8]> = Vec::with_capacity(2);
        for s in [&self.old, &self.new].into_iter().flatten() {
            if !v.contains(&&s.path[..]) {
                v.push(&s.path);
            }
        }
        v
    }

    /// The file as the units `keep` selects make it; `None` when it does not exist.
    pub fn materialize(&self, keep: &dyn Fn(&Unit) -> bool) -> Option<FileImage> {
        let kept = |kind: HunkKind| self.units.iter().any(|u| u.kind == kind && keep(u));
        match (&self.old, &self.new) {
            (None, Some(new)) => self.units.iter().any(keep).then(|| FileImage::of(new)),
            (Some(old), None) => (!self.units.iter().any(keep)).then(|| FileImage::of(old)),
            (Some(old), Some(new)) => {
                let whole = self.units.iter().find(|u| {
                    matches!(
                        u.kind,
                        HunkKind::Binary | HunkKind::TooLarge | HunkKind::WholeFile
                    )
                });
                if let Some(w) = whole {
                    let side = if keep(w) { new } else { old };
                    let mut img = FileImage::of(side);
                    if self.units.iter().any(|u| u.kind == HunkKind::Rename) {
                        img.path = if kept(HunkKind::Rename) {
                            new.path.clone()
                        } else {
                            old.path.clone()
                        };
                    }
                    return Some(img);
                }
                let selected: Vec<Ranges> = self
                    .units
                    .iter()
                    .filter(|u| u.kind == HunkKind::Text && keep(u))
                    .map(|u| u.ranges)
                    .collect();
                Some(FileImage {
                    path: if kept(HunkKind::Rename) {
                        new.path.clone()
                    } else {
                        old.path.clone()
                    },
                    mode: if kept(HunkKind::Mode) {
                        new.mode
                    } else {
                        old.mode
                    },
                    content: rebuild(&old.content, &new.content, &selected),
                    large: None,
                })
            }
            (None, None) => None,
        }
    }

    pub fn to_wire(&self, approved: &dyn Fn(&str) -> bool) -> FileDiff {
        let renamed = self.status == FileStatus::Renamed;
        FileDiff {
            path: lossy(self.path()),
            old_path: if renamed {
                self.old.as_ref().map(|s| lossy(&s.path))
            } else {
                None
            },
            status: self.status,
            binary: self.binary,
            too_large: self.too_large,
            old_mode: self.old.as_ref().map(|s| format!("{:o}", s.mode)),
            new_mode: self.new.as_ref().map(|s| format!("{:o}", s.mode)),
            hunks: self
                .units
                .iter()
                .map(|u| Hunk {
                    id: u.id.clone(),
                    kind: u.kind,
                    header: u.header.clone(),
                    old_start: u.ranges.old_start,
                    old_lines: u.ranges.old_lines,
                    new_start: u.ranges.new_start,
                    new_lines: u.ranges.new_lines,
                    state: if approved(&u.id) {
                        HunkState::Approved
                    } else {
                        HunkState::Pending
                    },
                    lines: u
                        .lines
                        .iter()
                        .map(|l| DiffLine {
                            kind: l.kind,
                            text: lossy(strip_eol(&l.bytes)),
                            no_newline: l.no_newline,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct WorkDiff {
    pub files: Vec<FileChange>,
}

impl WorkDiff {
    /// Diffs the worktree of `wt` (with untracked files, honouring ignores) against its HEAD.
    pub fn compute(wt: &Repository) -> Result<Self> {
        let head_tree = wt.head()?.peel_to_tree()?;
        let candidates = changed_paths(wt, &head_tree)?;
        if candidates.is_empty() {
            return Ok(WorkDiff::default());
        }
        let mut opts = DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true)
            .ignore_submodules(true)
            .disable_pathspec_match(true);
        for p in &candidates {
            opts.pathspec(&p[..]);
        }
        // Tip against worktree only: the index is a mirror of approvals, never an input.
        let mut diff = wt.diff_tree_to_workdir(Some(&head_tree), Some(&mut opts))?;
        let mut find = DiffFindOptions::new();
        find.renames(true).for_untracked(true);
        diff.find_similar(Some(&mut find))?;
        let root = wt
            .workdir()
            .expect("a session worktree has a workdir")
            .to_path_buf();
        let mut files = Vec::new();
        for delta in diff.deltas() {
            let status = match delta.status() {
                Delta::Added | Delta::Untracked | Delta::Copied => FileStatus::Added,
                Delta::Deleted => FileStatus::Deleted,
                Delta::Modified => FileStatus::Modified,
                Delta::Renamed => FileStatus::Renamed,
                Delta::Typechange => FileStatus::TypeChanged,
                Delta::Unmodified | Delta::Ignored | Delta::Conflicted | Delta::Unreadable => {
                    continue
                }
            };
            let old = if status == FileStatus::Added {
                None
            } else {
                let f = delta.old_file();
                let blob = wt.find_blob(f.id())?;
                Some(Side {
                    path: f.path_bytes().unwrap_or_default().to_vec(),
                    mode: u32::from(f.mode()),
                    content: Arc::new(blob.content().to_vec()),
                    large: None,
                })
            };
            let new = if status == FileStatus::Deleted {
                None
            } else {
                let rel = delta.new_file().path_bytes().unwrap_or_default().to_vec();
                let Some(side) = read_worktree_file(&root, rel)? else {
                    continue;
                };
                Some(side)
            };
            if let Some(fc) = FileChange::build(status, old, new)? {
                files.push(fc);
            }
        }
        Ok(WorkDiff { files })
    }

    pub fn units(&self) -> impl Iterator<Item = (&FileChange, &Unit)> {
        self.files
            .iter()
            .flat_map(|f| f.units.iter().map(move |u| (f, u)))
    }

    /// The ids in `ids` that name no unit of this diff.
    pub fn unknown_ids(&self, ids: &[String]) -> Vec<String> {
        let mut unknown: Vec<String> = ids
            .iter()
            .filter(|id| !self.units().any(|(_, u)| &u.id == *id))
            .cloned()
            .collect();
        unknown.dedup();
        unknown
    }

    pub fn to_wire(&self, approved: &dyn Fn(&str) -> bool) -> shared_protocol::Diff {
        shared_protocol::Diff {
            files: self.files.iter().map(|f| f.to_wire(approved)).collect(),
        }
    }
}

/// Every path where the worktree may differ from the tip: where it differs from the index (found
/// with the index's stat cache, like `git status`, so unchanged files are not read) or where the
/// index differs from the tip (approved work). A superset; the tip-to-worktree diff decides.
fn changed_paths(wt: &Repository, head_tree: &git2::Tree) -> Result<Vec<Vec<u8>>> {
    let index = wt.index()?;
    let mut opts = DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_typechange(true)
        .ignore_submodules(true);
    let worktree = wt.diff_index_to_workdir(Some(&index), Some(&mut opts))?;
    let staged = wt.diff_tree_to_index(Some(head_tree), Some(&index), None)?;
    let mut paths = std::collections::BTreeSet::new();
    for d in worktree.deltas().chain(staged.deltas()) {
        for f in [d.old_file(), d.new_file()] {
            if let Some(p) = f.path_bytes() {
                paths.insert(p.to_vec());
            }
        }
    }
    Ok(paths.into_iter().collect())
}

fn read_worktree_file(root: &Path, rel: Vec<u8>) -> Result<Option<Side>> {
    let abs = root.join(bytes_to_path(&rel));
    let meta = match fs::symlink_metadata(&abs) {
        Ok(m) => m,
        // Vanished between the scan and the read: it is simply not part of this diff.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut large = None;
    let (mode, content) = if meta.file_type().is_symlink() {
        (MODE_LINK, path_to_bytes(&fs::read_link(&abs)?))
    } else if meta.len() > MAX_SHOWN_BYTES as u64 {
        // Too large to show: never held in memory (an agent or a build may drop gigabytes in
        // the worktree). Its id is streamed through git's hasher; the first bytes tell binary.
        use std::io::Read;
        let mut head = Vec::with_capacity(BINARY_SNIFF);
        fs::File::open(&abs)?
            .take(BINARY_SNIFF as u64)
            .read_to_end(&mut head)?;
        large = Some(Large {
            oid: Oid::hash_file(ObjectType::Blob, &abs)?,
            size: meta.len(),
            source: abs.clone(),
        });
        (file_mode(&meta), head)
    } else {
        (file_mode(&meta), fs::read(&abs)?)
    };
    Ok(Some(Side {
        path: rel,
        mode,
        content: Arc::new(content),
        large,
    }))
}

#[cfg(unix)]
fn file_mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o111 != 0 {
        MODE_EXEC
    } else {
        MODE_FILE
    }
}

#[cfg(not(unix))]
fn file_mode(_: &fs::Metadata) -> u32 {
    MODE_FILE
}

impl FileChange {
    /// `path` as the diff will show it once the worktree file holds `content`: the tip's version
    /// against that content, split into the units (and ids) [`WorkDiff::compute`] will give
    /// them. `None` when the content equals the tip's. The worktree is not touched; its file's
    /// mode is kept (a new file's is a plain file's).
    pub fn proposed(wt: &Repository, path: &str, content: &[u8]) -> Result<Option<Self>> {
        let rel = path_to_bytes(Path::new(path));
        let tree = wt.head()?.peel_to_tree()?;
        let old = match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => {
                let blob = wt.find_blob(entry.id())?;
                Some(Side {
                    path: rel.clone(),
                    mode: entry.filemode() as u32,
                    content: Arc::new(blob.content().to_vec()),
                    large: None,
                })
            }
            _ => None,
        };
        let root = wt.workdir().expect("a session worktree has a workdir");
        let mode = match fs::symlink_metadata(root.join(path)) {
            Ok(meta) if meta.file_type().is_file() => file_mode(&meta),
            _ => old.as_ref().map_or(MODE_FILE, |o| o.mode),
        };
        let new = Side {
            path: rel,
            mode,
            content: Arc::new(content.to_vec()),
            large: None,
        };
        let status = if old.is_some() {
            FileStatus::Modified
        } else {
            FileStatus::Added
        };
        if old
            .as_ref()
            .is_some_and(|o| o.mode == new.mode && o.content == new.content)
        {
            return Ok(None);
        }
        Self::build(status, old, Some(new))
    }

    fn build(status: FileStatus, old: Option<Side>, new: Option<Side>) -> Result<Option<Self>> {
        let empty: &[u8] = &[];
        let old_bytes = old.as_ref().map(|s| &s.content[..]).unwrap_or(empty);
        let new_bytes = new.as_ref().map(|s| &s.content[..]).unwrap_or(empty);
        let old_path = old.as_ref().map(|s| &s.path[..]).unwrap_or(empty);
        let new_path = new.as_ref().map(|s| &s.path[..]).unwrap_or(empty);
        let (old_size, new_size) = (
            old.as_ref().map_or(0, Side::size),
            new.as_ref().map_or(0, Side::size),
        );
        let binary = is_binary(old_bytes) || is_binary(new_bytes);
        let too_large =
            !binary && (old_size > MAX_SHOWN_BYTES as u64 || new_size > MAX_SHOWN_BYTES as u64);
        let link = [&old, &new]
            .into_iter()
            .flatten()
            .any(|s| s.mode == MODE_LINK);
        let mut units = Vec::new();

        if let (Some(o), Some(n)) = (&old, &new) {
            if o.path != n.path {
                units.push(Unit::whole(
                    HunkKind::Rename,
                    format!("rename {} → {}", lossy(&o.path), lossy(&n.path)),
                    IdHasher::new("rename", old_path, new_path).finish(),
                    Vec::new(),
                ));
            }
            if o.mode != n.mode && !link && status != FileStatus::TypeChanged {
                units.push(Unit::whole(
                    HunkKind::Mode,
                    format!("mode {:o} → {:o}", o.mode, n.mode),
                    IdHasher::new("mode", old_path, new_path)
                        .num(o.mode as u64)
                        .num(n.mode as u64)
                        .finish(),
                    Vec::new(),
                ));
            }
        }

        let (old_oid, new_oid) = (old.as_ref().map(Side::oid), new.as_ref().map(Side::oid));
        let content_changed = old_oid != new_oid;
        let whole_kind = if binary {
            Some(HunkKind::Binary)
        } else if too_large {
            Some(HunkKind::TooLarge)
        } else if link
            || status == FileStatus::TypeChanged
            || (content_changed && old_bytes.is_empty() && new_bytes.is_empty())
        {
            Some(HunkKind::WholeFile)
        } else {
            None
        };
        if let Some(kind) = whole_kind.filter(|_| content_changed) {
            let header = match kind {
                HunkKind::Binary => "binary file".to_owned(),
                HunkKind::TooLarge => {
                    format!("file too large to show ({old_size} → {new_size} bytes)")
                }
                _ if link => "symlink".to_owned(),
                _ => "whole file".to_owned(),
            };
            let lines = if kind == HunkKind::WholeFile {
                whole_lines(old_bytes, new_bytes, &old, &new)
            } else {
                Vec::new()
            };
            let id = IdHasher::new(kind_tag(kind), old_path, new_path)
                .bytes(b'o', blob_id(old_oid).as_bytes())
                .bytes(b'n', blob_id(new_oid).as_bytes())
                .num(old.as_ref().map_or(0, |s| s.mode) as u64)
                .num(new.as_ref().map_or(0, |s| s.mode) as u64)
                .finish();
            units.push(Unit::whole(kind, header, id, lines));
        } else if whole_kind.is_none() && content_changed {
            units.extend(text_units(old_bytes, new_bytes, old_path, new_path)?);
        }
        if units.is_empty() {
            return Ok(None);
        }
        Ok(Some(FileChange {
            status,
            old,
            new,
            binary,
            too_large,
            units,
        }))
    }
}

impl Unit {
    fn whole(kind: HunkKind, header: String, id: String, lines: Vec<Line>) -> Self {
        Unit {
            id,
            kind,
            header,
            ranges: Ranges {
                old_start: 0,
                old_lines: 0,
                new_start: 0,
                new_lines: 0,
            },
            lines,
        }
    }
}

fn kind_tag(kind: HunkKind) -> &'static str {
    match kind {
        HunkKind::Text => "text",
        HunkKind::Binary => "binary",
        HunkKind::TooLarge => "too_large",
        HunkKind::Rename => "rename",
        HunkKind::Mode => "mode",
        HunkKind::WholeFile => "whole",
    }
}

fn whole_lines(old: &[u8], new: &[u8], o: &Option<Side>, n: &Option<Side>) -> Vec<Line> {
    let mut lines = Vec::new();
    if o.is_some() && !old.is_empty() {
        lines.push(Line {
            kind: LineKind::Del,
            bytes: old.to_vec(),
            no_newline: !old.ends_with(b"\n"),
        });
    }
    if n.is_some() && !new.is_empty() {
        lines.push(Line {
            kind: LineKind::Add,
            bytes: new.to_vec(),
            no_newline: !new.ends_with(b"\n"),
        });
    }
    lines
}

fn text_units(old: &[u8], new: &[u8], old_path: &[u8], new_path: &[u8]) -> Result<Vec<Unit>> {
    let mut opts = DiffOptions::new();
    opts.context_lines(CONTEXT_LINES)
        .interhunk_lines(0)
        .force_text(true);
    let patch = Patch::from_buffers(old, None, new, None, Some(&mut opts))?;
    let mut units = Vec::with_capacity(patch.num_hunks());
    for h in 0..patch.num_hunks() {
        let (hunk, n) = patch.hunk(h)?;
        let ranges = Ranges {
            old_start: hunk.old_start(),
            old_lines: hunk.old_lines(),
            new_start: hunk.new_start(),
            new_lines: hunk.new_lines(),
        };
        let mut hasher = IdHasher::new("text", old_path, new_path);
        hasher
            .num(ranges.old_start as u64)
            .num(ranges.old_lines as u64);
        let mut lines: Vec<Line> = Vec::with_capacity(n);
        for l in 0..n {
            let line = patch.line_in_hunk(h, l)?;
            let kind = match line.origin() {
                ' ' => LineKind::Context,
                '+' => LineKind::Add,
                '-' => LineKind::Del,
                // "\ No newline at end of file" markers belong to the line before them.
                _ => {
                    if let Some(prev) = lines.last_mut() {
                        prev.no_newline = true;
                    }
                    continue;
                }
            };
            hasher.bytes(line.origin() as u8, line.content());
            lines.push(Line {
                kind,
                bytes: line.content().to_vec(),
                no_newline: false,
            });
        }
        let header = String::from_utf8_lossy(hunk.header()).trim_end().to_owned();
        units.push(Unit {
            id: hasher.finish(),
            kind: HunkKind::Text,
            header,
            ranges,
            lines,
        });
    }
    Ok(units)
}

fn is_binary(b: &[u8]) -> bool {
    b[..b.len().min(BINARY_SNIFF)].contains(&0)
}

fn blob_id(oid: Option<Oid>) -> String {
    oid.map(|o| o.to_string()).unwrap_or_default()
}

fn strip_eol(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(unix)]
pub fn bytes_to_path(b: &[u8]) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(b))
}

#[cfg(unix)]
pub fn path_to_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
pub fn bytes_to_path(b: &[u8]) -> &Path {
    Path::new(std::str::from_utf8(b).unwrap_or_default())
}

#[cfg(not(unix))]
pub fn path_to_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}
