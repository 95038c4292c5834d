use serde::{Deserialize, Serialize};
use specta::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromptState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
    /// The host stopped (or crashed) while the prompt ran.
    Interrupted,
}

/// Token totals in Anthropic's raw fields, and the host's cost for them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    #[specta(type = specta_typescript::Number)]
    pub input_tokens: u64,
    #[specta(type = specta_typescript::Number)]
    pub output_tokens: u64,
    #[specta(type = specta_typescript::Number)]
    pub cache_creation_input_tokens: u64,
    #[specta(type = specta_typescript::Number)]
    pub cache_read_input_tokens: u64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Prompt {
    pub id: String,
    pub client_id: String,
    pub text: String,
    pub state: PromptState,
    pub usage: Usage,
    pub created_at: String,
    /// Why a prompt failed, or why a queued one is held (budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default)]
    pub kind: PromptKind,
    /// Worktree files put in the agent's chat before the prompt (a revision's reviewed files).
    #[serde(default)]
    pub files: Vec<String>,
    /// The agent's answer so far (the final one once the prompt finished): what its
    /// `agent.text` chunks add up to, so a client needs no event replay to show it.
    #[serde(default)]
    pub reply: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// Written by the user.
    #[default]
    Prompt,
    /// Built from review notes by `revise`.
    Revision,
}
