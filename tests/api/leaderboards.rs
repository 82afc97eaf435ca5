//! Boards: ranking, ties, the private board and shake-up, CSV export, and
//! the organizer's controls (hide, disqualify, baselines, rescore).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, assert_error, csv_of, digits_right_on, hidden_labels};

/// Digits predictions right on the first `n` hidden rows and wrong elsewhere.
fn ranks(board: &Value) -> Vec<(String, Option<u64>)> {
    board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["team"].as_str().unwrap().to_owned(), e["rank"].as_u64()))
        .collect()
}

async fn three_teams(app: &TestApp) -> (User, User, User) {
    let (a, b, c) = (app.competitor("ann").await, app.competitor("ben").await, app.competitor("cat").await);
    a.submit_ok("digits", digits_right_on(500)).await;
    b.submit_ok("digits", digits_right_on(300)).await;
    c.submit_ok("digits", digits_right_on(100)).await;
    (a, b, c)
}

#[tokio::test]
async fn the_public_board_ranks_best_scores_and_breaks_ties_by_time() {
    let app = TestApp::spawn().await;
    let (_a, _b, _c) = three_teams(&app).await;
    let late_twin = app.competitor("dee").await;
    late_twin.submit_ok("digits", digits_right_on(500)).await;
    let board = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(board["board"], "public");
    assert_eq!(board["metric"], "accuracy");
    assert_eq!(board["closed"], false);
    assert_eq!(
        ranks(&board),
        [("ann".into(), Some(1)), ("dee".into(), Some(2)), ("ben".into(), Some(3)), ("cat".into(), Some(4))],
        "ann and dee tie; ann submitted first"
    );
    let first = &board["entries"][0];
    assert_eq!(first["members"], json!(["ann"]));
    assert_eq!(first["entries"], 1);
    assert!(first["movement"].is_null(), "no shake-up before the close");
    let page2 = app.anon().get_json("/api/v1/tasks/digits/leaderboard?per_page=3&page=2").await;
    assert_eq!(ranks(&page2), [("cat".into(), Some(4))]);
    assert_eq!(page2["total"], 4);
}

#[tokio::test]
async fn the_private_board_is_revealed_at_the_close_with_shake_up() {
    let app = TestApp::spawn().await;
    let (_a, _b, _c) = three_teams(&app).await;
    let anon = app.anon();
    let res = anon.get("/api/v1/tasks/digits/leaderboard?board=private").await;
    assert_error(res, 403, "forbidden", "revealed when the task closes").await;
    let admin = app.admin().await;
    assert_eq!(admin.get("/api/v1/tasks/digits/leaderboard?board=private").await.status(), StatusCode::OK);

    admin.post_empty("/api/v1/tasks/digits/close").await;
    let private = anon.get_json("/api/v1/tasks/digits/leaderboard?board=private").await;
    assert_eq!(private["closed"], true);
    let entries = private["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        let (p, v) = (e["public_rank"].as_i64().unwrap(), e["private_rank"].as_i64().unwrap());
        assert_eq!(e["movement"].as_i64().unwrap(), p - v);
        assert_eq!(e["rank"].as_i64().unwrap(), v);
    }
    let public = anon.get_json("/api/v1/tasks/digits/leaderboard").await;
    assert!(public["entries"][0]["movement"].is_i64(), "both boards show movement after the close");

    let res = anon.get("/api/v1/tasks/digits/leaderboard?board=private&format=csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "rank,team,members,score,entries,last_submission_at,baseline,fuel_used,public_rank,private_rank,movement"
    );
    assert_eq!(lines.count(), 3);
    assert_error(
        anon.get("/api/v1/tasks/digits/leaderboard?board=final").await,
        400,
        "bad_request",
        "public or private",
    )
    .await;
}

#[tokio::test]
async fn the_private_score_comes_from_the_selected_submissions() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let good = ann.submit_ok("digits", digits_right_on(539)).await["submission"]["id"].as_i64().unwrap();
    let bad = ann.submit_ok("digits", digits_right_on(0)).await["submission"]["id"].as_i64().unwrap();
    ann.put(&format!("/api/v1/submissions/{bad}/selection")).await;
    let admin = app.admin().await;
    admin.post_empty("/api/v1/tasks/digits/close").await;
    let private = app.anon().get_json("/api/v1/tasks/digits/leaderboard?board=private").await;
    assert_eq!(private["entries"][0]["score"], 0.0, "only the selected (bad) submission counts");
    let public = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(public["entries"][0]["score"], 1.0);
    let _ = good;
}

#[tokio::test]
async fn organizers_hide_disqualify_and_add_baselines_with_reasons_shown() {
    let app = TestApp::spawn().await;
    let (a, b, _c) = three_teams(&app).await;
    let admin = app.admin().await;

    // Hide ann's only submission: ann leaves the board and sees why.
    let ann_sub = a.get_json("/api/v1/tasks/digits/submissions").await["items"][0]["id"].as_i64().unwrap();
    assert_error(
        b.put_json(&format!("/api/v1/submissions/{ann_sub}/hidden"), &json!({"reason": "x"})).await,
        404,
        "not_found",
        "",
    )
    .await;
    let res = admin
        .put_json(&format!("/api/v1/submissions/{ann_sub}/hidden"), &json!({"reason": "copied from a public kernel"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mine = a.get_json(&format!("/api/v1/submissions/{ann_sub}")).await;
    assert_eq!(mine["hidden_reason"], "copied from a public kernel");
    let board = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(ranks(&board), [("ben".into(), Some(1)), ("cat".into(), Some(2))]);
    admin.delete(&format!("/api/v1/submissions/{ann_sub}/hidden")).await;

    // Disqualify ben's team: off the board, told why, cannot submit.
    let ben_team = b.get_json("/api/v1/tasks/digits/team").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/tasks/digits/teams/{ben_team}/disqualification");
    assert_error(a.put_json(&path, &json!({"reason": "x"})).await, 403, "forbidden", "organizer").await;
    assert_eq!(admin.put_json(&path, &json!({"reason": "multiple accounts"})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(b.get_json("/api/v1/tasks/digits/team").await["disqualified_reason"], "multiple accounts");
    assert_error(b.submit("digits", digits_right_on(1)).await, 403, "forbidden", "multiple accounts").await;
    let board = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(ranks(&board), [("ann".into(), Some(1)), ("cat".into(), Some(2))]);

    // A baseline is shown in score order, unranked.
    let res = admin
        .post_form(
            "/api/v1/tasks/digits/baselines",
            vec![("name", b"Logistic regression".to_vec()), ("file", digits_right_on(250).into_bytes())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let board = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(ranks(&board), [("ann".into(), Some(1)), ("Logistic regression".into(), None), ("cat".into(), Some(2))]);
    assert_eq!(board["entries"][1]["baseline"], true);
    let res = admin
        .post_form(
            "/api/v1/tasks/digits/baselines",
            vec![("name", b"Logistic regression".to_vec()), ("file", digits_right_on(1).into_bytes())],
        )
        .await;
    assert_error(res, 409, "conflict", "already exists").await;
    let res = a
        .post_form(
            "/api/v1/tasks/digits/baselines",
            vec![("name", b"mine".to_vec()), ("file", digits_right_on(1).into_bytes())],
        )
        .await;
    assert_error(res, 403, "forbidden", "organizer").await;
}

#[tokio::test]
async fn a_rescore_previews_rank_changes_and_applies_only_when_asked() {
    let app = TestApp::spawn().await;
    let (a, _b, _c) = three_teams(&app).await;
    let admin = app.admin().await;
    // "Fix" the labels past row 100 so that what everyone predicted wrong
    // there becomes right: cat (right on 100) now leads, ann (right on 500)
    // falls to last.
    let fixed = csv_of(
        "id,label",
        hidden_labels("digits").into_iter().enumerate().map(|(i, (id, y))| {
            let y: u32 = y.parse().unwrap();
            (id, if i >= 100 { ((y + 1) % 10).to_string() } else { y.to_string() })
        }),
    );
    let before = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    let res = admin.post_form("/api/v1/tasks/digits/rescore", vec![("labels", fixed.clone().into_bytes())]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let preview: Value = res.json().await.unwrap();
    assert_eq!(preview["applied"], false);
    assert_eq!(preview["submissions"], 3);
    let ann = preview["changes"].as_array().unwrap().iter().find(|c| c["team"] == "ann").unwrap();
    assert_eq!(ann["public_rank"][0], 1);
    assert_eq!(ann["public_rank"][1], 3, "{preview}");
    assert_eq!(ann["private_rank"], json!([1, 3]), "{preview}");
    assert_eq!(ann["changed"], true);
    assert_eq!(app.anon().get_json("/api/v1/tasks/digits/leaderboard").await, before, "a preview changes nothing");

    let res = admin
        .post_form("/api/v1/tasks/digits/rescore", vec![("labels", fixed.into_bytes()), ("apply", b"true".to_vec())])
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["applied"], true);
    let after = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(ranks(&after), [("cat".into(), Some(1)), ("ben".into(), Some(2)), ("ann".into(), Some(3))]);
    // New submissions are scored against the fixed labels.
    let again = a.submit_ok("digits", digits_right_on(500)).await;
    assert!(again["submission"]["public_score"].as_f64().unwrap() < 0.5);

    // Labels with other ids are refused, naming no label.
    let wrong = csv_of("id,label", hidden_labels("digits").into_iter().skip(1));
    let res = admin.post_form("/api/v1/tasks/digits/rescore", vec![("labels", wrong.into_bytes())]).await;
    assert_error(res, 422, "invalid_labels", "cannot be used").await;
    assert_error(a.post_form("/api/v1/tasks/digits/rescore", vec![]).await, 403, "forbidden", "organizer").await;
}

async fn board_version(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT board_version FROM tasks WHERE slug = 'digits'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_change_that_can_move_a_board_bumps_its_version_and_nothing_else_does() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.competitor("ann").await;
    let mut v = board_version(&app).await;
    fn bump(v: &mut i64, what: &str, now: i64) {
        assert!(now > *v, "{what} did not bump the board version ({v} → {now})");
        *v = now;
    }
    let id = ann.submit_ok("digits", digits_right_on(500)).await["submission"]["id"].as_i64().unwrap();
    bump(&mut v, "a scored upload", board_version(&app).await);
    assert_eq!(ranks(&app.anon().get_json("/api/v1/tasks/digits/leaderboard").await), [("ann".into(), Some(1))]);
    admin.put_json(&format!("/api/v1/submissions/{id}/hidden"), &json!({"reason": "copied"})).await;
    bump(&mut v, "hiding", board_version(&app).await);
    assert_eq!(ranks(&app.anon().get_json("/api/v1/tasks/digits/leaderboard").await), []);
    admin.delete(&format!("/api/v1/submissions/{id}/hidden")).await;
    bump(&mut v, "unhiding", board_version(&app).await);
    assert_eq!(ann.put(&format!("/api/v1/submissions/{id}/selection")).await.status(), StatusCode::OK);
    bump(&mut v, "a selection", board_version(&app).await);
    let team = ann.get_json("/api/v1/tasks/digits/team").await["id"].as_i64().unwrap();
    let dq = format!("/api/v1/tasks/digits/teams/{team}/disqualification");
    admin.put_json(&dq, &json!({"reason": "multiple accounts"})).await;
    bump(&mut v, "a disqualification", board_version(&app).await);
    assert_eq!(ranks(&app.anon().get_json("/api/v1/tasks/digits/leaderboard").await), []);
    admin.delete(&dq).await;
    bump(&mut v, "a reinstatement", board_version(&app).await);
    // Reading boards, profiles and the task changes nothing.
    app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    app.anon().get_json("/api/v1/tasks/digits").await;
    assert_eq!(board_version(&app).await, v, "reads do not bump the version");
    let closes = chrono::Utc::now() + chrono::Duration::days(3650);
    let res = admin.patch_json("/api/v1/tasks/digits", &json!({"closes_at": closes.to_rfc3339()})).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    bump(&mut v, "a schedule change", board_version(&app).await);
}

/// The board is served from memory: what its rows show (members, names,
/// baselines) changes it as surely as a score does, on every replica.
#[tokio::test]
async fn a_cached_board_follows_members_and_baselines_across_replicas() {
    let app = TestApp::spawn().await;
    let replica = app.replica(|_| {}).await;
    let (ann, bob) = (app.competitor("ann").await, app.competitor("bob").await);
    ann.submit_ok("digits", digits_right_on(300)).await;
    let members = |b: &Value| b["entries"][0]["members"].clone();
    for server in [&app, &replica] {
        let board = server.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
        assert_eq!(members(&board), json!(["ann"]));
    }
    ann.post_json("/api/v1/tasks/digits/team/invites", &json!({"username": "bob"})).await;
    let invites: Value = bob.get_json("/api/v1/invites").await;
    let id = invites[0]["id"].as_i64().unwrap();
    assert_eq!(bob.post_empty(&format!("/api/v1/invites/{id}/accept")).await.status(), StatusCode::OK);
    for server in [&app, &replica] {
        let board = server.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
        assert_eq!(members(&board), json!(["ann", "bob"]), "{board}");
        let page = server.anon().get("/tasks/digits?tab=leaderboard").await.text().await.unwrap();
        assert!(page.contains("bob"), "the page reuses the same rows");
    }
    let admin = app.admin().await;
    let res = admin
        .post_form(
            "/api/v1/tasks/digits/baselines",
            vec![("name", b"Majority class".to_vec()), ("file", digits_right_on(1).into_bytes())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let board = replica.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(ranks(&board), [("ann".into(), Some(1)), ("Majority class".into(), None)]);
}

/// Lateness is decided when the board is ranked, from the submission's time
/// and the close as it stands; a closed task's schedule is final, and only
/// an admin's logged re-open (voiding final selections) opens it again.
#[tokio::test]
async fn lateness_follows_the_close_and_a_closed_schedule_is_final_until_an_admin_reopens() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let org = app.organizer("olga").await;
    let (ann, ben) = (app.competitor("ann").await, app.competitor("ben").await);
    let ann_sub = ann.submit_ok("digits", digits_right_on(300)).await["submission"]["id"].as_i64().unwrap();
    assert_eq!(ann.put(&format!("/api/v1/submissions/{ann_sub}/selection")).await.status(), StatusCode::OK);
    assert_eq!(ann.get_json(&format!("/api/v1/submissions/{ann_sub}")).await["selected"], true);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let late = ben.submit_ok("digits", digits_right_on(500)).await;
    assert_eq!(late["submission"]["late"], false, "made while the task was open");
    // The close moves back to between the two: ben's submission is now late.
    let at = between.to_rfc3339();
    let res = admin.patch_json("/api/v1/tasks/digits", &json!({"closes_at": at, "merger_deadline": at})).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let id = late["submission"]["id"].as_i64().unwrap();
    assert_eq!(ben.get_json(&format!("/api/v1/submissions/{id}")).await["late"], true);
    let private = app.anon().get_json("/api/v1/tasks/digits/leaderboard?board=private").await;
    assert_eq!(ranks(&private), [("ann".into(), Some(1))], "late is decided at ranking time: {private}");

    // Closed: no schedule edit re-opens it, whoever asks.
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    for who in [&admin, &org] {
        let res = who.patch_json("/api/v1/tasks/digits", &json!({"closes_at": later})).await;
        assert!(res.status() == 409 || res.status() == 403, "{}", res.status());
    }
    assert_error(
        admin.patch_json("/api/v1/tasks/digits", &json!({"closes_at": later})).await,
        409,
        "conflict",
        "schedule is final",
    )
    .await;
    // The explicit re-open: admins only, a future close and a reason; it
    // voids final selections and hides the private board again.
    let body = json!({"closes_at": later, "reason": "the hidden labels had an error"});
    assert_error(org.post_json("/api/v1/tasks/digits/reopen", &body).await, 403, "forbidden", "").await;
    let past = json!({"closes_at": "2020-01-01T00:00:00Z", "reason": "x"});
    assert_error(admin.post_json("/api/v1/tasks/digits/reopen", &past).await, 422, "invalid_schedule", "future").await;
    let res = admin.post_json("/api/v1/tasks/digits/reopen", &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let reopened: Value = res.json().await.unwrap();
    assert_eq!(reopened["task"], "digits");
    assert!(crate::helpers::captured_logs().contains("task re-opened"), "the re-open is logged");
    assert_eq!(ben.get_json(&format!("/api/v1/submissions/{id}")).await["late"], false);
    assert_error(app.anon().get("/api/v1/tasks/digits/leaderboard?board=private").await, 403, "forbidden", "").await;
    let public = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(ranks(&public), [("ben".into(), Some(1)), ("ann".into(), Some(2))], "{public}");
    assert_eq!(ann.get_json(&format!("/api/v1/submissions/{ann_sub}")).await["selected"], false);
    assert_error(admin.post_json("/api/v1/tasks/digits/reopen", &body).await, 409, "conflict", "still open").await;
}

/// Organizers see pairs of teams whose best submissions share far more
/// than their scores explain (the same mistakes), with both teams'
/// members, and model files submitted by more than one team.
#[tokio::test]
async fn near_duplicate_predictions_and_shared_models_are_listed_for_review() {
    let app = TestApp::spawn_with(|a| a.workers = Some(0)).await;
    let labels = hidden_labels("digits");
    // Right on the first `n` rows, and wrong by `shift` on the others.
    let with = |n: usize, shift: u32, changed: &[usize]| {
        csv_of(
            "id,label",
            labels.iter().enumerate().map(|(i, (id, y))| {
                let y: u32 = y.parse().unwrap();
                let p = if i < n { y } else { (y + shift) % 10 };
                (id.clone(), if changed.contains(&i) { ((p + 5) % 10).to_string() } else { p.to_string() })
            }),
        )
    };
    let (ann, bob, cat) = (app.competitor("ann").await, app.competitor("bob").await, app.competitor("cat").await);
    ann.submit_ok("digits", with(300, 1, &[])).await;
    bob.submit_ok("digits", with(300, 1, &[0, 1, 400])).await; // ann's file, three rows changed
    cat.submit_ok("digits", with(300, 2, &[])).await; // as good, its own mistakes
    let (dan, eve) = (app.competitor("dan").await, app.competitor("eve").await);
    for u in [&dan, &eve] {
        assert_eq!(u.submit("digits", crate::helpers::spin_model()).await.status(), StatusCode::ACCEPTED);
    }

    let olga = app.organizer("olga").await;
    assert_error(olga.get("/api/v1/tasks/digits/integrity").await, 403, "forbidden", "").await;
    assert_error(ann.get("/api/v1/tasks/digits/integrity").await, 403, "forbidden", "").await;
    let admin = app.admin().await;
    let review = admin.get_json("/api/v1/tasks/digits/integrity").await;
    assert_eq!(review["teams"], 3, "{review}");
    let rows = review["rows"].as_u64().unwrap();
    assert!(rows > 0 && review["rows_compared"].as_u64() == Some(rows), "a small task is compared whole: {review}");
    let pairs = review["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "only the copy: {review}");
    let mut names = [pairs[0]["a"]["team"].as_str().unwrap(), pairs[0]["b"]["team"].as_str().unwrap()];
    names.sort_unstable();
    assert_eq!(names, ["ann", "bob"]);
    assert_eq!(pairs[0]["a"]["members"].as_array().unwrap().len(), 1);
    assert!(pairs[0]["excess"].as_f64().unwrap() > 0.95, "{review}");
    let shared = review["shared_models"].as_array().unwrap();
    assert_eq!(shared.len(), 1, "{review}");
    let teams: Vec<&str> = shared[0]["teams"].as_array().unwrap().iter().map(|t| t["team"].as_str().unwrap()).collect();
    assert_eq!(teams, ["dan", "eve"]);
    // A stricter or looser threshold, and a bad one.
    let strict = admin.get_json("/api/v1/tasks/digits/integrity?threshold=1").await;
    assert!(strict["pairs"].as_array().unwrap().is_empty(), "three changed rows are not a perfect copy");
    assert_error(admin.get("/api/v1/tasks/digits/integrity?threshold=2").await, 422, "invalid_threshold", "").await;
    // The management page runs it on request and shows both teams' members.
    let cookies = crate::pages::web_login(&app, "admin", crate::helpers::ADMIN_PASSWORD).await;
    let page = |path: &'static str| crate::pages::html(&app, path, Some(&cookies));
    let html = page("/tasks/digits/manage").await;
    assert!(html.contains("id=\"run-review\"") && !html.contains("id=\"similar-pairs\""), "on request only");
    let html = page("/tasks/digits/manage?review=1").await;
    assert!(!html.contains("id=\"review-sample\""), "a small task is compared on every row");
    let table = html.split("id=\"similar-pairs\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(table.contains("ann (ann)") && table.contains("bob (bob)") && !table.contains("cat"), "{table}");
    assert!(html.split("id=\"shared-models\"").nth(1).unwrap().contains("dan (dan) · eve (eve)"));
}

/// A task of more than `SAMPLE_ROWS` hidden rows is reviewed on that many,
/// evenly spaced: a copy is still found on every one of them, and the API
/// and the management page say how many rows were compared.
#[tokio::test]
async fn a_large_task_is_reviewed_on_a_sample_of_its_rows_and_says_so() {
    let app = TestApp::spawn().await;
    let bundle = crate::helpers::copy_demo("diabetes");
    crate::helpers::edit_toml(bundle.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"big-review\"")
            .replace("public_board = \"ladder\"\n", "")
            .replace("kinds = [\"predictions\", \"model\"]", "kinds = [\"predictions\"]")
    });
    let n = gaic::integrity::SAMPLE_ROWS + 10;
    let rows = |line: &dyn Fn(usize) -> String, header: &str| -> String {
        std::iter::once(format!("{header}\n")).chain((1..=n).map(|i| format!("{},{}\n", i, line(i)))).collect()
    };
    let inputs = rows(&|_| "1,1,1,1,1,1,1,1,1,1".into(), "id,age,sex,bmi,bp,s1,s2,s3,s4,s5,s6");
    std::fs::write(bundle.path().join("hidden/test_inputs.csv"), &inputs).unwrap();
    std::fs::write(bundle.path().join("public/test_inputs.csv"), &inputs).unwrap();
    let labels = rows(&|i| (i % 300).to_string(), "id,progression");
    std::fs::write(bundle.path().join("hidden/test_labels.csv"), labels).unwrap();
    std::fs::write(bundle.path().join("public/sample_submission.csv"), rows(&|_| "150".into(), "id,progression"))
        .unwrap();
    let admin = app.admin().await;
    let res = admin.upload_bundle(gaic::bundle::pack_dir(bundle.path()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    admin.patch_json("/api/v1/tasks/big-review", &json!({"published": true})).await;
    // Ann's file, Bob's copy of it, and Cat's own: all wrong on every row.
    let ann_file = rows(&|i| (i % 300 + 1).to_string(), "id,progression");
    let cat_file = rows(&|i| (i % 7 + 500).to_string(), "id,progression");
    for (who, file) in [("ann", &ann_file), ("bob", &ann_file), ("cat", &cat_file)] {
        app.competitor(who).await.submit_ok("big-review", file.clone()).await;
    }
    let review = admin.get_json("/api/v1/tasks/big-review/integrity").await;
    assert_eq!((review["rows"].as_u64(), review["rows_compared"].as_u64()), (Some(n as u64), Some(100_000)));
    let pairs = review["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "only the copy: {review}");
    assert_eq!((pairs[0]["rows"].as_u64(), pairs[0]["excess"].as_f64()), (Some(100_000), Some(1.0)));
    let cookies = crate::pages::web_login(&app, "admin", crate::helpers::ADMIN_PASSWORD).await;
    let html = crate::pages::html(&app, "/tasks/big-review/manage?review=1", Some(&cookies)).await;
    let note = html.split("id=\"review-sample\">").nth(1).expect("the page says the rows were sampled");
    assert!(note.starts_with("Compared on 100,000 of 100,010 hidden rows, evenly spaced"), "{note}");
}

/// The private board gives each score a 95 % bootstrap interval and marks
/// teams not significantly different from the one above as tied, in the
/// API, on the page and in `gaic leaderboard`; the public board on request;
/// a metric that is not a mean over rows (ROC AUC) is resampled as well.
#[tokio::test]
async fn the_private_board_shows_statistical_ties() {
    let app = TestApp::spawn().await;
    for (name, right) in [("ann", 500), ("ben", 499), ("cat", 300), ("dan", 298)] {
        app.competitor(name).await.submit_ok("digits", digits_right_on(right)).await;
    }
    let cancer = hidden_labels("breast-cancer");
    for (name, flip) in [("ann", 0usize), ("ben", 1), ("cat", 1)] {
        let rows = cancer.iter().enumerate().map(|(k, (id, y))| {
            let p = if (y == "1") != (k % 7 < flip) { "0.9" } else { "0.1" };
            (id.clone(), p.to_owned())
        });
        app.login(name, crate::helpers::PASSWORD).await.submit_ok("breast-cancer", csv_of("id,malignant", rows)).await;
    }
    let public = app.anon().get_json("/api/v1/tasks/digits/leaderboard").await;
    assert!(public["entries"][0].get("interval").is_none(), "the public board only on request");
    let asked = app.anon().get_json("/api/v1/tasks/digits/leaderboard?ties=true").await;
    assert!(asked["entries"][0]["interval"].is_array(), "{asked}");
    let admin = app.admin().await;
    for slug in ["digits", "breast-cancer"] {
        admin.post_empty(&format!("/api/v1/tasks/{slug}/close")).await;
    }

    let private = app.anon().get_json("/api/v1/tasks/digits/leaderboard?board=private").await;
    let entries = private["entries"].as_array().unwrap();
    let tie = |i: usize| entries[i]["tied_with"].as_u64();
    assert_eq!(ranks(&private).iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["ann", "ben", "cat", "dan"]);
    assert_eq!([tie(0), tie(1), tie(2), tie(3)], [None, Some(1), None, Some(3)], "{private}");
    for e in entries {
        let (lo, hi) = (e["interval"][0].as_f64().unwrap(), e["interval"][1].as_f64().unwrap());
        let s = e["score"].as_f64().unwrap();
        assert!(lo <= s && s <= hi && hi - lo < 0.2, "{e}");
    }
    let again = app.anon().get_json("/api/v1/tasks/digits/leaderboard?board=private").await;
    assert_eq!(again["entries"], private["entries"], "seeded: the same every time");
    // ROC AUC: a perfect ranking, then two teams with the same predictions
    // (one of every seven rows the wrong way round), which tie.
    let auc = app.anon().get_json("/api/v1/tasks/breast-cancer/leaderboard?board=private").await;
    let entries = auc["entries"].as_array().unwrap();
    assert_eq!(ranks(&auc).iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["ann", "ben", "cat"], "{auc}");
    let ties: Vec<_> = entries.iter().map(|e| e["tied_with"].as_u64()).collect();
    assert_eq!(ties, [None, None, Some(2)], "{auc}");
    assert_eq!(entries[0]["interval"], serde_json::json!([1.0, 1.0]), "{auc}");
    let (lo, hi, s) =
        (entries[1]["interval"][0].as_f64(), entries[1]["interval"][1].as_f64(), entries[1]["score"].as_f64());
    assert!(lo < s && s < hi && hi < Some(1.0), "{auc}");

    // The page's columns.
    let html = crate::pages::html(&app, "/tasks/digits?tab=leaderboard&board=private", None).await;
    assert!(html.contains("id=\"ties-help\"") && html.contains("tied with #1") && html.contains("tied with #3"));
    // The CLI.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gaic"))
        .args(["leaderboard", "digits", "--board", "private", "--server", &app.base])
        .env("XDG_CONFIG_HOME", app.data_dir.path())
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("95% INTERVAL") && stdout.contains("tied with #3"), "{stdout}");
}

/// On a Ladder task (the diabetes demo) a new public score is shown only
/// when it beats the team's shown best by more than the step: the
/// competitor and the board see the shown score; organizers keep the raw
/// one; a rescore replays it.
#[tokio::test]
async fn the_ladder_shows_only_significant_improvements() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let labels = hidden_labels("diabetes");
    // Which rows are public (the organizer's view of the seed and the
    // documented split), to place a wobble on them exactly.
    let rules = app.admin().await.get_json("/api/v1/tasks/diabetes").await["rules"].clone();
    let seed: u64 = rules["split_seed"].as_str().unwrap().parse().unwrap();
    let fraction = rules["public_fraction"].as_f64().unwrap();
    let mut nth_public = 0;
    let wobble_sign: Vec<f64> = labels
        .iter()
        .map(|(id, _)| {
            if !gaic::scoring::split::is_public(seed, fraction, id) {
                return 0.0;
            }
            nth_public += 1;
            if nth_public % 2 == 0 { 1.0 } else { -1.0 }
        })
        .collect();
    // Every prediction `d` above the truth, then on the public rows `wobble`
    // added and a little more taken off, turn about.
    let off_by = |d: f64, wobble: f64| {
        csv_of(
            "id,progression",
            labels.iter().zip(&wobble_sign).map(|((id, y), &sign)| {
                let w = match sign {
                    s if s > 0.0 => wobble,
                    s if s < 0.0 => -1.034 * wobble,
                    _ => 0.0,
                };
                (id.clone(), (y.parse::<f64>().unwrap() + d + w).to_string())
            }),
        )
    };
    let first = ann.submit_ok("diabetes", off_by(30.0, 0.0)).await;
    let shown = first["submission"]["public_score"].as_f64().unwrap();
    assert_eq!(shown, 30.0, "the first is shown (rounded): {first}");
    // Much better: shown.
    let better = ann.submit_ok("diabetes", off_by(10.0, 0.0)).await;
    assert_eq!(better["submission"]["public_score"], 10.0);
    // A hair better on average, but up and down row by row: within the
    // noise, so the shown best stands.
    let hair = ann.submit_ok("diabetes", off_by(10.0, 0.3)).await;
    let id = hair["submission"]["id"].as_i64().unwrap();
    assert_eq!(hair["submission"]["public_score"], 10.0, "{hair}");
    let board = app.anon().get_json("/api/v1/tasks/diabetes/leaderboard").await;
    assert_eq!(board["entries"][0]["score"], 10.0);
    let raw: Option<f64> = sqlx::query_scalar("SELECT raw_public_score FROM submissions WHERE submission_id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert!(raw.is_some_and(|r| r != 10.0), "the raw score is kept: {raw:?}");
    assert!(hair["submission"].get("raw_public_score").is_none(), "not to the competitor while open");
    let organizer_view = app.admin().await.get_json(&format!("/api/v1/submissions/{id}")).await;
    assert_eq!(organizer_view["raw_public_score"].as_f64(), raw, "the organizer sees it");
    // A rescore replays the Ladder: the same shown scores.
    let res = app.admin().await.post_form("/api/v1/tasks/diabetes/rescore", vec![("apply", b"true".to_vec())]).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    assert_eq!(ann.get_json(&format!("/api/v1/submissions/{id}")).await["public_score"], 10.0);
    // Two uploads at once, each much better than the shown 10 and within
    // the noise of each other: whichever is stored second is judged against
    // the first, so both show the same score.
    let (a, b) = tokio::join!(ann.submit_ok("diabetes", off_by(5.0, 0.0)), ann.submit_ok("diabetes", off_by(5.0, 0.3)));
    let (a, b) = (&a["submission"]["public_score"], &b["submission"]["public_score"]);
    assert!(a.as_f64().is_some_and(|s| s < 6.0) && a == b, "{a} vs {b}");
}

/// A model's Ladder step is judged when its outputs are scored, and judged
/// again if another submission of the team was scored before its result is
/// recorded: here a better upload lands between the two, and the model then
/// shows the team's best (the upload's), not its own step over the old best.
#[tokio::test]
async fn a_models_ladder_step_is_judged_again_when_an_upload_lands_before_it_is_recorded() {
    use gaic::eval::runner;
    let app = TestApp::spawn_with(|a| a.workers = Some(0)).await;
    let ann = app.competitor("ann").await;
    let labels: std::collections::HashMap<String, f64> =
        hidden_labels("diabetes").into_iter().map(|(id, y)| (id, y.parse().unwrap())).collect();
    let inputs = std::fs::read_to_string(crate::helpers::tasks_dir().join("diabetes/hidden/test_inputs.csv")).unwrap();
    let ids: Vec<String> = inputs.lines().skip(1).map(|l| l.split(',').next().unwrap().to_owned()).collect();
    let rules = app.admin().await.get_json("/api/v1/tasks/diabetes").await["rules"].clone();
    let seed: u64 = rules["split_seed"].as_str().unwrap().parse().unwrap();
    let fraction = rules["public_fraction"].as_f64().unwrap();
    // Every prediction `d` above the truth; on the public rows `wobble` up
    // and a little more down, turn about.
    let off_by = |d: f64, wobble: f64| -> Vec<(String, f64)> {
        let mut nth = 0;
        ids.iter()
            .map(|id| {
                let mut w = 0.0;
                if gaic::scoring::split::is_public(seed, fraction, id) {
                    nth += 1;
                    w = if nth % 2 == 0 { wobble } else { -1.034 * wobble };
                }
                (id.clone(), labels[id] + d + w)
            })
            .collect()
    };
    let as_csv = |rows: Vec<(String, f64)>| csv_of("id,progression", rows.into_iter().map(|(i, v)| (i, v.to_string())));
    assert_eq!(ann.submit_ok("diabetes", as_csv(off_by(30.0, 0.0))).await["submission"]["public_score"], 30.0);
    // The model is queued; a worker leases it and its outputs are scored.
    let model = ann.submit("diabetes", crate::models::example("diabetes-linear.wat")).await;
    assert_eq!(model.status(), StatusCode::ACCEPTED);
    let model_id = model.json::<serde_json::Value>().await.unwrap()["submission"]["id"].as_i64().unwrap();
    let pool = &app.state.db.pool;
    let claim = gaic::db::jobs::claim(pool, app.state.db.backend, "w1", gaic::db::now_ms(), 60_000, 2, false)
        .await
        .unwrap()
        .expect("the model's job");
    let outputs = off_by(5.0, 0.0).into_iter().map(|(_, v)| v as f32).collect();
    let outcome = gaic::eval::wire::RunOutcome {
        verdict: "ok".into(),
        message: String::new(),
        fuel_used: 1,
        peak_memory_bytes: 1,
        wall_ms: 1,
        log: String::new(),
        outputs,
        device: "cpu".into(),
    };
    let concluded = runner::conclude(&app.state.queue, model_id, &outcome).await.unwrap();
    assert_eq!(concluded.result.public, Some(5.0), "judged against the shown 30");
    // Before it is recorded, a better upload is scored.
    let upload = ann.submit_ok("diabetes", as_csv(off_by(4.0, 0.0))).await;
    let upload_shown = upload["submission"]["public_score"].as_f64().unwrap();
    assert_eq!(upload_shown, 4.0, "the upload shows its own score: {upload}");
    assert!(runner::record(&app.state.queue, claim.job_id, "w1", model_id, concluded).await.unwrap());
    let model = ann.get_json(&format!("/api/v1/submissions/{model_id}")).await;
    assert_eq!(model["status"], "scored", "{model}");
    assert_eq!(model["public_score"], 4.0, "judged again against the upload: {model}");
}

/// On the management page a closed task's schedule is final; an admin gets
/// the re-open form (a new close and a reason), an organizer does not.
#[tokio::test]
async fn the_management_page_offers_the_reopen_to_admins_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_eq!(admin.post_empty("/api/v1/tasks/digits/close").await.status(), StatusCode::OK);
    let (cookies, csrf) = crate::pages::web_session(&app, "admin", crate::helpers::ADMIN_PASSWORD).await;
    let html = crate::pages::html(&app, "/tasks/digits/manage", Some(&cookies)).await;
    assert!(html.contains("id=\"schedule-final\"") && html.contains("id=\"reopen\""), "admin sees the form");
    assert!(!html.contains("/manage/schedule\""), "no schedule form on a closed task");

    let post = |form: Vec<(&'static str, String)>| {
        crate::pages::client()
            .post(app.url("/tasks/digits/manage/reopen"))
            .header(reqwest::header::COOKIE, &cookies)
            .form(&form)
            .send()
    };
    let res = post(vec![("csrf", csrf.clone()), ("closes_at", "soon".into()), ("reason", "x".into())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%dT%H:%M").to_string();
    let res =
        post(vec![("csrf", csrf.clone()), ("closes_at", later.clone()), ("reason", String::new())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "a reason is needed");
    let res = post(vec![("csrf", csrf), ("closes_at", later), ("reason", "labels fixed".into())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.anon().get_json("/api/v1/tasks/digits").await["state"], "open");

    // An organizer of the task (not an admin) sees the schedule is final but no form.
    let olga = app.organizer("olga").await;
    let bundle = crate::helpers::copy_demo("diabetes");
    crate::helpers::edit_toml(bundle.path(), |t| t.replace("slug = \"diabetes\"", "slug = \"olga-closed\""));
    let packed = gaic::bundle::pack_dir(bundle.path()).unwrap();
    assert_eq!(olga.upload_bundle(packed).await.status(), StatusCode::CREATED);
    olga.patch_json("/api/v1/tasks/olga-closed", &json!({"published": true})).await;
    assert_eq!(olga.post_empty("/api/v1/tasks/olga-closed/close").await.status(), StatusCode::OK);
    let cookies = crate::pages::web_login(&app, "olga", crate::helpers::PASSWORD).await;
    let html = crate::pages::html(&app, "/tasks/olga-closed/manage", Some(&cookies)).await;
    assert!(html.contains("id=\"schedule-final\"") && !html.contains("id=\"reopen\""), "{html}");
}

/// A rescore replays the Ladder exactly as uploads ran it, also for a
/// metric that is not a mean over rows (ROC AUC: the step comes from seeded
/// resamples, seeded alike on both paths): with the labels unchanged no
/// shown score moves.
#[tokio::test]
async fn a_rescore_replays_the_ladder_of_a_resampled_metric_unchanged() {
    let app = TestApp::spawn().await;
    let bundle = crate::helpers::copy_demo("breast-cancer");
    crate::helpers::edit_toml(bundle.path(), |t| {
        t.replace("slug = \"breast-cancer\"", "slug = \"cancer-ladder\"")
            .replace("rated = true", "rated = true\npublic_board = \"ladder\"")
    });
    let admin = app.admin().await;
    let res = admin.upload_bundle(gaic::bundle::pack_dir(bundle.path()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    admin.patch_json("/api/v1/tasks/cancer-ladder", &json!({"published": true})).await;
    let ann = app.competitor("ann").await;
    let labels = hidden_labels("breast-cancer");
    let mut shown = Vec::new();
    // Ever fewer rows flipped: some steps clear the noise, some do not.
    for flip in [9usize, 8, 7, 7, 2] {
        let rows = labels.iter().enumerate().map(|(k, (id, y))| {
            let p =
                if (y == "1") != (k % 10 < flip) { 0.6 + (k % 7) as f64 * 0.05 } else { 0.4 - (k % 5) as f64 * 0.05 };
            (id.clone(), p.to_string())
        });
        let s = ann.submit_ok("cancer-ladder", csv_of("id,malignant", rows)).await;
        shown.push((s["submission"]["id"].as_i64().unwrap(), s["submission"]["public_score"].clone()));
    }
    let res = admin.post_form("/api/v1/tasks/cancer-ladder/rescore", vec![("apply", b"true".to_vec())]).await;
    assert_eq!(res.status(), StatusCode::OK);
    for (id, before) in shown {
        assert_eq!(ann.get_json(&format!("/api/v1/submissions/{id}")).await["public_score"], before, "submission {id}");
    }
}
