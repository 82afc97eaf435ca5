//! Tasks: the demo import, listing, details, downloads, bundle uploads,
//! schedule edits, and hidden files staying hidden.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, copy_demo, edit_toml, tasks_dir};

#[tokio::test]
async fn the_three_demo_tasks_are_listed_and_paginated() {
    let app = TestApp::spawn().await;
    let anon = app.anon();
    let page = anon.get_json("/api/v1/tasks").await;
    assert_eq!(page["total"], 3);
    let slugs: Vec<&str> = page["items"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    let mut sorted = slugs.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["breast-cancer", "diabetes", "digits"]);

    let p1 = anon.get_json("/api/v1/tasks?per_page=2&page=1&sort=title").await;
    let p2 = anon.get_json("/api/v1/tasks?per_page=2&page=2&sort=title").await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert_eq!(p1["items"][0]["title"], "Breast cancer diagnosis");
    assert_eq!(p2["items"][0]["title"], "Handwritten digits");
    assert_eq!(p2["total"], 3);

    assert_eq!(anon.get_json("/api/v1/tasks?state=open").await["total"], 3);
    assert_eq!(anon.get_json("/api/v1/tasks?state=closed").await["total"], 0);
    assert_error(anon.get("/api/v1/tasks?state=finished").await, 400, "bad_request", "state must be").await;
    assert_error(anon.get("/api/v1/tasks?sort=price").await, 400, "bad_request", "sort must be").await;
    assert_error(anon.get("/api/v1/tasks?per_page=1000").await, 400, "bad_request", "per_page").await;
    assert_error(anon.get("/api/v1/tasks?page=zero").await, 400, "bad_request", "page").await;
}

#[tokio::test]
async fn a_task_shows_its_statement_rules_and_only_public_files() {
    let app = TestApp::spawn().await;
    let t = app.anon().get_json("/api/v1/tasks/digits").await;
    assert_eq!(t["metric"], "accuracy");
    assert_eq!(t["higher_is_better"], true);
    assert_eq!(t["state"], "open");
    assert_eq!(t["data"]["input_shape"], json!([1, 8, 8]));
    assert_eq!(t["data"]["test_rows"], 539);
    assert_eq!(t["rules"]["daily_cap"], 5);
    assert!(t["statement"].as_str().unwrap().contains("Origin and licence"));
    let paths: Vec<&str> = t["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["sample_submission.csv", "test_inputs.csv", "train.csv"]);
    assert!(!t.to_string().contains("test_labels"), "hidden files are not listed");
    assert!(t["rules"].get("seed").is_none() && !t.to_string().contains("seed\""), "the split seed stays secret");
    // Its organizers see it: drawn at import (the demo bundle names none),
    // 64 random bits.
    let managed = app.admin().await.get_json("/api/v1/tasks/digits").await;
    let seed: u64 = managed["rules"]["split_seed"].as_str().unwrap().parse().unwrap();
    assert!(seed > 1 << 20, "not a small, guessable seed: {seed}");
    let competitor = app.competitor("cora").await.get_json("/api/v1/tasks/digits").await;
    assert!(competitor["rules"].get("split_seed").is_none(), "{competitor}");
    assert_error(app.anon().get("/api/v1/tasks/nope").await, 404, "not_found", "task").await;
}

#[tokio::test]
async fn a_public_file_downloads_byte_for_byte() {
    let app = TestApp::spawn().await;
    let res = app.anon().get("/api/v1/tasks/diabetes/files/train.csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("train.csv"));
    let body = res.bytes().await.unwrap();
    assert_eq!(&body[..], &std::fs::read(tasks_dir().join("diabetes/public/train.csv")).unwrap()[..]);
}

#[tokio::test]
async fn hidden_files_cannot_be_downloaded_by_any_path_trick() {
    let app = TestApp::spawn().await;
    let labels = std::fs::read_to_string(tasks_dir().join("digits/hidden/test_labels.csv")).unwrap();
    let admin = app.admin().await;
    let tricks = [
        "hidden/test_labels.csv",
        "test_labels.csv",
        "../hidden/test_labels.csv",
        "..%2fhidden%2ftest_labels.csv",
        "%2e%2e/hidden/test_labels.csv",
        "%2E%2E%2Fhidden%2Ftest_labels.csv",
        "./../hidden/test_labels.csv",
        "public/../hidden/test_labels.csv",
        "/hidden/test_labels.csv",
        "%2Fhidden%2Ftest_labels.csv",
        "..\\hidden\\test_labels.csv",
        "hidden%2ftest_labels.csv",
        "hidden/test_inputs.csv",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "....//hidden/test_labels.csv",
        "train.csv/../../hidden/test_labels.csv",
    ];
    for trick in tricks {
        for user in [app.anon(), admin.clone()] {
            let res = user.get(&format!("/api/v1/tasks/digits/files/{trick}")).await;
            let status = res.status();
            let body = res.text().await.unwrap();
            assert!(status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST, "{trick}: {status}");
            assert!(!body.contains("id,label"), "{trick} leaked labels");
            assert!(!labels.lines().skip(1).take(5).any(|l| body.contains(l)), "{trick} leaked a label row");
        }
    }
    // reqwest normalises `..` segments away; send raw paths too.
    for raw in [
        "/api/v1/tasks/digits/files/../hidden/test_labels.csv",
        "/api/v1/tasks/digits/files/%2e%2e/hidden/test_labels.csv",
    ] {
        let body = raw_get(&app.base, raw).await;
        assert!(!body.contains("id,label"), "{raw} leaked labels: {body}");
        assert!(body.starts_with("HTTP/1.1 404") || body.starts_with("HTTP/1.1 400"), "{raw}: {body}");
    }
}

/// Sends a GET with the path exactly as given (no client normalisation).
async fn raw_get(base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

fn new_bundle(slug: &str) -> tempfile::TempDir {
    let dir = copy_demo("diabetes");
    edit_toml(dir.path(), |t| t.replace("slug = \"diabetes\"", &format!("slug = \"{slug}\"")));
    dir
}

#[tokio::test]
async fn a_competitor_cannot_create_a_task() {
    let app = TestApp::spawn().await;
    let comp = app.competitor("hal").await;
    let bytes = gaic::bundle::pack_dir(new_bundle("hal-task").path()).unwrap();
    assert_error(comp.upload_bundle(bytes.clone()).await, 403, "forbidden", "organizer").await;
    assert_error(app.anon().upload_bundle(bytes).await, 401, "unauthorized", "log in").await;
}

#[tokio::test]
async fn an_organizer_creates_a_draft_publishes_it_and_others_cannot_edit_it() {
    let app = TestApp::spawn().await;
    let olga = app.organizer("olga").await;
    let res = olga.upload_bundle(gaic::bundle::pack_dir(new_bundle("olga-task").path()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["slug"], "olga-task");
    assert_eq!(t["published"], false);
    assert_eq!(t["organizer"], "olga");

    // A draft is invisible to others, visible to its organizer and admins.
    assert_error(app.anon().get("/api/v1/tasks/olga-task").await, 404, "not_found", "task").await;
    assert_eq!(app.anon().get_json("/api/v1/tasks").await["total"], 3);
    assert_eq!(olga.get_json("/api/v1/tasks").await["total"], 4);
    assert_eq!(app.admin().await.get_json("/api/v1/tasks/olga-task").await["slug"], "olga-task");

    // Another organizer may not edit it.
    let pete = app.organizer("pete").await;
    let res = pete.patch_json("/api/v1/tasks/olga-task", &json!({ "published": true })).await;
    assert_error(res, 404, "not_found", "task").await;
    let res = pete.patch_json("/api/v1/tasks/digits", &json!({ "published": false })).await;
    assert_error(res, 403, "forbidden", "organizer").await;

    // Its organizer reschedules and publishes it (a close before the open
    // is refused first).
    let res = olga.patch_json("/api/v1/tasks/olga-task", &json!({ "closes_at": "2025-01-01T00:00:00Z" })).await;
    assert_error(res, 422, "invalid_schedule", "after opens_at").await;
    let res = olga
        .patch_json(
            "/api/v1/tasks/olga-task",
            &json!({ "published": true, "opens_at": "2026-01-01T00:00:00Z", "closes_at": "2026-02-01T00:00:00Z",
                     "merger_deadline": "2026-01-25T00:00:00Z" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["published"], true);
    assert_eq!(t["state"], "closed");
    assert_eq!(t["closes_at"], "2026-02-01T00:00:00Z");
    assert_eq!(t["rules"]["merger_deadline"], "2026-01-25T00:00:00Z");
    let closed = app.anon().get_json("/api/v1/tasks?state=closed").await;
    assert_eq!(closed["items"][0]["slug"], "olga-task");

    // Closed: its schedule is final.
    let res = olga.patch_json("/api/v1/tasks/olga-task", &json!({ "closes_at": "2027-01-01T00:00:00Z" })).await;
    assert_error(res, 409, "conflict", "schedule is final").await;
    let res = olga.patch_json("/api/v1/tasks/olga-task", &json!({ "colour": "red" })).await;
    assert_error(res, 422, "invalid_json", "colour").await;

    // The slug is now taken.
    let res = olga.upload_bundle(gaic::bundle::pack_dir(new_bundle("olga-task").path()).unwrap()).await;
    assert_error(res, 409, "conflict", "olga-task").await;
}

#[tokio::test]
async fn a_bundle_with_mistakes_is_refused_with_every_problem_named() {
    let app = TestApp::spawn().await;
    let olga = app.organizer("olga").await;
    let dir = new_bundle("broken-task");
    edit_toml(dir.path(), |t| {
        t.replace("name = \"rmse\"", "name = \"rmsee\"")
            .replace("daily_cap = 5", "daily_cap = 0")
            .replace("closes = 2027-05-31T23:59:59Z", "closes = 2026-01-01T00:00:00Z")
    });
    let labels = dir.path().join("hidden/test_labels.csv");
    let text = std::fs::read_to_string(&labels).unwrap();
    std::fs::write(&labels, text.replacen("\n1,161\n", "\n1,oops\n", 1)).unwrap();
    std::fs::remove_file(dir.path().join("public/test_inputs.csv")).unwrap();

    let res = olga.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await;
    let body = assert_error(res, 422, "invalid_bundle", "problem(s)").await;
    let details = body["error"]["details"].as_array().unwrap();
    let has = |file: &str, field: &str, msg: &str| {
        details.iter().any(|d| {
            d["file"] == file
                && d["field"].as_str().unwrap().contains(field)
                && d["message"].as_str().unwrap().contains(msg)
        })
    };
    assert!(has("task.toml", "metric.name", "unknown metric \"rmsee\""), "{details:?}");
    assert!(has("task.toml", "submissions.daily_cap", "between 1 and 1000"), "{details:?}");
    assert!(has("task.toml", "schedule.closes", "after schedule.opens"), "{details:?}");
    assert!(has("public/test_inputs.csv", "", "file missing"), "{details:?}");
    assert_eq!(app.anon().get("/api/v1/tasks/broken-task").await.status(), StatusCode::NOT_FOUND);

    // With the toml fixed, the bad label row is reported by row and column,
    // without echoing the label.
    let dir = new_bundle("broken-task");
    std::fs::write(dir.path().join("hidden/test_labels.csv"), text.replacen("\n1,161\n", "\n1,oops\n", 1)).unwrap();
    let res = olga.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await;
    let body = assert_error(res, 422, "invalid_bundle", "1 problem(s)").await;
    let d = &body["error"]["details"][0];
    assert_eq!(d["file"], "hidden/test_labels.csv");
    assert_eq!(d["field"], "row 2, column progression");
    assert!(!body.to_string().contains("oops"), "label values are never echoed");

    // Fixed, it goes through.
    let res = olga.upload_bundle(gaic::bundle::pack_dir(new_bundle("broken-task").path()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn uploads_that_are_not_bundles_get_clear_errors() {
    let app = TestApp::spawn().await;
    let olga = app.organizer("olga").await;
    assert_error(olga.upload_bundle(b"plain text, not a tarball".to_vec()).await, 422, "invalid_bundle", "problem")
        .await;

    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b"garbage inside gzip").unwrap();
        e.finish().unwrap()
    };
    assert_error(olga.upload_bundle(gz).await, 422, "invalid_bundle", "problem").await;

    let form = reqwest::multipart::Form::new().text("other", "x");
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(olga.token.as_ref().unwrap())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "bad_request", "`bundle`").await;

    let res = reqwest::Client::new()
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(olga.token.as_ref().unwrap())
        .header("content-type", "multipart/form-data; boundary=X")
        .body("--X\r\nContent-Disposition: form-data; name=\"bundle\"\r\n\r\nunterminated")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "bad_request", "multipart").await;

    // The test server allows 4 MiB uploads.
    let res = olga.upload_bundle(vec![0u8; 5 << 20]).await;
    assert_error(res, 413, "payload_too_large", "limit").await;
}
