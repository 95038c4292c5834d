//! The app's typed errors: `{code, message}` like the host API's, so the page shows the message
//! and branches on the code, never on the text.

use serde::{Deserialize, Serialize};
use specta::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Something given is not what it must be (an address that is no host's, an empty key).
    BadRequest,
    /// No paired host (or no prompt) with that id.
    NotFound,
    /// The device's storage or keychain failed; nothing was changed.
    Storage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    pub code: Code,
    pub message: String,
}

impl RemoteError {
    pub fn new(code: Code, message: impl Into<String>) -> RemoteError {
        RemoteError {
            code,
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> RemoteError {
        RemoteError::new(Code::BadRequest, message)
    }

    pub fn storage(what: &str, e: impl std::fmt::Display) -> RemoteError {
        RemoteError::new(Code::Storage, format!("{what}: {e}"))
    }
}
