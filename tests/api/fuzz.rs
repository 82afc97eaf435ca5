//! The API fuzzed from its own OpenAPI document, as a client generator
//! would use it: schemathesis (PyPI) generates requests for every operation,
//! valid and invalid, against the running server, with an admin token (and
//! a worker token for the worker operations), and checks that no answer is
//! a server error and that every status code, content type and body is the
//! one the document declares.

use std::path::Path;

use serde_json::json;

use crate::helpers::TestApp;

/// Operations left out, each covered by its own tests: those that end the
/// fuzzer's own login (it would spend the rest of the run on 401s), and the
/// event streams, which stay open by design.
const LEFT_OUT: [&str; 6] =
    ["log_out_everywhere", "revoke_token", "delete_session", "delete_me", "task_events", "submission_events"];

/// One schemathesis run over the operations `filter` selects, as `token`;
/// panics with its report on any failure, and returns its output.
async fn schemathesis(app: &TestApp, dir: &Path, token: &str, filter: &[&str]) -> String {
    // Named things exist: every `{slug}` is a demo task, so requests reach
    // the rules behind the 404.
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, "[parameters]\n\"path.slug\" = \"digits\"\n").unwrap();
    let mut cmd = std::process::Command::new("schemathesis");
    // Its cache folder goes to the temporary directory, not the checkout.
    cmd.current_dir(dir).arg("--config-file").arg(&config).args(["run", &app.url("/api/v1/openapi.json")]);
    cmd.args(["--url", &app.base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        // One worker: schemathesis 4.32's coverage phase has failed with an
        // internal KeyError when two of its threads walk the same schema.
        .args(["--max-examples", "60", "--seed", "20261206", "--workers", "1"])
        .args(["--generation-database", "none", "--request-timeout", "20", "--no-color"])
        .args(["--report", "junit", "--report-dir"])
        .arg(dir)
        .args(filter);
    for op in LEFT_OUT {
        cmd.args(["--exclude-operation-id", op]);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("schemathesis runs")).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    println!("{stdout}");
    stdout
}

/// The number before " generated, " in schemathesis's summary.
fn generated(report: &str) -> u64 {
    let line = report.lines().find(|l| l.contains(" generated, ")).expect("a summary line");
    line.split_whitespace().next().and_then(|n| n.parse().ok()).expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis (pip install schemathesis); scripts/test.sh runs it"]
async fn the_api_answers_every_generated_request_as_its_openapi_document_says() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dir = tempfile::tempdir().unwrap();
    let doc = app.anon().get_json("/api/v1/openapi.json").await;
    let methods = ["get", "put", "post", "delete", "patch"];
    let operations = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| methods.map(|m| &p[m]))
        .filter(|o| o.is_object())
        .count();
    let report = schemathesis(&app, dir.path(), admin.token.as_deref().unwrap(), &[]).await;
    let expected = format!("{} passed", operations - LEFT_OUT.len());
    assert!(report.contains(&expected), "every operation but those left out ran ({expected}): {report}");
    assert!(generated(&report) > 3000, "{report}");
    // The worker operations, as a registered worker.
    let res = admin.post_json("/api/v1/admin/worker-tokens", &json!({"name": "fuzz"})).await;
    let worker: serde_json::Value = res.json().await.unwrap();
    let worker_token = worker["token"].as_str().unwrap();
    let report = schemathesis(&app, dir.path(), worker_token, &["--include-path-regex", "^/api/v1/worker/"]).await;
    assert!(report.contains("6 passed") && generated(&report) > 300, "{report}");
    // Only the blob download (whose random leases belong to no one) is all
    // 401/403: the token itself was taken.
    assert!(report.contains("Authentication failed: 1 operation"), "{report}");
    let fleet = admin.get_json("/api/v1/admin/workers").await;
    assert!(fleet.as_array().unwrap().iter().any(|w| w["name"] == "fuzz" && w["last_seen_at"].is_string()), "{fleet}");
}
