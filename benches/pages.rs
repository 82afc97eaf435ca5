//! Page speed on a big task: 2,000 teams and 10,000 scored submissions on
//! `digits` (SQLite), then each page fetched 30 times over HTTP; median and
//! p95 printed.
//!
//!     cargo bench --bench pages
//!
//! Pages: the home page, the leaderboard's first and 40th page (each with
//! the score-over-time chart), the JSON board, a profile, and an organizer's
//! management page (all submissions, paginated).

use std::time::{Duration, Instant};

mod common;

const TEAMS: usize = 2_000;
const SUBMISSIONS: usize = 10_000;

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` builds this; only `cargo bench` runs it.
    }
    let dir = tempfile::tempdir().unwrap();
    let args = common::serve_args(dir.path(), None, 0);
    let state = gaic::server::prepare(&args).await.unwrap();
    let seeded = Instant::now();
    common::seed_teams(&state, TEAMS, SUBMISSIONS / TEAMS).await;
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
