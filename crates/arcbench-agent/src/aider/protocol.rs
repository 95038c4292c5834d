//! The bridge's JSON-lines protocol (version 2), defined once: these types are what the host
//! sends and reads, and `bridge/protocol.schema.json` is generated from them ([`schema_json`];
//! a test fails when the committed file is stale). The bridge's own tests validate every line it
//! emits against that schema, so the two sides cannot drift apart silently. The meaning of each
//! message is documented at the top of `bridge/arcbench_bridge.py`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{AgentEvent, LogLevel, Outcome, ProposedEdit, RawUsage};

pub const PROTOCOL: u32 = 2;

/// One message of a chat history, as Aider keeps it (`done_messages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    System,
}

/// A line the host writes to the bridge.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Prompt {
        id: String,
        text: String,
        files: Vec<String>,
    },
    Cancel {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// A fresh bridge continues an earlier chat: its history and files.
    Restore {
        messages: Vec<ChatMessage>,
        files: Vec<String>,
    },
    Shutdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscardReason {
    Retry,
    Reflection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Write,
    Create,
    Add,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Create => "create",
            Action::Add => "add",
        }
    }
}

/// A line the bridge writes to the host.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum BridgeEvent {
    Ready {
        protocol: u32,
        aider_version: String,
        model: String,
        weak_model: Option<String>,
        edit_format: String,
        map_tokens: u32,
        root: String,
        /// False with a litellm other than the pinned one: no `usage` at all, so no cost.
        usage_capture: bool,
    },
    Fatal {
        reason: String,
    },
    Text {
        id: String,
        chunk: String,
    },
    TextDiscarded {
        id: String,
        reason: DiscardReason,
    },
    Log {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        level: Level,
        line: String,
    },
    Confirm {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        question: String,
        subject: Option<String>,
        answer: bool,
    },
    FilesWritten {
        id: String,
        paths: Vec<String>,
    },
    Refused {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        action: Action,
        path: String,
        reason: String,
    },
    Usage {
        /// Absent for a request that finished after its prompt (a background summary).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        model: String,
        input_tokens: u64,
        output_tokens: u64,
        cache_creation_input_tokens: u64,
        cache_read_input_tokens: u64,
        partial: bool,
        background: bool,
    },
    /// One edit block of the streaming answer is complete: the file as it will be once Aider
    /// applies it (and the answer's earlier blocks), or why it will not apply.
    Proposed {
        id: String,
        answer: u32,
        index: u32,
        path: String,
        edit_format: String,
        applies: bool,
        reason: Option<String>,
        /// The whole file after the block; `null` when it does not apply.
        content: Option<String>,
    },
    /// The chat as the next prompt will continue it, sent before each prompt's terminal event.
    History {
        id: String,
        messages: Vec<ChatMessage>,
        files: Vec<String>,
    },
    /// The answer to `restore`.
    Restored {
        messages: u32,
        files: Vec<String>,
    },
    Done {
        id: String,
    },
    Cancelled {
        id: String,
    },
    Failed {
        id: String,
        reason: String,
        status: Option<u16>,
        error_type: Option<String>,
    },
}

/// `{"commands": <schema of a command line>, "events": <schema of an event line>}`, the file
/// the bridge's tests validate against.
pub fn schema_json() -> String {
    let doc = serde_json::json!({
        "$comment": "Generated from crates/arcbench-agent/src/aider/protocol.rs; do not edit (UPDATE_SCHEMA=1 cargo test -p arcbench-agent --test protocol_schema).",
        "protocol": PROTOCOL,
        "commands": schemars::schema_for!(Command),
        "events": schemars::schema_for!(BridgeEvent),
    });
    serde_json::to_string_pretty(&doc).expect("schemas serialize") + "\n"
}

impl BridgeEvent {
    /// The prompt this event belongs to and what it means for the engine.
    pub fn into_prompt_event(self) -> Option<(Option<String>, AgentEvent)> {
        Some(match self {
            BridgeEvent::Ready { .. }
            | BridgeEvent::Fatal { .. }
            | BridgeEvent::Restored { .. } => return None,
            BridgeEvent::Text { id, chunk } => (Some(id), AgentEvent::Text(chunk)),
            BridgeEvent::TextDiscarded { id, reason } => (
                Some(id),
                AgentEvent::TextDiscarded {
                    reason: match reason {
                        DiscardReason::Retry => "retry",
                        DiscardReason::Reflection => "reflection",
                    }
                    .into(),
                },
            ),
            BridgeEvent::Log { id, level, line } => {
                let level = match level {
                    Level::Error => LogLevel::Error,
                    Level::Warning => LogLevel::Warning,
                    Level::Info => LogLevel::Info,
                };
                (id, AgentEvent::Log { level, line })
            }
            BridgeEvent::Confirm {
                id,
                question,
                subject,
                answer,
            } => (
                id,
                AgentEvent::Confirm {
                    question,
                    subject,
                    answer,
                },
            ),
            BridgeEvent::FilesWritten { id, paths } => (Some(id), AgentEvent::FilesWritten(paths)),
            BridgeEvent::Refused {
                id,
                action,
                path,
                reason,
            } => (
                id,
                AgentEvent::Refused {
                    action: action.as_str().into(),
                    path,
                    reason,
                },
            ),
            BridgeEvent::Usage {
                id,
                model,
                input_tokens,
                output_tokens,
                cache_creation_input_tokens,
                cache_read_input_tokens,
                partial,
                background: _,
            } => (
                id,
                AgentEvent::Usage(RawUsage {
                    model,
                    input_tokens,
                    output_tokens,
                    cache_creation_input_tokens,
                    cache_read_input_tokens,
                    partial,
                }),
            ),
            BridgeEvent::Proposed {
                id,
                answer,
                index,
                path,
                edit_format,
                applies,
                reason,
                content,
            } => (
                Some(id),
                AgentEvent::Proposed(ProposedEdit {
                    answer,
                    index,
                    path,
                    edit_format,
                    reason: if applies { None } else { reason },
                    content: if applies { content } else { None },
                }),
            ),
            BridgeEvent::History {
                id,
                messages,
                files,
            } => (
                Some(id),
                AgentEvent::History(Transcript { messages, files }),
            ),
            BridgeEvent::Done { id } => (Some(id), AgentEvent::Finished(Outcome::Done)),
            BridgeEvent::Cancelled { id } => (Some(id), AgentEvent::Finished(Outcome::Cancelled)),
            BridgeEvent::Failed {
                id, reason, status, ..
            } => (
                Some(id),
                AgentEvent::Finished(Outcome::Failed { reason, status }),
            ),
        })
    }
}

/// A session's chat as the agent keeps it: restored into a new agent process so that a restart
/// (idle stop, crash, host restart) never loses what was said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    pub messages: Vec<ChatMessage>,
    pub files: Vec<String>,
}
