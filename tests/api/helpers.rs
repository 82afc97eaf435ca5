//! `TestApp`: spawns the real server over a fresh store, and clients for it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gaic::server::ServeArgs;
use gaic::telemetry::LogFormat;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::OnceCell;

/// The bootstrap admin's password in tests.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// A running server over its own store.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The data folder, removed when the app is dropped.
    pub data_dir: tempfile::TempDir,
    /// The server's state, for driving the queue directly.
    pub state: gaic::state::AppState,
    /// The settings it was started with.
    pub args: ServeArgs,
    client: Client,
}

/// A digits submission right on the first `n` hidden rows and wrong (the
/// next digit) on the others.
pub fn digits_right_on(n: usize) -> String {
    csv_of(
        "id,label",
        hidden_labels("digits").into_iter().enumerate().map(|(i, (id, y))| {
            let wrong = ((y.parse::<u32>().unwrap() + 1) % 10).to_string();
            (id, if i < n { y } else { wrong })
        }),
    )
}

/// The repository's demo tasks folder.
pub fn tasks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks")
}

/// Drops the PostgreSQL databases earlier runs of this suite left behind,
/// once per process, before the first test creates its own.
async fn clean_old_pg_databases(admin_url: &str) {
    static ONCE: OnceCell<()> = OnceCell::const_new();
    ONCE.get_or_init(|| async {
        let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("GAIC_TEST_DATABASE_URL must be reachable");
        let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'gaic_test_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for name in names {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await;
        }
    })
    .await;
}

/// A fresh PostgreSQL database for one test; its URL.
pub async fn fresh_pg_database(admin_url: &str) -> String {
    clean_old_pg_databases(admin_url).await;
    let name = format!("gaic_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestApp {
    /// Starts a server with the demo tasks imported.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server after `tweak` adjusts its settings.
    pub async fn spawn_with(tweak: impl FnOnce(&mut ServeArgs)) -> Self {
        capture_logs();
        let data_dir = tempfile::tempdir().unwrap();
        let database_url = match std::env::var("GAIC_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => Some(fresh_pg_database(&admin_url).await),
            _ => None,
        };
        let mut args = ServeArgs {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: data_dir.path().to_owned(),
            database_url,
            tasks_dir: tasks_dir(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            max_upload_mib: 4,
            workers: Some(2),
            device: gaic_sandbox::DeviceChoice::Auto,
            lease_secs: 30,
            max_attempts: 3,
            team_running_cap: 2,
            child_program: Some(env!("CARGO_BIN_EXE_gaic").into()),
            test_abort_on_log: None,
            log_format: LogFormat::Text,
            // The suite sends from one address what many clients would:
            // no quotas, except where a test sets them.
            limits: gaic::server::LimitArgs::unlimited(),
            store: Default::default(),
            public_url: None,
        };
        tweak(&mut args);
        if args.database_url.is_none() {
            args.database_url = Some(args.database_url());
        }
        let state = gaic::server::prepare(&args).await.expect("server prepares");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let router = gaic::server::app(state.clone());
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
        Self { base: format!("http://{addr}"), data_dir, state, args, client: Client::new() }
    }

    /// A second server over the same database and data folder (a replica).
    pub async fn replica(&self, tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
        let (url, dir) = (self.args.database_url.clone(), self.args.data_dir.clone());
        Self::spawn_with(|a| {
            a.database_url = url;
            a.data_dir = dir;
            tweak(a);
        })
        .await
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An anonymous client.
    pub fn anon(&self) -> User {
        User { base: self.base.clone(), client: self.client.clone(), token: None }
    }

    /// Registers `username` (country KR) and returns the raw response.
    pub async fn register(&self, body: Value) -> Response {
        self.client.post(self.url("/api/v1/users")).json(&body).send().await.unwrap()
    }

    /// Logs in with a password and returns a client holding an API token.
    pub async fn login(&self, username: &str, password: &str) -> User {
        let res = self
            .client
            .post(self.url("/api/v1/tokens"))
            .json(&json!({ "username": username, "password": password, "name": "tests" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "login of {username}");
        let body: Value = res.json().await.unwrap();
        User {
            base: self.base.clone(),
            client: self.client.clone(),
            token: Some(body["token"].as_str().unwrap().to_owned()),
        }
    }

    /// The bootstrap admin.
    pub async fn admin(&self) -> User {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// A new competitor.
    pub async fn competitor(&self, username: &str) -> User {
        let res = self
            .register(json!({
                "username": username, "email": format!("{username}@example.org"),
                "password": PASSWORD, "country": "KR", "display_name": username.to_uppercase(),
                "age_14_or_older": true,
            }))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
        self.login(username, PASSWORD).await
    }

    /// A new user with the organizer role.
    pub async fn organizer(&self, username: &str) -> User {
        let user = self.competitor(username).await;
        let res = self.admin().await.put(&format!("/api/v1/users/{username}/roles/organizer")).await;
        assert_eq!(res.status(), StatusCode::OK);
        user
    }
}

/// A client acting as one user (or anonymous).
#[derive(Clone)]
pub struct User {
    base: String,
    client: Client,
    /// The API token, if logged in.
    pub token: Option<String>,
}

impl User {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Response {
        self.req(reqwest::Method::GET, path).send().await.unwrap()
    }

    /// PUT without a body.
    pub async fn put(&self, path: &str) -> Response {
        self.req(reqwest::Method::PUT, path).send().await.unwrap()
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Response {
        self.req(reqwest::Method::DELETE, path).send().await.unwrap()
    }

    /// POST JSON.
    /// DELETE with a JSON body.
    pub async fn delete_json(&self, path: &str, body: &Value) -> Response {
        self.req(reqwest::Method::DELETE, path).json(body).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.req(reqwest::Method::POST, path).json(body).send().await.unwrap()
    }

    /// PATCH JSON.
    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.req(reqwest::Method::PATCH, path).json(body).send().await.unwrap()
    }

    /// Uploads a submission file to a task.
    pub async fn submit(&self, slug: &str, bytes: impl Into<Vec<u8>>) -> Response {
        self.submit_with(slug, bytes, "").await
    }

    /// Uploads a submission file with a message.
    pub async fn submit_with(&self, slug: &str, bytes: impl Into<Vec<u8>>, message: &str) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes.into()).file_name("submission.csv");
        let form = reqwest::multipart::Form::new().part("file", part).text("message", message.to_owned());
        self.req(reqwest::Method::POST, &format!("/api/v1/tasks/{slug}/submissions"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a submission that must be accepted; its JSON.
    pub async fn submit_ok(&self, slug: &str, bytes: impl Into<Vec<u8>>) -> Value {
        let res = self.submit(slug, bytes).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// POSTs a multipart form of (name, bytes) parts.
    pub async fn post_form(&self, path: &str, parts: Vec<(&str, Vec<u8>)>) -> Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in parts {
            form = form.part(name.to_owned(), reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
        }
        self.req(reqwest::Method::POST, path).multipart(form).send().await.unwrap()
    }

    /// POSTs with no body.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.req(reqwest::Method::POST, path).send().await.unwrap()
    }

    /// PUTs JSON.
    pub async fn put_json(&self, path: &str, body: &Value) -> Response {
        self.req(reqwest::Method::PUT, path).json(body).send().await.unwrap()
    }

    /// Uploads a task bundle (bytes of a .tar.gz).
    pub async fn upload_bundle(&self, bytes: Vec<u8>) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("bundle.tar.gz");
        let form = reqwest::multipart::Form::new().part("bundle", part);
        self.req(reqwest::Method::POST, "/api/v1/tasks").multipart(form).send().await.unwrap()
    }

    /// GET, asserting 200, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }
}

/// Asserts a JSON error response: status, code, and that the message contains `needle`.
pub async fn assert_error(res: Response, status: u16, code: &str, needle: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    assert!(
        res.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"),
        "errors are JSON"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message:?} should contain {needle:?}");
    body
}

/// A model that spins in `gaic_predict` until its fuel runs out (about a
/// second at the demo tasks' budgets).
pub const SPIN_WAT: &str = r#"(module (memory (export "memory") 2) (global $h (mut i32) (i32.const 1024))
    (func (export "gaic_abi_version") (result i32) i32.const 1)
    (func (export "gaic_alloc") (param $n i32) (result i32) global.get $h global.get $h local.get $n i32.add global.set $h)
    (func (export "gaic_predict") (param i32 i32 i32 i32 i32) (result i32) (loop $l br $l) i32.const 0))"#;

/// [`SPIN_WAT`] as a binary module.
pub fn spin_model() -> Vec<u8> {
    wat::parse_str(SPIN_WAT).unwrap()
}

/// Registers `username` on a server known only by its URL (a spawned
/// binary) and logs in.
pub async fn remote_user(base: &str, username: &str) -> User {
    let client = Client::new();
    let body = json!({ "username": username, "email": format!("{username}@example.org"), "password": PASSWORD, "country": "KR", "age_14_or_older": true });
    let res = client.post(format!("{base}/api/v1/users")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = client
        .post(format!("{base}/api/v1/tokens"))
        .json(&json!({ "username": username, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let token: Value = res.json().await.unwrap();
    User { base: base.to_owned(), client, token: Some(token["token"].as_str().unwrap().to_owned()) }
}

/// The admin on a server known only by its URL.
pub async fn remote_user_admin(base: &str) -> User {
    let client = Client::new();
    let res = client
        .post(format!("{base}/api/v1/tokens"))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    let token: Value = res.json().await.unwrap();
    User { base: base.to_owned(), client, token: Some(token["token"].as_str().unwrap().to_owned()) }
}

/// A client for a server known by URL, with an existing token.
pub fn remote_user_token(base: &str, token: String) -> User {
    User { base: base.to_owned(), client: Client::new(), token: Some(token) }
}

/// A demo task's hidden labels as (id, label) pairs.
pub fn hidden_labels(slug: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(tasks_dir().join(slug).join("hidden/test_labels.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (id, label) = l.split_once(',').unwrap();
            (id.to_owned(), label.to_owned())
        })
        .collect()
}

/// A CSV built from a header and (id, value) rows.
pub fn csv_of(header: &str, rows: impl IntoIterator<Item = (String, String)>) -> String {
    let mut out = format!("{header}\n");
    for (id, v) in rows {
        out += &format!("{id},{v}\n");
    }
    out
}

/// Everything the server in this test process has logged.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every log line of the servers in this process (once).
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug,hyper=info,reqwest=info,h2=info"))
            .with_writer(|| LogWriter)
            .with_ansi(false)
            .try_init();
    });
}

/// Copies a demo bundle into a temporary folder for editing.
pub fn copy_demo(slug: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&tasks_dir().join(slug), tmp.path());
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Rewrites `task.toml` of a bundle folder with `edit`.
pub fn edit_toml(dir: &Path, edit: impl FnOnce(String) -> String) {
    let path = dir.join("task.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(path, edit(text)).unwrap();
}
