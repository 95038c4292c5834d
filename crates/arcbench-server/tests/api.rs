//! The API over the router in-process: every route refuses a missing or wrong key, errors are
//! `{code, message}` with the contract's status, and the review loop works end to end.

mod support;

use arcbench_fixtures::{git, numbered, write, TestRepo};
use arcbench_server::router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use support::test_state;
use tower::ServiceExt;

const KEY: &str = "test-key-0123456789abcdef";

struct Api {
    app: axum::Router,
    _data: tempfile::TempDir,
    data: std::path::PathBuf,
}

async fn api(repo: &TestRepo) -> Api {
    let t = test_state(repo, KEY, 0).await;
    Api {
        app: router(t.state),
        data: t.data.path().into(),
        _data: t.data,
    }
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(
                body.map(|b| Body::from(b.to_owned()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        let (status, _, v) = self.send(req).await;
        (status, v)
    }
    /// Sends a request built by the test (headers, client address) through the router.
    async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
            .await
            .unwrap();
        (
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let b = body.map(|b| b.to_string());
        let (status, v) = self.call(method, path, Some(KEY), b.as_deref()).await;
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }
}

/// The contract's routes without a key: `POST /pair` takes a single-use code instead.
const PUBLIC: &[&str] = &["/pair"];

/// Every route the router has: its one route list is also the OpenAPI document, so walking the
/// document walks the router (plus the routes kept out of it on purpose). The public ones are
/// left out (they must be exactly the contract's, documented without security).
fn routes() -> Vec<(String, String)> {
    let doc = arcbench_server::openapi_document();
    let mut all = Vec::new();
    for (path, item) in doc.paths.paths {
        let secured = [&item.get, &item.post, &item.put, &item.delete, &item.patch]
            .into_iter()
            .flatten()
            .all(|op| op.security.as_ref().is_some_and(|s| !s.is_empty()));
        assert_eq!(
            !secured,
            PUBLIC.contains(&path.as_str()),
            "{path}: only the contract's public routes go without a key"
        );
        if !secured {
            continue;
        }
        let concrete = path.replace("{id}", "x").replace("{prompt}", "p");
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
        ];
        for (m, present) in methods {
            if present {
                all.push((m.to_owned(), concrete.clone()));
            }
        }
    }
    assert!(all.len() >= 24, "the document lists {} routes", all.len());
    all.push(("GET".into(), "/openapi.json".into()));
    all.push(("GET".into(), "/no/such/route".into()));
    all
}

#[tokio::test]
async fn every_route_refuses_a_missing_or_wrong_key() {
    let repo = TestRepo::new();
    for (m, p) in routes() {
        // A fresh host per route: the failed-auth limiter would answer 429 after a burst.
        let a = api(&repo).await;
        for key in [None, Some("wrong"), Some("test-key-0123456789abcdeX")] {
            let (status, body) = a.call(m.parse().unwrap(), &p, key, Some("{}")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{m} {p} with {key:?}");
            assert_eq!(body["code"], "unauthorized");
        }
    }
    assert_eq!(
        git(&repo.path, &["branch", "--list", "session/*"]),
        "",
        "nothing created without a key"
    );
}

#[tokio::test]
async fn a_flood_of_wrong_keys_blocks_that_address_before_any_key_is_compared() {
    let repo = TestRepo::new();
    let a = api(&repo).await;
    let mut codes = Vec::new();
    for _ in 0..30 {
        codes.push(a.call(Method::GET, "/status", Some("wrong"), None).await.0);
    }
    assert_eq!(codes[0], StatusCode::UNAUTHORIZED);
    let (last, body) = a.call(Method::GET, "/status", Some("wrong"), None).await;
    assert_eq!(
        (last, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    // The limiter is consulted first: from that address even the right key is not compared,
    // so a guesser learns nothing more until it waits.
    let (code, body) = a.call(Method::GET, "/status", Some(KEY), None).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    // Other addresses are not affected.
    let mut req = Request::get("/status")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [100, 64, 0, 9],
            50000,
        ))));
    assert_eq!(a.send(req).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_host_header_that_is_not_ours_is_refused_everywhere() {
    // DNS rebinding: a page re-points its own name at 127.0.0.1 and calls with its name as Host.
    let repo = TestRepo::new();
    let a = api(&repo).await;
    for (host, path, expected) in [
        ("evil.example:8000", "/status", StatusCode::FORBIDDEN),
        ("evil.example", "/app/", StatusCode::FORBIDDEN),
        ("localhost.evil.example:8000", "/ws", StatusCode::FORBIDDEN),
        ("127.0.0.1:8000", "/status", StatusCode::OK),
        ("localhost:8000", "/status", StatusCode::OK),
        ("[::1]:8000", "/status", StatusCode::OK),
    ] {
        let req = Request::get(path)
            .header("host", host)
            .header("authorization", format!("Bearer {KEY}"))
            .body(Body::empty())
            .unwrap();
        let (code, _, body) = a.send(req).await;
        assert_eq!(code, expected, "{host}{path}: {body}");
        if expected == StatusCode::FORBIDDEN {
            assert_eq!(body["code"], "forbidden", "{body}");
            assert!(body["message"].as_str().unwrap().contains("--allow-host"));
        }
    }
}

#[tokio::test]
async fn the_host_proves_it_holds_the_key_without_anyone_sending_it() {
    let repo = TestRepo::new();
    let a = api(&repo).await;
    let req = Request::get("/status")
        .header(arcbench_server::CHALLENGE_HEADER, "nonce-123")
        .body(Body::empty())
        .unwrap();
    let (code, headers, _) = a.send(req).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers[arcbench_server::PROOF_HEADER].to_str().unwrap(),
        arcbench_server::proof(KEY, "nonce-123")
    );
    assert_ne!(
        arcbench_server::proof("another-key-0123456789abcdef", "nonce-123"),
        arcbench_server::proof(KEY, "nonce-123")
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_and_the_ui_route_needs_no_key() {
    let repo = TestRepo::new();
    let a = api(&repo).await;
    let huge = format!(r#"{{"title":"{}"}}"#, "x".repeat(3 << 20));
    let (code, body) = a
        .call(Method::POST, "/sessions", Some(KEY), Some(&huge))
        .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let (code, body) = a.call(Method::GET, "/app/", None, None).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    assert!(body["message"].as_str().unwrap().contains("not built"));
}

#[tokio::test]
async fn review_loop_and_typed_errors() {
    let repo = TestRepo::new();
    let a = api(&repo).await;
    let status = a.ok(Method::GET, "/status", None).await;
    assert_eq!(status["name"], "arcbench");
    assert_eq!(status["repos"], json!(["repo"]));

    let (code, body) = a
        .call(Method::POST, "/sessions", Some(KEY), Some("{not json"))
        .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let (code, body) = a
        .call(
            Method::POST,
            "/sessions",
            Some(KEY),
            Some(r#"{"base":"nope"}"#),
        )
        .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    assert!(body["message"].as_str().unwrap().contains("nope"));

    let (code, s) = a
        .call(
            Method::POST,
            "/sessions",
            Some(KEY),
            Some(r#"{"title":"t"}"#),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["branch"], format!("session/{id}"));
    for field in ["base_commit", "state", "repo", "title", "created_at"] {
        assert!(!s[field].is_null(), "{field} in {s}");
    }
    let wt = a.data.join("worktrees").join(&id);
    write(
        &wt,
        "src/lib.rs",
        numbered("fn line", 40)
            .replace("fn line 5\n", "five\n")
            .replace("fn line 30\n", "thirty\n"),
    );

    let d = a
        .ok(Method::GET, &format!("/sessions/{id}/diff"), None)
        .await;
    let h = d["files"][0]["hunks"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    for field in [
        "id",
        "header",
        "old_start",
        "old_lines",
        "new_start",
        "new_lines",
        "state",
        "lines",
    ] {
        assert!(!h[0][field].is_null(), "{field}");
    }
    let (h0, h1) = (
        h[0]["id"].as_str().unwrap().to_owned(),
        h[1]["id"].as_str().unwrap().to_owned(),
    );

    let (code, body) = a
        .call(
            Method::POST,
            &format!("/sessions/{id}/hunks/approve"),
            Some(KEY),
            Some(r#"{"ids":["feedfacefeedface"]}"#),
        )
        .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("hunk_stale"))
    );
    let (code, body) = a
        .call(
            Method::POST,
            &format!("/sessions/{id}/hunks/approve"),
            Some(KEY),
            Some(r#"{"ids":"x"}"#),
        )
        .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );

    let d = a
        .ok(
            Method::POST,
            &format!("/sessions/{id}/hunks/approve"),
            Some(json!({ "ids": [h1] })),
        )
        .await;
    assert_eq!(d["files"][0]["hunks"][1]["state"], "approved");
    let d = a
        .ok(
            Method::POST,
            &format!("/sessions/{id}/hunks/reject"),
            Some(json!({ "ids": [h0], "comment": "no" })),
        )
        .await;
    assert_eq!(d["files"][0]["hunks"].as_array().unwrap().len(), 1);
    let c = a
        .ok(Method::POST, &format!("/sessions/{id}/apply"), None)
        .await;
    let sha = c["commit"].as_str().unwrap();
    assert_eq!(
        git(&wt, &["show", "--format=", "-U0", sha])
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .collect::<Vec<_>>(),
        vec!["+thirty"]
    );
    let detail = a.ok(Method::GET, &format!("/sessions/{id}"), None).await;
    assert_eq!(detail["commits"][0]["sha"], sha);
    assert!(detail["prompts"].as_array().unwrap().is_empty());

    let u = a
        .ok(Method::POST, &format!("/sessions/{id}/undo"), None)
        .await;
    assert_eq!(u["commit"], s["base_commit"]);
    let (code, body) = a
        .call(
            Method::POST,
            &format!("/sessions/{id}/undo"),
            Some(KEY),
            None,
        )
        .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let d = a
        .ok(Method::POST, &format!("/sessions/{id}/reject"), None)
        .await;
    assert!(d["files"].as_array().unwrap().is_empty());

    let ev = a.ok(Method::GET, "/events?since=0", None).await;
    let seqs: Vec<u64> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gapless from 1"
    );
    assert_eq!(ev["events"][0]["type"], "session.created");
    let later = a.ok(Method::GET, "/events?since=3", None).await;
    assert_eq!(later["events"][0]["seq"], 4);
    let (code, _) = a
        .call(Method::GET, "/events?since=-1", Some(KEY), None)
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);

    let (code, body) = a
        .call(Method::GET, "/sessions/nope/diff", Some(KEY), None)
        .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (code, _) = a
        .call(
            Method::DELETE,
            &format!("/sessions/{id}?delete_branch=maybe"),
            Some(KEY),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    a.ok(
        Method::DELETE,
        &format!("/sessions/{id}?delete_branch=true"),
        None,
    )
    .await;
    assert_eq!(git(&repo.path, &["branch", "--list", "session/*"]), "");
}

#[tokio::test]
async fn openapi_describes_every_contract_route() {
    let repo = TestRepo::new();
    let a = api(&repo).await;
    let doc = a.ok(Method::GET, "/openapi.json", None).await;
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in [
        ("get", "/status"),
        ("post", "/sessions"),
        ("get", "/sessions"),
        ("get", "/sessions/{id}"),
        ("delete", "/sessions/{id}"),
        ("post", "/sessions/{id}/prompts"),
        ("post", "/sessions/{id}/cancel"),
        ("get", "/sessions/{id}/diff"),
        ("post", "/sessions/{id}/hunks/approve"),
        ("post", "/sessions/{id}/hunks/reject"),
        ("post", "/sessions/{id}/apply"),
        ("post", "/sessions/{id}/reject"),
        ("post", "/sessions/{id}/undo"),
        ("post", "/sessions/{id}/merge"),
        ("get", "/usage"),
        ("get", "/events"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "Session",
        "Diff",
        "Hunk",
        "Prompt",
        "Event",
        "ApiError",
        "UsageResponse",
    ] {
        assert!(schemas.contains_key(s), "schema {s}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
