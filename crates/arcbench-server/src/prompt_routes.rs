use axum::extract::{Path, State};
use axum::http::StatusCode;
use shared_protocol::{
    ApiError, Budget, BudgetInfo, CancelResponse, Prompt, PromptsResponse, SubmitPromptRequest,
    UsageResponse,
};

use crate::json::Json;
use crate::routes::Answer;
use crate::{AppState, Failure};
use arcbench_host::api::Submitted;

/// 202 for a new prompt, 200 for a `client_id` seen before (same prompt, never run twice).
#[utoipa::path(post, path = "/sessions/{id}/prompts", params(("id" = String, Path, description = "session id")), request_body = SubmitPromptRequest, responses((status = 202, body = Prompt, description = "queued"), (status = 200, body = Prompt, description = "this client_id was seen before: the same prompt"), (status = 400, body = ApiError, description = "bad input"), (status = 402, body = ApiError, description = "budget_exceeded"), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn submit_prompt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<SubmitPromptRequest>,
) -> Result<(StatusCode, axum::Json<Prompt>), Failure> {
    let Submitted { prompt, created } = state.host.submit_prompt(id, req).await?;
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(prompt)))
}

#[utoipa::path(get, path = "/sessions/{id}/prompts", params(("id" = String, Path, description = "session id")), responses((status = 200, body = PromptsResponse), (status = 404, body = ApiError, description = "unknown session"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn list_prompts(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<PromptsResponse> {
    Ok(axum::Json(state.host.list_prompts(id).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/prompts/{prompt}/cancel", params(("id" = String, Path), ("prompt" = String, Path)), responses((status = 200, body = CancelResponse), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn cancel_prompt(
    State(state): State<AppState>,
    Path((id, prompt)): Path<(String, String)>,
) -> Answer<CancelResponse> {
    Ok(axum::Json(state.host.cancel_prompt(id, prompt).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/cancel", params(("id" = String, Path, description = "session id")), responses((status = 200, body = CancelResponse), (status = 404, body = ApiError, description = "unknown session"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn cancel_running(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<CancelResponse> {
    Ok(axum::Json(state.host.cancel_running(id).await?))
}

#[utoipa::path(get, path = "/usage", responses((status = 200, body = UsageResponse), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn usage(State(state): State<AppState>) -> Answer<UsageResponse> {
    Ok(axum::Json(state.host.usage().await?))
}

#[utoipa::path(get, path = "/budget", responses((status = 200, body = BudgetInfo), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn budget(State(state): State<AppState>) -> Answer<BudgetInfo> {
    Ok(axum::Json(state.host.budget().await?))
}

/// Changes the limits; prompts held by the old ones run if the new ones allow.
#[utoipa::path(put, path = "/budget", request_body = Budget, responses((status = 200, body = BudgetInfo), (status = 400, body = ApiError, description = "bad input"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn set_budget(
    State(state): State<AppState>,
    Json(req): Json<Budget>,
) -> Answer<BudgetInfo> {
    Ok(axum::Json(state.host.set_budget(req).await?))
}
