//! Request and response bodies of the host API.

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::{CommitInfo, Event, Prompt, Session, Usage};

#[derive(Debug, Clone, Default, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSessionRequest {
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HunkIdsRequest {
    pub ids: Vec<String>,
    /// Reject only: why, for the agent's next round.
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplyRequest {
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitResponse {
    pub commit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionsResponse {
    pub sessions: Vec<Session>,
    /// The newest event's seq when the list was read: stream `/ws?since=` this.
    #[specta(type = specta_typescript::Number)]
    #[serde(default)]
    pub last_seq: u64,
}

/// Everything a client needs to show one session, read in one transaction: it starts from this
/// and streams `/ws?since=<last_seq>`, instead of replaying the whole event log.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSnapshot {
    pub session: Session,
    /// Oldest first, each with its reply text.
    pub prompts: Vec<Prompt>,
    pub commits: Vec<CommitInfo>,
    /// Review notes not yet used by a revision.
    pub notes: Vec<crate::ReviewNote>,
    /// The edit blocks of the prompts' replies as they were proposed while streaming (the
    /// last answer of each prompt), oldest prompt first, each prompt's in block order.
    #[serde(default)]
    pub proposals: Vec<crate::EditProposal>,
    /// The newest event's seq included in this snapshot.
    #[specta(type = specta_typescript::Number)]
    pub last_seq: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: Session,
    pub prompts: Vec<Prompt>,
    pub commits: Vec<CommitInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventsResponse {
    pub events: Vec<Event>,
}

/// Which events to list: those with `seq > since` (`GET /events?since=`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, Type)]
pub struct EventsQuery {
    #[serde(default)]
    #[specta(type = specta_typescript::Number)]
    pub since: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentStatus {
    pub kind: String,
    /// Prompts can run now (`state` is `ready`).
    pub available: bool,
    pub version: Option<String>,
    pub state: AgentState,
    /// While installing: the latest progress line. When failed: why, and how to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where the host's agent stands. Prompts queue while it is `installing` and run once it is
/// `ready`; when it `failed`, they fail with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Installing,
    Ready,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    pub name: String,
    pub version: String,
    pub demo: bool,
    pub repos: Vec<String>,
    pub agent: AgentStatus,
    pub sessions_active: u32,
    pub mesh: crate::MeshStatus,
    pub transcriber: crate::TranscriberStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeletedResponse {
    pub deleted: bool,
    pub branch_deleted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitPromptRequest {
    pub text: String,
    /// Chosen by the client (a UUID); the same id is never run twice.
    pub client_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromptsResponse {
    pub prompts: Vec<Prompt>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelResponse {
    /// False when no prompt was running.
    pub cancelled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyedUsage {
    /// Session id, model name or `YYYY-MM-DD` day, depending on the list.
    pub id: String,
    #[serde(flatten)]
    pub usage: Usage,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetInfo {
    pub session_limit_usd: Option<f64>,
    pub daily_limit_usd: Option<f64>,
    /// Share of a limit at which `budget.warning` is sent.
    pub warning_ratio: f64,
    pub today_spent_usd: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageResponse {
    pub total: Usage,
    /// Today in UTC.
    pub today: Usage,
    pub sessions: Vec<KeyedUsage>,
    pub models: Vec<KeyedUsage>,
    pub days: Vec<KeyedUsage>,
    pub budget: BudgetInfo,
}

/// The spending limits: the body of `PUT /budget`, and what the host stores and enforces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Budget {
    /// USD; `null` for no limit.
    pub session_limit_usd: Option<f64>,
    pub daily_limit_usd: Option<f64>,
    /// Share of a limit at which `budget.warning` is sent, in (0, 1]; default 0.8. Left out of a
    /// `PUT /budget`, the current one stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_ratio: Option<f64>,
}
