//! Request and response bodies of the host API.

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::{CommitInfo, Event, Prompt, Session};

#[derive(Debug, Clone, Default, Serialize, Deserialize, Type)]
pub struct CreateSessionRequest {
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct HunkIdsRequest {
    pub ids: Vec<String>,
    /// Reject only: why, for the agent's next round.
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, Type)]
pub struct ApplyRequest {
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct CommitResponse {
    pub commit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct SessionsResponse {
    pub sessions: Vec<Session>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: Session,
    pub prompts: Vec<Prompt>,
    pub commits: Vec<CommitInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct EventsResponse {
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct AgentStatus {
    pub kind: String,
    pub available: bool,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct Status {
    pub name: String,
    pub version: String,
    pub demo: bool,
    pub repos: Vec<String>,
    pub agent: AgentStatus,
    pub sessions_active: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct DeletedResponse {
    pub deleted: bool,
    pub branch_deleted: bool,
}
