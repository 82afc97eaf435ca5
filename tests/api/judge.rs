//! The judge's integrity, end to end through the server: models run in
//! evaluator child processes (a model that kills its evaluator ends
//! `crashed` after one retry, counted, while the server keeps answering);
//! on a task whose inputs are hidden nothing the model chose reaches its
//! author, while the organizer sees everything.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User, copy_demo, edit_toml};
use crate::models::{example, wait_final};
use crate::remote::{start_worker_with, worker_token};

/// The text whose appearance in a model's log makes a test evaluator abort.
const CRASH_MARKER: &str = "GAIC-TEST-ABORT-NOW";

/// A digits model (64 inputs, 10 outputs) that logs `text` and predicts 0.
fn logging_model(text: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
          (import "gaic" "log" (func $log (param i32 i32)))
          (memory (export "memory") 2)
          (data (i32.const 16) "{text}")
          (global $heap (mut i32) (i32.const 1024))
          (func (export "gaic_abi_version") (result i32) i32.const 1)
          (func (export "gaic_alloc") (param $n i32) (result i32)
            (local $p i32)
            global.get $heap local.set $p
            global.get $heap local.get $n i32.add global.set $heap
            local.get $p)
          (func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
            i32.const 16 i32.const {len} call $log
            local.get $rows local.get $oc i32.mul))"#,
        len = text.len()
    ))
    .unwrap()
}

/// A model whose error code carries its first input: `-(1 + |1000·x₀|)`.
fn leaking_model() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (memory (export "memory") 2)
          (func (export "gaic_abi_version") (result i32) i32.const 1)
          (func (export "gaic_alloc") (param i32) (result i32) i32.const 1024)
          (func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
            i32.const -1
            local.get $in f32.load f32.const 1000 f32.mul f32.abs i32.trunc_f32_s
            i32.sub))"#,
    )
    .unwrap()
}

async fn submit(user: &User, slug: &str, bytes: Vec<u8>) -> Value {
    let res = user.submit(slug, bytes).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    wait_final(user, body["submission"]["id"].as_i64().unwrap()).await
}

#[tokio::test]
async fn a_model_that_kills_its_evaluator_ends_crashed_after_one_retry() {
    let app = TestApp::spawn_with(|a| {
        a.workers = Some(1);
        a.test_abort_on_log = Some(CRASH_MARKER.into());
    })
    .await;
    let before = app.state.queue.evaluators.idle_pids();
    assert_eq!(before.len(), 1, "one evaluator started with the server");
    assert!(!before.contains(&std::process::id()), "models do not run in the server's process");
    let ann = app.competitor("ann").await;
    let s = submit(&ann, "digits", logging_model(CRASH_MARKER)).await;
    assert_eq!(s["status"], "failed", "{s}");
    assert_eq!(s["verdict"], "crashed");
    assert!(s["error"].as_str().unwrap().contains("died"), "{s}");
    // Final and counted: crashing the judge buys no free retries.
    assert_eq!(ann.get_json("/api/v1/tasks/digits/team").await["quota"]["used_today"], 1);
    let id = s["id"].as_i64().unwrap();
    let (attempts, crashes, state): (i64, i64, String) =
        sqlx::query_as("SELECT attempts, crashes, state FROM jobs WHERE submission_id = $1")
            .bind(id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!((attempts, crashes, state.as_str()), (2, 2, "done"), "run twice, on two evaluators");
    let o = app.admin().await.get_json(&format!("/api/v1/submissions/{id}")).await;
    assert!(o["detail"].as_str().unwrap().contains("died on 2 attempts"), "{o}");
    // The server kept answering, and a fresh evaluator runs the next model.
    assert_eq!(app.anon().get("/healthz").await.status(), StatusCode::OK);
    let good = submit(&ann, "digits", example("digits_mlp")).await;
    assert_eq!(good["status"], "scored", "{good}");
    let after = app.state.queue.evaluators.idle_pids();
    assert_eq!(after.len(), 1);
    assert_ne!(after, before, "the dead evaluator was replaced");
    // A model that merely logs the same text elsewhere is unaffected: the
    // hook is the evaluator's, and only in this test server.
    let plain = TestApp::spawn_with(|a| a.workers = Some(1)).await;
    let bob = plain.competitor("bob").await;
    let s = submit(&bob, "digits", logging_model(CRASH_MARKER)).await;
    assert_eq!(s["status"], "scored", "{s}");
}

#[tokio::test]
async fn a_remote_workers_evaluator_that_dies_is_reported_and_the_verdict_is_crashed() {
    let app = TestApp::spawn_with(|a| a.workers = Some(0)).await;
    let token = worker_token(&app, "w").await;
    let cache = tempfile::tempdir().unwrap();
    let mut worker = start_worker_with(&app, &token, cache.path(), &[("GAIC_TEST_ABORT_ON_LOG", CRASH_MARKER)]);
    let ann = app.competitor("ann").await;
    let s = submit(&ann, "digits", logging_model(CRASH_MARKER)).await;
    assert_eq!(s["verdict"], "crashed", "{s}");
    let id = s["id"].as_i64().unwrap();
    let (attempts, crashes): (i64, i64) = sqlx::query_as("SELECT attempts, crashes FROM jobs WHERE submission_id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!((attempts, crashes), (2, 2));
    // The worker itself lived on and runs the next model.
    let good = submit(&ann, "digits", example("digits_mlp")).await;
    assert_eq!(good["status"], "scored", "{good}");
    worker.kill().unwrap();
    worker.wait().unwrap();
}

/// A model-only copy of diabetes: its test inputs are not published.
async fn hidden_inputs_task(app: &TestApp) {
    let olga = app.organizer("olga").await;
    let dir = copy_demo("diabetes");
    edit_toml(dir.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"secret-inputs\"")
            .replace("kinds = [\"predictions\", \"model\"]", "kinds = [\"model\"]")
    });
    std::fs::remove_file(dir.path().join("public/test_inputs.csv")).unwrap();
    let res = olga.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let res = olga.patch_json("/api/v1/tasks/secret-inputs", &serde_json::json!({"published": true})).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn on_hidden_inputs_the_author_sees_a_fixed_message_and_the_organizer_the_real_one() {
    let app = TestApp::spawn().await;
    hidden_inputs_task(&app).await;
    let mallory = app.competitor("mallory").await;
    let s = submit(&mallory, "secret-inputs", leaking_model()).await;
    assert_eq!(s["verdict"], "trap", "{s}");
    assert_eq!(s["error"], "trap: the model trapped while running", "no number the model chose: {s}");
    assert!(!s.to_string().contains("error code"), "{s}");
    let mem = s["peak_memory_bytes"].as_i64().unwrap();
    assert!(mem > 0 && (mem >> 20).count_ones() == 1 && mem % (1 << 20) == 0, "memory in power-of-two MiB: {mem}");
    let wall = s["wall_ms"].as_i64().unwrap();
    assert!(wall >= 100 && wall % 100 == 0 && (wall / 100).count_ones() == 1, "time in coarse buckets: {wall}");
    assert!(s.get("detail").is_none() && s.get("log").is_none(), "{s}");
    // The same in the listing and on the page.
    let list = mallory.get_json("/api/v1/tasks/secret-inputs/submissions").await;
    assert!(!list.to_string().contains("error code"), "{list}");
    let page = mallory.get("/tasks/secret-inputs?tab=submissions").await.text().await.unwrap();
    assert!(!page.contains("error code"), "the page shows no model-chosen text");
    // The organizer sees the real message and exact figures.
    let id = s["id"].as_i64().unwrap();
    let o = app.admin().await.get_json(&format!("/api/v1/submissions/{id}")).await;
    let detail = o["detail"].as_str().unwrap();
    assert!(detail.contains("gaic_predict returned error code -"), "{detail}");
    assert!(detail.contains("device cpu"), "{detail}");
    // Its exact wall time, in the same words as the author's page: a run
    // under a millisecond is `< 1 ms`, never `0 ms`.
    let wall = detail.split(" · wall ").nth(1).and_then(|w| w.split(" · ").next()).unwrap_or_default();
    let exact = wall.strip_suffix(" ms").and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 0);
    assert!(wall == "< 1 ms" || exact, "{detail}");

    // Where the inputs are public anyway, the author gets the details.
    let s = submit(&mallory, "diabetes", leaking_model()).await;
    assert!(s["error"].as_str().unwrap().contains("gaic_predict returned error code -"), "{s}");
}
