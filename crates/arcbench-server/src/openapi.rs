//! `GET /openapi.json`: generated from the route annotations and the wire types, never written by
//! hand.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{prompt_routes, review_routes, routes};

#[derive(OpenApi)]
#[openapi(
    info(title = "ArcBench host API", description = "Drive a coding agent next to your repository. Every route needs `Authorization: Bearer <key>`. WS /ws?since=N streams the same events as GET /events (browsers authenticate with a first message {\"type\":\"auth\",\"token\":\"<key>\"})."),
    paths(
        routes::status,
        routes::create_session,
        routes::list_sessions,
        routes::session_detail,
        routes::delete_session,
        routes::diff,
        routes::approve,
        routes::reject_hunks,
        routes::apply,
        routes::reject_all,
        routes::undo,
        routes::merge,
        routes::events,
        prompt_routes::submit,
        prompt_routes::list,
        prompt_routes::cancel_prompt,
        prompt_routes::cancel_running,
        prompt_routes::usage,
        prompt_routes::budget,
        prompt_routes::set_budget,
        review_routes::comment,
        review_routes::preview,
        review_routes::revise,
        review_routes::history,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(crate) async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
