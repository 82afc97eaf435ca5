//! Profiles, consents and the recruiters' people search: only people who
//! said yes are found, only by whom they allowed, and a withdrawal counts at
//! once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, assert_error, csv_of, hidden_labels};

async fn recruiter(app: &TestApp, username: &str, country: &str) -> User {
    let res = app
        .register(json!({
            "username": username, "email": format!("{username}@example.org"), "password": crate::helpers::PASSWORD,
            "country": country, "display_name": username, "age_14_or_older": true,
        }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        app.admin().await.put(&format!("/api/v1/users/{username}/roles/recruiter")).await.status(),
        StatusCode::OK
    );
    app.login(username, crate::helpers::PASSWORD).await
}

fn names(page: &Value) -> Vec<String> {
    page["people"].as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn only_consenting_people_are_found_and_withdrawal_is_immediate() {
    let app = TestApp::spawn().await;
    // Three competitors in KR (the helper's country); ann does best.
    let labels = hidden_labels("diabetes");
    let mut users = Vec::new();
    for (name, noise) in [("ann", 0.0), ("ben", 20.0), ("cat", 40.0)] {
        let u = app.competitor(name).await;
        let rows = labels.iter().map(|(id, y)| (id.clone(), (y.parse::<f64>().unwrap() + noise).to_string()));
        u.submit_ok("diabetes", csv_of("id,progression", rows)).await;
        users.push(u);
    }
    let admin = app.admin().await;
    assert_eq!(admin.post_empty("/api/v1/tasks/diabetes/close").await.status(), StatusCode::OK);

    // Everything is off by default.
    let me = users[0].get_json("/api/v1/me/profile").await;
    assert!(me["consents"].as_array().unwrap().iter().all(|c| c["granted_at"].is_null()), "{me}");

    // A profile with problems: every one named.
    let res = users[0]
        .put_json(
            "/api/v1/me/profile",
            &json!({"links": ["javascript:alert(1)"], "birth_year": 1800, "skills": ["a,b"]}),
        )
        .await;
    let body = assert_error(res, 422, "invalid_profile", "3 problem").await;
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["skills", "links", "birth_year"]);
    let ok = users[0]
        .put_json(
            "/api/v1/me/profile",
            &json!({"city": "Seoul", "affiliation": "KAIST", "skills": ["tabular", "vision"], "open_to_work": true}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);

    // Ann and Ben consent; Cat does not. A KR recruiter finds Ann and Ben.
    for u in &users[..2] {
        let res = u.put("/api/v1/me/consents/recruiters").await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let kr = recruiter(&app, "rita", "KR").await;
    let page = kr.get_json("/api/v1/talent").await;
    assert_eq!(names(&page), ["ann", "ben"], "best first, only consenting: {page}");
    assert_eq!(page["people"][0]["best_percentile"], 100.0);
    assert_eq!(page["people"][0]["city"], "Seoul");
    let top = kr.get_json("/api/v1/talent?min_percentile=90").await;
    assert_eq!(names(&top), ["ann"]);
    let open = kr.get_json("/api/v1/talent?open=true").await;
    assert_eq!(names(&open), ["ann"]);
    assert_eq!(names(&kr.get_json("/api/v1/talent?country=US").await), Vec::<String>::new());

    // A recruiter abroad sees nobody until someone also consents to that.
    let us = recruiter(&app, "sam", "US").await;
    assert!(names(&us.get_json("/api/v1/talent").await).is_empty());
    assert_eq!(users[1].put("/api/v1/me/consents/abroad").await.status(), StatusCode::OK);
    assert_eq!(names(&us.get_json("/api/v1/talent").await), ["ben"]);

    // Withdrawal: gone from the next search, and logged.
    assert_eq!(users[0].delete("/api/v1/me/consents/recruiters").await.status(), StatusCode::OK);
    assert_eq!(names(&kr.get_json("/api/v1/talent").await), ["ben"]);
    let me = users[0].get_json("/api/v1/me/profile").await;
    let actions: Vec<&str> = me["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["withdrawn", "granted"]);

    // Under 14 by birth year: cannot be discoverable; saving such a year
    // withdraws the recruiter consents.
    let res = users[1].put_json("/api/v1/me/profile", &json!({"birth_year": 2020})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(names(&kr.get_json("/api/v1/talent").await).is_empty(), "withdrawn for age");
    assert_error(users[1].put("/api/v1/me/consents/recruiters").await, 422, "too_young", "under 14").await;

    // Competitors cannot search.
    assert_error(users[2].get("/api/v1/talent").await, 403, "forbidden", "recruiter role").await;
    assert_error(users[2].put("/api/v1/me/consents/nonsense").await, 404, "not_found", "consent").await;
}

#[tokio::test]
async fn profile_pages_show_details_only_under_consent_and_the_talent_page_searches() {
    use crate::pages::{client, form_csrf, set_cookie};
    use reqwest::header::COOKIE;

    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    ann.put_json("/api/v1/me/profile", &json!({"city": "Busan", "bio": "<b>hi</b>"})).await;
    let anon = || async { client().get(app.url("/users/ann")).send().await.unwrap().text().await.unwrap() };
    assert!(!anon().await.contains("Busan"), "private without consent");
    ann.put("/api/v1/me/consents/public_profile").await;
    let html = anon().await;
    assert!(html.contains("Busan") && html.contains("&lt;b&gt;hi") && !html.contains("<b>hi"), "shown, escaped");

    // The profile form: consents ticked in the page, saved and logged.
    let (csrf, cookie) = form_csrf(&app, "/login").await;
    let csrf_ann = csrf.clone();
    let form = [("csrf", csrf.as_str()), ("username", "ann"), ("password", crate::helpers::PASSWORD)];
    let res = client().post(app.url("/login")).header(COOKIE, &cookie).form(&form).send().await.unwrap();
    let cookies = format!("{cookie}; gaic_session={}", set_cookie(&res, "gaic_session").unwrap());
    let page = client().get(app.url("/account/profile")).header(COOKIE, &cookies).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("provision of personal information to a third party"), "the consent text is shown");
    let bad = [("csrf", csrf.as_str()), ("city", "Busan"), ("birth_year", "nineteen"), ("consent_recruiters", "yes")];
    let res = client().post(app.url("/account/profile")).header(COOKIE, &cookies).form(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"e-birth_year\"") && html.contains("value=\"nineteen\""),
        "error by the field, typed value kept"
    );
    let good = [("csrf", csrf.as_str()), ("city", "Busan"), ("consent_recruiters", "yes"), ("open_to_work", "yes")];
    let res = client().post(app.url("/account/profile")).header(COOKIE, &cookies).form(&good).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("id=\"saved\""));
    let me = ann.get_json("/api/v1/me/profile").await;
    let given: Vec<&str> = me["consents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["granted_at"].is_null())
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(given, ["recruiters"], "unticked public_profile was withdrawn: {me}");

    // A recruiter's page lists her; a competitor's is refused.
    recruiter(&app, "rita", "KR").await;
    let (csrf, cookie) = form_csrf(&app, "/login").await;
    let form = [("csrf", csrf.as_str()), ("username", "rita"), ("password", crate::helpers::PASSWORD)];
    let res = client().post(app.url("/login")).header(COOKIE, &cookie).form(&form).send().await.unwrap();
    let rita = format!("{cookie}; gaic_session={}", set_cookie(&res, "gaic_session").unwrap());
    let html =
        client().get(app.url("/talent?open=yes")).header(COOKIE, &rita).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("href=\"/users/ann\"") && html.contains("people decide"), "{html}");
    assert!(html.contains("<p>1 person found</p>"), "one person, in the singular: {html}");
    let html = client().get(app.url("/users/ann")).header(COOKIE, &rita).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Busan"), "a recruiter she allowed sees her details");
    // Read-only details are labelled as such, not with the form's hints.
    assert!(html.contains("<dt>Country</dt>") && !html.contains("ISO code"), "{html}");
    let res = client().get(app.url("/talent")).header(COOKIE, &cookies).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Her privacy page lists Rita's view; deleting needs the password.
    let html =
        client().get(app.url("/account/profile")).header(COOKIE, &cookies).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("@rita") && html.contains("href=\"/api/v1/me/export\""), "views and the export link");
    let wrong = [("csrf", csrf_ann.as_str()), ("password", "not it at all")];
    let res = client().post(app.url("/account/delete")).header(COOKIE, &cookies).form(&wrong).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("id=\"e-delete_password\""));
    let right = [("csrf", csrf_ann.as_str()), ("password", crate::helpers::PASSWORD)];
    let res = client().post(app.url("/account/delete")).header(COOKIE, &cookies).form(&right).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Account deleted"));
    assert_eq!(client().get(app.url("/users/ann")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn closed_tasks_give_ratings_medals_tiers_and_points() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Five competitors on two rated tasks, each worse than the one before.
    let who = ["ann", "ben", "cat", "dan", "eve"];
    let mut users = Vec::new();
    for name in who {
        users.push(app.competitor(name).await);
    }
    let diabetes = hidden_labels("diabetes");
    let cancer = hidden_labels("breast-cancer");
    for (i, u) in users.iter().enumerate() {
        let noise = i as f64 * 15.0;
        let rows = diabetes.iter().map(|(id, y)| (id.clone(), (y.parse::<f64>().unwrap() + noise).to_string()));
        u.submit_ok("diabetes", csv_of("id,progression", rows)).await;
        // Flip a growing share of the cancer labels.
        let rows = cancer.iter().enumerate().map(|(k, (id, y))| {
            let flip = k % 5 < i;
            let p = if (y == "1") != flip { "0.9" } else { "0.1" };
            (id.clone(), p.to_owned())
        });
        u.submit_ok("breast-cancer", csv_of("id,malignant", rows)).await;
    }
    for slug in ["diabetes", "breast-cancer"] {
        assert_eq!(admin.post_empty(&format!("/api/v1/tasks/{slug}/close")).await.status(), StatusCode::OK);
    }
    for u in &users {
        u.put("/api/v1/me/consents/recruiters").await;
    }
    let rita = recruiter(&app, "rita", "KR").await;
    let by_rating = rita.get_json("/api/v1/talent?sort=rating").await;
    assert_eq!(names(&by_rating), who.to_vec(), "the rating follows the finishing order: {by_rating}");
    let ann = rita.get_json("/api/v1/talent/ann").await;
    // Five teams: gold for the top max(1, ⌊0.5⌋) = 1, silver top 1, bronze top 2.
    assert_eq!(ann["medals"], json!([2, 0, 0]), "{ann}");
    assert_eq!(ann["tier"], "expert", "two medals");
    let rating = ann["rating"].as_f64().unwrap();
    assert!(rating > 1500.0 - 2.0 * 350.0, "μ−2σ rose from the newcomer's 800: {rating}");
    assert!(ann["points"].as_f64().unwrap() > 0.0);
    let eve = rita.get_json("/api/v1/talent/eve").await;
    assert!(eve["rating"].as_f64().unwrap() < rating);
    assert_eq!(eve["medals"], json!([0, 0, 0]));
    let ben = rita.get_json("/api/v1/talent/ben").await;
    assert_eq!(ben["medals"], json!([0, 0, 2]), "rank 2 of 5: bronze (top 2)");
    assert_eq!(names(&rita.get_json("/api/v1/talent?medal=gold").await), ["ann"]);
    let rated = |u: &str| {
        by_rating["people"].as_array().unwrap().iter().find(|p| p["username"] == u).unwrap()["rating"].as_f64().unwrap()
    };
    let band = format!("/api/v1/talent?sort=rating&min_rating={}&max_rating={}", rated("dan"), rated("ben"));
    assert_eq!(names(&rita.get_json(&band).await), ["ben", "cat", "dan"], "a rating range");
    assert_eq!(names(&rita.get_json("/api/v1/talent?medal=bronze").await), ["ann", "ben"]);
    assert_eq!(names(&rita.get_json("/api/v1/talent?domain=tabular&active_months=1").await).len(), 5);
    assert!(names(&rita.get_json("/api/v1/talent?domain=vision").await).is_empty());
    let experts = rita.get_json("/api/v1/talent?tier=expert").await;
    assert_eq!(names(&experts), ["ann", "ben"]);
    assert_error(rita.get("/api/v1/talent?tier=wizard").await, 400, "bad_request", "tier must be").await;

    // The public rankings (by rating, and the recent-form board by points).
    let r = app.anon().get_json("/api/v1/rankings").await;
    let order: Vec<&str> = r["people"].as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap()).collect();
    assert_eq!(order, who.to_vec(), "{r}");
    assert_eq!(r["people"][0]["tasks"], 2);
    let p = app.anon().get_json("/api/v1/rankings?by=points").await;
    assert_eq!(p["people"][0]["username"], "ann");
    assert_error(app.anon().get("/api/v1/rankings?by=luck").await, 400, "bad_request", "rating or points").await;
    let html = crate::pages::client().get(app.url("/rankings?by=points")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"rankings\"") && html.contains("href=\"/users/ann\""), "the page lists them");

    // The profile page shows them, in both languages.
    let html = crate::pages::client().get(app.url("/users/ann")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"standing\"") && html.contains("gold 2") && html.contains("id=\"history\""), "{html}");
}

#[tokio::test]
async fn views_are_logged_data_exports_whole_and_a_deleted_account_leaves_only_its_results() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let sub = ann.submit_ok("diabetes", csv_of("id,progression", hidden_labels("diabetes"))).await;
    ann.put_json("/api/v1/me/profile", &json!({"affiliation": "KAIST"})).await;
    ann.put("/api/v1/me/consents/recruiters").await;
    let rita = recruiter(&app, "rita", "KR").await;
    rita.put_json("/api/v1/me/profile", &json!({"affiliation": "Acme Robotics"})).await;
    assert_eq!(rita.get("/api/v1/talent/ann").await.status(), StatusCode::OK);

    // Ann sees who looked, with their organisation.
    let views = ann.get_json("/api/v1/me/views").await;
    assert_eq!(views[0]["recruiter"], "rita");
    assert_eq!(views[0]["organisation"], "Acme Robotics");

    // The export holds her data and nothing it must not.
    let res = ann.get("/api/v1/me/export").await;
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["account"]["email"], "ann@example.org");
    assert_eq!(doc["profile"]["affiliation"], "KAIST");
    assert_eq!(doc["submissions"][0]["id"], sub["submission"]["id"]);
    assert!(doc["submissions"][0]["private_score"].is_null(), "no private score before the close");
    assert_eq!(doc["viewed_by"][0]["recruiter"], "rita");
    let text = doc.to_string();
    assert!(!text.contains("argon2") && !text.contains(ann.token.as_deref().unwrap()), "no secrets");

    // Deleting: the password is checked; then the data is gone and the
    // results stay as "deleted user".
    let res = ann.delete_json("/api/v1/me", &json!({"password": "wrong password!"})).await;
    assert_error(res, 401, "unauthorized", "not deleted").await;
    let res = ann.delete_json("/api/v1/me", &json!({"password": crate::helpers::PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(ann.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED, "tokens revoked");
    let board = app.anon().get_json("/api/v1/tasks/diabetes/leaderboard").await;
    let entry = &board["entries"][0];
    assert!(entry["members"][0].as_str().unwrap().starts_with("deleted-"), "{entry}");
    assert!(!board.to_string().contains("\"ann\""), "the name is gone from the board");
    assert_eq!(rita.get("/api/v1/talent/ann").await.status(), StatusCode::NOT_FOUND);
    assert!(names(&rita.get_json("/api/v1/talent").await).is_empty());
    // The username is free again.
    assert_eq!(app.register(json!({"username": "ann", "email": "ann@example.org", "password": crate::helpers::PASSWORD, "country": "KR", "age_14_or_older": true})).await.status(), StatusCode::CREATED);
    // The last admin cannot delete themself.
    let admin = app.admin().await;
    let res = admin.delete_json("/api/v1/me", &json!({"password": crate::helpers::ADMIN_PASSWORD})).await;
    assert_error(res, 409, "conflict", "last admin").await;
}

#[tokio::test]
async fn recruiters_shortlist_export_and_request_contact_and_people_decide() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let ben = app.competitor("ben").await;
    for u in [&ann, &ben] {
        u.put_json("/api/v1/me/profile", &json!({"affiliation": "KAIST", "bio": "secret bio", "skills": ["nlp"]}))
            .await;
        u.put("/api/v1/me/consents/recruiters").await;
    }
    let rita = recruiter(&app, "rita", "KR").await;
    let list: Value = rita.post_json("/api/v1/shortlists", &json!({"name": "NLP hires"})).await.json().await.unwrap();
    let id = list["id"].as_i64().unwrap();
    assert_error(rita.post_json("/api/v1/shortlists", &json!({"name": "NLP hires"})).await, 409, "conflict", "already")
        .await;
    for who in ["ann", "ben"] {
        let res = rita
            .put_json(&format!("/api/v1/shortlists/{id}/people/{who}"), &json!({"note": format!("call {who}")}))
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    assert_error(
        rita.put_json(&format!("/api/v1/shortlists/{id}/people/nobody"), &json!({})).await,
        404,
        "not_found",
        "agreed",
    )
    .await;
    let got = rita.get_json(&format!("/api/v1/shortlists/{id}")).await;
    assert_eq!(got["people"].as_array().unwrap().len(), 2);
    assert_eq!(got["people"][0]["note"], "call ann");
    assert!(
        !got.to_string().contains("secret bio") && !got.to_string().contains("@example.org"),
        "consented fields only"
    );

    // Ben withdraws: gone from the list at once, and from the export.
    ben.delete("/api/v1/me/consents/recruiters").await;
    let got = rita.get_json(&format!("/api/v1/shortlists/{id}")).await;
    assert_eq!((got["people"].as_array().unwrap().len(), got["withdrawn"].as_i64()), (1, Some(1)));
    let csv = rita.get(&format!("/api/v1/shortlists/{id}?format=csv")).await.text().await.unwrap();
    assert!(csv.starts_with("username,") && csv.contains("ann") && !csv.contains("ben"), "{csv}");
    let views = ann.get_json("/api/v1/me/views").await;
    assert_eq!(views[0]["what"], "export", "the export is logged for her");

    // A contact request: Ann sees the organisation; the email only after she accepts.
    let body = json!({"organisation": "Acme Robotics", "message": "We liked your NLP results."});
    let req: Value = rita.post_json("/api/v1/talent/ann/contact", &body).await.json().await.unwrap();
    assert_error(rita.post_json("/api/v1/talent/ann/contact", &body).await, 409, "conflict", "pending").await;
    assert_error(rita.post_json("/api/v1/talent/ben/contact", &body).await, 404, "not_found", "").await;
    let incoming = ann.get_json("/api/v1/contact-requests").await;
    assert_eq!(incoming[0]["organisation"], "Acme Robotics");
    assert!(incoming[0].get("email").is_none());
    let sent = rita.get_json("/api/v1/contact-requests").await;
    assert!(sent[0].get("email").is_none(), "no email before acceptance");
    let rid = req["id"].as_i64().unwrap();
    assert_eq!(
        rita.post_empty(&format!("/api/v1/contact-requests/{rid}/accept")).await.status(),
        404,
        "only she answers"
    );
    assert_eq!(ann.post_empty(&format!("/api/v1/contact-requests/{rid}/accept")).await.status(), 204);
    let sent = rita.get_json("/api/v1/contact-requests").await;
    assert_eq!(sent[0]["state"], "accepted");
    assert_eq!(sent[0]["email"], "ann@example.org");
    assert_error(ann.get("/api/v1/shortlists").await, 403, "forbidden", "recruiter role").await;
}

#[tokio::test]
async fn an_unrated_practice_task_gives_no_rating_medals_or_points() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dir = crate::helpers::copy_demo("diabetes");
    crate::helpers::edit_toml(dir.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"practice\"").replace("rated = true", "rated = false")
    });
    assert_eq!(admin.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await.status(), StatusCode::CREATED);
    admin.patch_json("/api/v1/tasks/practice", &json!({"published": true})).await;
    let ann = app.competitor("ann").await;
    ann.submit_ok("practice", csv_of("id,progression", hidden_labels("diabetes"))).await;
    assert_eq!(admin.post_empty("/api/v1/tasks/practice/close").await.status(), StatusCode::OK);
    ann.put("/api/v1/me/consents/recruiters").await;
    let rita = recruiter(&app, "rita", "KR").await;
    let shown = rita.get_json("/api/v1/talent/ann").await;
    assert_eq!(shown["results"], json!(["practice 1/1"]), "the result is listed");
    assert!(shown["rating"].is_null(), "{shown}");
    assert_eq!(shown["medals"], json!([0, 0, 0]));
    assert_eq!(shown["points"], 0.0);
}

#[tokio::test]
async fn points_decay_by_the_day_and_a_task_without_rivals_rates_nobody() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (ann, ben, cat) = (app.competitor("ann").await, app.competitor("ben").await, app.competitor("cat").await);
    let diabetes = hidden_labels("diabetes");
    for (u, noise) in [(&ann, 0.0), (&ben, 30.0)] {
        let rows = diabetes.iter().map(|(id, y)| (id.clone(), (y.parse::<f64>().unwrap() + noise).to_string()));
        u.submit_ok("diabetes", csv_of("id,progression", rows)).await;
    }
    // cat alone on another rated task: ranked first of one.
    let cancer = hidden_labels("breast-cancer");
    cat.submit_ok("breast-cancer", csv_of("id,malignant", cancer.iter().map(|(id, y)| (id.clone(), y.clone())))).await;
    for slug in ["diabetes", "breast-cancer"] {
        assert_eq!(admin.post_empty(&format!("/api/v1/tasks/{slug}/close")).await.status(), StatusCode::OK);
    }
    for u in [&ann, &ben, &cat] {
        u.put("/api/v1/me/consents/recruiters").await;
    }
    let rita = recruiter(&app, "rita", "KR").await;
    let lone = rita.get_json("/api/v1/talent/cat").await;
    assert_eq!(lone["medals"], json!([0, 0, 0]), "no medal without anybody to beat: {lone}");
    assert_eq!(lone["rating"], Value::Null, "a contest of one rates nobody: {lone}");
    let ann_now = rita.get_json("/api/v1/talent/ann").await;
    assert_eq!(ann_now["medals"], json!([1, 0, 0]), "{ann_now}");
    assert!(ann_now["rating"].as_f64().is_some());

    // The same results seen later: points decay as e^(−days/500), and the
    // recent-form window lets go after a year, with nothing else changed.
    let day = 86_400_000i64;
    let now = gaic::db::now_ms();
    let talent = &app.state.talent;
    let at = |days: i64| talent.pool_at(now + days * day);
    let points = |pool: &gaic::talent::Pool| {
        let s = &pool.people["ann"];
        (s.points, s.recent_points)
    };
    let (p0, r0) = points(&at(0).await.unwrap());
    assert!(p0 > 0.0 && r0 == p0, "{p0} {r0}");
    let (p200, r200) = points(&at(200).await.unwrap());
    let want = p0 * (-200.0f64 / 500.0).exp();
    assert!((p200 / want - 1.0).abs() < 0.005, "decayed over 200 days: {p200} vs {want}");
    assert_eq!(r200, p200, "still recent");
    let (p400, r400) = points(&at(400).await.unwrap());
    assert!(p400 < p200 && p400 > 0.0 && r400 == 0.0, "{p400} {r400}");
    // The pool is computed once a day, not once for ever.
    let a = at(200).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &at(200).await.unwrap()), "reused within the day");
    assert!(points(&at(201).await.unwrap()).0 < p200, "a new day, new points");
}

/// A consent counts only for the current text: one given to an older
/// version is asked for again and finds nobody meanwhile; an unknown age
/// (no birth year, no 14-or-older confirmation) never reaches the search.
#[tokio::test]
async fn an_outdated_consent_or_an_unknown_age_keeps_a_person_out_of_search() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (app.competitor("ann").await, app.competitor("ben").await);
    for u in [&ann, &ben] {
        assert_eq!(u.put("/api/v1/me/consents/recruiters").await.status(), StatusCode::OK);
    }
    let rita = recruiter(&app, "rita", "KR").await;
    assert_eq!(names(&rita.get_json("/api/v1/talent").await), ["ann", "ben"]);
    let pool = &app.state.db.pool;

    // The recruiters text changed after ann agreed (as a new release would).
    sqlx::query("UPDATE consents SET text_version = '2020-01-01' WHERE kind = 'recruiters' AND user_id = (SELECT user_id FROM users WHERE username = 'ann')")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(names(&rita.get_json("/api/v1/talent").await), ["ben"], "an agreement to an older text does not count");
    assert_error(rita.get("/api/v1/talent/ann").await, 404, "not_found", "").await;
    let me = ann.get_json("/api/v1/me/profile").await;
    let c = me["consents"].as_array().unwrap().iter().find(|c| c["kind"] == "recruiters").unwrap().clone();
    assert_eq!((c["in_force"].clone(), c["needs_renewal"].clone()), (json!(false), json!(true)), "{c}");
    // The privacy page asks again, the box unticked.
    let cookies = crate::pages::web_login(&app, "ann", crate::helpers::PASSWORD).await;
    let html = crate::pages::html(&app, "/account/profile", Some(&cookies)).await;
    assert!(html.contains("id=\"renew-recruiters\""), "asked again");
    assert!(!html.contains("name=\"consent_recruiters\" type=\"checkbox\" value=\"yes\" checked"), "unticked");
    assert_eq!(ann.put("/api/v1/me/consents/recruiters").await.status(), StatusCode::OK);
    assert_eq!(names(&rita.get_json("/api/v1/talent").await), ["ann", "ben"], "agreed again");

    // An account whose age was never confirmed (made before the question).
    sqlx::query("UPDATE users SET age_confirmed_at = NULL WHERE username = 'ben'").execute(pool).await.unwrap();
    assert_eq!(names(&rita.get_json("/api/v1/talent").await), ["ann"], "unknown age: not findable");
    ben.delete("/api/v1/me/consents/recruiters").await;
    assert_error(ben.put("/api/v1/me/consents/recruiters").await, 422, "age_unknown", "14").await;
    let res = ben.put_json("/api/v1/me/profile", &json!({"age_14_or_older": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ben.get_json("/api/v1/me/profile").await["age_confirmed"], true);
    assert_eq!(ben.put("/api/v1/me/consents/recruiters").await.status(), StatusCode::OK);
    assert_eq!(names(&rita.get_json("/api/v1/talent").await), ["ann", "ben"]);
}
