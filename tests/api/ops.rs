//! Health, readiness, metrics, the OpenAPI document and the error format.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let anon = app.anon();
    assert_eq!(anon.get_json("/healthz").await["status"], "ok");
    assert_eq!(anon.get_json("/readyz").await["status"], "ready");
    anon.get("/api/v1/tasks").await;
    let metrics = anon.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/tasks\""), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket"), "{metrics}");
}

#[tokio::test]
async fn every_error_is_json_with_a_code_and_a_message() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    assert_error(app.anon().get("/no/such/page").await, 404, "not_found", "route").await;
    assert_error(app.anon().get("/api/v1/nothing").await, 404, "not_found", "route").await;
    let res = client.put(app.url("/api/v1/tasks")).send().await.unwrap();
    assert_error(res, 405, "method_not_allowed", "method").await;

    let res = client
        .post(app.url("/api/v1/users"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "bad_request", "").await;
    let res = client.post(app.url("/api/v1/users")).body("{}").send().await.unwrap();
    assert_error(res, 400, "bad_request", "Content-Type").await;
    let res = client.post(app.url("/api/v1/users")).json(&serde_json::json!({ "username": 5 })).send().await.unwrap();
    assert_error(res, 422, "invalid_json", "username").await;
    let huge = format!("{{\"username\": \"{}\"}}", "x".repeat(2 << 20));
    let res = client
        .post(app.url("/api/v1/users"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_error(res, 413, "payload_too_large", "1 MiB").await;
    assert_error(app.anon().get("/api/v1/tokens/abc").await, 405, "method_not_allowed", "").await;
}

/// Every operation in the OpenAPI document is routed: called anonymously with
/// dummy parameters it never hits the "no such route" fallback.
#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let app = TestApp::spawn().await;
    let doc: Value = app.anon().get_json("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{}", paths.len());
    let client = reqwest::Client::new();
    let mut checked = 0;
    for (path, ops) in paths {
        let concrete = path
            .replace("{slug}", "digits")
            .replace("{path}", "train.csv")
            .replace("{username}", "admin")
            .replace("{role}", "organizer")
            .replace("{id}", "1")
            .replace("{team_id}", "1")
            .replace("{kind}", "recruiters")
            .replace("{answer}", "accept")
            .replace("{hash}", &"0".repeat(64))
            .replace("{credential_id}", &"0".repeat(64));
        assert!(!concrete.contains('{'), "unfilled parameter in {path}");
        for method in ops.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = client.request(m, app.url(&concrete)).send().await.unwrap();
            let status = res.status();
            // Event streams never end: their headers are enough.
            let body = if concrete.ends_with("/events") { String::new() } else { res.text().await.unwrap() };
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not routed");
            assert!(!body.contains("route not found"), "{method} {path} is documented but not routed");
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
}
