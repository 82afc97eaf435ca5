//! End-to-end evaluation latency and throughput with the server's local
//! workers (each running models in an evaluator child process):
//!
//!     scripts/build-examples.sh && cargo bench --bench queue
//!
//! Latency: 30 digits-mlp submissions one after another, from the upload's
//! first byte to the moment the submission reads `scored` (polled every
//! 2 ms); p50 and p95. Throughput: 40 submissions uploaded at once, timed
//! until all are scored, with 1, 2 and 4 workers (on this machine's cores).

use std::path::Path;
use std::time::{Duration, Instant};

use gaic::server::ServeArgs;
use gaic::telemetry::LogFormat;
use serde_json::{Value, json};

struct App {
    base: String,
    client: reqwest::Client,
    token: String,
    _dir: tempfile::TempDir,
}

async fn start(workers: u32) -> App {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args = ServeArgs {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        database_url: None,
        tasks_dir: root.join("tasks"),
        admin_password: Some("bench-admin-password".into()),
        max_upload_mib: 16,
        workers: Some(workers),
        lease_secs: 30,
        max_attempts: 3,
        team_running_cap: 64,
        device: gaic_sandbox::DeviceChoice::Cpu,
        child_program: Some(env!("CARGO_BIN_EXE_gaic").into()),
        test_abort_on_log: None,
        log_format: LogFormat::Text,
        store: Default::default(),
    };
    let state = gaic::server::prepare(&args).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gaic::server::app(state)).await.unwrap() });
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{base}/api/v1/tokens"))
        .json(&json!({"username": "admin", "password": "bench-admin-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
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
    App { base, client, token, _dir: dir }
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
        let part = reqwest::multipart::Part::bytes(model.to_vec()).file_name("m.wasm");
        let res: Value = self
            .client
            .post(format!("{}/api/v1/tasks/bench/submissions", self.base))
            .bearer_auth(&self.token)
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
