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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// HTTP only, each for its reason (see `arcbench_host::api_operations!`).
    // pair: a device without a key; transcribe/speech: binary bodies; the push routes: a
    // device's own registration, under its device key (the desktop app's window has no
    // PushManager and no phone token).
    const HTTP_ONLY: &[&str] = &[
        "pair",
        "transcribe",
        "speech",
        "push_key",
        "push_subscription",
        "set_push_subscription",
        "delete_push_subscription",
        "native_push",
        "set_native_push",
        "delete_native_push",
    ];

    #[test]
    fn every_host_operation_has_its_route_and_every_route_its_operation() {
        let doc = super::document();
        let routes: BTreeSet<String> = doc
            .paths
            .paths
            .values()
            .flat_map(|item| {
                [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                    .into_iter()
                    .flatten()
                    .filter_map(|op| op.operation_id.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        let ops: BTreeSet<String> = arcbench_host::api::OPERATIONS
            .iter()
            .map(|s| s.to_string())
            .collect();
        let only_http: Vec<&String> = routes
            .iter()
            .filter(|r| !ops.contains(*r) && !HTTP_ONLY.contains(&r.as_str()))
            .collect();
        let only_host: Vec<&String> = ops.iter().filter(|o| !routes.contains(*o)).collect();
        assert!(
            only_http.is_empty(),
            "routes with no host operation in api_operations! (so no app command): {only_http:?}"
        );
        assert!(
            only_host.is_empty(),
            "host operations with no HTTP route: {only_host:?}"
        );
        for name in HTTP_ONLY {
            assert!(routes.contains(*name), "{name} is gone: update HTTP_ONLY");
        }
    }
}
