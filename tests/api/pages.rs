//! The web pages over HTTP: both languages, escaping, forms that keep what
//! was typed and name each error, CSRF, sessions. (Browser tests come with
//! the full set of pages.)

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};

use crate::helpers::{PASSWORD, TestApp, copy_demo, edit_toml};

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of `name` among a response's Set-Cookie headers.
pub(crate) fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_owned))
}

/// The CSRF token of a form page and its cookie.
pub(crate) async fn form_csrf(app: &TestApp, path: &str) -> (String, String) {
    let res = client().get(app.url(path)).send().await.unwrap();
    let cookie = set_cookie(&res, "gaic_csrf").expect("a CSRF cookie");
    let html = res.text().await.unwrap();
    let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(token, cookie);
    (token, format!("gaic_csrf={cookie}"))
}

#[tokio::test]
async fn the_home_page_lists_the_challenges_in_english_and_korean() {
    let app = TestApp::spawn().await;
    let en = client().get(app.url("/")).send().await.unwrap();
    assert_eq!(en.status(), StatusCode::OK);
    let html = en.text().await.unwrap();
    for needle in [
        "<html lang=\"en\">",
        "Handwritten digits",
        "Breast cancer diagnosis",
        "Diabetes progression",
        "2027-05-31 23:59 UTC",
        ">Open<",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    let ko = client().get(app.url("/")).header(ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9,en;q=0.8").send().await.unwrap();
    let html = ko.text().await.unwrap();
    assert!(html.contains("<html lang=\"ko\">") && html.contains("진행 중") && html.contains("로그인"), "Korean page");
    // The switch sets a cookie that wins over Accept-Language, and returns to the page.
    let res = client().get(app.url("/lang/en?back=%2Ftasks%2Fdigits")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/tasks/digits");
    assert_eq!(set_cookie(&res, "gaic_lang").as_deref(), Some("en"));
    let res = client().get(app.url("/lang/ko?back=https://evil.example")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/", "never an open redirect");
    let html = client()
        .get(app.url("/"))
        .header(ACCEPT_LANGUAGE, "ko")
        .header(COOKIE, "gaic_lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\">"));
}

#[tokio::test]
async fn the_task_page_has_its_tabs_and_escapes_what_people_write() {
    let app = TestApp::spawn().await;
    let html = client().get(app.url("/tasks/digits")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Origin and licence") && html.contains("<table>"), "statement rendered from Markdown");
    let data = client()
        .get(app.url("/tasks/digits?tab=data"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(data.contains("/api/v1/tasks/digits/files/train.csv") && !data.contains("test_labels"));
    let ko_rules = client()
        .get(app.url("/tasks/digits?tab=rules"))
        .header(ACCEPT_LANGUAGE, "ko")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ko_rules.contains("팀당 하루 제출 횟수"));

    // A statement and a title with markup render as text.
    let olga = app.organizer("olga").await;
    let dir = copy_demo("diabetes");
    edit_toml(dir.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"xss\"")
            .replace("title = \"Diabetes progression\"", "title = \"<script>alert(1)</script>\"")
    });
    std::fs::write(
        dir.path().join("README.md"),
        "# Hi\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(2)>\n",
    )
    .unwrap();
    assert_eq!(olga.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await.status(), StatusCode::CREATED);
    olga.patch_json("/api/v1/tasks/xss", &serde_json::json!({"published": true})).await;
    let html = client().get(app.url("/tasks/xss")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "{html}");
    assert!(html.replace("&#x2f;", "/").contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the title shows as text");
    let leaderboard = client().get(app.url("/tasks/digits?tab=leaderboard")).send().await.unwrap();
    assert_eq!(leaderboard.status(), StatusCode::OK);
    assert_eq!(client().get(app.url("/tasks/nope")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sign_up_keeps_what_was_typed_names_each_error_and_logs_in() {
    let app = TestApp::spawn().await;
    let (csrf, cookie) = form_csrf(&app, "/signup").await;
    let bad = [
        ("csrf", csrf.as_str()),
        ("username", "ann"),
        ("email", "not-an-email"),
        ("password", "short"),
        ("country", "XX"),
        ("display_name", "Ann"),
    ];
    let res = client().post(app.url("/signup")).header(COOKIE, &cookie).form(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"not-an-email\"") && html.contains("value=\"ann\""), "typed values kept");
    assert!(html.contains("id=\"e-email\"") && html.contains("id=\"e-password\"") && html.contains("id=\"e-country\""));
    assert!(html.contains("id=\"e-age_14_or_older\"") && html.contains("14 or older"), "the age is asked for");
    assert!(!html.contains("value=\"short\""), "passwords are never echoed");

    // Without the CSRF token: refused.
    let res = client().post(app.url("/signup")).form(&[("username", "ann")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let good = [
        ("csrf", csrf.as_str()),
        ("username", "ann"),
        ("email", "ann@example.org"),
        ("password", PASSWORD),
        ("country", "KR"),
        ("display_name", "Ann"),
        ("age_14_or_older", "yes"),
    ];
    let res = client().post(app.url("/signup")).header(COOKIE, &cookie).form(&good).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&res, "gaic_session").expect("logged in");
    let cookies = format!("{cookie}; gaic_session={session}");
    let html = client().get(app.url("/")).header(COOKIE, &cookies).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<strong>ann</strong>"));

    // Log out (CSRF-checked), then the wrong password on the login form.
    let res = client()
        .post(app.url("/logout"))
        .header(COOKIE, &cookies)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = client().get(app.url("/")).header(COOKIE, &cookies).send().await.unwrap();
    assert_eq!(html.status(), StatusCode::UNAUTHORIZED, "the old session no longer works");
    let res = client()
        .post(app.url("/login"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str()), ("username", "ann"), ("password", "wrong password!")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(html.contains("Wrong username or password.") && html.contains("value=\"ann\""));
    let res = client()
        .post(app.url("/login"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str()), ("username", "ann"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&res, "gaic_session").is_some());
}

/// The page at `path` as HTML, with `cookies` when given.
pub(crate) async fn html(app: &TestApp, path: &str, cookies: Option<&str>) -> String {
    let mut req = client().get(app.url(path));
    if let Some(c) = cookies {
        req = req.header(COOKIE, c);
    }
    req.send().await.unwrap().text().await.unwrap()
}

/// Logs in through the form; the cookies (CSRF + session).
pub(crate) async fn web_login(app: &TestApp, username: &str, password: &str) -> String {
    web_session(app, username, password).await.0
}

/// Logs in through the form; the cookies and the CSRF token for forms.
pub(crate) async fn web_session(app: &TestApp, username: &str, password: &str) -> (String, String) {
    let (csrf, cookie) = form_csrf(app, "/login").await;
    let form = [("csrf", csrf.as_str()), ("username", username), ("password", password)];
    let res = client().post(app.url("/login")).header(COOKIE, &cookie).form(&form).send().await.unwrap();
    (format!("{cookie}; gaic_session={}", set_cookie(&res, "gaic_session").expect("logged in")), csrf)
}

/// Signs up through the form; the cookies (CSRF + session) and the token.
pub(crate) async fn web_user(app: &TestApp, username: &str) -> (String, String) {
    let (csrf, cookie) = form_csrf(app, "/signup").await;
    let email = format!("{username}@example.org");
    let form = [
        ("csrf", csrf.as_str()),
        ("username", username),
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("country", "KR"),
        ("display_name", ""),
        ("age_14_or_older", "yes"),
    ];
    let res = client().post(app.url("/signup")).header(COOKIE, &cookie).form(&form).send().await.unwrap();
    let session = set_cookie(&res, "gaic_session").unwrap();
    (format!("{cookie}; gaic_session={session}"), csrf)
}

pub(crate) fn upload(csrf: &str, name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("message", "from the page")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()))
}

#[tokio::test]
async fn a_competitor_submits_from_the_task_page_and_sees_the_result() {
    let app = TestApp::spawn().await;
    let (cookies, csrf) = web_user(&app, "ann").await;
    let html = client()
        .get(app.url("/tasks/diabetes?tab=submit"))
        .header(COOKIE, &cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"remaining\">5</strong> / 5") && html.contains("enctype=\"multipart/form-data\""),
        "quota and form"
    );

    let sample = std::fs::read(crate::helpers::tasks_dir().join("diabetes/public/sample_submission.csv")).unwrap();
    let res = client()
        .post(app.url("/tasks/diabetes/submit"))
        .header(COOKIE, &cookies)
        .multipart(upload(&csrf, "s.csv", sample))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/tasks/diabetes?tab=submissions");
    let html = client()
        .get(app.url("/tasks/diabetes?tab=submissions"))
        .header(COOKIE, &cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("scored"), "{html}");

    // Mark it final from the page, then see it marked.
    let id = html.split("data-id=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let res = client()
        .post(app.url(&format!("/submissions/{id}/final")))
        .header(COOKIE, &cookies)
        .form(&[("csrf", csrf.as_str()), ("select", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = client().get(app.url("/tasks/diabetes?tab=submissions")).header(COOKIE, &cookies).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("aria-pressed=\"true\""), "selected");

    // A bad file: the page lists the problems; nothing is stored.
    let res = client()
        .post(app.url("/tasks/diabetes/submit"))
        .header(COOKIE, &cookies)
        .multipart(upload(&csrf, "bad.csv", b"id,progression\n1,2\n".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("missing 132 ids"), "{html}");
    assert!(html.contains("id=\"remaining\">4</strong> / 5"), "the bad file did not count");

    // A model goes live: its row follows the event stream.
    let res = client()
        .post(app.url("/tasks/diabetes/submit"))
        .header(COOKIE, &cookies)
        .multipart(upload(&csrf, "m.wasm", crate::models::example("diabetes-linear.wat")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Without the CSRF field: refused.
    let res = client()
        .post(app.url("/tasks/diabetes/submit"))
        .header(COOKIE, &cookies)
        .multipart(upload("", "s.csv", b"x".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_tokens_page_shows_a_new_token_once_and_revokes_it() {
    let app = TestApp::spawn().await;
    let (cookies, csrf) = web_user(&app, "ann").await;
    assert_eq!(
        client().get(app.url("/account/tokens")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER,
        "log in first"
    );
    let res = client()
        .post(app.url("/account/tokens"))
        .header(COOKIE, &cookies)
        .form(&[("csrf", csrf.as_str()), ("name", "laptop")])
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    let token = html.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(token.starts_with("gaic_"));
    let me: serde_json::Value =
        client().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["username"], "ann");
    let list =
        client().get(app.url("/account/tokens")).header(COOKIE, &cookies).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("laptop") && !list.contains(&token), "listed, never shown again");
    let id = list.split("/account/tokens/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let res = client()
        .post(app.url(&format!("/account/tokens/{id}/revoke")))
        .header(COOKIE, &cookies)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        client().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
