//! End-to-end evaluation latency and throughput with the server's local
//! workers (each running models in an evaluator child process):
//!
//!     scripts/build-examples.sh && cargo bench --bench queue
//!
//! Latency: 30 digits-mlp submissions one after another, from the upload's
//! first byte to the moment the submission reads `scored` (polled every
//! 2 ms); p50 and p95. Throughput: 40 submissions uploaded at once, timed
//! until all are scored, with 1, 2 and 4 workers (on this machine's cores).
//! Burst: 1,000 models uploaded at once by 100 competitors, each scored
//! exactly once; throughput and p95 upload-to-score.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

struct App {
    state: gaic::state::AppState,
    base: String,
    client: reqwest::Client,
    token: String,
    _dir: tempfile::TempDir,
}

async fn start(workers: u32) -> App {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = common::serve_args(dir.path(), None, workers);
    args.team_running_cap = 64;
    let state = gaic::server::prepare(&args).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = gaic::server::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();
    let token = common::log_in(&client, &base, "admin", "bench-admin-password").await;
    // A copy of digits with room for a burst.
    let tmp = tempfile::tempdir().unwrap();
    copy(&root.join("tasks/digits"), tmp.path());
    let toml = std::fs::read_to_string(tmp.path().join("task.toml")).unwrap();
    std::fs::write(
        tmp.path().join("task.toml"),
        toml.replace("slug = \"digits\"", "slug = \"bench\"").replace("daily_cap = 5", "daily_cap = 1000"),
    )
    .unwrap();
    let part = reqwest::multipart::Part::bytes(gaic::bundle::pack_dir(tmp.path()).unwrap()).file_name("b.tar.gz");
    let res = client
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part("bundle", part))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    client
        .patch(format!("{base}/api/v1/tasks/bench"))
        .bearer_auth(&token)
        .json(&json!({"published": true}))
        .send()
        .await
        .unwrap();
    App { state, base, client, token, _dir: dir }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

impl App {
    async fn submit(&self, model: &[u8]) -> i64 {
        self.submit_as(&self.token, model).await
    }

    async fn submit_as(&self, token: &str, model: &[u8]) -> i64 {
        let part = reqwest::multipart::Part::bytes(model.to_vec()).file_name("m.wasm");
        let res: Value = self
            .client
            .post(format!("{}/api/v1/tasks/bench/submissions", self.base))
            .bearer_auth(token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        res["submission"]["id"].as_i64().unwrap_or_else(|| panic!("{res}"))
    }

    async fn wait(&self, id: i64) {
        loop {
            let s: Value = self
                .client
                .get(format!("{}/api/v1/submissions/{id}", self.base))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            match s["status"].as_str() {
                Some("scored") => return,
                Some("queued" | "running") => tokio::time::sleep(Duration::from_millis(2)).await,
                _ => panic!("{s}"),
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --all-targets` runs bench targets too: only `cargo bench` measures.
    }
    let model = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sandbox/guest/target/wasm32-unknown-unknown/release/digits_mlp.wasm"),
    )
    .expect("run scripts/build-examples.sh first");
    let app = start(1).await;
    app.wait(app.submit(&model).await).await; // warm the compile cache
    let mut lat = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let id = app.submit(&model).await;
        app.wait(id).await;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "upload-to-score latency, digits-mlp, 1 worker (an evaluator child process): p50 {:.1} ms, p95 {:.1} ms",
        percentile(&lat, 0.5),
        percentile(&lat, 0.95)
    );
    burst(&model).await;
    for workers in [1u32, 2, 4] {
        let app = start(workers).await;
        app.wait(app.submit(&model).await).await;
        let t = Instant::now();
        let mut ids = Vec::new();
        for _ in 0..40 {
            ids.push(app.submit(&model).await);
        }
        for id in ids {
            app.wait(id).await;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "throughput, {workers} worker(s): 40 submissions in {secs:.2} s = {:.0} submissions/minute",
            40.0 * 60.0 / secs
        );
    }
}

/// 1,000 model submissions uploaded at once by 100 competitors (10 each),
/// with one local worker per core: every one must be scored exactly once
/// (one job each, one attempt). Upload-to-score is the server's own record:
/// from the upload's arrival to the score.
async fn burst(model: &[u8]) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    let app = start(workers).await;
    app.wait(app.submit(model).await).await; // warm the compile cache
    let mut tokens = Vec::new();
    for i in 0..100 {
        let name = format!("c{i:03}");
        let body = json!({"username": name, "email": format!("{name}@example.org"), "password": "bench password 1", "country": "KR", "age_14_or_older": true});
        app.client.post(format!("{}/api/v1/users", app.base)).json(&body).send().await.unwrap();
        tokens.push(common::log_in(&app.client, &app.base, &name, "bench password 1").await);
    }
    let started = Instant::now();
    let app = std::sync::Arc::new(app);
    let mut uploads = tokio::task::JoinSet::new();
    for token in tokens {
        for _ in 0..10 {
            let (app, token, model) = (app.clone(), token.clone(), model.to_vec());
            uploads.spawn(async move { app.submit_as(&token, &model).await });
        }
    }
    let ids: Vec<i64> = uploads.join_all().await;
    let uploaded = started.elapsed().as_secs_f64();
    let pool = &app.state.db.pool;
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE status IN ('queued', 'running')")
            .fetch_one(pool)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT s.scored_at - s.created_at, j.attempts, s.status FROM submissions s JOIN jobs j ON j.submission_id = s.submission_id
         JOIN users u ON u.user_id = s.user_id WHERE u.username LIKE 'c%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1000, "one job per submission");
    assert_eq!(ids.len(), 1000);
    assert!(rows.iter().all(|r| r.2 == "scored"), "every submission scored");
    assert!(rows.iter().all(|r| r.1 == 1), "each evaluated exactly once");
    let mut lat: Vec<f64> = rows.iter().map(|r| r.0 as f64).collect();
    lat.sort_by(f64::total_cmp);
    println!(
        "burst: 1,000 models from 100 competitors at once, {workers} workers: uploaded in {uploaded:.1} s, all scored in {secs:.1} s \
         = {:.0} submissions/minute; upload-to-score p50 {:.0} ms, p95 {:.0} ms; every one scored once",
        1000.0 * 60.0 / secs,
        percentile(&lat, 0.5),
        percentile(&lat, 0.95)
    );
}
