use arcbench_engine::EngineError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared_protocol::{ApiError, ErrorCode};

/// Every failed call answers `{code, message}` with the code's status.
#[derive(Debug)]
pub struct Failure(pub ApiError);

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Failure(ApiError {
            code,
            message: message.into(),
        })
    }
    pub fn not_found(message: &str) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        if e.code() == ErrorCode::Internal {
            tracing::error!(error = %e, "engine failure");
        }
        Failure(e.to_api())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.0)).into_response()
    }
}
