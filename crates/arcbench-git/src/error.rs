use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not a git repository")]
    NotARepo(PathBuf),
    #[error("{0} is a bare repository; ArcBench needs a repository with a working tree")]
    Bare(PathBuf),
    #[error("{0} has no commits yet; make a first commit so sessions have a base")]
    NoCommits(PathBuf),
    #[error("HEAD is detached; name a base branch or commit for the session")]
    DetachedHead,
    #[error("unknown base ref `{0}`")]
    UnknownRef(String),
    #[error(
        "the session worktree {0} is missing (deleted by hand?); delete the session to clean up"
    )]
    WorktreeMissing(PathBuf),
    #[error("stale or unknown hunk id(s): {}; fetch the diff again", .0.join(", "))]
    HunkStale(Vec<String>),
    #[error("no approved hunks to apply")]
    NothingApproved,
    #[error("nothing to undo: the session branch is at its base commit")]
    NothingToUndo,
    #[error(
        "the session started from a commit, not a branch, so there is no branch to merge into"
    )]
    NoBaseBranch,
    #[error("nothing to merge: `{0}` already contains the session's commits")]
    NothingToMerge(String),
    #[error("`{branch}` is checked out at {worktree} with uncommitted changes ({files}); commit or stash them first")]
    CheckoutDirty {
        branch: String,
        worktree: PathBuf,
        files: String,
    },
    #[error("merging into `{branch}` conflicts in: {}", .paths.join(", "))]
    MergeConflict { branch: String, paths: Vec<String> },
    #[error("`{0}` moved while merging; try again")]
    RefMoved(String),
    #[error("refusing to write `{path}`: `{link}` is a symbolic link, which could lead outside the worktree")]
    ThroughSymlink { path: PathBuf, link: PathBuf },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
