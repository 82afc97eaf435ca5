//! What the HTTP benches share: the server's settings and a seeded task.

#![allow(dead_code)] // each bench uses its part

use std::path::Path;

use gaic::server::ServeArgs;
use gaic::telemetry::LogFormat;

/// `gaic serve` settings for a bench: the demo tasks, `workers` local
/// workers on the CPU, the database at `database_url` (SQLite in `dir` by
/// default).
pub fn serve_args(dir: &Path, database_url: Option<String>, workers: u32) -> ServeArgs {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ServeArgs {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_owned(),
        database_url,
        tasks_dir: root.join("tasks"),
        admin_password: Some("bench-admin-password".into()),
        max_upload_mib: 16,
        workers: Some(workers),
        lease_secs: 30,
        max_attempts: 3,
        team_running_cap: 2,
        device: gaic_sandbox::DeviceChoice::Cpu,
        child_program: Some(env!("CARGO_BIN_EXE_gaic").into()),
        test_abort_on_log: None,
        log_format: LogFormat::Text,
        // A bench sends from one address what many clients would: no quotas.
        limits: gaic::server::LimitArgs::unlimited(),
        store: Default::default(),
        public_url: None,
    }
}

/// `teams` teams on `digits`, each of one member with `per_team` scored CSV
/// submissions (scores spread by a fixed pattern), written in one
/// transaction.
pub async fn seed_teams(state: &gaic::state::AppState, teams: usize, per_team: usize) {
    let pool = &state.db.pool;
    let task = gaic::db::tasks::by_slug(pool, "digits").await.unwrap().unwrap();
    let now = gaic::db::now_ms();
    let mut tx = pool.begin().await.unwrap();
    for i in 0..teams {
        let name = format!("u{i:05}");
        let uid = insert_person(&mut tx, &name, now).await;
        let team = gaic::db::teams::create(&mut tx, task.task_id, &name, uid, now).await.unwrap();
        for k in 0..per_team {
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
                raw_public_score: None,
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

/// A person in Korea named `name` (no usable password, 14 or older),
/// inserted in `tx`.
pub async fn insert_person(tx: &mut sqlx::Transaction<'_, sqlx::Any>, name: &str, now: i64) -> i64 {
    let user = gaic::db::users::NewUser {
        username: name,
        email: &format!("{name}@example.org"),
        password_hash: "x",
        display_name: name,
        country: "KR",
    };
    let id = gaic::db::users::insert(&mut **tx, &user, now).await.unwrap();
    gaic::db::users::confirm_age(&mut **tx, id, now).await.unwrap();
    id
}

/// A new API token for `username`.
pub async fn log_in(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let body = serde_json::json!({"username": username, "password": password});
    let t: serde_json::Value =
        client.post(format!("{base}/api/v1/tokens")).json(&body).send().await.unwrap().json().await.unwrap();
    t["token"].as_str().unwrap().to_owned()
}
