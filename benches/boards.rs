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

use gaic::server::ServeArgs;
use gaic::telemetry::LogFormat;
use sqlx::Connection;

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
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args = ServeArgs {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_owned(),
        database_url,
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
    seed(&state).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gaic::server::app(state)).await.unwrap() });
    base
}

/// 2,000 teams of one scored CSV submission each.
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
        let score = ((i * 7919) % 10_000) as f64 / 10_000.0;
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
        gaic::db::submissions::insert(&mut *tx, &sub, now - 86_400_000 + i as i64 * 1000).await.unwrap();
    }
    tx.commit().await.unwrap();
}
