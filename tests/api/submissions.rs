//! Prediction submissions: instant scoring, precise errors, the daily quota,
//! final selections, the schedule.

use gaic::status::SubmissionStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, csv_of, hidden_labels, tasks_dir};

fn sample(slug: &str) -> Vec<u8> {
    std::fs::read(tasks_dir().join(slug).join("public/sample_submission.csv")).unwrap()
}

/// A perfect submission: the hidden labels themselves.
fn perfect(slug: &str) -> Vec<u8> {
    std::fs::read(tasks_dir().join(slug).join("hidden/test_labels.csv")).unwrap()
}

#[tokio::test]
async fn the_sample_submissions_are_scored_at_once_with_the_quota() {
    let app = TestApp::spawn().await;
    let alice = app.competitor("alice").await;
    let res = alice.submit_with("digits", sample("digits"), "all zeros").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let sub = &body["submission"];
    assert_eq!(sub["status"], "scored");
    assert_eq!(sub["message"], "all zeros");
    assert_eq!(sub["team"], "alice");
    let public = sub["public_score"].as_f64().unwrap();
    assert!(public > 0.02 && public < 0.25, "all-zero accuracy is about 1/10: {public}");
    assert!(sub["private_score"].is_null(), "the private score stays hidden until the close");
    assert_eq!(body["quota"]["daily_cap"], 5);
    assert_eq!(body["quota"]["used_today"], 1);
    assert_eq!(body["quota"]["remaining_today"], 4);
    assert!(body["quota"]["resets_at"].as_str().unwrap().ends_with("T00:00:00Z"));

    let b = alice.submit_ok("breast-cancer", sample("breast-cancer")).await;
    assert_eq!(b["submission"]["public_score"], 0.5, "a constant score has AUC 0.5");
    let d = alice.submit_ok("diabetes", sample("diabetes")).await;
    assert!(d["submission"]["public_score"].as_f64().unwrap() > 40.0, "RMSE of the mean is large");
}

#[tokio::test]
async fn perfect_predictions_score_perfectly_and_near_perfect_ones_nearly() {
    let app = TestApp::spawn().await;
    let bob = app.competitor("bob").await;
    let d = bob.submit_ok("digits", perfect("digits")).await;
    assert_eq!(d["submission"]["public_score"], 1.0);
    let r = bob.submit_ok("diabetes", perfect("diabetes")).await;
    assert_eq!(r["submission"]["public_score"], 0.0);
    // Reordered rows with a header in another column order score the same.
    let mut rows = hidden_labels("breast-cancer");
    rows.reverse();
    let b = bob.submit_ok("breast-cancer", csv_of("id,malignant", rows)).await;
    assert_eq!(b["submission"]["public_score"], 1.0);
}

#[tokio::test]
async fn bad_csvs_get_every_problem_named_and_store_nothing() {
    let app = TestApp::spawn().await;
    let carol = app.competitor("carol").await;
    let labels = hidden_labels("diabetes");

    // Missing rows: the count and examples.
    let short = csv_of("id,progression", labels.iter().take(100).map(|(id, _)| (id.clone(), "150".into())));
    let body =
        assert_error(carol.submit("diabetes", short).await, 422, "invalid_submission", "nothing was stored").await;
    let text = body.to_string();
    assert!(text.contains(&format!("missing {} ids", labels.len() - 100)), "{text}");

    // Unknown, duplicate and unparsable rows, all at once, rows named.
    let mut rows: Vec<(String, String)> = labels.iter().map(|(id, _)| (id.clone(), "150".into())).collect();
    rows[3].1 = "NaN".into();
    rows[5].1 = "lots".into();
    rows.push(rows[0].clone());
    rows.push(("999999".into(), "1".into()));
    let body =
        assert_error(carol.submit("diabetes", csv_of("id,progression", rows)).await, 422, "invalid_submission", "")
            .await;
    let details: Vec<String> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["field"], d["message"]))
        .collect();
    let all = details.join("\n");
    assert!(all.contains("row 5") && all.contains("\\\"NaN\\\" is not a finite number"), "{all}");
    assert!(all.contains("row 7") && all.contains("\\\"lots\\\" is not a finite number"), "{all}");
    assert!(all.contains("duplicate id"), "{all}");
    assert!(all.contains("1 ids are not in the test set, e.g. \\\"999999\\\""), "{all}");

    // A wrong header.
    let body = assert_error(carol.submit("diabetes", "id,target\n1,2\n").await, 422, "invalid_submission", "").await;
    assert!(body.to_string().contains("the header must be `id,progression`"), "{body}");

    // Class labels outside the task's classes.
    let bad: String = csv_of("id,label", hidden_labels("digits").into_iter().map(|(id, _)| (id, "12".into())));
    let body = assert_error(carol.submit("digits", bad).await, 422, "invalid_submission", "").await;
    assert!(body.to_string().contains("is not one of the classes (0, 1, 2"), "{body}");

    // A module that is not a model, an empty file, no file.
    assert_error(carol.submit("digits", b"\0asm\x01\0\0\0".to_vec()).await, 422, "invalid_model", "exactly one memory")
        .await;
    assert_error(carol.submit("digits", Vec::new()).await, 422, "invalid_submission", "empty").await;
    let res = carol.post_form("/api/v1/tasks/digits/submissions", vec![("other", b"x".to_vec())]).await;
    assert_error(res, 400, "bad_request", "`file`").await;

    // None of it was stored or counted.
    let list = carol.get_json("/api/v1/tasks/diabetes/submissions").await;
    assert_eq!(list["total"], 0);
    let team = carol.get_json("/api/v1/tasks/diabetes/team").await;
    assert_eq!(team["quota"]["used_today"], 0);
}

#[tokio::test]
async fn the_daily_cap_is_per_team_and_says_when_it_resets() {
    let app = TestApp::spawn().await;
    let dan = app.competitor("dan").await;
    for i in 0..5 {
        let b = dan.submit_ok("diabetes", sample("diabetes")).await;
        assert_eq!(b["quota"]["remaining_today"], 4 - i);
    }
    let body =
        assert_error(dan.submit("diabetes", sample("diabetes")).await, 429, "too_many_requests", "all 5 submissions")
            .await;
    assert!(body["error"]["message"].as_str().unwrap().contains("resets at"), "{body}");
    // Another task has its own cap; another competitor too.
    dan.submit_ok("digits", sample("digits")).await;
    app.competitor("eve").await.submit_ok("diabetes", sample("diabetes")).await;
    let list = dan.get_json("/api/v1/tasks/diabetes/submissions?per_page=2").await;
    assert_eq!(list["total"], 5);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_team_selects_up_to_its_final_cap_before_the_close() {
    let app = TestApp::spawn().await;
    let fay = app.competitor("fay").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(fay.submit_ok("digits", sample("digits")).await["submission"]["id"].as_i64().unwrap());
    }
    for id in &ids[..2] {
        let res = fay.put(&format!("/api/v1/submissions/{id}/selection")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap()["selected"], true);
    }
    let res = fay.put(&format!("/api/v1/submissions/{}/selection", ids[2])).await;
    assert_error(res, 409, "conflict", "already selected 2").await;
    let res = fay.delete(&format!("/api/v1/submissions/{}/selection", ids[0])).await;
    assert_eq!(res.json::<Value>().await.unwrap()["selected"], false);
    assert_eq!(fay.put(&format!("/api/v1/submissions/{}/selection", ids[2])).await.status(), StatusCode::OK);

    // Someone else's submission is not even visible.
    let gus = app.competitor("gus").await;
    assert_error(gus.put(&format!("/api/v1/submissions/{}/selection", ids[0])).await, 404, "not_found", "").await;
    assert_error(gus.get(&format!("/api/v1/submissions/{}", ids[0])).await, 404, "not_found", "").await;

    // After the close selections are fixed and private scores appear.
    let admin = app.admin().await;
    assert_eq!(admin.post_empty("/api/v1/tasks/digits/close").await.status(), StatusCode::OK);
    assert_error(fay.delete(&format!("/api/v1/submissions/{}/selection", ids[2])).await, 409, "conflict", "closed")
        .await;
    let s = fay.get_json(&format!("/api/v1/submissions/{}", ids[2])).await;
    assert!(s["private_score"].as_f64().is_some(), "{s}");
}

#[tokio::test]
async fn submissions_follow_the_schedule_and_late_ones_are_never_ranked() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let hal = app.competitor("hal").await;
    let res = admin.patch_json("/api/v1/tasks/diabetes", &json!({ "opens_at": "2099-01-01T00:00:00Z", "closes_at": "2099-02-01T00:00:00Z", "merger_deadline": "2099-01-25T00:00:00Z" })).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_error(hal.submit("diabetes", sample("diabetes")).await, 403, "forbidden", "opens at 2099-01-01").await;

    hal.submit_ok("digits", sample("digits")).await;
    admin.post_empty("/api/v1/tasks/digits/close").await;
    let late = hal.submit_ok("digits", perfect("digits")).await;
    assert_eq!(late["submission"]["late"], true);
    assert_eq!(late["submission"]["public_score"], 1.0);
    let board = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(board["entries"].as_array().unwrap().len(), 1);
    assert!(board["entries"][0]["score"].as_f64().unwrap() < 0.5, "the late perfect score is not ranked");
    assert_error(admin.post_empty("/api/v1/tasks/digits/close").await, 409, "conflict", "already closed").await;
}

/// On PostgreSQL, sqlx's Any driver declares a NULL f64 as float4; a
/// statement first prepared on a connection with a missing score must still
/// take a real score afterwards (and the other way round).
#[tokio::test]
async fn scores_and_missing_scores_share_one_prepared_statement() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let first = ann
        .submit_ok("diabetes", crate::helpers::csv_of("id,progression", crate::helpers::hidden_labels("diabetes")))
        .await;
    let pool = &app.state.db.pool;
    let row = gaic::db::submissions::by_id(pool, first["submission"]["id"].as_i64().unwrap()).await.unwrap().unwrap();
    let mut conn = pool.acquire().await.unwrap();
    for score in [None, Some(0.5), None, Some(0.25)] {
        let new = gaic::db::submissions::NewSubmission {
            task_id: row.task_id,
            team_id: row.team_id,
            user_id: row.user_id,
            kind: "predictions",
            message: "",
            file_name: "p.csv",
            blob_hash: &row.blob_hash,
            size: 1,
            status: if score.is_some() { SubmissionStatus::Scored } else { SubmissionStatus::Queued },
            public_score: score,
            raw_public_score: None,
            private_score: score,
            late: false,
            idempotency_key: None,
        };
        let id = gaic::db::submissions::insert(&mut *conn, &new, gaic::db::now_ms()).await.unwrap();
        gaic::db::submissions::set_scores(&mut *conn, id, (score, score, score), None, gaic::db::now_ms())
            .await
            .unwrap();
        let back = gaic::db::submissions::by_id(&mut *conn, id).await.unwrap().unwrap();
        assert_eq!(back.public_score, score);
    }
}

#[tokio::test]
async fn stored_verdicts_read_back_typed_and_an_unknown_word_is_an_error() {
    let app = TestApp::spawn().await;
    let bob = app.competitor("bob").await;
    let id = bob.submit_ok("digits", sample("digits")).await["submission"]["id"].as_i64().unwrap();
    let pool = &app.state.db.pool;
    let read = || gaic::db::submissions::by_id(pool, id);
    assert_eq!(read().await.unwrap().unwrap().verdict, None, "a CSV has no verdict");
    sqlx::query("UPDATE submissions SET verdict = 'out_of_fuel' WHERE submission_id = $1")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    let verdict = read().await.unwrap().unwrap().verdict;
    assert_eq!(verdict, Some(gaic::status::StoredVerdict(gaic_sandbox::Verdict::OutOfFuel)));
    sqlx::query("UPDATE submissions SET verdict = 'bogus' WHERE submission_id = $1")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    assert!(read().await.is_err(), "never a silent default");
}

/// Refused uploads store nothing and leave the daily cap alone, but a team
/// may have only 3 × the cap refused per day: refusals cannot probe the
/// hidden data without bound. The limit is checked before the file is read.
#[tokio::test]
async fn refused_uploads_are_bounded_per_team_and_day() {
    let app = TestApp::spawn().await;
    let (pat, ria) = (app.competitor("pat").await, app.competitor("ria").await);
    let bad = b"id,label\nnot-an-id,3\n".to_vec();
    for i in 0..15 {
        let res = pat.submit("digits", bad.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "refusal {i}");
    }
    let quota = pat.get_json("/api/v1/tasks/digits/team").await;
    let res = pat.submit("digits", perfect("digits")).await;
    let body = assert_error(res, 429, "too_many_requests", "refused today").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("15"), "{body}");
    let list = pat.get_json("/api/v1/tasks/digits/submissions").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing stored: {list} {quota}");
    // Another team is not affected, and a refusal costs it no submission.
    let res = ria.submit("digits", bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = ria.submit_ok("digits", perfect("digits")).await;
    assert_eq!(ok["quota"]["used_today"], 1);
    assert_eq!(ok["quota"]["refused_today"], 1);
    assert_eq!(ok["quota"]["refused_cap"], 15);
}

/// A large CSV (over the size read on every core) is scored from its
/// spool file a chunk at a time, in any row order; one with a bad row is
/// read again whole and names the row, as a small one would.
#[tokio::test]
async fn a_large_csv_is_scored_from_disk_in_any_order_and_its_problems_named() {
    let app = TestApp::spawn().await;
    let rows = 120_000;
    let bundle = crate::helpers::copy_demo("diabetes");
    crate::helpers::edit_toml(bundle.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"big-rmse\"").replace("public_board = \"ladder\"", "")
    });
    let inputs: String = std::iter::once("id,age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n".to_owned())
        .chain((1..=rows).map(|i| format!("{i},50,1,25,90,160,70,40,4,5,90\n")))
        .collect();
    let labels = |shift: f64| -> Vec<(String, String)> {
        (1..=rows).map(|i| (i.to_string(), format!("{}", (i % 300) as f64 + shift))).collect()
    };
    for (file, text) in [
        ("hidden/test_inputs.csv", inputs.clone()),
        ("public/test_inputs.csv", inputs),
        ("hidden/test_labels.csv", csv_of("id,progression", labels(0.0))),
        ("public/sample_submission.csv", csv_of("id,progression", labels(0.25))),
    ] {
        std::fs::write(bundle.path().join(file), text).unwrap();
    }
    let admin = app.admin().await;
    let res = admin.upload_bundle(gaic::bundle::pack_dir(bundle.path()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    admin.patch_json("/api/v1/tasks/big-rmse", &json!({"published": true})).await;

    let ann = app.competitor("ann").await;
    let in_order = csv_of("id,progression", labels(0.5));
    assert!(in_order.len() > 1 << 20, "big enough to be read in parts");
    let s = ann.submit_ok("big-rmse", in_order.clone()).await;
    assert_eq!(s["submission"]["public_score"], 0.5, "every prediction 0.5 off");
    let reversed = csv_of("id,progression", labels(0.5).into_iter().rev());
    let s = ann.submit_ok("big-rmse", reversed).await;
    assert_eq!(s["submission"]["public_score"], 0.5);
    let bad = in_order.replacen("\n77777,", "\n77777,x", 1);
    let body = assert_error(ann.submit("big-rmse", bad).await, 422, "invalid_submission", "").await;
    let details = body["error"]["details"].to_string();
    assert!(details.contains("row 77778") && details.contains("progression"), "{details}");
}
