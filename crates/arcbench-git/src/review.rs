//! Review operations on a session worktree. Each rebuilds file images from a selection of units
//! ([`FileChange::materialize`]) and writes them where the operation needs them: the index
//! (approve), the worktree (reject), a commit (apply).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, IndexEntry, IndexTime, Oid, Repository, ResetType, Signature};

use crate::diff::{bytes_to_path, FileChange, FileImage, WorkDiff, MODE_EXEC, MODE_LINK};
use crate::image::selection_in;
use crate::{GitError, Result};

pub type Ids = HashSet<String>;

/// Refuses the whole batch when any id is not a unit of `diff`.
pub fn check_ids(diff: &WorkDiff, ids: &[String]) -> Result<()> {
    let unknown = diff.unknown_ids(ids);
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(GitError::HunkStale(unknown))
    }
}

/// Makes the index mirror the approved units: HEAD plus exactly what is approved, so
/// `git diff --cached` in the worktree shows the approved work. Entries staged by others
/// (Aider `git add`s the files it creates) are put back to HEAD.
pub fn sync_index(wt: &Repository, diff: &WorkDiff, approved: &Ids) -> Result<()> {
    let mut index = wt.index()?;
    let head_tree = wt.head()?.peel_to_tree()?;
    let mut covered: HashSet<Vec<u8>> = HashSet::new();
    for fc in &diff.files {
        let target = fc.materialize(&|u| approved.contains(&u.id));
        set_index_paths(wt, &mut index, fc, target.as_ref())?;
        covered.extend(fc.paths().into_iter().map(<[u8]>::to_vec));
    }
    let staged = wt.diff_tree_to_index(Some(&head_tree), Some(&index), None)?;
    let mut strays = Vec::new();
    for d in staged.deltas() {
        for f in [d.old_file(), d.new_file()] {
            if let Some(p) = f.path_bytes() {
                if !covered.contains(p) {
                    strays.push(p.to_vec());
                }
            }
        }
    }
    for p in strays {
        match head_tree.get_path(bytes_to_path(&p)) {
            Ok(entry) => {
                let blob = wt.find_blob(entry.id())?;
                add_entry(&mut index, &p, entry.filemode() as u32, blob.content())?;
            }
            Err(_) => index.remove_path(bytes_to_path(&p))?,
        }
    }
    index.write()?;
    Ok(())
}

fn set_index_paths(
    wt: &Repository,
    index: &mut git2::Index,
    fc: &FileChange,
    target: Option<&FileImage>,
) -> Result<()> {
    for p in fc.paths() {
        if target.is_none_or(|t| t.path != p) {
            index.remove_path(bytes_to_path(p))?;
        }
    }
    if let Some(t) = target {
        let oid = t.oid();
        let current = index.get_path(bytes_to_path(&t.path), 0);
        if !current.is_some_and(|e| e.id == oid && e.mode == t.mode) {
            if t.large.is_some() {
                // Streamed into git from disk, never through memory.
                let mut entry = index_entry(&t.path, t.mode);
                entry.id = t.write_blob(wt)?;
                index.add(&entry)?;
            } else {
                add_entry(index, &t.path, t.mode, &t.content)?;
            }
        }
    }
    Ok(())
}

fn add_entry(index: &mut git2::Index, path: &[u8], mode: u32, content: &[u8]) -> Result<()> {
    index.add_frombuffer(&index_entry(path, mode), content)?;
    Ok(())
}

fn index_entry(path: &[u8], mode: u32) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: Oid::ZERO_SHA1,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.to_vec(),
    }
}

/// Reverts exactly the `rejected` units in the worktree. All new file contents are written to
/// temporary files first; only when every one is written are they moved into place, so a
/// failure part-way leaves the worktree as it was.
pub fn revert_units(wt: &Repository, diff: &WorkDiff, rejected: &Ids) -> Result<()> {
    let root = wt.workdir().expect("session worktree").to_path_buf();
    let mut removals: Vec<PathBuf> = Vec::new();
    let mut writes: Vec<FileImage> = Vec::new();
    for fc in diff
        .files
        .iter()
        .filter(|f| f.units.iter().any(|u| rejected.contains(&u.id)))
    {
        let target = fc.materialize(&|u| !rejected.contains(&u.id));
        for p in fc.paths() {
            if target.as_ref().is_none_or(|t| t.path != p) {
                removals.push(root.join(bytes_to_path(p)));
            }
        }
        writes.extend(target);
    }
    // Every destination is checked before anything is written or removed.
    for dest in removals
        .iter()
        .cloned()
        .chain(writes.iter().map(|img| root.join(bytes_to_path(&img.path))))
    {
        no_symlinked_parent(&root, &dest)?;
    }
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    for img in &writes {
        let dest = root.join(bytes_to_path(&img.path));
        let written = match &img.large {
            Some((_, Some(source))) => copy_temp(&dest, img.mode, source),
            _ => write_temp(&dest, img.mode, &img.content),
        };
        match written {
            Ok(tmp) => staged.push((tmp, dest)),
            Err(e) => {
                for (tmp, _) in staged {
                    let _ = fs::remove_file(tmp);
                }
                return Err(e);
            }
        }
    }
    for path in &removals {
        match fs::remove_file(path) {
            Ok(()) => remove_empty_parents(&root, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    for (tmp, dest) in staged {
        fs::rename(tmp, dest)?;
    }
    Ok(())
}

/// Refuses a destination under `root` reached through a symbolic link: a folder of the worktree
/// that is a link (committed, or made by the agent) would carry the host's own write or removal
/// outside the worktree. Folders that do not exist yet are fine (they are made as real folders).
pub(crate) fn no_symlinked_parent(root: &Path, dest: &Path) -> Result<()> {
    let rel = dest.strip_prefix(root).unwrap_or(dest);
    let mut cur = root.to_path_buf();
    let parents: Vec<_> = rel
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    for part in parents {
        cur.push(part);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(GitError::ThroughSymlink {
                    path: rel.to_path_buf(),
                    link: cur.strip_prefix(root).unwrap_or(&cur).to_path_buf(),
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Writes one file (or symlink) in place through a temporary file and a rename, refusing a
/// destination behind a symlinked folder.
pub(crate) fn write_now(root: &Path, dest: &Path, mode: u32, content: &[u8]) -> Result<()> {
    no_symlinked_parent(root, dest)?;
    let tmp = write_temp(dest, mode, content)?;
    fs::rename(&tmp, dest).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })?;
    Ok(())
}

/// A temporary file beside `dest` (its folder made if needed).
fn temp_beside(dest: &Path) -> Result<PathBuf> {
    let dir = dest.parent().expect("worktree file has a parent");
    fs::create_dir_all(dir)?;
    if dir.is_file() {
        return Err(GitError::Io(std::io::Error::other(format!(
            "{} is a file",
            dir.display()
        ))));
    }
    Ok(dir.join(format!(
        ".arcbench-tmp-{}",
        std::process::id() as u64 * 1_000_003 + unique()
    )))
}

/// Like [`write_temp`] for a content too large to hold: copied from its file by streaming.
fn copy_temp(dest: &Path, mode: u32, source: &Path) -> Result<PathBuf> {
    let tmp = temp_beside(dest)?;
    fs::copy(source, &tmp)?;
    set_executable(&tmp, mode == MODE_EXEC)?;
    Ok(tmp)
}

fn write_temp(dest: &Path, mode: u32, content: &[u8]) -> Result<PathBuf> {
    let tmp = temp_beside(dest)?;
    if mode == MODE_LINK {
        symlink(bytes_to_path(content), &tmp)?;
    } else {
        fs::write(&tmp, content)?;
        set_executable(&tmp, mode == MODE_EXEC)?;
    }
    Ok(tmp)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[cfg(unix)]
fn symlink(target: &Path, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

#[cfg(not(unix))]
fn symlink(target: &Path, at: &Path) -> std::io::Result<()> {
    fs::write(at, target.to_string_lossy().as_bytes())
}

#[cfg(unix)]
fn set_executable(p: &Path, exec: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        p,
        fs::Permissions::from_mode(if exec { 0o755 } else { 0o644 }),
    )
}

#[cfg(not(unix))]
fn set_executable(_: &Path, _: bool) -> std::io::Result<()> {
    Ok(())
}

/// Like git, a folder emptied by removing the last file in it goes too (never the root).
pub(crate) fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Commits exactly the approved units on the worktree's branch; the worktree is not touched, so
/// pending work stays as it was. Returns the new commit.
pub fn commit_approved(
    wt: &Repository,
    diff: &WorkDiff,
    approved: &Ids,
    message: &str,
) -> Result<Oid> {
    let head = wt.head()?.peel_to_commit()?;
    let tree = head.tree()?;
    let mut update = TreeUpdateBuilder::new();
    let mut index = wt.index()?;
    let mut any = false;
    for fc in diff
        .files
        .iter()
        .filter(|f| f.units.iter().any(|u| approved.contains(&u.id)))
    {
        any = true;
        let target = fc.materialize(&|u| approved.contains(&u.id));
        for p in fc.paths() {
            if target.as_ref().is_none_or(|t| t.path != p)
                && tree.get_path(bytes_to_path(p)).is_ok()
            {
                update.remove(p);
            }
        }
        if let Some(t) = &target {
            update.upsert(&t.path[..], t.write_blob(wt)?, file_mode(t.mode));
        }
        set_index_paths(wt, &mut index, fc, target.as_ref())?;
    }
    if !any {
        return Err(GitError::NothingApproved);
    }
    let new_tree = wt.find_tree(update.create_updated(wt, &tree)?)?;
    let sig = signature(wt)?;
    let commit = wt.commit(Some("HEAD"), &sig, &sig, message, &new_tree, &[&head])?;
    index.write()?;
    Ok(commit)
}

fn file_mode(mode: u32) -> FileMode {
    match mode {
        MODE_EXEC => FileMode::BlobExecutable,
        MODE_LINK => FileMode::Link,
        _ => FileMode::Blob,
    }
}

/// The user's configured identity, or a neutral one so a fresh machine can still commit.
pub fn signature(repo: &Repository) -> Result<Signature<'static>> {
    match repo.signature() {
        Ok(s) => Ok(s),
        Err(_) => Ok(Signature::now("ArcBench", "arcbench@localhost")?),
    }
}

/// Soft-resets the last commit of the branch, never past `base`. Returns (new tip, undone commit).
/// The index keeps the undone commit's content, so [`approvals_from_index`] finds its changes
/// approved again.
pub fn undo_last(wt: &Repository, base: Oid) -> Result<(Oid, Oid)> {
    let head = wt.head()?.peel_to_commit()?;
    if head.id() == base || !wt.graph_descendant_of(head.id(), base)? {
        return Err(GitError::NothingToUndo);
    }
    let parent = head.parent(0)?;
    wt.reset(parent.as_object(), ResetType::Soft, None)?;
    Ok((parent.id(), head.id()))
}

/// The units whose change the index already holds. A file whose index image is not HEAD plus some
/// set of its units (edited some other way) counts as having none approved.
pub fn approvals_from_index(wt: &Repository, diff: &WorkDiff) -> Result<Ids> {
    let index = wt.index()?;
    let mut approved = Ids::new();
    for fc in &diff.files {
        let image = index_image(wt, &index, fc)?;
        let mut kept: Ids = Ids::new();
        let text: Vec<_> = fc
            .units
            .iter()
            .filter(|u| u.kind == shared_protocol::HunkKind::Text)
            .collect();
        match (&fc.old, &fc.new, &image) {
            (None, Some(_), Some(_)) | (Some(_), None, None) => {
                kept.extend(fc.units.iter().map(|u| u.id.clone()));
            }
            (Some(old), Some(new), Some(img)) => {
                for u in &fc.units {
                    let take = match u.kind {
                        shared_protocol::HunkKind::Rename => img.path == new.path,
                        shared_protocol::HunkKind::Mode => img.mode == new.mode,
                        shared_protocol::HunkKind::Text => false,
                        _ => img.oid() == new.oid(),
                    };
                    if take {
                        kept.insert(u.id.clone());
                    }
                }
                let ranges: Vec<_> = text.iter().map(|u| u.ranges).collect();
                if let Some(sel) = selection_in(&old.content, &new.content, &ranges, &img.content) {
                    kept.extend(
                        text.iter()
                            .zip(sel)
                            .filter(|(_, t)| *t)
                            .map(|(u, _)| u.id.clone()),
                    );
                }
            }
            _ => {}
        }
        if fc.materialize(&|u| kept.contains(&u.id)) == image {
            approved.extend(kept);
        }
    }
    Ok(approved)
}

fn index_image(wt: &Repository, index: &git2::Index, fc: &FileChange) -> Result<Option<FileImage>> {
    let candidates = [&fc.new, &fc.old];
    for side in candidates.into_iter().flatten() {
        if let Some(e) = index.get_path(bytes_to_path(&side.path), 0) {
            // A staged file too large to show is known by its id, like its worktree side.
            let (size, _) = wt.odb()?.read_header(e.id)?;
            let large = size > crate::diff::MAX_SHOWN_BYTES;
            return Ok(Some(FileImage {
                path: side.path.clone(),
                mode: e.mode,
                content: if large {
                    Vec::new()
                } else {
                    wt.find_blob(e.id)?.content().to_vec()
                },
                large: large.then_some((e.id, None)),
            }));
        }
    }
    Ok(None)
}
