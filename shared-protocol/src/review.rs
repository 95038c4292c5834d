use serde::{Deserialize, Serialize};
use specta::Type;

use crate::{Diff, Prompt};

/// What a reviewer said about one hunk: a rejection (with or without a reason) or a comment on a
/// hunk they kept. Notes feed the next revision; each is used once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewNote {
    #[specta(type = specta_typescript::Number)]
    pub id: u64,
    pub hunk_id: String,
    pub path: String,
    pub header: String,
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    pub hunk_state: NoteHunkState,
    /// The hunk as a unified-diff fragment (`-`/`+`/` ` lines), as it was when the note was made.
    pub patch: String,
    pub comment: Option<String>,
    pub created_at: String,
    /// The revision prompt that used this note; `null` while it waits for the next revision.
    pub round_prompt_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoteHunkState {
    Rejected,
    Approved,
    Pending,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentRequest {
    pub hunk_id: String,
    pub comment: String,
}

/// The prompt `revise` would send: shown for a last edit before it is queued.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevisionPreview {
    pub text: String,
    pub files: Vec<String>,
    pub notes: Vec<ReviewNote>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviseRequest {
    /// Same rule as prompts: the same id is never queued twice.
    pub client_id: String,
    /// The edited prompt; default: the preview's text.
    #[serde(default)]
    pub text: Option<String>,
}

/// One round of a session: a prompt, the review notes that caused it (for a revision), and the
/// diff it left behind.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Round {
    pub prompt: Prompt,
    pub notes: Vec<ReviewNote>,
    pub diff: Option<Diff>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryResponse {
    pub rounds: Vec<Round>,
    /// Notes made since the last revision (what `revise` would use now).
    pub pending_notes: Vec<ReviewNote>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoteResponse {
    pub note: ReviewNote,
}
