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

    s3.stop();
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
