//! The evaluation queue, driven step by step with `run_once` (no in-process
//! workers): fair order across teams, the per-team running cap, leases that
//! expire and move a job to another worker exactly once, stale results
//! refused, platform failures retried then refunded.

use gaic::db::jobs;
use gaic::eval::runner::run_once;
use serde_json::Value;

use crate::helpers::{TestApp, User};
use crate::models::example;

async fn queued_app() -> TestApp {
    TestApp::spawn_with(|a| a.workers = Some(0)).await
}

async fn submit(user: &User, slug: &str, bytes: Vec<u8>) -> i64 {
    let body: Value = user.submit(slug, bytes).await.json().await.unwrap();
    assert_eq!(body["submission"]["status"], "queued", "{body}");
    body["submission"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn jobs_are_taken_round_robin_across_teams_and_show_their_place() {
    let app = queued_app().await;
    let (ann, ben) = (app.competitor("ann").await, app.competitor("ben").await);
    let model = example("breast_cancer_logreg");
    let a1 = submit(&ann, "breast-cancer", model.clone()).await;
    let a2 = submit(&ann, "breast-cancer", model.clone()).await;
    let a3 = submit(&ann, "breast-cancer", model.clone()).await;
    let b1 = submit(&ben, "breast-cancer", model.clone()).await;
    let s = ben.get_json(&format!("/api/v1/submissions/{b1}")).await;
    assert_eq!(s["queue_position"], 4, "{s}");
    // ann's burst does not starve ben: ann, ben, then ann again.
    let mut order = Vec::new();
    while let Some(id) = run_once(&app.state.queue, "w").await.unwrap() {
        order.push(id);
    }
    assert_eq!(order, [a1, b1, a2, a3]);
    for id in [a1, a2, a3] {
        assert_eq!(ann.get_json(&format!("/api/v1/submissions/{id}")).await["status"], "scored");
    }
    assert_eq!(ben.get_json(&format!("/api/v1/submissions/{b1}")).await["status"], "scored");
}

#[tokio::test]
async fn a_team_runs_at_most_its_cap_at_once() {
    let app = queued_app().await;
    let ann = app.competitor("ann").await;
    for _ in 0..3 {
        submit(&ann, "breast-cancer", example("breast_cancer_logreg")).await;
    }
    let pool = &app.state.db.pool;
    let backend = app.state.db.backend;
    let now = gaic::db::now_ms();
    assert!(jobs::claim(pool, backend, "w1", now, 60_000, 2, false).await.unwrap().is_some());
    assert!(jobs::claim(pool, backend, "w2", now, 60_000, 2, false).await.unwrap().is_some());
    assert!(
        jobs::claim(pool, backend, "w3", now, 60_000, 2, false).await.unwrap().is_none(),
        "the third waits for a slot"
    );
}

#[tokio::test]
async fn an_expired_lease_moves_the_job_and_the_old_worker_is_refused() {
    let app = queued_app().await;
    let ann = app.competitor("ann").await;
    let id = submit(&ann, "breast-cancer", example("breast_cancer_logreg")).await;
    let pool = &app.state.db.pool;
    // Worker w1 leases the job for 1 ms, then goes silent.
    let claim = jobs::claim(pool, app.state.db.backend, "w1", gaic::db::now_ms(), 1, 2, false).await.unwrap().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // w2 reaps the expired lease, takes the job and finishes it.
    assert_eq!(run_once(&app.state.queue, "w2").await.unwrap(), Some(id));
    let s = ann.get_json(&format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s["status"], "scored", "{s}");
    let score = s["public_score"].clone();
    // w1 wakes up: its heartbeat and its result are refused; nothing changes.
    let now = gaic::db::now_ms();
    assert!(!jobs::heartbeat(pool, claim.job_id, "w1", now, 30_000).await.unwrap());
    assert!(!jobs::finish(pool, claim.job_id, "w1", now).await.unwrap());
    assert_eq!(ann.get_json(&format!("/api/v1/submissions/{id}")).await["public_score"], score);
    assert_eq!(run_once(&app.state.queue, "w2").await.unwrap(), None, "evaluated exactly once");
}

#[tokio::test]
async fn platform_failures_are_retried_then_refunded() {
    let app = queued_app().await;
    let ann = app.competitor("ann").await;
    let model = example("breast_cancer_logreg");
    let id = submit(&ann, "breast-cancer", model.clone()).await;
    // Lose the stored module: every attempt fails for a platform reason.
    let hash = gaic::blobs::sha256_hex(&model);
    std::fs::remove_file(app.data_dir.path().join("blobs/sha256").join(&hash[..2]).join(&hash)).unwrap();
    for attempt in 1..=3 {
        assert_eq!(run_once(&app.state.queue, "w").await.unwrap(), Some(id), "attempt {attempt}");
    }
    assert_eq!(run_once(&app.state.queue, "w").await.unwrap(), None);
    let s = ann.get_json(&format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s["status"], "platform_error", "{s}");
    assert!(s["error"].as_str().unwrap().contains("does not count"), "{s}");
    let team = ann.get_json("/api/v1/tasks/breast-cancer/team").await;
    assert_eq!(team["quota"]["used_today"], 0, "refunded");
}

/// The real server is killed (SIGKILL) while a model runs and while others
/// wait; a new server on the same store finishes every job exactly once.
#[tokio::test]
async fn a_crashed_server_loses_no_job() {
    use crate::serve::{start, stop};
    let data = tempfile::tempdir().unwrap();
    let env = [("GAIC_ADMIN_PASSWORD", "admin-password-1"), ("GAIC_WORKERS", "1"), ("GAIC_LEASE_SECS", "1")];
    let first = start(data.path(), &env);
    let ann = crate::helpers::remote_user(&first.base, "ann").await;
    // A slow model (spins until its fuel runs out), then two quick ones.
    let mut ids = Vec::new();
    for bytes in [crate::helpers::spin_model(), example("breast_cancer_logreg"), example("breast_cancer_logreg")] {
        let res: Value = ann.submit("breast-cancer", bytes).await.json().await.unwrap();
        ids.push(res["submission"]["id"].as_i64().unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut child = first.child;
    child.kill().unwrap();
    child.wait().unwrap();

    let second = start(data.path(), &env);
    let ann = crate::helpers::remote_user_token(&second.base, ann.token.clone().unwrap());
    for (i, id) in ids.iter().enumerate() {
        let s = crate::models::wait_final(&ann, *id).await;
        assert_eq!(s["status"], if i == 0 { "failed" } else { "scored" }, "{s}");
    }
    stop(second);
}

/// SIGTERM: the server stops taking jobs, finishes the one it runs, exits 0;
/// the result is there after a restart, from that single attempt.
#[tokio::test]
async fn a_stopping_server_finishes_the_job_in_hand() {
    use crate::serve::{start, stop};
    let data = tempfile::tempdir().unwrap();
    let env = [("GAIC_ADMIN_PASSWORD", "admin-password-1"), ("GAIC_WORKERS", "1")];
    let server = start(data.path(), &env);
    let ann = crate::helpers::remote_user(&server.base, "ann").await;
    let res: Value = ann.submit("breast-cancer", crate::helpers::spin_model()).await.json().await.unwrap();
    let id = res["submission"]["id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while ann.get_json(&format!("/api/v1/submissions/{id}")).await["status"] != "running" {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop(server); // SIGTERM; asserts a clean exit
    let again = start(data.path(), &env);
    let ann = crate::helpers::remote_user_token(&again.base, ann.token.clone().unwrap());
    let s = ann.get_json(&format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s["status"], "failed", "finished before the exit: {s}");
    assert_eq!(s["verdict"], "out_of_fuel");
    stop(again);
}
