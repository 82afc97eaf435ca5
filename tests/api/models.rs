//! Model submissions: a `.wasm` is checked at upload, queued, run in the
//! sandbox on the hidden inputs, and scored like a CSV; the examples score
//! well above chance; hostile models end with their verdict.

use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, assert_error, copy_demo, edit_toml};

/// An example guest, built on first use by scripts/build-examples.sh.
pub fn example(name: &str) -> Vec<u8> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if name.ends_with(".wat") {
        return wat::parse_file(root.join("sandbox/guest/examples").join(name)).unwrap();
    }
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let status = std::process::Command::new("bash").arg(root.join("scripts/build-examples.sh")).status().unwrap();
        assert!(status.success(), "scripts/build-examples.sh failed");
    });
    std::fs::read(root.join("sandbox/guest/target/wasm32-unknown-unknown/release").join(format!("{name}.wasm")))
        .unwrap()
}

/// The C example (`sandbox/guest/c/`), built by scripts/build-examples.sh
/// when clang and wasm-ld are installed.
fn example_c(name: &str) -> Vec<u8> {
    example("digits_mlp"); // runs the build script once
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sandbox/guest/target/c").join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (clang and lld installed?)", path.display()))
}

#[tokio::test]
#[ignore = "needs clang and lld for the C example (apt-get install clang lld); scripts/test.sh runs it when they are there"]
async fn a_model_written_in_c_scores_like_the_same_model_in_wat() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (app.competitor("ann").await, app.competitor("ben").await);
    let c = submit_model(&ann, "diabetes", example_c("diabetes_linear")).await;
    let wat = submit_model(&ben, "diabetes", example("diabetes-linear.wat")).await;
    assert_eq!(c["verdict"], "ok", "{c}");
    // The same coefficients: one through the host's matmul, one in wasm
    // arithmetic; the scores agree to the board's rounding.
    let (c, wat) = (c["public_score"].as_f64().unwrap(), wat["public_score"].as_f64().unwrap());
    assert!(c < 70.0 && (c - wat).abs() < 0.01, "C {c} vs WAT {wat}");
}

/// The `shapes` task as `scripts/make-shapes-task.py` writes it (smaller,
/// and for any worker), uploaded by an organizer and published; the example
/// CNN (conv2d, maxpool2d and matmul host ops) scores as its trainer
/// measured, and its run reports the device and the fuel its shapes cost.
#[tokio::test]
async fn the_generated_shapes_task_takes_the_example_cnn() {
    let app = TestApp::spawn().await;
    let dir = shapes_task(400);
    let olga = app.organizer("olga").await;
    let res = olga.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let res = olga.patch_json("/api/v1/tasks/shapes", &serde_json::json!({ "published": true })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let ann = app.competitor("ann").await;
    let s = submit_model(&ann, "shapes", example("shapes_cnn")).await;
    assert_eq!((s["status"].as_str(), s["verdict"].as_str()), (Some("scored"), Some("ok")), "{s}");
    let score = s["public_score"].as_f64().unwrap();
    assert!(score > 0.9, "the CNN's public accuracy is {score}");
    // About 10⁶ FLOPs an image, charged from shapes alone.
    let fuel = s["fuel_used"].as_f64().unwrap();
    assert!((4e8..1e9).contains(&fuel), "fuel {fuel} for 400 images");
    assert_eq!(s["device"], "cpu");
}

/// The `shapes` task's folder as `scripts/make-shapes-task.py` writes it,
/// with 20 training and `test` test images, for any worker.
pub fn shapes_task(test: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/make-shapes-task.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(["--train", "20", "--test", &test.to_string(), "--device", "any", "--out"])
        .arg(dir.path())
        .output()
        .expect("python3 runs the generator");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// Waits for a submission to leave queued/running; its final view.
pub async fn wait_final(user: &User, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = user.get_json(&format!("/api/v1/submissions/{id}")).await;
        if !matches!(s["status"].as_str(), Some("queued" | "running")) {
            return s;
        }
        assert!(Instant::now() < deadline, "submission {id} still {}", s["status"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn submit_model(user: &User, slug: &str, bytes: Vec<u8>) -> Value {
    let res = user.submit(slug, bytes).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["submission"]["kind"], "model");
    assert!(matches!(body["submission"]["status"].as_str(), Some("queued" | "running")), "{body}");
    assert_eq!(body["quota"]["used_today"], 1);
    wait_final(user, body["submission"]["id"].as_i64().unwrap()).await
}

#[tokio::test]
async fn the_example_models_are_evaluated_and_score_well_above_chance() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let d = submit_model(&ann, "digits", example("digits_mlp")).await;
    assert_eq!(d["status"], "scored", "{d}");
    assert_eq!(d["verdict"], "ok");
    assert!(d["public_score"].as_f64().unwrap() > 0.9, "digits accuracy {d}");
    assert!(d["fuel_used"].as_i64().unwrap() > 100_000, "{d}");
    assert!(d["peak_memory_bytes"].as_i64().unwrap() > 0);
    assert!(d.get("log").is_none(), "competitors never see a model's log");
    // The run's device is recorded with the submission (the test server's
    // evaluators run on the CPU) and shown on the task's submissions tab.
    assert_eq!(d["device"], "cpu", "{d}");
    let page = ann.get("/tasks/digits?tab=submissions").await.text().await.unwrap();
    assert!(page.contains(r#"<small class="device">cpu</small>"#), "{page}");
    // Its wall time as recorded; one under a millisecond reads `< 1 ms`.
    let wall = match d["wall_ms"].as_u64().unwrap() {
        0 => "&lt; 1 ms".to_owned(),
        ms => format!("{ms} ms"),
    };
    assert!(page.contains(&format!(r#"<span class="wall">{wall}</span><br><small class="device">"#)), "{wall}: {page}");

    let b = submit_model(&ann, "breast-cancer", example("breast_cancer_logreg")).await;
    assert!(b["public_score"].as_f64().unwrap() > 0.95, "breast-cancer AUC {b}");
    let r = submit_model(&ann, "diabetes", example("diabetes-linear.wat")).await;
    // A linear model on ten features: about 55-67 depending on which rows
    // the (random) split made public; predicting the mean alone, about 75.
    assert!(r["public_score"].as_f64().unwrap() < 70.0, "diabetes RMSE {r}");

    // The efficiency column.
    let board = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert!(board["entries"][0]["fuel_used"].as_i64().unwrap() > 0, "{board}");
    // Fuel is deterministic: the same model costs the same again.
    let again = submit_model_n(&ann, "digits", example("digits_mlp"), 2).await;
    assert_eq!(again["fuel_used"], d["fuel_used"]);

    // Rescoring reaches model submissions too, through the predictions their
    // outputs became.
    let admin = app.admin().await;
    let res = admin.post_empty("/api/v1/tasks/digits/rescore").await;
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["submissions"], 2, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["changes"][0]["public_score"][1], d["public_score"], "{report}");
}

async fn submit_model_n(user: &User, slug: &str, bytes: Vec<u8>, n: i64) -> Value {
    let res = user.submit(slug, bytes).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["quota"]["used_today"], n);
    wait_final(user, body["submission"]["id"].as_i64().unwrap()).await
}

#[tokio::test]
async fn broken_modules_are_refused_at_upload_and_hostile_ones_fail_with_their_verdict() {
    let app = TestApp::spawn().await;
    let bob = app.competitor("bob").await;
    let wasi = wat::parse_str(
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (memory (export "memory") 1))"#,
    )
    .unwrap();
    let body = assert_error(bob.submit("digits", wasi).await, 422, "invalid_model", "invalid_module").await;
    assert!(body.to_string().contains("only from module \\\"gaic\\\""), "{body}");
    assert_error(bob.submit("digits", b"\0asm garbage".to_vec()).await, 422, "invalid_model", "").await;
    assert_eq!(bob.get_json("/api/v1/tasks/digits/submissions").await["total"], 0, "nothing stored");

    let spin = crate::helpers::spin_model();
    let s = submit_model(&bob, "digits", spin).await;
    assert_eq!(s["status"], "failed");
    assert_eq!(s["verdict"], "out_of_fuel");
    assert!(s["error"].as_str().unwrap().contains("compute budget"), "{s}");
    assert!(s["public_score"].is_null());
    // The model's own fault counts toward the cap.
    assert_eq!(bob.get_json("/api/v1/tasks/digits/team").await["quota"]["used_today"], 1);

    // The organizer sees the exact fuel and the log.
    let admin = app.admin().await;
    let id = s["id"].as_i64().unwrap();
    let o = admin.get_json(&format!("/api/v1/submissions/{id}")).await;
    assert_eq!(o["fuel_used"].as_i64().unwrap() as u64, 2_000_000_000, "exact fuel for the organizer: {o}");
    assert!(o.get("log").is_some());
}

#[tokio::test]
async fn a_task_that_takes_no_models_says_so() {
    let app = TestApp::spawn().await;
    let olga = app.organizer("olga").await;
    let dir = copy_demo("diabetes");
    edit_toml(dir.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"csv-only\"")
            .replace("kinds = [\"predictions\", \"model\"]", "kinds = [\"predictions\"]")
    });
    assert_eq!(olga.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await.status(), StatusCode::CREATED);
    olga.patch_json("/api/v1/tasks/csv-only", &json!({"published": true})).await;
    let ann = app.competitor("ann").await;
    assert_error(
        ann.submit("csv-only", example("diabetes-linear.wat")).await,
        422,
        "kind_not_accepted",
        "does not accept models",
    )
    .await;
}
