use std::collections::HashMap;

use arcbench_host::api::DeleteOptions;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use shared_protocol::CreateSessionRequest;
use shared_protocol::{
    ApiError, ApplyRequest, CommitResponse, DeletedResponse, Diff, ErrorCode, EventsQuery,
    EventsResponse, HunkIdsRequest, Session, SessionDetail, SessionSnapshot, SessionsResponse,
    Status,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::json::{Json, OptionalJson};
use crate::{device_routes, prompt_routes, review_routes, voice_routes, AppState, Failure};

pub(crate) type Answer<T> = Result<axum::Json<T>, Failure>;

/// Every API route, listed once: the router and the OpenAPI document both come from this list
/// (so a route cannot exist undocumented, and the route-walk test walks the document).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(status))
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(session_detail, delete_session))
        .routes(routes!(snapshot))
        .routes(routes!(diff))
        .routes(routes!(approve_hunks))
        .routes(routes!(reject_hunks))
        .routes(routes!(apply))
        .routes(routes!(reject_all))
        .routes(routes!(undo))
        .routes(routes!(merge))
        .routes(routes!(list_events))
        .routes(routes!(
            prompt_routes::submit_prompt,
            prompt_routes::list_prompts
        ))
        .routes(routes!(prompt_routes::cancel_prompt))
        .routes(routes!(prompt_routes::cancel_running))
        .routes(routes!(prompt_routes::usage))
        .routes(routes!(prompt_routes::budget, prompt_routes::set_budget))
        .routes(routes!(review_routes::comment))
        .routes(routes!(
            review_routes::revision_preview,
            review_routes::submit_revision
        ))
        .routes(routes!(review_routes::history))
        .routes(routes!(device_routes::create_pairing_code))
        .routes(routes!(device_routes::list_devices))
        .routes(routes!(device_routes::revoke_device))
        .routes(routes!(device_routes::push_key))
        .routes(routes!(
            device_routes::push_subscription,
            device_routes::set_push_subscription,
            device_routes::delete_push_subscription
        ))
        .routes(routes!(
            device_routes::native_push,
            device_routes::set_native_push,
            device_routes::delete_native_push
        ))
        .routes(routes!(voice_routes::transcribe))
        .routes(routes!(voice_routes::speech))
}

/// The routes that need no key (the contract's exceptions): `POST /pair`, which takes a
/// single-use code instead.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(device_routes::pair))
}

#[utoipa::path(get, path = "/status", responses((status = 200, body = Status), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn status(State(state): State<AppState>) -> Answer<Status> {
    Ok(axum::Json(state.host.status().await?))
}

#[utoipa::path(post, path = "/sessions", request_body = CreateSessionRequest, responses((status = 201, body = Session), (status = 400, body = ApiError, description = "bad input"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Json(req): Json<CreateSessionRequest>,
) -> Result<(StatusCode, axum::Json<Session>), Failure> {
    let s = state.host.create_session(req).await?;
    Ok((StatusCode::CREATED, axum::Json(s)))
}

#[utoipa::path(get, path = "/sessions", responses((status = 200, body = SessionsResponse), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn list_sessions(State(state): State<AppState>) -> Answer<SessionsResponse> {
    Ok(axum::Json(state.host.list_sessions().await?))
}

/// Everything to show one session, and the seq to stream events from.
#[utoipa::path(get, path = "/sessions/{id}/snapshot", params(("id" = String, Path, description = "session id")), responses((status = 200, body = SessionSnapshot), (status = 404, body = ApiError, description = "unknown session"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn snapshot(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<SessionSnapshot> {
    Ok(axum::Json(state.host.snapshot(id).await?))
}

#[utoipa::path(get, path = "/sessions/{id}", params(("id" = String, Path, description = "session id")), responses((status = 200, body = SessionDetail), (status = 404, body = ApiError, description = "unknown session"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn session_detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<SessionDetail> {
    Ok(axum::Json(state.host.session_detail(id).await?))
}

#[utoipa::path(delete, path = "/sessions/{id}", params(("id" = String, Path, description = "session id"), ("delete_branch" = Option<bool>, Query, description = "also delete the session branch (refused with 409 while it has unmerged commits, unless force)"), ("force" = Option<bool>, Query, description = "delete the branch even with unmerged commits")), responses((status = 200, body = DeletedResponse), (status = 400, body = ApiError, description = "bad input"), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn delete_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<DeletedResponse> {
    let flag = |name: &str| match q.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Failure::new(
            ErrorCode::BadRequest,
            format!("{name} must be true or false, not `{other}`"),
        )),
    };
    let options = DeleteOptions {
        delete_branch: flag("delete_branch")?,
        force: flag("force")?,
    };
    Ok(axum::Json(state.host.delete_session(id, options).await?))
}

#[utoipa::path(get, path = "/sessions/{id}/diff", params(("id" = String, Path, description = "session id")), responses((status = 200, body = Diff), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn diff(State(state): State<AppState>, Path(id): Path<String>) -> Answer<Diff> {
    Ok(axum::Json(state.host.diff(id).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/hunks/approve", params(("id" = String, Path, description = "session id")), request_body = HunkIdsRequest, responses((status = 200, body = Diff), (status = 400, body = ApiError, description = "bad input"), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn approve_hunks(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<HunkIdsRequest>,
) -> Answer<Diff> {
    Ok(axum::Json(state.host.approve_hunks(id, req).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/hunks/reject", params(("id" = String, Path, description = "session id")), request_body = HunkIdsRequest, responses((status = 200, body = Diff), (status = 400, body = ApiError, description = "bad input"), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn reject_hunks(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<HunkIdsRequest>,
) -> Answer<Diff> {
    Ok(axum::Json(state.host.reject_hunks(id, req).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/apply", params(("id" = String, Path, description = "session id")), request_body(content = Option<ApplyRequest>), responses((status = 200, body = CommitResponse), (status = 400, body = ApiError, description = "bad input"), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn apply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<ApplyRequest>,
) -> Answer<CommitResponse> {
    Ok(axum::Json(state.host.apply(id, body).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/reject", params(("id" = String, Path, description = "session id")), responses((status = 200, body = Diff), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn reject_all(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<Diff> {
    Ok(axum::Json(state.host.reject_all(id).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/undo", params(("id" = String, Path, description = "session id")), responses((status = 200, body = CommitResponse), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn undo(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<CommitResponse> {
    Ok(axum::Json(state.host.undo(id).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/merge", params(("id" = String, Path, description = "session id")), responses((status = 200, body = CommitResponse), (status = 404, body = ApiError, description = "unknown session"), (status = 409, body = ApiError, description = "session_busy, hunk_stale or conflict"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn merge(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<CommitResponse> {
    Ok(axum::Json(state.host.merge(id).await?))
}

#[utoipa::path(get, path = "/events", params(("since" = Option<u64>, Query, description = "return events with seq > since")), responses((status = 200, body = EventsResponse), (status = 400, body = ApiError, description = "bad input"), (status = 410, body = ApiError, description = "resync: events before this point were compacted; start from the snapshots"), (status = 401, body = ApiError, description = "missing or wrong key")), security(("bearer" = [])))]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<EventsResponse> {
    let since = match q.get("since") {
        None => 0,
        Some(s) => s.parse::<u64>().map_err(|_| {
            Failure::new(
                ErrorCode::BadRequest,
                format!("since must be a whole number, not `{s}`"),
            )
        })?,
    };
    Ok(axum::Json(
        state.host.list_events(EventsQuery { since }).await?,
    ))
}
