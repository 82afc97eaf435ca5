//! Board throughput at the deadline: `digits` with 2,000 teams of one CSV
//! submission each, the server on SQLite and (when reachable) PostgreSQL,
//! and `wrk -t2 -c32 -d10s` on the JSON board and the board page, the load
//! generator sharing the machine with the server.
//!
//!     cargo bench --bench boards
//!
//! `GAIC_BENCH_DATABASE_URL` names the PostgreSQL database to create a
//! fresh one from (default postgres://postgres@127.0.0.1:5432/test). Needs
//! `wrk` (Debian's package).

use std::path::Path;
use std::time::Instant;

use sqlx::Connection;

mod common;

const TEAMS: usize = 2_000;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` builds this; only `cargo bench` runs it.
    }
    assert!(
        std::process::Command::new("wrk").arg("--version").output().is_ok(),
        "wrk is not installed (apt-get install wrk)"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pg =
        std::env::var("GAIC_BENCH_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    println!("{:<10} {:<34} {:>10} {:>9} {:>9} {:>10}", "database", "what", "req/s", "p50", "p99", "alone");
    for backend in ["sqlite", "postgres"] {
        let database_url = if backend == "sqlite" {
            None
        } else {
            match rt.block_on(fresh_pg(&pg)) {
                Some(url) => Some(url),
                None => {
                    println!("{backend:<10} skipped: {pg} is not reachable");
                    continue;
                }
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let base = rt.block_on(start(dir.path(), database_url));
        for (what, path) in [
            ("API board JSON (first 50 rows)", "/api/v1/tasks/digits/leaderboard"),
            ("board page (first 50 + chart)", "/tasks/digits?tab=leaderboard"),
        ] {
            let url = format!("{base}{path}");
            let alone = rt.block_on(async {
                let client = reqwest::Client::new();
                client.get(&url).send().await.unwrap().bytes().await.unwrap();
                let t = Instant::now();
                for _ in 0..20 {
                    let res = client.get(&url).send().await.unwrap();
                    assert!(res.status().is_success(), "{url}: {}", res.status());
                    res.bytes().await.unwrap();
                }
                t.elapsed().as_secs_f64() * 1e3 / 20.0
            });
            let (rps, p50, p99) = wrk(&url);
            println!("{backend:<10} {what:<34} {rps:>10.0} {p50:>9} {p99:>9} {alone:>7.2} ms");
        }
    }
}

/// Runs wrk for 10 s; requests per second and the p50 and p99 latencies.
fn wrk(url: &str) -> (f64, String, String) {
    let out =
        std::process::Command::new("wrk").args(["-t2", "-c32", "-d10s", "--latency", url]).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Non-2xx"), "errors under load:\n{text}");
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.split_whitespace().next().unwrap_or("").to_owned()))
            .unwrap_or_default()
    };
    (field("Requests/sec:").parse().unwrap_or(0.0), field("50%"), field("99%"))
}

async fn fresh_pg(admin_url: &str) -> Option<String> {
    let mut conn = sqlx::PgConnection::connect(admin_url).await.ok()?;
    let name = format!("gaic_bench_{:016x}", rand::random::<u64>());
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.ok()?;
    let mut url = url::Url::parse(admin_url).ok()?;
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// Starts a server with 2,000 teams on `digits`; its base URL.
async fn start(dir: &Path, database_url: Option<String>) -> String {
    let state = gaic::server::prepare(&common::serve_args(dir, database_url, 0)).await.unwrap();
    common::seed_teams(&state, TEAMS, 1).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gaic::server::app(state)).await.unwrap() });
    base
}
