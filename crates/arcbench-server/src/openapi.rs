//! `GET /openapi.json`: generated from the route annotations and the wire types, never written by
//! hand. The paths come from the router's one route list ([`crate::routes::api`]).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "ArcBench host API", description = "Drive a coding agent next to your repository. Every route needs `Authorization: Bearer <key>`. WS /ws?since=N streams the same events as GET /events (browsers authenticate with a first message {\"type\":\"auth\",\"token\":\"<key>\"})."),
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

/// The whole document: info, security, and every route of the router.
pub fn document() -> utoipa::openapi::OpenApi {
    crate::routes::api()
        .merge(crate::routes::public())
        .into_openapi()
}

pub(crate) async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document())
}
