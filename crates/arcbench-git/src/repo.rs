//! Opening the user's repository and resolving a session's base.

use std::path::Path;

use git2::{BranchType, ErrorCode, Repository};

use crate::{GitError, Oid, Result};

/// Opens the user's repository at exactly `path` (no upward search: a session must never land
/// in a parent repository the user did not name) and checks that sessions can start from it.
pub fn open_user_repo(path: &Path) -> Result<Repository> {
    let repo = Repository::open_ext(
        path,
        git2::RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|e| match e.code() {
        ErrorCode::NotFound => GitError::NotARepo(path.to_path_buf()),
        _ => GitError::Git(e),
    })?;
    if repo.is_bare() {
        return Err(GitError::Bare(path.to_path_buf()));
    }
    match repo.head() {
        Ok(_) => {}
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => {
            return Err(GitError::NoCommits(path.to_path_buf()))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(repo)
}

/// Where a session starts: a commit, and the branch it came from when it came from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub commit: Oid,
    pub branch: Option<String>,
}

/// Resolves `base` (a branch, tag or commit); `None` means the checked-out branch.
pub fn resolve_base(repo: &Repository, base: Option<&str>) -> Result<Base> {
    let Some(name) = base else {
        let head = repo.head()?;
        if !head.is_branch() {
            return Err(GitError::DetachedHead);
        }
        let branch = head.shorthand().ok().map(str::to_owned);
        return Ok(Base {
            commit: head.peel_to_commit()?.id(),
            branch,
        });
    };
    if name.trim().is_empty() || name.starts_with('-') {
        return Err(GitError::UnknownRef(name.to_owned()));
    }
    if let Ok(branch) = repo.find_branch(name, BranchType::Local) {
        return Ok(Base {
            commit: branch.get().peel_to_commit()?.id(),
            branch: Some(name.to_owned()),
        });
    }
    let commit = repo
        .revparse_single(name)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| GitError::UnknownRef(name.to_owned()))?;
    Ok(Base {
        commit: commit.id(),
        branch: None,
    })
}
