use serde::{Deserialize, Serialize};
use specta::Type;

use crate::{CommitInfo, Session};

/// One entry of the host's event log. `seq` is global, persisted, gapless and strictly increasing;
/// a client resumes with `since=<last seq>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct Event {
    pub seq: u64,
    pub ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "type")]
pub enum EventBody {
    #[serde(rename = "session.created")]
    SessionCreated { session: Session },
    #[serde(rename = "session.updated")]
    SessionUpdated { session: Session },
    #[serde(rename = "session.deleted")]
    SessionDeleted { branch_deleted: bool },
    /// The session's uncommitted work changed; fetch `GET /sessions/{id}/diff`.
    #[serde(rename = "diff.updated")]
    DiffUpdated {
        files: u32,
        hunks: u32,
        approved: u32,
    },
    #[serde(rename = "hunk.updated")]
    HunkUpdated {
        ids: Vec<String>,
        action: HunkAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    #[serde(rename = "commit.created")]
    CommitCreated { commit: CommitInfo },
    /// `undo` soft-reset `undone`; the branch tip is now `commit`.
    #[serde(rename = "commit.undone")]
    CommitUndone { undone: String, commit: String },
    #[serde(rename = "session.merged")]
    SessionMerged { commit: String, branch: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum HunkAction {
    Approved,
    Rejected,
}

impl EventBody {
    /// The wire `type` of the event.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::SessionCreated { .. } => "session.created",
            EventBody::SessionUpdated { .. } => "session.updated",
            EventBody::SessionDeleted { .. } => "session.deleted",
            EventBody::DiffUpdated { .. } => "diff.updated",
            EventBody::HunkUpdated { .. } => "hunk.updated",
            EventBody::CommitCreated { .. } => "commit.created",
            EventBody::CommitUndone { .. } => "commit.undone",
            EventBody::SessionMerged { .. } => "session.merged",
        }
    }
}
