//! The app's typed errors: `{code, message}` like the API's, so the window shows the message and
//! branches on the code, never on the text.

use serde::{Deserialize, Serialize};
use shared_protocol::ErrorCode;
use specta::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    BadRequest,
    NotFound,
    Conflict,
    Internal,
    /// The chosen folder is no git repository with a commit.
    NotAGitRepo,
    /// The text given as the Anthropic key cannot be one.
    InvalidApiKey,
    /// No OS keychain answered (no Secret Service running, a locked keychain).
    KeychainUnavailable,
    /// Repository or key (or demo) still missing.
    SetupIncomplete,
    /// The host's API port is used by another program.
    PortTaken,
    /// Another bind failure.
    Listen,
    /// Another host holds the data dir and cannot be attached to.
    DataDirBusy,
    DataDir,
    /// A setting (config.toml, environment) is wrong.
    Config,
    HostNotRunning,
    /// The operation belongs to the service the app is attached to.
    Attached,
    HostFailed,
    /// The OS refused (autostart entry, opening a folder).
    Os,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: Code,
    pub message: String,
}

impl AppError {
    pub fn new(code: Code, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
        }
    }
}

impl From<arcbench_engine::EngineError> for AppError {
    fn from(e: arcbench_engine::EngineError) -> AppError {
        let code = match e.code() {
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::BadRequest => Code::BadRequest,
            ErrorCode::Conflict => Code::Conflict,
            _ => Code::HostFailed,
        };
        AppError::new(code, e.to_string())
    }
}
