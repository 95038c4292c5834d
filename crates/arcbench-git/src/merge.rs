//! Landing a session's commits on its base branch.

use std::path::PathBuf;

use git2::build::CheckoutBuilder;
use git2::{BranchType, Repository, StatusOptions};

use crate::review::signature;
use crate::{GitError, Oid, Result};

/// Fast-forwards `base_branch` to `session_tip`, or makes a merge commit when the base moved on.
/// Where `base_branch` is checked out (the user's checkout or another worktree), that checkout is
/// updated too, but only when it is clean; a dirty checkout or a conflict refuses the merge and
/// changes nothing.
pub fn merge_into_base(
    repo: &Repository,
    base_branch: &str,
    session_tip: Oid,
    message: &str,
) -> Result<Oid> {
    let branch = repo
        .find_branch(base_branch, BranchType::Local)
        .map_err(|_| GitError::UnknownRef(base_branch.to_owned()))?;
    let refname = branch
        .get()
        .name()
        .expect("branch ref name is UTF-8")
        .to_owned();
    let base_tip = branch.get().peel_to_commit()?.id();
    if base_tip == session_tip || repo.graph_descendant_of(base_tip, session_tip)? {
        return Err(GitError::NothingToMerge(base_branch.to_owned()));
    }
    let new_tip = if repo.graph_descendant_of(session_tip, base_tip)? {
        session_tip
    } else {
        let ours = repo.find_commit(base_tip)?;
        let theirs = repo.find_commit(session_tip)?;
        let mut merged = repo.merge_commits(&ours, &theirs, None)?;
        if merged.has_conflicts() {
            let paths = merged
                .conflicts()?
                .flatten()
                .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            return Err(GitError::MergeConflict {
                branch: base_branch.to_owned(),
                paths,
            });
        }
        let tree = repo.find_tree(merged.write_tree_to(repo)?)?;
        let sig = signature(repo)?;
        repo.commit(None, &sig, &sig, message, &tree, &[&ours, &theirs])?
    };

    let checkout = checkout_of(repo, &refname)?;
    if let Some(co) = &checkout {
        ensure_clean(co, base_branch)?;
        // Files first, while HEAD still names the old tip: libgit2 uses HEAD as the baseline, and
        // a safe checkout works out every conflict before writing anything.
        update_checkout(co, new_tip, base_branch)?;
    }
    if repo
        .reference_matching(
            &refname,
            new_tip,
            true,
            base_tip,
            &format!("arcbench: {message}"),
        )
        .is_err()
    {
        if let Some(co) = &checkout {
            // Someone committed on the branch in the same instant: put back the files we wrote,
            // and only those (anything else in that checkout may be theirs by now).
            if let Err(e) = restore_paths(co, new_tip, base_tip) {
                return Err(GitError::Io(std::io::Error::other(format!(
                    "the branch moved during the merge and putting the checkout back failed: {e}"
                ))));
            }
        }
        return Err(GitError::RefMoved(base_branch.to_owned()));
    }
    Ok(new_tip)
}

/// The repository (main or linked worktree) whose HEAD is `refname`, if any.
fn checkout_of(repo: &Repository, refname: &str) -> Result<Option<Repository>> {
    let main = Repository::open(repo.commondir())?;
    let mut candidates = Vec::new();
    if !main.is_bare() {
        candidates.push(main);
    }
    for name in repo.worktrees()?.iter().flatten().flatten() {
        if let Ok(wt) = repo.find_worktree(name) {
            if let Ok(r) = Repository::open_from_worktree(&wt) {
                candidates.push(r);
            }
        }
    }
    for r in candidates {
        let is_it = r
            .head()
            .ok()
            .is_some_and(|h| h.name().is_ok_and(|n| n == refname));
        if is_it {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

fn ensure_clean(co: &Repository, branch: &str) -> Result<()> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = co.statuses(Some(&mut opts))?;
    let dirty: Vec<String> = statuses
        .iter()
        .filter(|s| !s.status().is_empty())
        .map(|s| s.path().unwrap_or("?").to_owned())
        .collect();
    if dirty.is_empty() {
        return Ok(());
    }
    let mut files = dirty.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if dirty.len() > 5 {
        files.push_str(&format!(" and {} more", dirty.len() - 5));
    }
    Err(GitError::CheckoutDirty {
        branch: branch.to_owned(),
        worktree: co.workdir().map(PathBuf::from).unwrap_or_default(),
        files,
    })
}

/// Brings a clean checkout from its HEAD tree to `tip`'s. Safe mode: libgit2 refuses to
/// overwrite anything it did not write itself (untracked or ignored files in the way become
/// conflicts), which is the protection the user's files need, so no git CLI is involved.
fn update_checkout(co: &Repository, tip: Oid, branch: &str) -> Result<()> {
    let tree = co.find_commit(tip)?.tree()?;
    let mut conflicts: Vec<String> = Vec::new();
    let result = {
        let mut cb = CheckoutBuilder::new();
        cb.safe().overwrite_ignored(false);
        cb.notify_on(git2::CheckoutNotificationType::CONFLICT);
        cb.notify(|_, path, _, _, _| {
            conflicts.push(path.map(|p| p.display().to_string()).unwrap_or_default());
            true
        });
        co.checkout_tree(tree.as_object(), Some(&mut cb))
    };
    if !conflicts.is_empty() || result.is_err() {
        if conflicts.is_empty() {
            conflicts.push(
                result
                    .err()
                    .map(|e| e.message().to_owned())
                    .unwrap_or_default(),
            );
        }
        return Err(GitError::MergeConflict {
            branch: branch.to_owned(),
            paths: conflicts,
        });
    }
    Ok(())
}

/// Undoes a checkout from `from`'s tree to `to`'s for exactly the paths that differ between the
/// two trees: each gets `to`'s content and mode back in the working tree and the index (or is
/// removed when `to` has no such path). Nothing else in the checkout is touched, so a file the
/// user changed meanwhile elsewhere stays as they left it.
pub fn restore_paths(co: &Repository, from: Oid, to: Oid) -> Result<()> {
    use std::collections::BTreeSet;
    let root = co
        .workdir()
        .ok_or_else(|| GitError::Bare(PathBuf::new()))?
        .to_path_buf();
    let to_tree = co.find_commit(to)?.tree()?;
    let from_tree = co.find_commit(from)?.tree()?;
    let diff = co.diff_tree_to_tree(Some(&to_tree), Some(&from_tree), None)?;
    let paths: BTreeSet<PathBuf> = diff
        .deltas()
        .flat_map(|d| [d.old_file().path(), d.new_file().path()])
        .flatten()
        .map(PathBuf::from)
        .collect();
    let mut index = co.index()?;
    for rel in &paths {
        let abs = root.join(rel);
        match to_tree.get_path(rel) {
            Ok(entry) => {
                let blob = co.find_blob(entry.id())?;
                crate::review::write_now(&root, &abs, entry.filemode() as u32, blob.content())?;
                index.add_path(rel)?;
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                match std::fs::remove_file(&abs) {
                    Ok(()) => crate::review::remove_empty_parents(&root, &abs),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
                index.remove_path(rel)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    index.write()?;
    Ok(())
}
