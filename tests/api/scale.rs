//! Two servers over one database and three remote workers take 200 mixed
//! submissions: each is evaluated exactly once and all end in a final state.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, copy_demo, edit_toml, hidden_labels};
use crate::models::example;

#[tokio::test]
async fn two_servers_and_three_workers_evaluate_200_submissions_exactly_once() {
    let a = TestApp::spawn_with(|s| s.workers = Some(0)).await;
    let b = a.replica(|s| s.workers = Some(0)).await;
    // A task with room for a burst: the breast-cancer bundle with a big cap.
    let admin = a.admin().await;
    let dir = copy_demo("breast-cancer");
    edit_toml(dir.path(), |t| {
        t.replace("slug = \"breast-cancer\"", "slug = \"load\"").replace("daily_cap = 5", "daily_cap = 1000")
    });
    assert_eq!(admin.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await.status(), StatusCode::CREATED);
    admin.patch_json("/api/v1/tasks/load", &json!({"published": true})).await;

    let mut workers = Vec::new();
    let caches: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, cache) in caches.iter().enumerate() {
        let server = if i < 2 { &a } else { &b };
        let token: Value = server
            .admin()
            .await
            .post_json("/api/v1/admin/worker-tokens", &json!({"name": format!("w{i}")}))
            .await
            .json()
            .await
            .unwrap();
        workers.push(crate::remote::worker_process(&server.base, token["token"].as_str().unwrap(), cache.path(), &[]));
    }

    let model = example("breast_cancer_logreg");
    let csv = {
        let mut s = String::from("id,malignant\n");
        for (id, y) in hidden_labels("breast-cancer") {
            s += &format!("{id},{y}\n");
        }
        s
    };
    let mut users: Vec<User> = Vec::new();
    for (i, name) in ["ann", "ben", "cat", "dan"].iter().enumerate() {
        let server = if i % 2 == 0 { &a } else { &b };
        users.push(server.competitor(name).await);
    }
    let mut ids = Vec::new();
    for n in 0..200 {
        let user = &users[n % 4];
        let bytes = if n % 2 == 0 { model.clone() } else { csv.clone().into_bytes() };
        let res = user.submit("load", bytes).await;
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        let body: Value = res.json().await.unwrap();
        ids.push((n % 4, body["submission"]["id"].as_i64().unwrap()));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    for (u, id) in &ids {
        loop {
            let s = users[*u].get_json(&format!("/api/v1/submissions/{id}")).await;
            if !matches!(s["status"].as_str(), Some("queued" | "running")) {
                assert_eq!(s["status"], "scored", "{s}");
                break;
            }
            assert!(Instant::now() < deadline, "submission {id} stuck: {s}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let jobs: Vec<(i64, String)> =
        sqlx::query_as("SELECT attempts, state FROM jobs").fetch_all(&a.state.db.pool).await.unwrap();
    assert_eq!(jobs.len(), 100);
    assert!(
        jobs.iter().all(|(attempts, state)| *attempts == 1 && state == "done"),
        "each job ran exactly once: {jobs:?}"
    );
    let fleet: Value = admin.get_json("/api/v1/admin/workers").await;
    assert_eq!(fleet.as_array().unwrap().len(), 3);
    for mut w in workers {
        w.kill().unwrap();
        w.wait().unwrap();
    }
}
