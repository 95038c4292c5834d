use serde::{Deserialize, Serialize};
use specta::Type;

use crate::FileDiff;

/// One edit block of the agent's reply, seen while the reply still streams: what the file will
/// look like once Aider applies it. Display only — the hunks in `file` become reviewable when
/// the turn's real diff arrives (with the same ids, when the edit applies as proposed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditProposal {
    pub prompt_id: String,
    /// Which answer of the prompt (0-based): an `agent.text_discarded` starts the next one and
    /// withdraws the proposals of the one before.
    pub answer: u32,
    /// The block's place among the edit blocks of its answer (0-based, in reply order). A later
    /// `edit.proposed` with the same `prompt_id`, `answer` and `index` replaces this one (e.g.
    /// when Aider reports that the block did not apply).
    pub index: u32,
    /// The file the block edits, relative to the worktree (as the reply names it).
    pub path: String,
    /// Aider's edit format the block was written in: `diff`, `diff-fenced`, `whole`, `udiff`.
    pub edit_format: String,
    pub status: ProposalStatus,
    /// Why the block will not apply (Aider's own words once it has said them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The file once this block and the answer's earlier blocks are applied, against the
    /// session's branch tip: the same shape and hunk ids as `GET /sessions/{id}/diff` will have.
    /// `null` when the block will not apply, or when the file would equal the tip.
    #[serde(default)]
    pub file: Option<FileDiff>,
    /// The ids of the hunks in `file` this block wrote (the others were there before it).
    #[serde(default)]
    pub block_hunks: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Complete and matching the file: Aider will write this when the reply ends.
    Proposed,
    /// The block does not match the file, names a file outside the worktree, or one that does
    /// not exist: shown, never applied.
    WillNotApply,
}
