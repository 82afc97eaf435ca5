//! The audit log: recruiters' searches, views, exports and contacts, and
//! organizers' and admins' actions, each with who did it; kept when the
//! actor's account is deleted; read by admins on a page and through the API;
//! and every recruiter access on the accessed person's own list.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp, User, assert_error, digits_right_on};
use crate::pages::{html, web_session};

async fn recruiter(app: &TestApp, username: &str) -> User {
    let user = app.competitor(username).await;
    let res = app.admin().await.put(&format!("/api/v1/users/{username}/roles/recruiter")).await;
    assert_eq!(res.status(), StatusCode::OK);
    user
}

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn recruiters_accesses_are_logged_for_admins_and_on_each_persons_list_and_outlive_the_recruiter() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for name in ["ann", "ben"] {
        let u = app.competitor(name).await;
        u.put_json("/api/v1/me/profile", &json!({ "affiliation": "KAIST" })).await;
        u.put("/api/v1/me/consents/recruiters").await;
    }
    let ann = app.login("ann", PASSWORD).await;
    let rita = recruiter(&app, "rita").await;
    let found = rita.get_json("/api/v1/talent?country=KR&sort=rating").await;
    assert_eq!(found["people"].as_array().unwrap().len(), 2, "{found}");
    assert_eq!(rita.get("/api/v1/talent/ann").await.status(), StatusCode::OK);
    let body = json!({ "organisation": "Acme", "message": "hello" });
    assert_eq!(rita.post_json("/api/v1/talent/ann/contact", &body).await.status(), StatusCode::CREATED);

    let log = admin.get_json("/api/v1/admin/audit?action=talent").await;
    assert_eq!(actions(&log), ["talent.contact", "talent.view", "talent.search"], "{log}");
    let search = &log["items"][2];
    assert_eq!((search["actor"].as_str(), search["actor_role"].as_str()), (Some("rita"), Some("recruiter")));
    assert_eq!(search["detail"]["filters"], json!({ "country": "KR", "sort": "rating" }));
    let mut returned: Vec<&str> = search["people"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    returned.sort_unstable();
    assert_eq!(returned, ["ann", "ben"]);
    // By person: only what concerned ben.
    assert_eq!(actions(&admin.get_json("/api/v1/admin/audit?person=ben").await), ["talent.search"]);

    // Ann's own list names every access to her, search included.
    let views = ann.get_json("/api/v1/me/views").await;
    let whats: Vec<&str> = views.as_array().unwrap().iter().map(|v| v["what"].as_str().unwrap()).collect();
    assert_eq!(whats, ["contact", "profile", "search"]);

    // Rita deletes her account: the entries stay, as a deleted recruiter's,
    // on the admins' log and on Ann's list.
    let res = rita.delete_json("/api/v1/me", &json!({ "password": PASSWORD })).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let log = admin.get_json("/api/v1/admin/audit?action=talent").await;
    assert_eq!(log["total"], 3);
    assert!(log["items"].as_array().unwrap().iter().all(|e| e["actor"] == "deleted recruiter"), "{log}");
    let views = ann.get_json("/api/v1/me/views").await;
    assert_eq!(views.as_array().unwrap().len(), 3);
    assert!(views.as_array().unwrap().iter().all(|v| v["recruiter"] == "deleted recruiter"), "{views}");
}

#[tokio::test]
async fn organizer_and_admin_actions_are_logged_with_their_reasons() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let org = app.organizer("olga").await;
    let ann = app.competitor("ann").await;
    let sub = ann.submit_ok("digits", digits_right_on(50)).await;
    let id = sub["submission"]["id"].as_i64().unwrap();
    let reason = json!({ "reason": "copied from a public notebook" });
    assert_eq!(admin.put_json(&format!("/api/v1/submissions/{id}/hidden"), &reason).await.status(), StatusCode::OK);
    let team = ann.get_json("/api/v1/tasks/digits/team").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/tasks/digits/teams/{team}/disqualification");
    assert_eq!(admin.put_json(&path, &reason).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.post_empty("/api/v1/tasks/digits/close").await.status(), StatusCode::OK);
    let res = admin.post_json("/api/v1/admin/worker-tokens", &json!({ "name": "gpu-1" })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(admin.delete("/api/v1/users/olga/roles/organizer").await.status(), StatusCode::OK);

    let log = admin.get_json("/api/v1/admin/audit").await;
    assert_eq!(
        actions(&log),
        ["role.revoke", "worker_token.create", "task.close", "team.disqualify", "submission.hide", "role.grant"],
        "{log}"
    );
    let items = log["items"].as_array().unwrap();
    assert_eq!(items[0]["people"], json!(["olga"]));
    assert_eq!(items[0]["detail"]["role"], "organizer");
    assert_eq!(items[2]["task"], "digits");
    assert_eq!(items[3]["detail"]["reason"], "copied from a public notebook");
    assert_eq!(items[4]["detail"]["submission"], id);
    assert!(items.iter().all(|e| e["actor"] == "admin" && e["actor_role"] == "admin"));
    // Only admins read it; the filters are checked.
    assert_error(org.get("/api/v1/admin/audit").await, 403, "forbidden", "admin").await;
    assert_error(admin.get("/api/v1/admin/audit?action=nope").await, 400, "bad_request", "task.close").await;
    assert_eq!(admin.get("/api/v1/admin/audit?actor=nobody").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(actions(&admin.get_json("/api/v1/admin/audit?action=task.close").await), ["task.close"]);

    // The page shows the same, filtered.
    let (cookies, _) = web_session(&app, "admin", ADMIN_PASSWORD).await;
    let page = html(&app, "/admin/audit?action=team", Some(&cookies)).await;
    assert!(page.contains("team.disqualify") && page.contains("copied from a public notebook"), "{page}");
    assert!(!page.contains("role.grant"));
    let (cookies, _) = web_session(&app, "ann", PASSWORD).await;
    let page = html(&app, "/admin/audit", Some(&cookies)).await;
    assert!(!page.contains("team.disqualify"), "not for competitors");
}
