//! Git mechanics for ArcBench sessions, on libgit2 only.
//!
//! The host owns the diff: [`diff::WorkDiff`] splits a session worktree's changes against its
//! branch tip into units (git hunks, or whole-file units for binary, too-large, rename and mode
//! changes) with content-derived ids. Every review operation rebuilds file images from a selection
//! of those units ([`diff::FileChange::materialize`]) and writes them to the index, the worktree or
//! a commit — one mechanism for approve, reject, apply and undo.

pub mod diff;
mod error;
mod hunk_id;
mod image;
pub mod merge;
pub mod repo;
pub mod review;
pub mod worktree;

pub use error::GitError;
pub use git2::{BranchType, Oid, Repository};

pub type Result<T> = std::result::Result<T, GitError>;
