//! Voice: prompts dictated on the phone, transcribed on the host (audio stays in the mesh), and
//! spoken read-back.

use serde::{Deserialize, Serialize};
use specta::Type;

/// `POST /transcribe`: what was said.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transcript {
    pub text: String,
    pub duration_s: f64,
    /// The model that transcribed it ("tiny.en (bundled)").
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranscriberStatus {
    pub state: TranscriberState,
    /// The model asked for: a faster-whisper name, a directory, or "bundled".
    pub model: String,
    /// Progress while installing, the reason when failed.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TranscriberState {
    Installing,
    Ready,
    Failed,
    /// Turned off in the settings.
    Off,
}

/// `POST /speech`: text to read back, rendered on the host as WAV.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SpeechRequest {
    pub text: String,
}
