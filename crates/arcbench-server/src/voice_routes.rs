//! Voice: `POST /transcribe` (a 16 kHz mono WAV in, its text out) and `POST /speech` (text in,
//! speech as WAV out, for read-back where the page has no voices). Each calls one host operation.

use std::collections::HashMap;

use arcbench_host::transcribe::{SpeechError, VoiceError, MAX_UPLOAD};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use shared_protocol::{ApiError, ErrorCode, SpeechRequest, Transcript};

use crate::json::Json;
use crate::routes::Answer;
use crate::{AppState, Failure};

impl From<VoiceError> for Failure {
    fn from(e: VoiceError) -> Self {
        Failure::new(e.code(), e.to_string())
    }
}

impl From<SpeechError> for Failure {
    fn from(e: SpeechError) -> Self {
        Failure::new(e.code(), e.to_string())
    }
}

/// How much of an oversized upload is read before it is refused.
const READ_BOUND: usize = 8 << 20;

/// Transcribes a recording on this host (the audio never leaves it). The body is the WAV itself
/// (`Content-Type: audio/wav` or `application/octet-stream`): 16 kHz, mono, 16-bit PCM, at most
/// 60 s.
#[utoipa::path(post, path = "/transcribe", params(("session" = Option<String>, Query, description = "a session whose file names steer the model's vocabulary")), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the WAV file (sent as audio/wav or application/octet-stream)"), responses((status = 200, body = Transcript), (status = 400, body = ApiError, description = "not a 16 kHz mono 16-bit WAV, empty, too short"), (status = 413, body = ApiError, description = "longer than 60 s"), (status = 422, body = ApiError, description = "no_speech: silence"), (status = 503, body = ApiError, description = "transcriber_unavailable: installing, failed or off"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn transcribe(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Answer<Transcript> {
    // Read a too-large recording to its end (up to a bound) before refusing it: a client that
    // sends its whole body before reading the answer then gets the 413, not a reset connection.
    let body: Bytes = axum::body::to_bytes(body, READ_BOUND).await.map_err(|_| {
        Failure::new(
            ErrorCode::PayloadTooLarge,
            "the recording is far too large: at most 60 s of 16 kHz mono audio",
        )
    })?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !kind.is_empty() && !kind.starts_with("audio/") && kind != "application/octet-stream" {
        return Err(Failure::new(
            ErrorCode::BadRequest,
            format!("send the recording as audio/wav, not {kind}"),
        ));
    }
    if body.len() > MAX_UPLOAD {
        return Err(Failure::new(
            ErrorCode::PayloadTooLarge,
            "the recording is larger than 60 s of 16 kHz mono audio",
        ));
    }
    let session = q.get("session").cloned().filter(|s| !s.is_empty());
    Ok(axum::Json(state.host.transcribe(session, &body).await?))
}

/// Speech for read-back, rendered by the host (espeak-ng), as `audio/wav`.
#[utoipa::path(post, path = "/speech", request_body = SpeechRequest, responses((status = 200, content_type = "audio/wav", body = Vec<u8>), (status = 400, body = ApiError, description = "bad input"), (status = 503, body = ApiError, description = "speech_unavailable: no espeak-ng on the host"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn speech(
    State(state): State<AppState>,
    Json(req): Json<SpeechRequest>,
) -> Result<Response, Failure> {
    let wav = state.host.speak(&req.text).await?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}
