//! The bridge's JSON-lines protocol (version 1), as documented at the top of
//! `bridge/arcbench_bridge.py`.

use serde::{Deserialize, Serialize};

use crate::{AgentEvent, LogLevel, Outcome, RawUsage};

pub const PROTOCOL: u32 = 1;

#[derive(Debug, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command<'a> {
    Prompt {
        id: &'a str,
        text: &'a str,
        files: &'a [String],
    },
    Cancel {
        id: &'a str,
    },
    Shutdown,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BridgeEvent {
    Ready {
        protocol: u32,
        aider_version: String,
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
        reason: String,
    },
    Log {
        id: Option<String>,
        level: String,
        line: String,
    },
    Confirm {
        id: String,
        question: String,
        subject: Option<String>,
        answer: bool,
    },
    FilesWritten {
        id: String,
        paths: Vec<String>,
    },
    Refused {
        id: Option<String>,
        action: String,
        path: String,
        reason: String,
    },
    Usage {
        id: String,
        model: String,
        input_tokens: u64,
        output_tokens: u64,
        cache_creation_input_tokens: u64,
        cache_read_input_tokens: u64,
        #[serde(default)]
        partial: bool,
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
    },
}

impl BridgeEvent {
    /// The prompt this event belongs to and what it means for the engine.
    pub fn into_prompt_event(self) -> Option<(Option<String>, AgentEvent)> {
        Some(match self {
            BridgeEvent::Ready { .. } | BridgeEvent::Fatal { .. } => return None,
            BridgeEvent::Text { id, chunk } => (Some(id), AgentEvent::Text(chunk)),
            BridgeEvent::TextDiscarded { id, reason } => {
                (Some(id), AgentEvent::TextDiscarded { reason })
            }
            BridgeEvent::Log { id, level, line } => {
                let level = match level.as_str() {
                    "error" => LogLevel::Error,
                    "warning" => LogLevel::Warning,
                    _ => LogLevel::Info,
                };
                (id, AgentEvent::Log { level, line })
            }
            BridgeEvent::Confirm {
                id,
                question,
                subject,
                answer,
            } => (
                Some(id),
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
                    action,
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
            } => (
                Some(id),
                AgentEvent::Usage(RawUsage {
                    model,
                    input_tokens,
                    output_tokens,
                    cache_creation_input_tokens,
                    cache_read_input_tokens,
                    partial,
                }),
            ),
            BridgeEvent::Done { id } => (Some(id), AgentEvent::Finished(Outcome::Done)),
            BridgeEvent::Cancelled { id } => (Some(id), AgentEvent::Finished(Outcome::Cancelled)),
            BridgeEvent::Failed { id, reason, status } => (
                Some(id),
                AgentEvent::Finished(Outcome::Failed { reason, status }),
            ),
        })
    }
}
