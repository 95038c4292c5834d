use serde::{Deserialize, Serialize};
use specta::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Worktree present, no prompt running.
    Idle,
    /// A prompt is running in the session.
    Running,
    /// The worktree folder vanished (deleted by hand); delete the session to clean up.
    WorktreeMissing,
    /// Deleted: worktree removed, history kept.
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub id: String,
    /// `session/<id>`.
    pub branch: String,
    pub base_commit: String,
    /// The branch the session started from, when it started from a branch; merge lands there.
    pub base_branch: Option<String>,
    pub state: SessionState,
    /// The repository's name as listed in `/status`.
    pub repo: String,
    pub title: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitInfo {
    pub sha: String,
    pub message: String,
}
