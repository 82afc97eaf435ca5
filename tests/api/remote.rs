//! Remote workers: tokens, the real `gaic worker` process taking jobs over
//! HTTP, labels never served to a worker, and a worker killed mid-job.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, assert_error};
use crate::models::{example, wait_final};

/// A new worker token from the admin.
pub async fn worker_token(app: &TestApp, name: &str) -> String {
    let res = app.admin().await.post_json("/api/v1/admin/worker-tokens", &json!({ "name": name })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("gaicw_"));
    token
}

fn start_worker(app: &TestApp, token: &str, cache: &std::path::Path) -> Child {
    start_worker_with(app, token, cache, &[])
}

/// The real `gaic worker` (one slot, quick polling) with extra environment.
pub fn start_worker_with(app: &TestApp, token: &str, cache: &std::path::Path, env: &[(&str, &str)]) -> Child {
    worker_process(&app.base, token, cache, env)
}

/// The real `gaic worker` (one slot, quick polling) for the server at `base`.
pub fn worker_process(base: &str, token: &str, cache: &std::path::Path, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gaic"))
        .args(["worker", "--server", base, "--concurrency", "1", "--poll-secs", "0.05", "--cache-dir"])
        .arg(cache)
        .env("GAIC_WORKER_TOKEN", token)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn submit(user: &User, slug: &str, bytes: Vec<u8>) -> i64 {
    let body: Value = user.submit(slug, bytes).await.json().await.unwrap();
    body["submission"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_remote_worker_takes_jobs_over_http_and_is_listed() {
    let app = TestApp::spawn_with(|a| a.workers = Some(0)).await;
    let ann = app.competitor("ann").await;
    assert_error(ann.post_json("/api/v1/admin/worker-tokens", &json!({"name": "x"})).await, 403, "forbidden", "admin")
        .await;
    let token = worker_token(&app, "gpu-box-1").await;
    let cache = tempfile::tempdir().unwrap();
    let mut worker = start_worker(&app, &token, cache.path());
    let id = submit(&ann, "digits", example("digits_mlp")).await;
    let s = wait_final(&ann, id).await;
    assert_eq!(s["status"], "scored", "{s}");
    assert!(s["public_score"].as_f64().unwrap() > 0.9);
    let fleet: Value = app.admin().await.get_json("/api/v1/admin/workers").await;
    assert_eq!(fleet[0]["name"], "gpu-box-1");
    // `--device auto`: the device this machine has (the CPU without a GPU).
    let here = gaic_sandbox::tensor::select(gaic_sandbox::DeviceChoice::Auto).map(|(_, d)| d.name).unwrap();
    assert_eq!(fleet[0]["device"], here.as_str());
    assert_eq!(fleet[0]["lost"], false);
    assert!(fleet[0]["version"].is_string());
    // The worker cached what it fetched, by hash.
    assert!(std::fs::read_dir(cache.path().join("blobs")).unwrap().count() >= 2);
    // Revoked: the worker is refused at once.
    let wid = fleet[0]["id"].as_i64().unwrap();
    assert_eq!(
        app.admin().await.delete(&format!("/api/v1/admin/worker-tokens/{wid}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let res = reqwest::Client::new().post(app.url("/api/v1/worker/lease")).bearer_auth(&token).send().await.unwrap();
    assert_error(res, 401, "unauthorized", "revoked").await;
    worker.kill().unwrap();
    worker.wait().unwrap();
}

#[tokio::test]
async fn workers_get_models_and_inputs_but_never_labels() {
    let app = TestApp::spawn_with(|a| a.workers = Some(0)).await;
    let token = worker_token(&app, "w").await;
    let ann = app.competitor("ann").await;
    submit(&ann, "diabetes", example("diabetes-linear.wat")).await;
    let client = reqwest::Client::new();
    let lease: Value =
        client.post(app.url("/api/v1/worker/lease")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let job = &lease["job"];
    let held = lease["lease"].as_str().unwrap();
    let blob = |hash: &str, lease: Option<&str>, token: &str| {
        let mut rb = client.get(app.url(&format!("/api/v1/worker/blobs/{hash}"))).bearer_auth(token);
        if let Some(l) = lease {
            rb = rb.query(&[("lease", l)]);
        }
        rb.send()
    };
    for key in ["model_hash", "inputs_hash"] {
        let res = blob(job[key].as_str().unwrap(), Some(held), &token).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{key}");
    }
    assert!(!lease.to_string().contains("label"), "a lease names no labels: {lease}");
    let labels = std::fs::read(crate::helpers::tasks_dir().join("diabetes/hidden/test_labels.csv")).unwrap();
    let labels_hash = gaic::blobs::sha256_hex(&labels);
    assert_error(blob(&labels_hash, Some(held), &token).await.unwrap(), 404, "not_found", "blob").await;
    // Only under a live lease of the calling worker, and only that job's files.
    let model = job["model_hash"].as_str().unwrap();
    assert_error(blob(model, None, &token).await.unwrap(), 422, "lease_required", "?lease=").await;
    let other = worker_token(&app, "other").await;
    assert_error(blob(model, Some(held), &other).await.unwrap(), 403, "forbidden", "another worker").await;
    let bob = app.competitor("bob").await;
    let digits_model = example("digits_mlp");
    submit(&bob, "digits", digits_model.clone()).await;
    let other_job = gaic::blobs::sha256_hex(&digits_model);
    assert_error(blob(&other_job, Some(held), &token).await.unwrap(), 404, "not_found", "blob").await;
    // A user's token is not a worker's.
    let res =
        client.post(app.url("/api/v1/worker/lease")).bearer_auth(ann.token.as_ref().unwrap()).send().await.unwrap();
    assert_error(res, 401, "unauthorized", "worker token").await;
    // A result under somebody else's lease is refused.
    let res = client
        .post(app.url(&format!("/api/v1/worker/jobs/{}/result", lease["job_id"])))
        .bearer_auth(&token)
        .json(&json!({"lease": "w999-00000000", "outcome": {"verdict": "ok", "message": "", "fuel_used": 1, "peak_memory_bytes": 1, "wall_ms": 1, "log": "", "outputs": []}}))
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "forbidden", "another worker").await;
    // Once the lease is given back, its files are refused too.
    let res = client
        .post(app.url(&format!("/api/v1/worker/jobs/{}/fail", lease["job_id"])))
        .bearer_auth(&token)
        .json(&json!({"lease": held, "error": "disk full"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(blob(model, Some(held), &token).await.unwrap(), 404, "not_found", "blob").await;
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_its_lease_and_the_job_runs_once_more() {
    let app = TestApp::spawn_with(|a| {
        a.workers = Some(0);
        a.lease_secs = 1;
    })
    .await;
    let token = worker_token(&app, "w").await;
    let ann = app.competitor("ann").await;
    // Spins until its fuel (the digits budget) runs out: a second or two.
    let id = submit(&ann, "digits", crate::helpers::spin_model()).await;
    let cache = tempfile::tempdir().unwrap();
    let mut first = start_worker(&app, &token, cache.path());
    let deadline = Instant::now() + Duration::from_secs(30);
    while ann.get_json(&format!("/api/v1/submissions/{id}")).await["status"] != "running" {
        assert!(Instant::now() < deadline, "never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let running = ann.get_json(&format!("/api/v1/submissions/{id}")).await;
    assert!(running["running"]["worker"].as_str().unwrap().starts_with('w'), "{running}");
    first.kill().unwrap(); // SIGKILL, mid-job
    first.wait().unwrap();
    let mut second = start_worker(&app, &token, cache.path());
    let s = wait_final(&ann, id).await;
    assert_eq!(s["status"], "failed", "{s}");
    assert_eq!(s["verdict"], "out_of_fuel");
    let jobs: Vec<(i64, String)> = sqlx::query_as("SELECT attempts, state FROM jobs WHERE submission_id = $1")
        .bind(id)
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(jobs, [(2, "done".to_owned())], "re-leased once, finished once");
    second.kill().unwrap();
    second.wait().unwrap();
}

/// A task whose models need a GPU (`[budget] device = "cuda"`): the
/// server's CPU evaluators and a CPU worker leave its jobs queued, the
/// queue view says it waits for a GPU worker, and a worker that registered
/// a CUDA device leases it. Other tasks' jobs go to any worker.
#[tokio::test]
async fn jobs_of_a_gpu_task_go_only_to_workers_with_a_cuda_device() {
    let app = TestApp::spawn().await;
    let dir = crate::helpers::copy_demo("diabetes");
    crate::helpers::edit_toml(dir.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"diabetes-gpu\"").replace("[budget]", "[budget]\ndevice = \"cuda\"")
    });
    let admin = app.admin().await;
    let res = admin.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    admin.patch_json("/api/v1/tasks/diabetes-gpu", &json!({"published": true})).await;
    let ann = app.competitor("ann").await;
    let id = submit(&ann, "diabetes-gpu", example("diabetes-linear.wat")).await;

    // The server's own evaluators (CPU here) leave it alone.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let s = ann.get_json(&format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s["status"], "queued", "{s}");
    let queue = admin.get_json("/api/v1/tasks/diabetes-gpu/queue").await;
    assert_eq!(
        (queue["needs_gpu"].clone(), queue["gpu_workers"].clone(), queue["queued"].clone()),
        (json!(true), json!(0), json!(1))
    );
    let cookies = crate::pages::web_login(&app, "admin", crate::helpers::ADMIN_PASSWORD).await;
    let page = crate::pages::html(&app, "/tasks/diabetes-gpu/manage", Some(&cookies)).await;
    assert!(page.contains("id=\"gpu-queue\"") && page.contains("jobs wait until one connects"), "the queue says so");

    let client = reqwest::Client::new();
    let register = |token: String, device: &'static str| {
        let client = client.clone();
        let url = app.url("/api/v1/worker/register");
        async move {
            let body = json!({"device": device, "version": "test", "concurrency": 1});
            let res = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            assert!(res.status().is_success(), "{}", res.status());
        }
    };
    let lease = |token: String| {
        let client = client.clone();
        let url = app.url("/api/v1/worker/lease");
        async move { client.post(url).bearer_auth(token).send().await.unwrap() }
    };
    let cpu = worker_token(&app, "cpu-box").await;
    register(cpu.clone(), "cpu").await;
    assert_eq!(lease(cpu).await.status(), 204, "a CPU worker gets nothing");
    let gpu = worker_token(&app, "gpu-box").await;
    register(gpu.clone(), "cuda:0 (test)").await;
    let queue = admin.get_json("/api/v1/tasks/diabetes-gpu/queue").await;
    assert_eq!(queue["gpu_workers"], 1);
    let res = lease(gpu).await;
    assert_eq!(res.status(), 200);
    let leased: Value = res.json().await.unwrap();
    assert_eq!(leased["job"]["submission_id"], id, "{leased}");
}
