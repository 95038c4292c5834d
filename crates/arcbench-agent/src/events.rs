/// What an agent reports while it works on a prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// Streamed answer text, in order.
    Text(String),
    /// The text streamed so far no longer stands (a retry or follow-up starts over).
    TextDiscarded {
        reason: String,
    },
    Log {
        level: LogLevel,
        line: String,
    },
    /// A question the agent asked and how it was answered.
    Confirm {
        question: String,
        subject: Option<String>,
        answer: bool,
    },
    /// Files really written to disk (worktree-relative; absolute when outside the worktree,
    /// which the host treats as an alarm).
    FilesWritten(Vec<String>),
    /// Something the agent tried outside its worktree, refused by the bridge.
    Refused {
        /// `read`, `write`, `create` or `add`.
        action: String,
        /// The path as the agent named it.
        path: String,
        reason: String,
    },
    /// An edit block of the streaming answer is complete (nothing is written yet).
    Proposed(ProposedEdit),
    /// One HTTP request's usage, as the API reported it.
    Usage(RawUsage),
    /// The chat after this prompt, to restore into a later agent process.
    History(crate::Transcript),
    /// The last event of a prompt.
    Finished(Outcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Cancelled,
    Failed { reason: String, status: Option<u16> },
}

/// Anthropic's raw usage fields for one request; the host prices them itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawUsage {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    /// The stream was cut before its final usage (cancel, in-stream error).
    pub partial: bool,
}

/// One edit block of an answer as the agent will apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedEdit {
    /// Which answer of the prompt (a `TextDiscarded` starts the next).
    pub answer: u32,
    /// The block's place in its answer.
    pub index: u32,
    /// Worktree-relative, as the reply names it.
    pub path: String,
    pub edit_format: String,
    /// Why it will not apply; `None` when it will.
    pub reason: Option<String>,
    /// The whole file once the block is applied; `None` when it will not apply.
    pub content: Option<String>,
}
