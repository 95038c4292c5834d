use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use shared_protocol::ErrorCode;

use crate::Failure;

/// `axum::Json` whose rejections are `{code, message}` like every other error.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::BytesRejection(e)) => {
                Err(Failure::new(ErrorCode::PayloadTooLarge, e.body_text()))
            }
            Err(e) => Err(Failure::new(ErrorCode::BadRequest, e.body_text())),
        }
    }
}

/// A JSON body that may be left out entirely (`POST /apply` with no body): empty means default.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Failure::new(ErrorCode::PayloadTooLarge, e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJson)
            .map_err(|e| Failure::new(ErrorCode::BadRequest, format!("invalid JSON body: {e}")))
    }
}
