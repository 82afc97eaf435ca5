//! The client commands: the real `gaic` binary against a `TestApp` server,
//! with its own config folder (`XDG_CONFIG_HOME`).

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp, copy_demo, csv_of, edit_toml, hidden_labels, spin_model};

/// What a run printed and how it ended.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `gaic ARGS` with `config` as its config home and `stdin` fed in.
pub(crate) async fn gaic(app: &TestApp, config: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gaic"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env("GAIC_SERVER", app.url(""))
        .env_remove("GAIC_TOKEN")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn login(app: &TestApp, config: &Path, username: &str, password: &str) -> Run {
    gaic(app, config, &["login", "--server", &app.url(""), "--username", username, "--password-stdin"], password).await
}

#[tokio::test]
async fn a_competitor_logs_in_downloads_submits_waits_and_reads_the_board() {
    let app = TestApp::spawn().await;
    app.competitor("ana").await;
    let cfg = tempfile::tempdir().unwrap();
    let c = cfg.path();

    let bad = login(&app, c, "ana", "not the password").await;
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("wrong username or password") && bad.stderr.contains("hint:"), "{}", bad.stderr);
    assert!(!c.join("gaic/config.toml").exists(), "nothing stored on a failed login");
    let ok = login(&app, c, "ana", PASSWORD).await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let file = c.join("gaic/config.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(std::fs::read_to_string(&file).unwrap().contains("token = \"gaic_"));
    assert_eq!(gaic(&app, c, &["whoami", "--json"], "").await.json()["username"], "ana");

    let list = gaic(&app, c, &["tasks", "list", "--state", "open", "--json"], "").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let human = gaic(&app, c, &["tasks", "list"], "").await;
    assert!(human.stdout.starts_with("SLUG") && human.stdout.contains("digits"), "{}", human.stdout);

    // Download: whole files, nothing half-written left behind.
    let dl = tempfile::tempdir().unwrap();
    let out = gaic(&app, c, &["tasks", "download", "digits", "--path", dl.path().to_str().unwrap()], "").await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let src = crate::helpers::tasks_dir().join("digits/public");
    for name in ["train.csv", "test_inputs.csv", "sample_submission.csv"] {
        assert_eq!(std::fs::read(dl.path().join(name)).unwrap(), std::fs::read(src.join(name)).unwrap(), "{name}");
    }
    assert_eq!(std::fs::read_dir(dl.path()).unwrap().count(), 3, "no temporary files left");

    // A CSV: scored at once.
    let csv = dl.path().join("sample_submission.csv");
    let run = gaic(&app, c, &["submit", "digits", csv.to_str().unwrap(), "-m", "zeros", "--wait"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Scored: public 0."), "{}", run.stdout);
    // To the board's decimals (digits shows 4).
    let score = run.stdout.split("Scored: public ").nth(1).and_then(|r| r.split([',', ' ', '\n']).next()).unwrap();
    assert_eq!(score.split('.').nth(1).map(str::len), Some(4), "{}", run.stdout);
    // A bad CSV: exit 1 with every problem, nothing stored.
    let bad = dl.path().join("bad.csv");
    std::fs::write(&bad, "id,label\n1,2\n").unwrap();
    let run = gaic(&app, c, &["submit", "digits", bad.to_str().unwrap()], "").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("missing 539 ids") && run.stderr.contains("nothing was stored"), "{}", run.stderr);
    // A model, followed to its score.
    let model = dl.path().join("m.wasm");
    std::fs::write(&model, crate::models::example("digits_mlp")).unwrap();
    let run = gaic(&app, c, &["submit", "digits", model.to_str().unwrap(), "--wait", "--json"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let done = run.json();
    assert_eq!(done["status"], "scored");
    assert!(done["public_score"].as_f64().unwrap() > 0.9);

    let subs = gaic(&app, c, &["submissions", "digits", "--json"], "").await.json();
    assert_eq!(subs["total"], 2, "the bad file did not count");
    let id = done["id"].as_i64().unwrap().to_string();
    assert_eq!(gaic(&app, c, &["select", "digits", &id], "").await.code, 0);
    let subs = gaic(&app, c, &["submissions", "digits", "--json"], "").await.json();
    assert!(
        subs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"].as_i64() == done["id"].as_i64() && s["selected"] == true)
    );
    assert_eq!(gaic(&app, c, &["unselect", "digits", &id], "").await.code, 0);

    let board = gaic(&app, c, &["leaderboard", "digits", "--json"], "").await.json();
    assert_eq!(board["entries"][0]["members"][0], "ana");
    let csv_board = gaic(&app, c, &["leaderboard", "digits", "--csv"], "").await;
    assert!(csv_board.stdout.starts_with("rank,"), "{}", csv_board.stdout);
    let private = gaic(&app, c, &["leaderboard", "digits", "--board", "private"], "").await;
    assert_eq!(private.code, 1);
    assert!(private.stderr.contains("revealed when the task closes"), "{}", private.stderr);

    // Teams from the terminal.
    app.competitor("ben").await;
    let run = gaic(&app, c, &["team", "invite", "digits", "ben"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let team = gaic(&app, c, &["team", "show", "digits", "--json"], "").await.json();
    assert_eq!(team["pending_invites"][0]["username"], "ben");

    // Logging out revokes the token: it no longer works, with a hint.
    assert_eq!(gaic(&app, c, &["logout"], "").await.code, 0);
    let run = gaic(&app, c, &["whoami"], "").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("gaic login"), "{}", run.stderr);
}

#[tokio::test]
async fn a_failed_model_exits_2_a_late_submission_says_so_and_bad_tokens_get_a_hint() {
    let app = TestApp::spawn().await;
    app.competitor("ana").await;
    let cfg = tempfile::tempdir().unwrap();
    let c = cfg.path();
    assert_eq!(login(&app, c, "ana", PASSWORD).await.code, 0);
    let dir = tempfile::tempdir().unwrap();
    let spin = dir.path().join("spin.wasm");
    std::fs::write(&spin, spin_model()).unwrap();
    let run = gaic(&app, c, &["submit", "diabetes", spin.to_str().unwrap(), "--wait"], "").await;
    assert_eq!(run.code, 2, "{} {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Failed (out_of_fuel)") || run.stdout.contains("Failed (timeout)"), "{}", run.stdout);

    let admin = app.admin().await;
    assert_eq!(admin.post_empty("/api/v1/tasks/diabetes/close").await.status(), 200);
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, csv_of("id,progression", hidden_labels("diabetes"))).unwrap();
    let run = gaic(&app, c, &["submit", "diabetes", csv.to_str().unwrap(), "--wait"], "").await;
    // After the close a submission is scored but late (never ranked), as on Kaggle.
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("late: made after the close"), "{}", run.stdout);
    // A bad or revoked token: a clear message and a hint, exit 1.
    let run = gaic(&app, c, &["whoami", "--token", "gaic_not_a_token"], "").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("hint: your token is missing, revoked or expired"), "{}", run.stderr);
}

#[tokio::test]
async fn organizers_create_publish_rescore_and_close_and_recruiters_search() {
    let app = TestApp::spawn().await;
    app.organizer("olga").await;
    let cfg = tempfile::tempdir().unwrap();
    let c = cfg.path();
    assert_eq!(login(&app, c, "olga", PASSWORD).await.code, 0);

    let dir = copy_demo("diabetes");
    edit_toml(dir.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"diab2\"").replace("name = \"rmse\"", "name = \"rmsx\"")
    });
    let bundle = dir.path().to_str().unwrap();
    let run = gaic(&app, c, &["tasks", "create", bundle], "").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("task.toml metric.name") && run.stderr.contains("rmsx"), "{}", run.stderr);
    edit_toml(dir.path(), |t| t.replace("name = \"rmsx\"", "name = \"rmse\""));
    let created = gaic(&app, c, &["tasks", "create", bundle, "--json"], "").await;
    assert_eq!(created.json()["slug"], "diab2", "{}", created.stderr);
    assert_eq!(gaic(&app, c, &["tasks", "publish", "diab2"], "").await.code, 0);
    assert_eq!(app.anon().get("/api/v1/tasks/diab2").await.status(), 200);

    // Two competitors; rescoring with shifted labels swaps them.
    let labels = hidden_labels("diabetes");
    let shifted: Vec<(String, String)> =
        labels.iter().map(|(id, y)| (id.clone(), (y.parse::<f64>().unwrap() + 30.0).to_string())).collect();
    let ann = app.competitor("ann").await;
    ann.submit_ok("diab2", csv_of("id,progression", labels.clone())).await;
    let bob = app.competitor("bob").await;
    bob.submit_ok("diab2", csv_of("id,progression", shifted.clone())).await;
    let fixed = cfg.path().join("fixed.csv");
    std::fs::write(&fixed, csv_of("id,progression", shifted)).unwrap();
    let preview =
        gaic(&app, c, &["tasks", "rescore", "diab2", "--labels", fixed.to_str().unwrap(), "--json"], "").await;
    let p = preview.json();
    assert_eq!(p["applied"], false);
    assert!(p["changes"].as_array().unwrap().iter().any(|ch| ch["changed"] == true));
    let human = gaic(&app, c, &["tasks", "rescore", "diab2", "--labels", fixed.to_str().unwrap()], "").await;
    assert!(human.stdout.contains("Preview only") && human.stdout.contains("1 → 2"), "{}", human.stdout);
    let applied =
        gaic(&app, c, &["tasks", "rescore", "diab2", "--labels", fixed.to_str().unwrap(), "--apply"], "").await;
    assert!(applied.stdout.contains("Applied"), "{}", applied.stderr);
    let q = gaic(&app, c, &["queue", "diab2", "--json"], "").await.json();
    assert_eq!(q["queued"], 0);
    assert_eq!(gaic(&app, c, &["tasks", "close", "diab2"], "").await.code, 0);
    let board = gaic(&app, c, &["leaderboard", "diab2", "--board", "private", "--json"], "").await.json();
    assert_eq!(board["entries"][0]["members"][0], "bob");

    // A recruiter finds only the one who consented.
    bob.put("/api/v1/me/consents/recruiters").await;
    let admin_cfg = tempfile::tempdir().unwrap();
    assert_eq!(login(&app, admin_cfg.path(), "admin", ADMIN_PASSWORD).await.code, 0);
    app.competitor("rita").await;
    let grant = gaic(&app, admin_cfg.path(), &["admin", "grant", "rita", "recruiter"], "").await;
    assert!(grant.stdout.contains("recruiter"), "{}", grant.stderr);
    let wt = gaic(&app, admin_cfg.path(), &["admin", "worker-token", "create", "gpu-01"], "").await;
    assert!(wt.stdout.contains("gaicw_") || wt.stdout.contains("shown once"), "{}", wt.stdout);
    let rita = tempfile::tempdir().unwrap();
    assert_eq!(login(&app, rita.path(), "rita", PASSWORD).await.code, 0);
    let found = gaic(&app, rita.path(), &["talent", "search", "--task", "diab2", "--json"], "").await.json();
    let names: Vec<&str> =
        found["people"].as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["bob"]);
    let show = gaic(&app, rita.path(), &["talent", "show", "bob"], "").await;
    assert!(show.stdout.contains("diab2 1/2"), "{}", show.stdout);
    let hidden = gaic(&app, rita.path(), &["talent", "show", "ann"], "").await;
    assert_eq!(hidden.code, 1, "ann did not consent");

    // Shortlist, export and a contact request from the terminal.
    let r = rita.path();
    assert!(
        gaic(&app, r, &["talent", "shortlist", "create", "Regression"], "")
            .await
            .stdout
            .contains("Shortlist 1 created")
    );
    assert_eq!(
        gaic(&app, r, &["talent", "shortlist", "add", "1", "bob", "--note", "rescore winner"], "").await.code,
        0
    );
    let csv = gaic(&app, r, &["talent", "shortlist", "show", "1", "--csv"], "").await;
    assert!(csv.stdout.starts_with("username,") && csv.stdout.contains("rescore winner"), "{}", csv.stdout);
    let asked = gaic(&app, r, &["talent", "contact", "bob", "--organisation", "Acme", "--message", "Hi"], "").await;
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    let reqs = bob.get_json("/api/v1/contact-requests").await;
    let id = reqs[0]["id"].as_i64().unwrap();
    assert_eq!(bob.post_empty(&format!("/api/v1/contact-requests/{id}/accept")).await.status(), 204);
    let sent = gaic(&app, r, &["talent", "requests", "--json"], "").await.json();
    assert_eq!(sent[0]["email"], "bob@example.org");
}

#[tokio::test]
async fn a_retried_upload_with_the_same_idempotency_key_counts_once() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let csv = std::fs::read(crate::helpers::tasks_dir().join("digits/public/sample_submission.csv")).unwrap();
    let post = || {
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(csv.clone()).file_name("p.csv"));
        reqwest::Client::new()
            .post(app.url("/api/v1/tasks/digits/submissions"))
            .bearer_auth(ann.token.clone().unwrap())
            .header("Idempotency-Key", "retry-1")
            .multipart(form)
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = post().await.unwrap();
    assert_eq!(again.status(), 200, "already stored");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["submission"]["id"], again["submission"]["id"]);
    assert_eq!(again["quota"]["used_today"], 1, "counted once");
}

#[tokio::test]
async fn a_result_credential_verifies_offline_and_a_tampered_one_fails() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let sub = ann.submit_ok("diabetes", csv_of("id,progression", hidden_labels("diabetes"))).await;
    assert!(ann.get_json("/api/v1/me/credentials").await.as_array().unwrap().is_empty(), "none before the close");
    assert_eq!(app.admin().await.post_empty("/api/v1/tasks/diabetes/close").await.status(), 200);

    let cfg = tempfile::tempdir().unwrap();
    let c = cfg.path();
    assert_eq!(login(&app, c, "ann", PASSWORD).await.code, 0);
    let out = tempfile::tempdir().unwrap();
    let run = gaic(&app, c, &["credentials", "--out", out.path().to_str().unwrap()], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = out.path().join("ann-diabetes.json");
    let cred: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(cred["credential"]["rank"], 1);
    assert_eq!(cred["credential"]["of"], 1);
    assert_eq!(cred["credential"]["metric"], "rmse");
    let blob = app.state.db.pool.clone();
    let hash: String = sqlx::query_scalar("SELECT blob_hash FROM submissions WHERE submission_id = $1")
        .bind(sub["submission"]["id"].as_i64().unwrap())
        .fetch_one(&blob)
        .await
        .unwrap();
    assert_eq!(cred["credential"]["submission_sha256"], hash);

    // Offline, with the key from the well-known URL.
    let key: Value = app.anon().get_json("/.well-known/gaic-credential-key").await;
    let key = key["public_key"].as_str().unwrap().to_owned();
    let nowhere = tempfile::tempdir().unwrap();
    let offline = |args: Vec<String>| async {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gaic"))
            .args(args)
            .env("XDG_CONFIG_HOME", nowhere.path())
            .env_remove("GAIC_SERVER")
            .output()
            .await
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let path = file.to_str().unwrap().to_owned();
    let (code, stdout) = offline(vec!["verify".into(), path.clone(), "--public-key".into(), key.clone()]).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.starts_with("valid") && stdout.contains("ranked 1 of 1 in diabetes"), "{stdout}");

    // Change one field: no longer valid.
    let tampered = out.path().join("tampered.json");
    std::fs::write(&tampered, std::fs::read_to_string(&file).unwrap().replace("\"rank\": 1", "\"rank\": 2")).unwrap();
    let (code, stdout) =
        offline(vec!["verify".into(), tampered.to_str().unwrap().into(), "--public-key".into(), key]).await;
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("NOT valid"), "{stdout}");
    // Online: the key fetched from the server.
    let run = gaic(&app, c, &["verify", &path], "").await;
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
}
