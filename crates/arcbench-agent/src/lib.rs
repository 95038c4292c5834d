//! Coding agents for ArcBench sessions.
//!
//! One [`Executor`] trait; [`AnyExecutor`] dispatches over the implementations (Aider first), so
//! the engine holds one concrete type per session and adding an agent is adding a variant.
//! An executor owns one warm agent process for one session worktree: a prompt costs tens of
//! milliseconds instead of the seconds a fresh process needs to start.

pub mod aider;
mod events;
pub mod python;

use std::future::Future;

pub use aider::protocol::{ChatMessage, Role, Transcript};
pub use events::{AgentEvent, LogLevel, Outcome, ProposedEdit, RawUsage};
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Unavailable(String),
    #[error("the agent failed to start: {0}")]
    Start(String),
    #[error("the agent process is gone: {0}")]
    Gone(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, AgentError>;

/// One prompt for the agent.
#[derive(Debug, Clone)]
pub struct PromptRequest {
    pub id: String,
    pub text: String,
    /// Worktree-relative files to put in the agent's chat first.
    pub files: Vec<String>,
}

/// The events of one prompt, ending with exactly one [`AgentEvent::Finished`].
pub type PromptEvents = mpsc::UnboundedReceiver<AgentEvent>;

pub trait Executor: Send {
    /// Sends a prompt; its events arrive on the returned channel.
    fn prompt(&mut self, req: PromptRequest) -> impl Future<Output = Result<PromptEvents>> + Send;
    /// Continues an earlier chat (before the first prompt): the agent remembers what was said.
    fn restore(&mut self, transcript: &Transcript) -> impl Future<Output = Result<()>> + Send;
    /// Stops the prompt `id` if it runs (within a second).
    fn cancel(&self, id: &str);
    /// False once the agent process has exited; the next prompt needs a new executor.
    fn is_alive(&self) -> bool;
    /// Ends the agent process: politely, then by force.
    fn shutdown(self) -> impl Future<Output = ()> + Send;
}

/// Every executor ArcBench has.
pub enum AnyExecutor {
    Aider(aider::AiderExecutor),
}

impl Executor for AnyExecutor {
    async fn prompt(&mut self, req: PromptRequest) -> Result<PromptEvents> {
        match self {
            AnyExecutor::Aider(a) => a.prompt(req).await,
        }
    }
    async fn restore(&mut self, transcript: &Transcript) -> Result<()> {
        match self {
            AnyExecutor::Aider(a) => a.restore(transcript).await,
        }
    }
    fn cancel(&self, id: &str) {
        match self {
            AnyExecutor::Aider(a) => a.cancel(id),
        }
    }
    fn is_alive(&self) -> bool {
        match self {
            AnyExecutor::Aider(a) => a.is_alive(),
        }
    }
    async fn shutdown(self) {
        match self {
            AnyExecutor::Aider(a) => a.shutdown().await,
        }
    }
}
