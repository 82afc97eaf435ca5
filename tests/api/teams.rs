//! Teams: create, invite, accept (join or merge), decline, leave, and the
//! size cap, merger deadline and merge rule.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, tasks_dir};

fn sample() -> Vec<u8> {
    std::fs::read(tasks_dir().join("diabetes/public/sample_submission.csv")).unwrap()
}

async fn invite_id(user: &crate::helpers::User) -> i64 {
    let invites: Value = user.get_json("/api/v1/invites").await;
    invites[0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_named_team_invites_and_a_member_joins() {
    let app = TestApp::spawn().await;
    let (ann, bob) = (app.competitor("ann").await, app.competitor("bob").await);
    let res = ann.post_json("/api/v1/tasks/diabetes/team", &json!({"name": "Gradient Descenders"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_error(
        ann.post_json("/api/v1/tasks/diabetes/team", &json!({"name": "Other"})).await,
        409,
        "conflict",
        "already in team",
    )
    .await;
    assert_error(
        bob.post_json("/api/v1/tasks/diabetes/team", &json!({"name": "gradient descenders"})).await,
        409,
        "conflict",
        "already exists",
    )
    .await;

    let res = ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "bob"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_error(
        ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "bob"})).await,
        409,
        "conflict",
        "pending invite",
    )
    .await;
    assert_error(
        ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "nobody"})).await,
        404,
        "not_found",
        "user",
    )
    .await;
    let id = invite_id(&bob).await;
    assert_error(ann.post_empty(&format!("/api/v1/invites/{id}/accept")).await, 404, "not_found", "invite").await;
    let team: Value = bob.post_empty(&format!("/api/v1/invites/{id}/accept")).await.json().await.unwrap();
    assert_eq!(team["name"], "Gradient Descenders");
    let members: Vec<&str> =
        team["members"].as_array().unwrap().iter().map(|m| m["username"].as_str().unwrap()).collect();
    assert_eq!(members, ["ann", "bob"]);
    assert_error(bob.post_empty(&format!("/api/v1/invites/{id}/accept")).await, 409, "conflict", "already answered")
        .await;

    // Both submit as one team: one daily cap.
    ann.submit_ok("diabetes", sample()).await;
    let b = bob.submit_ok("diabetes", sample()).await;
    assert_eq!(b["quota"]["used_today"], 2);
    assert_eq!(b["submission"]["team"], "Gradient Descenders");

    // Leaving starts a fresh solo team; the submissions stay.
    let solo: Value = bob.post_empty("/api/v1/tasks/diabetes/team/leave").await.json().await.unwrap();
    assert_eq!(solo["name"], "bob");
    assert_eq!(solo["submissions"], 0);
    assert_eq!(ann.get_json("/api/v1/tasks/diabetes/team").await["submissions"], 2);
    assert_error(ann.post_empty("/api/v1/tasks/diabetes/team/leave").await, 409, "conflict", "only member").await;
    let renamed: Value =
        ann.patch_json("/api/v1/tasks/diabetes/team", &json!({"name": "GD"})).await.json().await.unwrap();
    assert_eq!(renamed["name"], "GD");
}

#[tokio::test]
async fn accepting_merges_teams_within_the_size_cap_and_the_merge_rule() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // The task opened today: a merged team may hold at most 5 × 1 submissions.
    let today = chrono::Utc::now().format("%Y-%m-%dT00:00:00Z").to_string();
    admin.patch_json("/api/v1/tasks/diabetes", &json!({"opens_at": today})).await;
    let (ann, bob, cyd) = (app.competitor("ann").await, app.competitor("bob").await, app.competitor("cyd").await);
    for _ in 0..3 {
        ann.submit_ok("diabetes", sample()).await;
        bob.submit_ok("diabetes", sample()).await;
    }
    ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "bob"})).await;
    let id = invite_id(&bob).await;
    let res = bob.post_empty(&format!("/api/v1/invites/{id}/accept")).await;
    assert_error(res, 409, "conflict", "6 submissions").await;
    bob.post_empty(&format!("/api/v1/invites/{id}/decline")).await;
    assert!(bob.get_json("/api/v1/invites").await.as_array().unwrap().is_empty());

    // cyd has 1 submission: 3 + 1 fits, and cyd's submissions move over.
    cyd.submit_ok("diabetes", sample()).await;
    ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "cyd"})).await;
    let id = invite_id(&cyd).await;
    let team: Value = cyd.post_empty(&format!("/api/v1/invites/{id}/accept")).await.json().await.unwrap();
    assert_eq!(team["submissions"], 4);
    assert_eq!(team["members"].as_array().unwrap().len(), 2);

    // The size cap (4 for the demo tasks).
    for name in ["dee", "eli"] {
        let u = app.competitor(name).await;
        ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": name})).await;
        let id = invite_id(&u).await;
        assert_eq!(u.post_empty(&format!("/api/v1/invites/{id}/accept")).await.status(), StatusCode::OK);
    }
    assert_error(
        ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "bob"})).await,
        409,
        "conflict",
        "full",
    )
    .await;

    // After the merger deadline, no more invites.
    admin.patch_json("/api/v1/tasks/diabetes", &json!({"merger_deadline": today})).await;
    let fox = app.competitor("fox").await;
    let res = fox.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "bob"})).await;
    assert_error(res, 409, "conflict", "merger deadline").await;
}

#[tokio::test]
async fn a_disqualified_member_can_neither_merge_nor_leave_nor_join_to_rank_again() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (ann, bob, cat) = (app.competitor("ann").await, app.competitor("bob").await, app.competitor("cat").await);
    ann.post_json("/api/v1/tasks/diabetes/team", &json!({"name": "Cheats"})).await;
    ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "bob"})).await;
    bob.post_empty(&format!("/api/v1/invites/{}/accept", invite_id(&bob).await)).await;
    ann.submit_ok("diabetes", sample()).await;
    cat.submit_ok("diabetes", sample()).await;
    let team = ann.get_json("/api/v1/tasks/diabetes/team").await["id"].as_i64().unwrap();
    let dq = format!("/api/v1/tasks/diabetes/teams/{team}/disqualification");
    assert_eq!(admin.put_json(&dq, &json!({"reason": "shared accounts"})).await.status(), StatusCode::NO_CONTENT);

    // Leaving would start a clean team.
    assert_error(bob.post_empty("/api/v1/tasks/diabetes/team/leave").await, 409, "conflict", "is disqualified").await;
    // A clean team's invite, accepted, would merge the submissions away.
    let res = cat.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "ann"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = invite_id(&ann).await;
    assert_error(ann.post_empty(&format!("/api/v1/invites/{id}/accept")).await, 409, "conflict", "shared accounts")
        .await;
    // The disqualified team can take nobody in, nor invite.
    assert_error(
        ann.post_json("/api/v1/tasks/diabetes/team/invites", &json!({"username": "cat"})).await,
        409,
        "conflict",
        "is disqualified",
    )
    .await;
    let board = app.anon().get_json("/api/v1/tasks/diabetes/leaderboard").await;
    let names: Vec<&str> = board["entries"].as_array().unwrap().iter().map(|e| e["team"].as_str().unwrap()).collect();
    assert_eq!(names, ["cat"], "the disqualified team stays off the board: {board}");
    assert_eq!(ann.get_json("/api/v1/tasks/diabetes/team").await["name"], "Cheats", "still in it");
}
