//! Sign-in security: read-only and expiring tokens, a person's sessions
//! (listed, ended one by one or everywhere), the password change, and the
//! CSRF header a cookie needs to change anything through the API.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_error, digits_right_on, remote_user_token};
use crate::pages::{client, html, set_cookie, web_session};

/// Logs in through the API's session endpoint: the session cookie.
async fn api_session(app: &TestApp, username: &str, password: &str) -> String {
    let res = client()
        .post(app.url("/api/v1/session"))
        .header("user-agent", format!("browser-{}", rand_suffix()))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    format!("gaic_session={}", set_cookie(&res, "gaic_session").unwrap())
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

async fn token(app: &TestApp, body: Value) -> reqwest::Response {
    client().post(app.url("/api/v1/tokens")).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_read_only_token_reads_and_changes_nothing_and_an_expiring_one_stops() {
    let app = TestApp::spawn().await;
    app.competitor("ann").await;
    let res =
        token(&app, json!({ "username": "ann", "password": PASSWORD, "scope": "read", "name": "dashboard" })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let made: Value = res.json().await.unwrap();
    assert_eq!(made["scope"], "read");
    let reader = remote_user_token(&app.base, made["token"].as_str().unwrap().to_owned());
    assert_eq!(reader.get_json("/api/v1/me").await["username"], "ann");
    assert_eq!(reader.get("/api/v1/tasks/digits/submissions").await.status(), StatusCode::OK);
    assert_error(reader.submit("digits", digits_right_on(50)).await, 403, "forbidden", "read-only").await;
    let res = reader.post_json("/api/v1/tasks/digits/team", &json!({ "name": "x" })).await;
    assert_error(res, 403, "forbidden", "read-only").await;
    let listed = reader.get_json("/api/v1/tokens").await;
    let dashboard = listed.as_array().unwrap().iter().find(|t| t["name"] == "dashboard").unwrap();
    assert_eq!(dashboard["scope"], "read");

    for days in [0, 366] {
        let res = token(&app, json!({ "username": "ann", "password": PASSWORD, "expires_in_days": days })).await;
        assert_error(res, 422, "invalid_token_expiry", "1 to 365 days").await;
    }
    let res = token(&app, json!({ "username": "ann", "password": PASSWORD, "expires_in_days": 30 })).await;
    let made: Value = res.json().await.unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(made["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.timestamp_millis() - gaic::db::now_ms()) as f64 / 86_400_000.0;
    assert!((29.9..=30.0).contains(&days), "{days}");
    let user = remote_user_token(&app.base, made["token"].as_str().unwrap().to_owned());
    assert_eq!(user.get("/api/v1/me").await.status(), StatusCode::OK);
    // Its time runs out: it stops working.
    sqlx::query("UPDATE tokens SET expires_at = $1 WHERE token_id = $2")
        .bind(gaic::db::now_ms() - 1)
        .bind(made["id"].as_i64().unwrap())
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(user.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_are_listed_and_ended_and_a_cookie_needs_the_csrf_header_to_change_anything() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let a = api_session(&app, "ann", PASSWORD).await;
    let b = api_session(&app, "ann", PASSWORD).await;
    let sessions = ann.get_json("/api/v1/me/sessions").await;
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(sessions.iter().all(|s| s["current"] == false && s["agent"].as_str().unwrap().starts_with("browser-")));
    // Through cookie a: a is current.
    let mine: Value =
        client().get(app.url("/api/v1/me/sessions")).header(COOKIE, &a).send().await.unwrap().json().await.unwrap();
    let current: Vec<&Value> = mine.as_array().unwrap().iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let b_id = mine.as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].as_i64().unwrap();
    // A state change through the API with only the cookie is refused: a
    // page elsewhere could make the browser send it.
    let end_b = format!("/api/v1/me/sessions/{b_id}");
    let res = client().delete(app.url(&end_b)).header(COOKIE, &a).send().await.unwrap();
    assert_error(res, 403, "forbidden", "X-CSRF-Token").await;
    let res = client()
        .delete(app.url(&end_b))
        .header(COOKIE, format!("{a}; gaic_csrf=abcdefghijklmnopqrstuvwxyz"))
        .header("x-csrf-token", "not-the-cookie")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = client()
        .delete(app.url(&end_b))
        .header(COOKIE, format!("{a}; gaic_csrf=abcdefghijklmnopqrstuvwxyz"))
        .header("x-csrf-token", "abcdefghijklmnopqrstuvwxyz")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = client().get(app.url("/api/v1/me")).header(COOKIE, &b).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "session b ended");
    assert_eq!(client().get(app.url("/api/v1/me")).header(COOKIE, &a).send().await.unwrap().status(), StatusCode::OK);
    // Someone else's session is not found, not ended.
    let bob = app.competitor("bob").await;
    assert_eq!(bob.delete(&format!("/api/v1/me/sessions/{b_id}")).await.status(), StatusCode::NOT_FOUND);

    // Log out everywhere: every session and every token ends.
    let res = ann.delete("/api/v1/me/sessions").await;
    assert_eq!(res.status(), StatusCode::OK);
    let ended: Value = res.json().await.unwrap();
    assert_eq!(ended["ended"], 2, "session a and the token itself");
    assert_eq!(ann.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(client().get(app.url("/api/v1/me")).header(COOKIE, &a).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn a_password_change_checks_the_current_one_and_signs_out_the_other_sessions() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let other = api_session(&app, "ann", PASSWORD).await;
    let change = |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    let res = ann.put_json("/api/v1/me/password", &change("wrong password!", "a new password 1")).await;
    assert_error(res, 403, "forbidden", "current password is wrong").await;
    let res = ann.put_json("/api/v1/me/password", &change(PASSWORD, "short")).await;
    assert_error(res, 422, "invalid_password", "at least 10").await;
    let res = ann.put_json("/api/v1/me/password", &change(PASSWORD, "a new password 1")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["sessions_ended"], 1);
    assert_eq!(client().get(app.url("/api/v1/me")).header(COOKIE, &other).send().await.unwrap().status(), 401);
    assert_eq!(ann.get("/api/v1/me").await.status(), StatusCode::OK, "the token that changed it stays");
    let res = token(&app, json!({ "username": "ann", "password": PASSWORD })).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the old password is gone");
    app.login("ann", "a new password 1").await;
}

#[tokio::test]
async fn the_security_page_lists_browsers_changes_the_password_and_logs_out_everywhere() {
    let app = TestApp::spawn().await;
    app.competitor("ann").await;
    let other = api_session(&app, "ann", PASSWORD).await;
    let (cookies, csrf) = web_session(&app, "ann", PASSWORD).await;
    let page = html(&app, "/account/tokens", Some(&cookies)).await;
    assert!(
        page.contains("Signed-in browsers") && page.contains("this browser") && page.contains("browser-"),
        "{page}"
    );
    assert!(page.contains("action=\"/account/password\"") && page.contains("read only"));
    let form = [("csrf", csrf.as_str()), ("current_password", PASSWORD), ("new_password", "another password 2")];
    let res = client().post(app.url("/account/password")).header(COOKIE, &cookies).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Password changed; 1 other browser sessions were signed out."), "{page}");
    assert_eq!(client().get(app.url("/api/v1/me")).header(COOKIE, &other).send().await.unwrap().status(), 401);
    // A read-only token from the page.
    let form = [("csrf", csrf.as_str()), ("name", "ro"), ("scope", "read"), ("expires_in_days", "7")];
    let res = client().post(app.url("/account/tokens")).header(COOKIE, &cookies).form(&form).send().await.unwrap();
    let page = res.text().await.unwrap();
    let secret = page.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let reader = remote_user_token(&app.base, secret);
    assert_eq!(reader.submit("digits", digits_right_on(50)).await.status(), StatusCode::FORBIDDEN);
    let res = client()
        .post(app.url("/account/sessions/revoke-all"))
        .header(COOKIE, &cookies)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(set_cookie(&res, "gaic_session").as_deref(), Some(""));
    let res = client().get(app.url("/account/tokens")).header(COOKIE, &cookies).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "this browser's session ended too");
    assert_eq!(reader.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED, "and every token");
}
