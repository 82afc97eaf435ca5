//! Page flows over HTTP beyond submitting: teams from the team tab,
//! organizers managing a task, admins and roles, profiles, paginated boards.

use reqwest::StatusCode;
use reqwest::header::COOKIE;

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp, csv_of, hidden_labels};
use crate::pages::{client, form_csrf, set_cookie, web_user};

/// Logs an existing user in through the login form: (cookies, CSRF token).
async fn web_login(app: &TestApp, username: &str, password: &str) -> (String, String) {
    let (csrf, cookie) = form_csrf(app, "/login").await;
    let form = [("csrf", csrf.as_str()), ("username", username), ("password", password)];
    let res = client().post(app.url("/login")).header(COOKIE, &cookie).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "login as {username}");
    let session = set_cookie(&res, "gaic_session").unwrap();
    (format!("{cookie}; gaic_session={session}"), csrf)
}

async fn get(app: &TestApp, cookies: &str, path: &str) -> (StatusCode, String) {
    let res = client().get(app.url(path)).header(COOKIE, cookies).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn post(app: &TestApp, cookies: &str, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let res = client().post(app.url(path)).header(COOKIE, cookies).form(form).send().await.unwrap();
    let status = res.status();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (status, location.unwrap_or(res.text().await.unwrap()))
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    html.split(start).nth(1).and_then(|r| r.split(end).next()).unwrap_or("")
}

#[tokio::test]
async fn teams_are_joined_made_merged_and_left_from_the_team_tab() {
    let app = TestApp::spawn().await;
    let (ann, ann_csrf) = web_user(&app, "ann").await;
    let (bob, bob_csrf) = web_user(&app, "bob").await;

    // Joining needs the rules accepted.
    let (status, html) = post(&app, &ann, "/tasks/digits/join", &[("csrf", &ann_csrf)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("accept the rules"), "{html}");
    let (status, to) = post(&app, &ann, "/tasks/digits/join", &[("csrf", &ann_csrf), ("accept", "yes")]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/tasks/digits?tab=submit"));
    let (_, html) = get(&app, &ann, "/tasks/digits?tab=rules").await;
    assert!(html.contains("You have joined"), "joined shows");

    // Bob makes a team whose name has markup; it shows as text everywhere.
    let name = "Bobcats <b>";
    let (status, _) = post(&app, &bob, "/tasks/digits/team/create", &[("csrf", &bob_csrf), ("name", name)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html) = post(&app, &bob, "/tasks/digits/team/create", &[("csrf", &bob_csrf), ("name", "Again")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "one team per person: {html}");
    let (status, _) = post(&app, &bob, "/tasks/digits/team/invite", &[("username", "ann")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token, no invite");
    let (status, _) = post(&app, &bob, "/tasks/digits/team/invite", &[("csrf", &bob_csrf), ("username", "ann")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html) =
        post(&app, &bob, "/tasks/digits/team/invite", &[("csrf", &bob_csrf), ("username", "nobody")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
    assert!(html.contains("id=\"team-error\"") && html.contains("value=\"nobody\""), "error by the form, name kept");

    // Ann sees the invite and accepts: her team merges into Bob's.
    let (_, html) = get(&app, &ann, "/tasks/digits?tab=team").await;
    assert!(html.contains("Bobcats &lt;b&gt;") && !html.contains("Bobcats <b>"), "escaped");
    let invite = between(&html, "action=\"/invites/", "/accept\"").to_owned();
    assert!(!invite.is_empty(), "an accept button");
    let (status, _) = post(&app, &bob, &format!("/invites/{invite}/accept"), &[("csrf", &bob_csrf)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only the invitee answers");
    let (status, to) = post(&app, &ann, &format!("/invites/{invite}/accept"), &[("csrf", &ann_csrf)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/tasks/digits?tab=team"));
    let (_, html) = get(&app, &bob, "/tasks/digits?tab=team").await;
    assert!(html.contains("href=\"/users/ann\"") && html.contains("Leave the team"), "ann is a member");

    // Ann leaves and is on her own again; renaming works on her new team.
    let (status, _) = post(&app, &ann, "/tasks/digits/team/leave", &[("csrf", &ann_csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = post(&app, &ann, "/tasks/digits/team/rename", &[("csrf", &ann_csrf), ("name", "Ann solo")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = get(&app, &ann, "/tasks/digits?tab=team").await;
    assert!(html.contains("<h2>Ann solo</h2>") && !html.contains("Leave the team"), "alone again");
}

#[tokio::test]
async fn organizers_manage_a_task_from_its_page() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let ben = app.competitor("ben").await;
    let labels = hidden_labels("diabetes");
    // Ann submits the truth, Ben something worse.
    ann.submit_ok("diabetes", csv_of("id,progression", labels.clone())).await;
    let worse = labels.iter().map(|(id, y)| (id.clone(), (y.parse::<f64>().unwrap() + 30.0).to_string()));
    let bens = ben.submit_ok("diabetes", csv_of("id,progression", worse)).await;

    let (comp, comp_csrf) = web_login(&app, "ann", PASSWORD).await;
    assert_eq!(get(&app, &comp, "/tasks/diabetes/manage").await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&app, &comp, "/organize").await.0, StatusCode::FORBIDDEN);
    let (status, _) = post(&app, &comp, "/tasks/diabetes/manage/close", &[("csrf", &comp_csrf)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (admin, csrf) = web_login(&app, "admin", ADMIN_PASSWORD).await;
    let (status, html) = get(&app, &admin, "/tasks/diabetes/manage").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("All submissions") && html.contains(">ann<") && html.contains(">ben<"), "lists both");

    // Hide Ben's submission with a reason, then show it again.
    let sub = bens["submission"]["id"].as_i64().unwrap().to_string();
    let path = format!("/tasks/diabetes/manage/submissions/{sub}");
    let (status, _) = post(&app, &admin, &path, &[("csrf", &csrf), ("action", "set"), ("reason", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is needed");
    let (status, _) = post(&app, &admin, &path, &[("csrf", &csrf), ("action", "set"), ("reason", "copied")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = get(&app, &admin, "/tasks/diabetes?tab=leaderboard").await;
    assert!(!between(&html, "id=\"board\"", "</table>").contains(">ben<"), "hidden from the board");
    post(&app, &admin, &path, &[("csrf", &csrf), ("action", "clear")]).await;

    // Disqualify Ben's team: he sees the reason on his team tab.
    let (_, html) = get(&app, &admin, "/tasks/diabetes/manage").await;
    let team = between(&html, "action=\"/tasks/diabetes/manage/teams/", "\"").to_owned();
    let team_path = format!("/tasks/diabetes/manage/teams/{team}");
    let (status, _) =
        post(&app, &admin, &team_path, &[("csrf", &csrf), ("action", "set"), ("reason", "two accounts")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = get(&app, &admin, "/tasks/diabetes/manage").await;
    assert!(html.contains("Disqualified: two accounts"));
    post(&app, &admin, &team_path, &[("csrf", &csrf), ("action", "clear")]).await;

    // A baseline, scored like a submission.
    let form = reqwest::multipart::Form::new().text("csrf", csrf.clone()).text("name", "Mean <baseline>").part(
        "file",
        reqwest::multipart::Part::bytes(
            csv_of("id,progression", labels.iter().map(|(id, _)| (id.clone(), "150".into()))).into_bytes(),
        )
        .file_name("mean.csv"),
    );
    let res = client()
        .post(app.url("/tasks/diabetes/manage/baseline"))
        .header(COOKIE, &admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Baseline added: Mean &lt;baseline&gt;"));

    // Rescore with corrected labels: a preview first (nothing written), then applied.
    let fixed = csv_of(
        "id,progression",
        labels.iter().map(|(id, y)| (id.clone(), (y.parse::<f64>().unwrap() + 30.0).to_string())),
    );
    let rescore = |apply: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("apply", apply.to_owned())
            .part("labels", reqwest::multipart::Part::bytes(fixed.clone().into_bytes()).file_name("fixed.csv"))
    };
    let res = client()
        .post(app.url("/tasks/diabetes/manage/rescore"))
        .header(COOKIE, &admin)
        .multipart(rescore("no"))
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"rescore\"") && html.contains("Apply these changes") && html.contains("1 → 2"),
        "preview"
    );
    let board: serde_json::Value = app.anon().get_json("/api/v1/tasks/diabetes/leaderboard").await;
    assert_eq!(board["entries"][0]["members"][0], "ann", "nothing written by a preview");
    let res = client()
        .post(app.url("/tasks/diabetes/manage/rescore"))
        .header(COOKIE, &admin)
        .multipart(rescore("yes"))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("Rescored"));
    let board: serde_json::Value = app.anon().get_json("/api/v1/tasks/diabetes/leaderboard").await;
    let first =
        board["entries"].as_array().unwrap().iter().find(|e| !e["baseline"].as_bool().unwrap()).unwrap().clone();
    assert_eq!(first["members"][0], "ben", "applied");

    // Close now: the private board shows movement arrows.
    let (status, to) = post(&app, &admin, "/tasks/diabetes/manage/close", &[("csrf", &csrf)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/tasks/diabetes?tab=leaderboard&board=private"));
    let (_, html) = get(&app, &admin, &to).await;
    assert!(html.contains("Private leaderboard") && html.contains("class=\"move\""), "movement column");
}

#[tokio::test]
async fn admins_grant_roles_and_see_the_workers() {
    let app = TestApp::spawn().await;
    app.competitor("carla").await;
    let (ann, _) = web_user(&app, "ann").await;
    assert_eq!(get(&app, &ann, "/admin").await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&app, &ann, "/admin/workers").await.0, StatusCode::FORBIDDEN);
    assert_eq!(client().get(app.url("/admin")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "to login");

    let (admin, csrf) = web_login(&app, "admin", ADMIN_PASSWORD).await;
    let (status, html) = get(&app, &admin, "/admin?q=car").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("carla@example.org") && !html.contains("ann@example.org"), "search by prefix");
    let (status, _) =
        post(&app, &admin, "/admin/users/carla/roles", &[("csrf", &csrf), ("role", "organizer"), ("action", "grant")])
            .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let me = app.login("carla", PASSWORD).await.get_json("/api/v1/me").await;
    assert!(me["roles"].to_string().contains("organizer"), "{me}");
    let (status, html) =
        post(&app, &admin, "/admin/users/admin/roles", &[("csrf", &csrf), ("role", "admin"), ("action", "revoke")])
            .await;
    assert_eq!(status, StatusCode::CONFLICT, "the last admin stays: {html}");
    let (status, html) = get(&app, &admin, "/admin/workers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"workers\""));
}

#[tokio::test]
async fn big_boards_are_paged_and_profiles_show_results() {
    let app = TestApp::spawn().await;
    let pool = &app.state.db.pool;
    let task = gaic::db::tasks::by_slug(pool, "digits").await.unwrap().unwrap();
    let now = gaic::db::now_ms();
    for i in 0..120 {
        let name = format!("p{i:03}");
        let user = gaic::db::users::NewUser {
            username: &name,
            email: &format!("{name}@example.org"),
            password_hash: "x",
            display_name: &name,
            country: "KR",
        };
        let uid = gaic::db::users::insert(pool, &user, now).await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let team = gaic::db::teams::create(&mut conn, task.task_id, &name, uid, now).await.unwrap();
        let sub = gaic::db::submissions::NewSubmission {
            task_id: task.task_id,
            team_id: team,
            user_id: uid,
            kind: "predictions",
            message: "",
            file_name: "p.csv",
            blob_hash: "0",
            size: 1,
            status: gaic::status::SubmissionStatus::Scored,
            public_score: Some(f64::from(i) / 200.0),
            raw_public_score: None,
            private_score: Some(f64::from(i) / 200.0),
            late: false,
            idempotency_key: None,
        };
        gaic::db::submissions::insert(pool, &sub, now + i64::from(i)).await.unwrap();
    }
    let (_, html) = get(&app, "", "/tasks/digits?tab=leaderboard").await;
    assert!(html.contains("Public leaderboard <small>(120)</small>") && html.contains("Page 1 / 3"), "paged");
    assert_eq!(html.matches("<tr><td>").count(), 50, "50 rows a page");
    let (_, html) = get(&app, "", "/tasks/digits?tab=leaderboard&board=public&page=3").await;
    assert!(html.contains("Page 3 / 3") && html.contains(">p000<"), "the last page has the lowest score");
    let (_, html) = get(&app, "", "/tasks/digits?tab=leaderboard&board=private").await;
    assert!(!html.contains("Private leaderboard"), "the private board waits for the close");

    let (status, html) = get(&app, "", "/users/p119").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Handwritten digits") && html.contains("1 / 120"), "rank of N on the profile");
    assert!(!html.contains("KR"), "the country stays private without consent");
    assert_eq!(get(&app, "", "/users/nobody").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn refusals_statuses_and_csv_problems_are_in_the_readers_language() {
    let app = TestApp::spawn().await;
    let (bob, bob_csrf) = web_user(&app, "bob").await;
    let bob_ko = format!("{bob}; gaic_lang=ko");
    let (status, _) = post(&app, &bob, "/tasks/digits/team/create", &[("csrf", &bob_csrf), ("name", "Bobcats")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The same rule refuses in English and in Korean, by the reader's language.
    let form = [("csrf", bob_csrf.as_str()), ("name", "Again")];
    let (status, en) = post(&app, &bob, "/tasks/digits/team/create", &form).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(en.contains("you are already in team &quot;Bobcats&quot;; rename it instead"), "{en}");
    let (status, ko) = post(&app, &bob_ko, "/tasks/digits/team/create", &form).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(ko.contains("이미 &quot;Bobcats&quot; 팀에 속해 있습니다"), "{ko}");
    assert!(!ko.contains("rename it instead"), "no English left: {ko}");
    let form = [("csrf", bob_csrf.as_str()), ("username", "nobody")];
    let (status, ko) = post(&app, &bob_ko, "/tasks/digits/team/invite", &form).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(ko.contains("사용자을(를) 찾을 수 없습니다"), "{ko}");

    // The API keeps English and the stable code for the same refusal.
    let carol = app.competitor("carol").await;
    let labels = hidden_labels("digits");
    carol.submit_ok("digits", csv_of("id,label", labels.clone())).await;
    let bad = labels.iter().map(|(id, _)| (id.clone(), "seven".to_owned()));
    let res = carol.submit("digits", csv_of("id,label", bad)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_submission");
    let detail = body["error"]["details"][0]["message"].as_str().unwrap();
    assert!(detail.starts_with("column label: \"seven\" is not one of the classes"), "{detail}");
    // The same CSV on the submit page, read in Korean: every part in Korean.
    let bad = labels.iter().map(|(id, _)| (id.clone(), "seven".to_owned()));
    let res = client()
        .post(app.url("/tasks/digits/submit"))
        .header(COOKIE, &bob_ko)
        .multipart(crate::pages::upload(&bob_csrf, "bad.csv", csv_of("id,label", bad).into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("label 열: &quot;seven&quot; 은(는) 클래스("), "{html}");
    assert!(html.contains("저장되지 않았고 횟수에 포함되지 않습니다"), "the summary too: {html}");

    // Carol's own page in Korean: her scored submission's status in Korean.
    let (carol_web, _) = web_login(&app, "carol", PASSWORD).await;
    let (_, html) = get(&app, &format!("{carol_web}; gaic_lang=ko"), "/tasks/digits?tab=submissions").await;
    assert!(html.contains("<td class=\"status\">채점됨</td>"), "{html}");
    // The live status script reads them from the table (no inline script).
    let words = html.split("data-words=\"").nth(1).unwrap().split('"').next().unwrap().replace("&quot;", "\"");
    let words: serde_json::Value = serde_json::from_str(&words).unwrap();
    assert_eq!(words["status.queued"], "대기 중", "live updates use the same words: {html}");
}
