//! Hidden labels never leave the scorer: every route, as every kind of
//! caller, before and after the close, and the server's log.

use serde_json::Value;

use crate::helpers::{TestApp, User, captured_logs, csv_of, hidden_labels, tasks_dir};

/// Every GET route of the OpenAPI document, filled in for `slug`.
fn get_paths(doc: &Value, slug: &str, submission: i64, team: i64) -> Vec<String> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if ops.get("get").is_none() {
            continue;
        }
        let p = path
            .replace("{slug}", slug)
            .replace("{id}", &submission.to_string())
            .replace("{team_id}", &team.to_string())
            .replace("{username}", "ann");
        if p.contains("{path}") {
            for f in ["train.csv", "test_inputs.csv", "sample_submission.csv", "../hidden/test_labels.csv"] {
                out.push(p.replace("{path}", f));
            }
        } else {
            out.push(p.clone());
            if p.ends_with("/leaderboard") {
                out.push(format!("{p}?board=private"));
                out.push(format!("{p}?board=private&format=csv"));
                out.push(format!("{p}?format=csv"));
            }
            if p.ends_with("/submissions") {
                out.push(format!("{p}?scope=all"));
            }
        }
    }
    out
}

/// Fails if `body` holds any hidden (id, label) pair of diabetes as CSV or
/// JSON; labels there are distinctive integers, the sample holds the mean.
fn assert_no_pairs(what: &str, body: &str, pairs: &[(String, String)]) {
    for (id, y) in pairs {
        for needle in [format!("\n{id},{y}\n"), format!("\"{id}\",{y}"), format!("\"id\":\"{id}\",\"progression\":{y}")]
        {
            assert!(!body.contains(&needle), "{what} leaks the label of id {id}");
        }
    }
}

async fn crawl(app: &TestApp, user: &User, who: &str, sub: i64, team: i64, pairs: &[(String, String)]) {
    let doc: Value = app.anon().get_json("/api/v1/openapi.json").await;
    for path in get_paths(&doc, "diabetes", sub, team) {
        if path.ends_with("/events") {
            continue; // streams of states and scores only; covered by the live tests
        }
        let res = user.get(&path).await;
        let body = res.text().await.unwrap();
        if path.contains("/files/") && !path.contains("..") && body.starts_with("id,") {
            let name = path.rsplit('/').next().unwrap();
            assert_eq!(body, std::fs::read_to_string(tasks_dir().join("diabetes/public").join(name)).unwrap());
        }
        assert_no_pairs(&format!("{who} GET {path}"), &format!("\n{body}\n"), pairs);
    }
}

#[tokio::test]
async fn no_route_no_caller_and_no_log_line_reveals_a_hidden_label() {
    let app = TestApp::spawn().await;
    let pairs = hidden_labels("diabetes");
    let ann = app.competitor("ann").await;
    let recruiter = app.competitor("rita").await;
    app.admin().await.put("/api/v1/users/rita/roles/recruiter").await;

    // A perfect submission, one off by a little, and a few invalid ones whose
    // errors name rows and ids.
    let perfect = std::fs::read(tasks_dir().join("diabetes/hidden/test_labels.csv")).unwrap();
    let sub = ann.submit_ok("diabetes", perfect).await["submission"]["id"].as_i64().unwrap();
    let near = csv_of("id,progression", pairs.iter().map(|(id, y)| (id.clone(), format!("{y}.5"))));
    ann.submit_ok("diabetes", near).await;
    let mut errors = String::new();
    for bad in [
        csv_of("id,progression", pairs.iter().take(20).map(|(id, _)| (id.clone(), "x".into()))),
        csv_of("id,progression", pairs.iter().skip(3).map(|(id, _)| (id.clone(), "1".into()))),
        "id,label\n1,2\n".to_owned(),
    ] {
        errors += &ann.submit("diabetes", bad).await.text().await.unwrap();
    }
    for (id, y) in &pairs {
        // An error names an id, never its label next to it.
        assert!(!errors.contains(&format!("{id},{y}")) && !errors.contains(&format!("\\\"{id}\\\" ({y}")), "{errors}");
    }
    assert!(!errors.contains(&pairs[0].1) || pairs[0].1.len() < 3, "an error echoes a true value: {errors}");
    let team = ann.get_json("/api/v1/tasks/diabetes/team").await["id"].as_i64().unwrap();

    for (user, who) in [(app.anon(), "anonymous"), (ann.clone(), "competitor"), (recruiter.clone(), "recruiter")] {
        crawl(&app, &user, who, sub, team, &pairs).await;
    }
    app.admin().await.post_empty("/api/v1/tasks/diabetes/close").await;
    for (user, who) in [(app.anon(), "anonymous"), (ann.clone(), "competitor"), (recruiter, "recruiter")] {
        crawl(&app, &user, who, sub, team, &pairs).await;
    }
    let logs = captured_logs();
    assert!(logs.contains("submission stored"), "the log capture works");
    assert_no_pairs("the server log", &logs.replace(' ', "\n"), &pairs);
}
