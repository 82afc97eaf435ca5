//! Live status over Server-Sent Events, and the organizer's queue controls.

use std::time::Duration;

use gaic::eval::runner::run_once;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User, assert_error, tasks_dir};
use crate::models::example;

async fn submit(user: &User, slug: &str, bytes: Vec<u8>) -> i64 {
    let body: Value = user.submit(slug, bytes).await.json().await.unwrap();
    body["submission"]["id"].as_i64().unwrap()
}

/// The `data:` payloads of an event stream until it ends (or `limit` events).
pub async fn events(mut res: reqwest::Response, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut buf = String::new();
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(20), res.chunk()).await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                out.push(serde_json::from_str(data).unwrap());
            }
        }
        if out.len() >= limit {
            break;
        }
    }
    out
}

#[tokio::test]
async fn a_submissions_state_streams_from_queued_to_scored_then_the_stream_ends() {
    let app = TestApp::spawn_with(|a| a.workers = Some(0)).await;
    let ann = app.competitor("ann").await;
    let id = submit(&ann, "breast-cancer", example("breast_cancer_logreg")).await;
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/submissions/{id}/events")))
        .bearer_auth(ann.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let state = app.state.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        run_once(&state.queue, "w").await.unwrap();
    });
    let seen = events(res, 10).await;
    assert_eq!(seen[0]["status"], "queued");
    assert_eq!(seen[0]["queue_position"], 1);
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "scored", "{seen:?}");
    assert!(last["public_score"].as_f64().unwrap() > 0.9);
    // Someone else cannot follow it.
    let ben = app.competitor("ben").await;
    assert_error(ben.get(&format!("/api/v1/submissions/{id}/events")).await, 404, "not_found", "").await;
}

#[tokio::test]
async fn the_task_stream_announces_leaderboard_changes() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let res = reqwest::Client::new().get(app.url("/api/v1/tasks/diabetes/events")).send().await.unwrap();
    let sample = std::fs::read(tasks_dir().join("diabetes/public/sample_submission.csv")).unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        ann.submit_ok("diabetes", sample).await;
    });
    let seen = events(res, 1).await;
    assert_eq!(seen[0]["scored_submissions"], 1, "{seen:?}");
}

#[tokio::test]
async fn organizers_cancel_requeue_purge_and_watch_the_queue() {
    let app = TestApp::spawn_with(|a| a.workers = Some(0)).await;
    let (ann, ben) = (app.competitor("ann").await, app.competitor("ben").await);
    let admin = app.admin().await;
    let a = submit(&ann, "breast-cancer", example("breast_cancer_logreg")).await;
    let b = submit(&ben, "breast-cancer", example("breast_cancer_logreg")).await;
    let c = submit(&ben, "breast-cancer", example("breast_cancer_logreg")).await;
    let q = admin.get_json("/api/v1/tasks/breast-cancer/queue").await;
    assert_eq!((q["queued"].as_u64(), q["running"].as_u64()), (Some(3), Some(0)), "{q}");
    assert_error(ann.get("/api/v1/tasks/breast-cancer/queue").await, 403, "forbidden", "organizer").await;

    // Cancel: failed, refunded; a competitor may not.
    assert_error(ann.post_empty(&format!("/api/v1/submissions/{a}/cancel")).await, 403, "forbidden", "organizer").await;
    let s: Value = admin.post_empty(&format!("/api/v1/submissions/{a}/cancel")).await.json().await.unwrap();
    assert_eq!(s["status"], "failed");
    assert!(s["error"].as_str().unwrap().contains("cancelled by admin"));
    assert_eq!(ann.get_json("/api/v1/tasks/breast-cancer/team").await["quota"]["used_today"], 0);
    assert_error(admin.post_empty(&format!("/api/v1/submissions/{a}/cancel")).await, 409, "conflict", "not queued")
        .await;

    // Requeue it and run everything.
    let s: Value = admin.post_empty(&format!("/api/v1/submissions/{a}/requeue")).await.json().await.unwrap();
    assert_eq!(s["status"], "queued");
    // Purge what is queued for the task: all three.
    let purged: Value = admin.delete("/api/v1/tasks/breast-cancer/queue").await.json().await.unwrap();
    assert_eq!(purged["cancelled"], 3);
    assert_eq!(run_once(&app.state.queue, "w").await.unwrap(), None);
    for (user, id) in [(&ann, a), (&ben, b), (&ben, c)] {
        assert_eq!(user.get_json(&format!("/api/v1/submissions/{id}")).await["status"], "failed");
    }
    admin.post_empty(&format!("/api/v1/submissions/{b}/requeue")).await;
    assert_eq!(run_once(&app.state.queue, "w").await.unwrap(), Some(b));
    assert_eq!(ben.get_json(&format!("/api/v1/submissions/{b}")).await["status"], "scored");
    let q = admin.get_json("/api/v1/tasks/breast-cancer/queue").await;
    assert!(q["finished_last_hour"].as_i64().unwrap() >= 1, "{q}");
}
