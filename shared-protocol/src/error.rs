use serde::{Deserialize, Serialize};
use specta::Type;

/// The error body of every failed API call: `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

/// Only the codes a client acts on; the message carries the detail for humans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed or invalid input (400/422).
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    /// A review call while a prompt runs.
    SessionBusy,
    /// A hunk id that is unknown or no longer matches the current diff.
    HunkStale,
    /// The operation is refused in the current state (dirty checkout, merge conflict, nothing to do...).
    Conflict,
    BudgetExceeded,
    PayloadTooLarge,
    RateLimited,
    /// The host itself failed (disk, git internals); never used for bad input.
    Internal,
    /// `since` is older than the events the host keeps (finished prompts' text chunks were
    /// compacted): fetch the session snapshots again and resume from their `last_seq`.
    Resync,
    /// A pairing code that is malformed or that this host never issued.
    PairingCodeInvalid,
    /// A pairing code older than its five minutes.
    PairingCodeExpired,
    /// A pairing code that already paired a device: each works once.
    PairingCodeUsed,
    /// A recording with nothing said in it (silence).
    NoSpeech,
    /// The voice transcriber is being installed, failed, or is off; the message says which.
    TranscriberUnavailable,
    /// The host cannot render speech (no espeak-ng).
    SpeechUnavailable,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::BudgetExceeded => 402,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::SessionBusy | ErrorCode::HunkStale | ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Resync => 410,
            ErrorCode::PairingCodeInvalid => 401,
            ErrorCode::PairingCodeExpired | ErrorCode::PairingCodeUsed => 410,
            ErrorCode::NoSpeech => 422,
            ErrorCode::TranscriberUnavailable | ErrorCode::SpeechUnavailable => 503,
        }
    }
}
