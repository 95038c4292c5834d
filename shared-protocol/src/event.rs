use serde::{Deserialize, Serialize};
use specta::Type;

use crate::{AgentStatus, CommitInfo, Prompt, PromptState, ReviewNote, Session, Usage};

/// One entry of the host's event log. `seq` is global, persisted, gapless and strictly increasing;
/// a client resumes with `since=<last seq>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    #[specta(type = specta_typescript::Number)]
    pub seq: u64,
    pub ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[serde(rename = "prompt.queued")]
    PromptQueued { prompt: Prompt },
    /// A queued prompt changed without running: held by the budget, released, or edited.
    #[serde(rename = "prompt.updated")]
    PromptUpdated { prompt: Prompt },
    #[serde(rename = "prompt.started")]
    PromptStarted { prompt_id: String },
    #[serde(rename = "agent.text")]
    AgentText { prompt_id: String, chunk: String },
    /// The text streamed so far for this prompt no longer stands (a retry or follow-up).
    #[serde(rename = "agent.text_discarded")]
    AgentTextDiscarded { prompt_id: String, reason: String },
    #[serde(rename = "agent.log")]
    AgentLog {
        prompt_id: String,
        level: String,
        line: String,
    },
    #[serde(rename = "agent.confirm")]
    AgentConfirm {
        prompt_id: String,
        question: String,
        subject: Option<String>,
        answer: bool,
    },
    #[serde(rename = "prompt.finished")]
    PromptFinished {
        prompt_id: String,
        state: PromptState,
        usage: Usage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An edit block of the streaming reply is complete: what it will change (display only).
    #[serde(rename = "edit.proposed")]
    EditProposed { proposal: crate::EditProposal },
    /// The running prompt's usage while its reply streams: the exact figures of its finished
    /// requests plus an estimate of the one in flight (output tokens from the streamed text).
    /// Sent at most twice a second while text arrives; `usage.updated` and `prompt.finished`
    /// carry the API's exact figures.
    #[serde(rename = "usage.estimated")]
    UsageEstimated {
        prompt_id: String,
        model: String,
        usage: Usage,
        /// Always true: these numbers are an estimate.
        estimated: bool,
    },
    /// One API request was made; `usage` is that request's, the totals are after it.
    #[serde(rename = "usage.updated")]
    UsageUpdated {
        prompt_id: Option<String>,
        model: String,
        usage: Usage,
        session_total: Usage,
        today_total: Usage,
    },
    /// A reviewer commented on (or rejected) a hunk; the next revision will use it.
    #[serde(rename = "review.noted")]
    ReviewNoted { note: ReviewNote },
    #[serde(rename = "budget.warning")]
    BudgetWarning {
        scope: BudgetScope,
        spent_usd: f64,
        limit_usd: f64,
    },
    #[serde(rename = "budget.exceeded")]
    BudgetExceeded {
        scope: BudgetScope,
        spent_usd: f64,
        limit_usd: f64,
    },
    /// The host's agent changed state (being installed, with progress; ready; failed).
    #[serde(rename = "agent.state")]
    AgentState { agent: AgentStatus },
    /// A device redeemed a pairing code.
    #[serde(rename = "device.paired")]
    DevicePaired { device: crate::Device },
    /// A device's key was revoked: refused from now on, its sockets closed.
    #[serde(rename = "device.revoked")]
    DeviceRevoked { device_id: String },
    /// The voice transcriber changed state (installing, with progress; ready; failed).
    #[serde(rename = "transcriber.state")]
    TranscriberState {
        transcriber: crate::TranscriberStatus,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BudgetScope {
    Session,
    Daily,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
            EventBody::DevicePaired { .. } => "device.paired",
            EventBody::TranscriberState { .. } => "transcriber.state",
            EventBody::DeviceRevoked { .. } => "device.revoked",
            EventBody::SessionUpdated { .. } => "session.updated",
            EventBody::SessionDeleted { .. } => "session.deleted",
            EventBody::DiffUpdated { .. } => "diff.updated",
            EventBody::HunkUpdated { .. } => "hunk.updated",
            EventBody::CommitCreated { .. } => "commit.created",
            EventBody::CommitUndone { .. } => "commit.undone",
            EventBody::SessionMerged { .. } => "session.merged",
            EventBody::PromptQueued { .. } => "prompt.queued",
            EventBody::PromptUpdated { .. } => "prompt.updated",
            EventBody::PromptStarted { .. } => "prompt.started",
            EventBody::AgentText { .. } => "agent.text",
            EventBody::AgentTextDiscarded { .. } => "agent.text_discarded",
            EventBody::AgentLog { .. } => "agent.log",
            EventBody::AgentConfirm { .. } => "agent.confirm",
            EventBody::PromptFinished { .. } => "prompt.finished",
            EventBody::UsageUpdated { .. } => "usage.updated",
            EventBody::ReviewNoted { .. } => "review.noted",
            EventBody::BudgetWarning { .. } => "budget.warning",
            EventBody::BudgetExceeded { .. } => "budget.exceeded",
            EventBody::AgentState { .. } => "agent.state",
            EventBody::EditProposed { .. } => "edit.proposed",
            EventBody::UsageEstimated { .. } => "usage.estimated",
        }
    }
}
