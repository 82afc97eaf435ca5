//! Registration, login, tokens, sessions and roles.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn a_new_account_is_a_competitor_and_can_log_in() {
    let app = TestApp::spawn().await;
    let alice = app.competitor("Alice").await;
    let me = alice.get_json("/api/v1/me").await;
    assert_eq!(me["username"], "alice", "usernames are stored lower-case");
    assert_eq!(me["display_name"], "ALICE");
    assert_eq!(me["country"], "KR");
    assert_eq!(me["email"], "alice@example.org");
    assert_eq!(me["roles"], json!(["competitor"]));
    let public = app.anon().get_json("/api/v1/users/alice").await;
    assert!(public.get("email").is_none(), "the email is not public: {public}");
    // Country and roles only under a public profile (the country) or to
    // herself and admins.
    assert!(public.get("country").is_none() && public.get("roles").is_none(), "{public}");
    let bob = app.competitor("bob").await;
    assert!(bob.get_json("/api/v1/users/alice").await.get("country").is_none());
    assert_eq!(app.admin().await.get_json("/api/v1/users/alice").await["country"], "KR");
    assert_eq!(alice.put("/api/v1/me/consents/public_profile").await.status(), StatusCode::OK);
    let public = app.anon().get_json("/api/v1/users/alice").await;
    assert_eq!(public["country"], "KR");
    assert!(public.get("roles").is_none());
}

#[tokio::test]
async fn registration_names_every_bad_field_at_once() {
    let app = TestApp::spawn().await;
    let res =
        app.register(json!({ "username": "a!", "email": "not-an-email", "password": "short", "country": "XX" })).await;
    let body = assert_error(res, 422, "invalid_registration", "5 invalid field(s)").await;
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "email", "password", "country", "age_14_or_older"]);
    assert!(body.to_string().contains("14 or older, or give your birth year"), "{body}");
    // A birth year instead of the confirmation is enough; one out of range is not.
    let base = json!({ "username": "young", "email": "y@example.org", "password": PASSWORD, "country": "KR" });
    let with = |year: i64| {
        let mut b = base.clone();
        b["birth_year"] = json!(year);
        b
    };
    assert_error(app.register(with(1850)).await, 422, "invalid_registration", "1 invalid").await;
    assert_eq!(app.register(with(2015)).await.status(), StatusCode::CREATED);
    let text = body.to_string();
    assert!(text.contains("at least 10 characters"), "{text}");
    assert!(text.contains("ISO 3166-1"), "{text}");
}

#[tokio::test]
async fn a_taken_username_is_a_conflict_and_sign_up_never_says_whether_an_email_is_registered() {
    let app = TestApp::spawn().await;
    app.competitor("bob").await;
    let res = app
        .register(json!({ "username": "BOB", "email": "other@example.org", "password": PASSWORD, "country": "US", "age_14_or_older": true }))
        .await;
    let body = assert_error(res, 409, "conflict", "username").await;
    assert!(!body.to_string().contains("email"), "{body}");
    // Bob's email, under a free username: answered exactly as a new one.
    let with = |username: &str, email: &str| json!({ "username": username, "email": email, "password": PASSWORD, "country": "US", "age_14_or_older": true });
    let res = app.register(with("bobby", "Bob@Example.org")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let taken: Value = res.json().await.unwrap();
    let fresh: Value = app.register(with("carla", "carla@example.org")).await.json().await.unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&taken), keys(&fresh));
    // Both accounts work.
    app.login("bob", PASSWORD).await;
    app.login("bobby", PASSWORD).await;
}

#[tokio::test]
async fn a_wrong_password_gets_no_token_and_repeated_failures_are_throttled() {
    let app = TestApp::spawn().await;
    app.competitor("carol").await;
    let anon = app.anon();
    let res = anon.post_json("/api/v1/tokens", &json!({ "username": "carol", "password": "wrong password!" })).await;
    assert_error(res, 401, "unauthorized", "wrong username or password").await;
    let res = anon.post_json("/api/v1/tokens", &json!({ "username": "nobody", "password": PASSWORD })).await;
    assert_error(res, 401, "unauthorized", "wrong username or password").await;
    for _ in 0..9 {
        anon.post_json("/api/v1/tokens", &json!({ "username": "carol", "password": "wrong password!" })).await;
    }
    let res = anon.post_json("/api/v1/tokens", &json!({ "username": "carol", "password": PASSWORD })).await;
    assert_error(res, 429, "rate_limited", "from this address; try again in").await;
}

#[tokio::test]
async fn tokens_are_listed_without_secrets_and_stop_working_when_revoked() {
    let app = TestApp::spawn().await;
    let dave = app.competitor("dave").await;
    let token = dave.token.clone().unwrap();
    let list: Value = dave.get_json("/api/v1/tokens").await;
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "tests");
    assert!(!list.to_string().contains(&token), "the secret is never listed");
    let id = items[0]["id"].as_i64().unwrap();

    let res = dave.delete(&format!("/api/v1/tokens/{id}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = dave.get("/api/v1/me").await;
    assert_error(res, 401, "unauthorized", "revoked").await;

    // Revoking someone else's token is a 404, not a success.
    let erin = app.competitor("erin").await;
    let res = erin.delete(&format!("/api/v1/tokens/{id}")).await;
    assert_error(res, 404, "not_found", "token").await;
}

#[tokio::test]
async fn a_missing_or_garbage_token_is_a_401() {
    let app = TestApp::spawn().await;
    assert_error(app.anon().get("/api/v1/me").await, 401, "unauthorized", "log in").await;
    let res = reqwest::Client::new().get(app.url("/api/v1/me")).bearer_auth("gaic_forged").send().await.unwrap();
    assert_error(res, 401, "unauthorized", "invalid").await;
}

#[tokio::test]
async fn a_web_login_sets_an_http_only_same_site_cookie_that_logout_ends() {
    let app = TestApp::spawn().await;
    app.competitor("fay").await;
    let client = reqwest::Client::new();
    let res = client
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": "fay", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let me: Value =
        client.get(app.url("/api/v1/me")).header("cookie", &pair).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["username"], "fay");
    let res = client.delete(app.url("/api/v1/session")).header("cookie", &pair).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let res = client.get(app.url("/api/v1/me")).header("cookie", &pair).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_admins_grant_and_remove_roles() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let gus = app.competitor("gus").await;
    assert_error(gus.put("/api/v1/users/gus/roles/organizer").await, 403, "forbidden", "admin").await;

    let body: Value = admin.put("/api/v1/users/gus/roles/recruiter").await.json().await.unwrap();
    assert_eq!(body["roles"], json!(["competitor", "recruiter"]));
    assert_eq!(gus.get_json("/api/v1/me").await["roles"], json!(["competitor", "recruiter"]));
    let body: Value = admin.delete("/api/v1/users/gus/roles/recruiter").await.json().await.unwrap();
    assert_eq!(body["roles"], json!(["competitor"]));

    assert_error(admin.put("/api/v1/users/gus/roles/wizard").await, 422, "unknown_role", "wizard").await;
    assert_error(admin.put("/api/v1/users/nobody/roles/organizer").await, 404, "not_found", "user").await;
    assert_error(admin.delete("/api/v1/users/admin/roles/admin").await, 409, "conflict", "last admin").await;
}
