//! Blobs in a real S3-compatible store: moto's standalone server, started
//! here on a free port (`pip install 'moto[server]'`; `scripts/test.sh`
//! installs it and runs these tests on both databases). Replicas with
//! separate data folders share one database and one bucket and nothing
//! else; a store that stops answering makes a replica unready and stores
//! nothing.
//!
//! Without `moto_server` these tests show as ignored, with the reason.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gaic::server::StoreArgs;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_error, csv_of, hidden_labels};
use crate::models::{example, wait_final};
use crate::remote::{start_worker_with, worker_token};

/// A moto S3 server for one test, killed when dropped.
pub struct S3Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl S3Server {
    /// Starts `moto_server` and waits until it answers.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server runs (pip install 'moto[server]')");
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while reqwest::get(format!("{endpoint}/")).await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, endpoint }
    }

    /// Creates a bucket.
    pub async fn bucket(&self, name: &str) {
        let res = reqwest::Client::new().put(format!("{}/{name}", self.endpoint)).send().await.unwrap();
        assert!(res.status().is_success(), "creating bucket {name}: {}", res.status());
    }

    /// Settings for a store in `bucket` under `prefix`.
    pub fn store(&self, bucket: &str, prefix: &str) -> StoreArgs {
        StoreArgs {
            blob_url: Some(format!("s3://{bucket}/{prefix}")),
            s3_endpoint: Some(self.endpoint.clone()),
            s3_region: Some("us-east-1".into()),
            s3_access_key_id: Some("testing".into()),
            s3_secret_access_key: Some("testing".into()),
            ..StoreArgs::default()
        }
    }

    /// The keys under `prefix` in `bucket`, read back with the S3 API.
    pub async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let body = reqwest::get(format!("{}/{bucket}?list-type=2&prefix={prefix}", self.endpoint))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        body.split("<Key>").skip(1).filter_map(|s| s.split("</Key>").next()).map(str::to_owned).collect()
    }

    /// Stops the server (the store stops answering).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn digits_csv() -> String {
    csv_of("id,label", hidden_labels("digits"))
}

fn files_under(dir: &std::path::Path) -> usize {
    walk(dir).filter(|p| p.components().any(|c| c.as_os_str() == "blobs")).count()
}

fn walk(dir: &std::path::Path) -> Box<dyn Iterator<Item = std::path::PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Box::new(std::iter::empty()) };
    Box::new(entries.flatten().flat_map(|e| {
        let p = e.path();
        if p.is_dir() { walk(&p) } else { Box::new(std::iter::once(p)) }
    }))
}

#[tokio::test]
#[ignore = "needs moto_server (pip install 'moto[server]'); scripts/test.sh runs it"]
async fn replicas_with_separate_data_folders_share_one_bucket_and_nothing_else() {
    let s3 = S3Server::start().await;
    s3.bucket("gaic").await;
    let store = s3.store("gaic", "replicas");
    let a = TestApp::spawn_with(|s| {
        s.workers = Some(0);
        s.store = store.clone();
    })
    .await;
    // A second server: same database, its own (empty) data folder, same bucket.
    let b_dir = tempfile::tempdir().unwrap();
    let b = a
        .replica(|s| {
            s.data_dir = b_dir.path().to_owned();
            s.store = store.clone();
        })
        .await;
    let ready: Value = a.anon().get_json("/readyz").await;
    assert_eq!(ready["blobs"], "s3", "{ready}");

    // The demo tasks were imported by `a`; `b` serves their files from the bucket.
    let task: Value = b.anon().get_json("/api/v1/tasks/digits").await;
    let url = task["files"][0]["url"].as_str().unwrap().to_owned();
    let res = b.anon().get(&url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.bytes().await.unwrap().is_empty());

    // A CSV through one replica, a model through the other, evaluated by a
    // remote worker that talks to `b` only (it holds no store credentials).
    let ann_a = a.competitor("ann").await;
    let ann_b = b.login("ann", crate::helpers::PASSWORD).await;
    let csv: Value = ann_a.submit_ok("digits", digits_csv()).await;
    assert_eq!(csv["submission"]["status"], "scored", "{csv}");
    let token = worker_token(&b, "remote-1").await;
    let cache = tempfile::tempdir().unwrap();
    let mut worker = start_worker_with(&b, &token, cache.path(), &[]);
    let model: Value = ann_b.submit("digits", example("digits_mlp")).await.json().await.unwrap();
    let id = model["submission"]["id"].as_i64().unwrap();
    let done = wait_final(&ann_a, id).await;
    worker.kill().ok();
    worker.wait().ok();
    assert_eq!(done["status"], "scored", "{done}");

    // Every blob is in the bucket under the prefix, none in either data folder.
    let keys = s3.keys("gaic", "replicas/").await;
    let hash = gaic::blobs::sha256_hex(&example("digits_mlp"));
    assert!(keys.iter().any(|k| k.ends_with(&hash)), "{keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("replicas/sha256/")), "{keys:?}");
    assert_eq!(files_under(a.data_dir.path()), 0);
    assert_eq!(files_under(b_dir.path()), 0);
}

#[tokio::test]
#[ignore = "needs moto_server (pip install 'moto[server]'); scripts/test.sh runs it"]
async fn a_large_upload_goes_to_the_bucket_in_parts_from_its_spool_file() {
    let s3 = S3Server::start().await;
    s3.bucket("gaic").await;
    let data = tempfile::tempdir().unwrap();
    let blobs = s3.store("gaic", "parts").open(data.path()).await.unwrap();
    // Three parts of 8 MiB and a short one, received 64 KiB at a time.
    let bytes: Vec<u8> = (0..(25 << 20) + 12_345).map(|i| (i % 251) as u8).collect();
    let mut spool = blobs.spool().await.unwrap();
    for chunk in bytes.chunks(64 << 10) {
        spool.write(chunk).await.unwrap();
    }
    let file = spool.finish().await.unwrap();
    let hash = blobs.put_spooled(&file).await.unwrap();
    assert_eq!(hash, gaic::blobs::sha256_hex(&bytes));
    assert!(blobs.get(&hash).await.unwrap() == bytes, "the blob reads back whole");
    // One object under its hash; the spool file goes with its last handle.
    assert_eq!(s3.keys("gaic", "parts/").await, [format!("parts/sha256/{}/{hash}", &hash[..2])]);
    drop(file);
    assert_eq!(files_under(data.path()), 0);
}

#[tokio::test]
#[ignore = "needs moto_server (pip install 'moto[server]'); scripts/test.sh runs it"]
async fn a_store_that_stops_answering_makes_the_replica_unready_and_stores_nothing() {
    let mut s3 = S3Server::start().await;
    s3.bucket("gaic").await;
    let store = s3.store("gaic", "outage");
    let app = TestApp::spawn_with(|s| {
        s.workers = Some(0);
        s.store = store.clone();
    })
    .await;
    let ann = app.competitor("ann").await;
    assert_eq!(ann.submit_ok("digits", digits_csv()).await["submission"]["status"], "scored");
    let queued: Value = ann.submit("digits", example("digits_mlp")).await.json().await.unwrap();
    let queued = queued["submission"]["id"].as_i64().unwrap();

    s3.stop();
    // A worker of this replica takes no job while the store is away: the
    // job stays queued with no attempt spent.
    let err = gaic::eval::runner::run_once(&app.state.queue, "w").await.unwrap_err();
    assert!(format!("{err:#}").contains("not taking jobs"), "{err:#}");
    let s: Value = ann.get_json(&format!("/api/v1/submissions/{queued}")).await;
    assert_eq!(s["status"], "queued", "{s}");
    let res = app.anon().get("/readyz").await;
    let body = assert_error(res, 503, "unavailable", "blob store").await;
    assert!(body["error"]["message"].as_str().is_some());
    // An upload is refused whole: a JSON 503, no row, no quota spent.
    let before: Value = ann.get_json("/api/v1/tasks/digits/submissions").await;
    let res = ann.submit("digits", example("digits_mlp")).await;
    assert_error(res, 503, "unavailable", "nothing was stored").await;
    let after: Value = ann.get_json("/api/v1/tasks/digits/submissions").await;
    assert_eq!(before, after);
    // A replica cannot start on a store that does not answer: a clear error.
    let err = gaic::server::prepare(&{
        let mut args = app.args.clone();
        args.data_dir = tempfile::tempdir().unwrap().keep();
        args.store = store;
        args
    })
    .await
    .expect_err("start-up fails");
    let text = format!("{err:#}");
    assert!(text.contains("blob store") && text.contains("--blob-url"), "{text}");
}

/// A `gaic serve` process of its own: its data folder, the shared database
/// and bucket; killed (SIGKILL) when dropped.
struct ServeProcess {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl ServeProcess {
    async fn start(database_url: &str, s3: &S3Server, prefix: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_gaic"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--workers", "0", "--lease-secs", "2"])
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--tasks-dir")
            .arg(crate::helpers::tasks_dir())
            .args(["--database-url", database_url, "--blob-url", &format!("s3://gaic/{prefix}")])
            .args(["--s3-endpoint", &s3.endpoint, "--s3-region", "us-east-1"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("GAIC_ADMIN_PASSWORD", crate::helpers::ADMIN_PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        loop {
            let ready = reqwest::get(format!("{base}/readyz")).await.is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "gaic serve did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, base, _dir: dir }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no graceful shutdown
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Two `gaic serve` processes with separate data folders on one database and
/// one bucket, a remote worker on each, and clients spreading their requests
/// over both: sessions, the login throttle, live events and boards behave as
/// on one server; one server is killed -9 mid-traffic and nothing is lost.
#[tokio::test]
#[ignore = "needs moto_server (pip install 'moto[server]'); scripts/test.sh runs it"]
async fn two_serve_processes_share_the_work_and_lose_nothing_when_one_is_killed() {
    let s3 = S3Server::start().await;
    s3.bucket("gaic").await;
    let db_dir = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("GAIC_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => crate::helpers::fresh_pg_database(&admin).await,
        _ => format!("sqlite:{}?mode=rwc", db_dir.path().join("gaic.db").display()),
    };
    let a = ServeProcess::start(&database_url, &s3, "pair").await;
    let mut b = ServeProcess::start(&database_url, &s3, "pair").await;
    let ua = crate::helpers::remote_user(&a.base, "ann").await;
    // A token made on one server works on the other.
    let ann_b = crate::helpers::remote_user_token(&b.base, ua.token.clone().unwrap());
    assert_eq!(ann_b.get_json("/api/v1/me").await["username"], "ann");

    // The login throttle counts failures made on either server.
    let client = reqwest::Client::new();
    for i in 0..10 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let res = client
            .post(format!("{base}/api/v1/tokens"))
            .json(&serde_json::json!({"username": "ann", "password": "wrong password!", "name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    for base in [&a.base, &b.base] {
        let res = client
            .post(format!("{base}/api/v1/tokens"))
            .json(&serde_json::json!({"username": "ann", "password": crate::helpers::PASSWORD, "name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "locked on both servers");
    }

    // Live events on `b` announce a submission made through `a`.
    let stream = client.get(format!("{}/api/v1/tasks/digits/events", b.base)).send().await.unwrap();
    let csv = digits_csv();
    let ua2 = crate::helpers::remote_user_token(&a.base, ua.token.clone().unwrap());
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        ua2.submit_ok("digits", csv).await;
    });
    let seen = crate::live::events(stream, 1).await;
    assert_eq!(seen[0]["scored_submissions"], 1, "{seen:?}");

    // Workers, one per server; models from four people through both servers.
    let caches: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut workers = Vec::new();
    for (server, cache) in [&a.base, &b.base].into_iter().zip(&caches) {
        let admin = crate::helpers::remote_user_admin(server).await;
        let token: Value = admin
            .post_json("/api/v1/admin/worker-tokens", &serde_json::json!({"name": server}))
            .await
            .json()
            .await
            .unwrap();
        workers.push(crate::remote::worker_process(server, token["token"].as_str().unwrap(), cache.path(), &[]));
    }
    let mut people = Vec::new();
    for name in ["ben", "cat", "dan", "eve"] {
        let on_a = crate::helpers::remote_user(&a.base, name).await;
        let on_b = crate::helpers::remote_user_token(&b.base, on_a.token.clone().unwrap());
        people.push((on_a, on_b));
    }
    let submit = |user: crate::helpers::User| async move {
        let res = user.submit("digits", example("digits_mlp")).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{}", res.text().await.unwrap());
        let body: Value = res.json().await.unwrap();
        body["submission"]["id"].as_i64().unwrap()
    };
    let mut ids = Vec::new();
    for (i, (on_a, on_b)) in people.iter().enumerate() {
        for _ in 0..2 {
            let user = if i % 2 == 0 { on_a } else { on_b };
            ids.push((i, submit(user.clone()).await));
        }
    }
    // Mid-traffic, with jobs queued and running: kill -9, no shutdown.
    drop(a);
    for (i, (_, on_b)) in people.iter().enumerate() {
        for _ in 0..2 {
            ids.push((i, submit(on_b.clone()).await));
        }
    }
    // Every submission ends scored: the jobs `a`'s worker held run again
    // elsewhere once their lease runs out.
    for &(i, id) in &ids {
        let s = wait_final(&people[i].1, id).await;
        assert_eq!(s["status"], "scored", "{s}");
    }
    let board: Value = people[0].1.get_json("/api/v1/tasks/digits/leaderboard").await;
    assert_eq!(board["total"], 5, "{board}");
    let admin = crate::helpers::remote_user_admin(&b.base).await;
    let q: Value = admin.get_json("/api/v1/tasks/digits/queue").await;
    assert_eq!((q["queued"].as_u64(), q["running"].as_u64()), (Some(0), Some(0)), "{q}");
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
    b.kill();
}
