//! Page speed on a big task: 2,000 teams and 10,000 scored submissions on
//! `digits` (SQLite), then each page fetched 30 times over HTTP; median and
//! p95 printed.
//!
//!     cargo bench --bench pages
//!
//! Pages: the home page, the leaderboard's first and 40th page (each with
//! the score-over-time chart), the JSON board, a profile, and an organizer's
//! management page (all submissions, paginated).

use std::path::Path;
use std::time::{Duration, Instant};

use gaic::server::ServeArgs;
use gaic::telemetry::LogFormat;

const TEAMS: usize = 2_000;
const SUBMISSIONS: usize = 10_000;

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` builds this; only `cargo bench` runs it.
    }
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args = ServeArgs {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        database_url: None,
        tasks_dir: root.join("tasks"),
        admin_password: Some("bench-admin-password".into()),
        max_upload_mib: 16,
        workers: Some(0),
        lease_secs: 30,
        max_attempts: 3,
        team_running_cap: 2,
        device: gaic_sandbox::DeviceChoice::Cpu,
        child_program: Some(env!("CARGO_BIN_EXE_gaic").into()),
        test_abort_on_log: None,
        log_format: LogFormat::Text,
        store: Default::default(),
    };
    let state = gaic::server::prepare(&args).await.unwrap();
    let seeded = Instant::now();
    seed(&state).await;
    println!("seeded {TEAMS} teams and {SUBMISSIONS} submissions in {:.1} s", seeded.elapsed().as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gaic::server::app(state)).await.unwrap() });
    let client = reqwest::Client::new();
    let session = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": "bench-admin-password"}))
        .send()
        .await
        .unwrap()
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();

    println!("{:<48} {:>10} {:>10} {:>10}", "page", "median", "p95", "bytes");
    for (name, path, auth) in [
        ("home", "/", false),
        ("leaderboard page 1 (with chart)", "/tasks/digits?tab=leaderboard", false),
        ("leaderboard page 40", "/tasks/digits?tab=leaderboard&board=public&page=40", false),
        ("API board JSON (50 rows)", "/api/v1/tasks/digits/leaderboard", false),
        ("profile", "/users/u01999", false),
        ("organizer: manage (all submissions, page 1)", "/tasks/digits/manage", true),
    ] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..30 {
            let mut req = client.get(format!("{base}{path}"));
            if auth {
                req = req.header("cookie", &session);
            }
            let t = Instant::now();
            let res = req.send().await.unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            bytes = res.bytes().await.unwrap().len();
            times.push(t.elapsed());
        }
        times.sort();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        println!("{name:<48} {:>10} {:>10} {bytes:>10}", ms(times[times.len() / 2]), ms(times[times.len() * 95 / 100]));
    }
}

async fn seed(state: &gaic::state::AppState) {
    let pool = &state.db.pool;
    let task = gaic::db::tasks::by_slug(pool, "digits").await.unwrap().unwrap();
    let now = gaic::db::now_ms();
    let mut tx = pool.begin().await.unwrap();
    for i in 0..TEAMS {
        let name = format!("u{i:05}");
        let user = gaic::db::users::NewUser {
            username: &name,
            email: &format!("{name}@example.org"),
            password_hash: "x",
            display_name: &name,
            country: "KR",
        };
        let uid = gaic::db::users::insert(&mut *tx, &user, now).await.unwrap();
        let team = gaic::db::teams::create(&mut tx, task.task_id, &name, uid, now).await.unwrap();
        for k in 0..SUBMISSIONS / TEAMS {
            let score = ((i * 7919 + k * 104_729) % 10_000) as f64 / 10_000.0;
            let sub = gaic::db::submissions::NewSubmission {
                task_id: task.task_id,
                team_id: team,
                user_id: uid,
                kind: "predictions",
                message: "",
                file_name: "p.csv",
                blob_hash: "0",
                size: 1,
                status: gaic::status::SubmissionStatus::Scored,
                public_score: Some(score),
                private_score: Some(1.0 - score),
                late: false,
                idempotency_key: None,
            };
            let at = now - 86_400_000 + (i * 5 + k) as i64 * 1000;
            gaic::db::submissions::insert(&mut *tx, &sub, at).await.unwrap();
        }
    }
    tx.commit().await.unwrap();
}
