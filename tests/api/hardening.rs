//! Hardening the web and the API: security headers, safe links and
//! redirects, reserved names, CSV cells that are not formulas.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_error, copy_demo, edit_toml};
use crate::pages::{client, html, web_login};

#[tokio::test]
async fn every_response_carries_the_security_headers_and_https_adds_hsts_and_secure_cookies() {
    let app = TestApp::spawn().await;
    for path in ["/", "/tasks/digits", "/api/v1/tasks", "/api/v1/nothing-here", "/static/site.js"] {
        let res = client().get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("'unsafe-inline'; img") || !csp.contains("script-src 'self' 'unsafe-inline'"));
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "plain http: no HSTS");
    }
    // No page has an inline script or handler left for the CSP to block.
    let cookies = web_login(&app, "admin", crate::helpers::ADMIN_PASSWORD).await;
    for path in ["/", "/tasks/digits?tab=submissions", "/tasks/digits/manage", "/admin"] {
        let page = html(&app, path, Some(&cookies)).await;
        assert!(!page.contains("<script>") && !page.contains("onsubmit=") && !page.contains("onclick="), "{path}");
    }

    let secure = TestApp::spawn_with(|a| a.public_url = Some("https://gaic.example".into())).await;
    let res = client().get(secure.url("/login")).send().await.unwrap();
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    let cookies: Vec<&str> = res.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    assert!(!cookies.is_empty() && cookies.iter().all(|c| c.ends_with("; Secure")), "{cookies:?}");
    secure.competitor("ann").await;
    let res = client()
        .post(secure.url("/api/v1/session"))
        .json(&json!({ "username": "ann", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let session = res.headers()[SET_COOKIE].to_str().unwrap();
    assert!(session.starts_with("gaic_session=") && session.contains("; Secure"), "{session}");
}

#[tokio::test]
async fn the_language_switch_redirects_only_to_this_site() {
    let app = TestApp::spawn().await;
    for (back, want) in [
        ("/tasks/digits", "/tasks/digits"),
        ("/%5Cevil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/%09/evil.example", "/"),
    ] {
        let res = client().get(app.url(&format!("/lang/ko?back={back}"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{back}");
        assert_eq!(res.headers()[LOCATION], want, "{back}");
    }
}

#[tokio::test]
async fn a_statement_cannot_carry_a_script_link_to_an_admin() {
    let app = TestApp::spawn().await;
    let olga = app.organizer("olga").await;
    let dir = copy_demo("diabetes");
    edit_toml(dir.path(), |t| t.replace("slug = \"diabetes\"", "slug = \"trap\""));
    let readme = dir.path().join("README.md");
    let mut text = std::fs::read_to_string(&readme).unwrap();
    text += "\n[Data](javascript:fetch('/admin').then(r=>r.text())) ![x](data:image/svg+xml,<svg/onload=alert(1)>)\n";
    std::fs::write(&readme, text).unwrap();
    let res = olga.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // The admin previews the draft.
    let cookies = web_login(&app, "admin", crate::helpers::ADMIN_PASSWORD).await;
    let page = html(&app, "/tasks/trap", Some(&cookies)).await;
    assert!(page.contains(">Data</a>"), "the link is still there, harmless");
    assert!(!page.contains("javascript:") && !page.contains("data:image"), "{page}");
}

#[tokio::test]
async fn reserved_names_cannot_be_registered() {
    let app = TestApp::spawn().await;
    for name in ["deleted-7", "Deleted-12", "admin", "administrator", "admin2", "root", "system"] {
        let body = json!({ "username": name, "email": format!("{name}@example.org"), "password": PASSWORD,
                           "country": "KR", "age_14_or_older": true });
        let res = app.register(body).await;
        let err = assert_error(res, 422, "invalid_registration", "1 invalid").await;
        assert_eq!(err["error"]["details"][0]["field"], "username", "{name}");
        assert!(err.to_string().contains("reserved"), "{err}");
    }
    assert_eq!(
        app.register(json!({ "username": "deletedfan", "email": "d@example.org", "password": PASSWORD,
                             "country": "KR", "age_14_or_older": true }))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn csv_exports_never_hand_a_spreadsheet_a_formula() {
    let app = TestApp::spawn().await;
    let eve = app.competitor("eve").await;
    let name = json!({ "name": "=HYPERLINK(\"http://evil.example\",\"win\")" });
    assert_eq!(eve.post_json("/api/v1/tasks/digits/team", &name).await.status(), StatusCode::CREATED);
    eve.submit_ok("digits", crate::helpers::digits_right_on(100)).await;
    let res = app.anon().get("/api/v1/tasks/digits/leaderboard?format=csv").await;
    let text = res.text().await.unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.lines().any(|l| l.split(',').any(|cell| cell.trim_matches('"').starts_with('='))), "{text}");
}

#[tokio::test]
async fn every_api_operation_documents_the_answers_any_operation_can_give() {
    let app = TestApp::spawn().await;
    let doc = app.anon().get_json("/api/v1/openapi.json").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(answers) = op["responses"].as_object() else { continue };
            let has = |code: &str| answers.contains_key(code);
            assert!(has("400") && has("503"), "{method} {path}");
            if path.starts_with("/api/v1/") {
                assert!(has("401"), "{method} {path}");
                if method != "get" {
                    assert!(has("403") && has("413") && has("422"), "{method} {path}");
                }
            }
            if path.contains('{') {
                assert!(has("404"), "{method} {path}");
            }
            checked += 1;
        }
    }
    assert!(checked > 70, "{checked}");
}

/// A multipart body without a usable boundary is a JSON 400 on every upload
/// route, not the framework's plain-text rejection.
#[tokio::test]
async fn a_multipart_body_without_a_boundary_is_a_json_400_on_every_upload_route() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = admin.token.clone().unwrap();
    for path in ["/api/v1/tasks", "/api/v1/tasks/digits/submissions", "/api/v1/tasks/digits/baselines"] {
        for content_type in ["multipart/form-data", "multipart/form-data; boundary="] {
            let res = client()
                .post(app.url(path))
                .bearer_auth(&token)
                .header("content-type", content_type)
                .body("--x\r\n\r\n")
                .send()
                .await
                .unwrap();
            assert_error(res, 400, "bad_request", "malformed multipart body").await;
        }
    }
}

/// What a browser reports the CSP blocked is counted in `/metrics` by
/// directive (unknown names as `other`, so a sender cannot make labels), in
/// both report formats; what is not a report is a JSON 400.
#[tokio::test]
async fn csp_reports_are_counted_and_anything_else_is_refused() {
    let app = TestApp::spawn().await;
    let other = || async {
        let text = client().get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("gaic_csp_violations_total{directive=\"other\"} "))
            .map_or(0.0, |n| n.trim().parse::<f64>().unwrap())
    };
    let before = other().await;
    let legacy = json!({"csp-report": {"document-uri": "http://x/", "violated-directive": "x-made-up", "blocked-uri": "inline"}});
    let res = client()
        .post(app.url("/csp-reports"))
        .header("content-type", "application/csp-report")
        .body(legacy.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let modern =
        json!([{"type": "csp-violation", "body": {"effectiveDirective": "worker-src", "documentURL": "http://x/"}}]);
    let res = client().post(app.url("/csp-reports")).json(&modern).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Counters are the process's: other tests may add to `other` meanwhile.
    assert!(other().await >= before + 2.0);
    let res = client().post(app.url("/csp-reports")).body("not json").send().await.unwrap();
    assert_error(res, 400, "bad_request", "a CSP report is JSON").await;
    let res = client().post(app.url("/csp-reports")).json(&json!({"hello": 1})).send().await.unwrap();
    assert_error(res, 400, "bad_request", "no `csp-report`").await;
    let big = format!("{{\"csp-report\": {{\"x\": \"{}\"}}}}", "a".repeat(20_000));
    let res = client().post(app.url("/csp-reports")).body(big).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
