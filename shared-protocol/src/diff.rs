use serde::{Deserialize, Serialize};
use specta::Type;

/// The uncommitted work of a session: its worktree against its branch tip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diff {
    pub files: Vec<FileDiff>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileDiff {
    /// Path in the worktree (lossy UTF-8 for display; ids, not paths, address hunks).
    pub path: String,
    /// Path before a rename; `null` otherwise.
    pub old_path: Option<String>,
    pub status: FileStatus,
    pub binary: bool,
    /// Set when the file is too large to show line by line; it is still one approvable unit.
    pub too_large: bool,
    pub old_mode: Option<String>,
    pub new_mode: Option<String>,
    pub hunks: Vec<Hunk>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Added,
    Deleted,
    Modified,
    Renamed,
    /// A file became a symlink or the reverse.
    TypeChanged,
}

/// One reviewable unit. Text changes are git hunks; binary, too-large, rename and mode changes are
/// whole units with no lines, named by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hunk {
    pub id: String,
    pub kind: HunkKind,
    pub header: String,
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    pub state: HunkState,
    pub lines: Vec<DiffLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HunkKind {
    Text,
    /// Whole binary file (added, deleted or changed).
    Binary,
    /// Whole file too large to show.
    TooLarge,
    /// The path change of a rename; content changes are separate hunks.
    Rename,
    /// An executable-bit change.
    Mode,
    /// A new empty file, a symlink change or a file/symlink swap.
    WholeFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HunkState {
    Pending,
    Approved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffLine {
    pub kind: LineKind,
    /// The line without its line ending (lossy UTF-8).
    pub text: String,
    /// Set on the last line of a side that has no final newline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_newline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Context,
    Add,
    Del,
}
