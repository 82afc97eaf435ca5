//! The real `gaic serve` binary, as a new user runs it: first start creates
//! and prints the admin password and imports the demo tasks; SIGTERM stops it
//! cleanly; a second start on the same data folder keeps everything.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub base: String,
    pub lines: Vec<String>,
}

pub fn start(data_dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gaic"));
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--tasks-dir")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tasks"))
        .env_remove("GAIC_ADMIN_PASSWORD")
        .env_remove("GAIC_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("gaic starts");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "gaic exited early: {lines:?}");
        let done = line.starts_with("gaic is running at ");
        lines.push(line);
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "gaic did not start: {lines:?}");
    }
    let last = lines.last().unwrap();
    let base = last.trim_start_matches("gaic is running at ").split('/').take(3).collect::<Vec<_>>().join("/");
    Server { child, base, lines }
}

pub fn stop(mut server: Server) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "gaic exits 0 on SIGTERM, got {status}");
            return;
        }
        assert!(Instant::now() < deadline, "gaic did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn task_count(base: &str) -> i64 {
    let v: serde_json::Value = reqwest::get(format!("{base}/api/v1/tasks")).await.unwrap().json().await.unwrap();
    v["total"].as_i64().unwrap()
}

#[tokio::test]
async fn first_start_prints_the_admin_password_once_and_restarts_keep_the_store() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), &[]);
    let password = server
        .lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .expect("the generated admin password is printed")
        .to_owned();
    assert!(password.len() >= 20);
    assert_eq!(task_count(&server.base).await, 3);
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/tokens", server.base))
        .json(&serde_json::json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "the printed password works");
    stop(server);
    assert!(data.path().join("gaic.db").is_file());

    let again = start(data.path(), &[]);
    assert!(!again.lines.iter().any(|l| l.contains("password:")), "printed only on first start");
    assert_eq!(task_count(&again.base).await, 3, "tasks are not imported twice");
    stop(again);
}

#[tokio::test]
async fn the_admin_password_can_be_chosen_and_too_short_ones_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gaic"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("GAIC_ADMIN_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));

    let server = start(data.path(), &[("GAIC_ADMIN_PASSWORD", "chosen-admin-password")]);
    assert!(!server.lines.iter().any(|l| l.contains("password:")), "a chosen password is not printed");
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/tokens", server.base))
        .json(&serde_json::json!({ "username": "admin", "password": "chosen-admin-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    stop(server);
}

#[test]
fn help_documents_every_setting_with_its_environment_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_gaic")).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for (flag, env) in [
        ("--bind", "GAIC_BIND"),
        ("--data-dir", "GAIC_DATA_DIR"),
        ("--database-url", "GAIC_DATABASE_URL"),
        ("--tasks-dir", "GAIC_TASKS_DIR"),
        ("--admin-password", "GAIC_ADMIN_PASSWORD"),
        ("--max-upload-mib", "GAIC_MAX_UPLOAD_MIB"),
    ] {
        assert!(help.contains(flag) && help.contains(env), "{flag} / {env} missing from:\n{help}");
    }
}

/// Two replicas starting at the same moment on one empty database (each
/// with its own data folder) both come up: one admin account, each demo
/// task once, one credential key.
#[tokio::test]
async fn two_replicas_starting_together_on_an_empty_database_both_come_up() {
    let first = crate::helpers::TestApp::spawn().await;
    let database_url = match std::env::var("GAIC_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => crate::helpers::fresh_pg_database(&admin_url).await,
        // SQLite: a fresh file, migrated once first (several processes on one
        // SQLite file are not a supported deployment; the race tested is the
        // admin account and the demo import).
        _ => {
            let url = format!("sqlite:{}?mode=rwc", first.data_dir.path().join("shared.db").display());
            gaic::db::connect(&url).await.expect("migrates");
            url
        }
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = |dir: &std::path::Path| {
        let mut a = first.args.clone();
        a.data_dir = dir.to_owned();
        a.database_url = Some(database_url.clone());
        a.workers = Some(0);
        a
    };
    let (a, b) = (args(dir_a.path()), args(dir_b.path()));
    let (ra, rb) = tokio::join!(gaic::server::prepare(&a), gaic::server::prepare(&b));
    let (ra, rb) = (ra.expect("replica a starts"), rb.expect("replica b starts"));
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = 'admin'").fetch_one(&ra.db.pool).await.unwrap();
    assert_eq!(admins, 1);
    let tasks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks").fetch_one(&rb.db.pool).await.unwrap();
    assert_eq!(tasks, 3, "each demo task once");
    assert_eq!(ra.issuer.key_id, rb.issuer.key_id, "one credential key");
}

/// `gaic serve --database-url postgres://…/NAME`, exactly as the README
/// shows it, on a server where NAME does not exist yet: the first start
/// creates it; a role that may not create databases is told what to run.
#[tokio::test]
#[ignore = "needs PostgreSQL (GAIC_TEST_DATABASE_URL); scripts/test.sh runs it on its PostgreSQL pass"]
async fn a_missing_postgres_database_is_created_on_first_start() {
    use sqlx::Connection;
    let admin_url =
        std::env::var("GAIC_TEST_DATABASE_URL").expect("GAIC_TEST_DATABASE_URL names a PostgreSQL database");
    let name = format!("gaic_test_{:016x}", rand::random::<u64>());
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[("GAIC_DATABASE_URL", url.as_str())]);
    assert_eq!(task_count(&server.base).await, 3, "migrated and the demo tasks imported");
    stop(server);
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(exists);
    sqlx::query(&format!("DROP DATABASE \"{name}\"")).execute(&mut admin).await.unwrap();

    // A role without CREATEDB: a clear error naming the command, no panic.
    sqlx::query("DO $$ BEGIN CREATE ROLE gaic_test_no_createdb LOGIN NOCREATEDB; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        .execute(&mut admin)
        .await
        .unwrap();
    let mut limited = url.clone();
    limited.set_username("gaic_test_no_createdb").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gaic"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", limited.as_str()])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("GAIC_DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("database \"{name}\" does not exist")), "{stderr}");
    assert!(stderr.contains(&format!("createdb -h 127.0.0.1 -U <a role that may> {name}")), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
