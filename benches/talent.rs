//! The recruiters' people search at 100,000 people: all consent to be
//! found, 2,000 of them with a final result on a closed task; the first page
//! of `GET /api/v1/talent` (everyone, and filtered to the task's top
//! half), timed over HTTP after a first request builds the talent pool.
//!
//!     cargo bench --bench talent
//!
//! Target: under 100 ms a page.

use std::time::Instant;

use serde_json::Value;

mod common;

const PEOPLE: usize = 100_000;
const WITH_RESULTS: usize = 2_000;

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` builds this; only `cargo bench` runs it.
    }
    let dir = tempfile::tempdir().unwrap();
    let state = gaic::server::prepare(&common::serve_args(dir.path(), None, 0)).await.unwrap();
    let seeded = Instant::now();
    common::seed_teams(&state, WITH_RESULTS, 1).await;
    let pool = &state.db.pool;
    let now = gaic::db::now_ms();
    let mut tx = pool.begin().await.unwrap();
    for i in WITH_RESULTS..PEOPLE {
        common::insert_person(&mut tx, &format!("u{i:06}"), now).await;
    }
    sqlx::query("INSERT INTO consents (user_id, kind, text_version, granted_at) SELECT user_id, 'recruiters', $1, 0 FROM users WHERE username LIKE 'u%'")
        .bind(gaic::consent::current_version("recruiters"))
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE tasks SET closes_at = $1 WHERE slug = 'digits'")
        .bind(now - 1000)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    println!("seeded {PEOPLE} people ({WITH_RESULTS} with results) in {:.1} s", seeded.elapsed().as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let db = state.db.clone();
    tokio::spawn(async move { axum::serve(listener, gaic::server::app(state)).await.unwrap() });
    let client = reqwest::Client::new();
    let token = &common::log_in(&client, &base, "admin", "bench-admin-password").await;
    for (what, query) in
        [("everyone, first page", ""), ("top half of digits, first page", "?task=digits&min_percentile=50")]
    {
        let url = format!("{base}/api/v1/talent{query}");
        let first = Instant::now();
        let body: Value = client.get(&url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        let first = first.elapsed().as_secs_f64() * 1e3;
        assert!(body["total"].as_u64().unwrap_or(0) > 0, "{body}");
        let mut times = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let res = client.get(&url).bearer_auth(token).send().await.unwrap();
            assert!(res.status().is_success());
            res.bytes().await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{what:<34} {} found; first request {first:.0} ms; then p50 {:.1} ms, p95 {:.1} ms",
            body["total"], times[10], times[18]
        );
    }
    let t = Instant::now();
    let rows = gaic::db::profiles::discoverable(
        &db.pool,
        "KR",
        gaic::consent::current_version("recruiters"),
        gaic::consent::current_version("abroad"),
    )
    .await
    .unwrap();
    println!(
        "of which reading the {} findable people and profiles: {:.0} ms",
        rows.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
}
