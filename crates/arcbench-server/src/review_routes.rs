//! Review notes and revisions: comments on hunks, the revise action, and the round history.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use shared_protocol::{
    ApiError, CommentRequest, HistoryResponse, NoteResponse, Prompt, ReviseRequest, RevisionPreview,
};

use crate::json::Json;
use crate::routes::Answer;
use crate::{AppState, Failure};
use arcbench_host::api::Submitted;

#[utoipa::path(post, path = "/sessions/{id}/comments", params(("id" = String, Path)), request_body = CommentRequest,
    responses((status = 201, body = NoteResponse), (status = 400, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "hunk_stale"), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn comment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<CommentRequest>,
) -> Result<(StatusCode, axum::Json<NoteResponse>), Failure> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.host.comment(id, req).await?),
    ))
}

#[utoipa::path(get, path = "/sessions/{id}/revise", params(("id" = String, Path)),
    responses((status = 200, body = RevisionPreview), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "no review notes to revise from"), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn revision_preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<RevisionPreview> {
    Ok(axum::Json(state.host.revision_preview(id).await?))
}

/// Queues the revision through the normal prompt queue (202 new, 200 same client_id).
#[utoipa::path(post, path = "/sessions/{id}/revise", params(("id" = String, Path)), request_body = ReviseRequest,
    responses((status = 202, body = Prompt), (status = 200, body = Prompt), (status = 400, body = ApiError),
        (status = 402, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "no review notes to revise from"), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn submit_revision(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<ReviseRequest>,
) -> Result<(StatusCode, axum::Json<Prompt>), Failure> {
    let Submitted { prompt, created } = state.host.submit_revision(id, req).await?;
    Ok((
        if created {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        },
        axum::Json(prompt),
    ))
}

#[utoipa::path(get, path = "/sessions/{id}/history", params(("id" = String, Path)),
    responses((status = 200, body = HistoryResponse), (status = 404, body = ApiError), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<HistoryResponse> {
    Ok(axum::Json(state.host.history(id).await?))
}
