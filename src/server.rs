//! `gaic serve`: settings, start-up (store, migrations, bootstrap admin,
//! demo task import) and the HTTP server with graceful shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::blobs::{BlobLocation, Blobs, S3Options};
use crate::db::{self, users};
use crate::limits::{LimitSettings, RateSetting};
use crate::state::{AppState, Platform, Settings};
use crate::telemetry::LogFormat;

/// Settings of `gaic serve`; every one is also an environment variable.
#[derive(Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "GAIC_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Folder for the SQLite file, blobs and temporary files.
    #[arg(long, env = "GAIC_DATA_DIR", default_value = "./gaic-data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST/DB`
    /// [default: an SQLite file gaic.db inside --data-dir].
    #[arg(long, env = "GAIC_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where blobs (submissions, task files, predictions) are stored.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The URL people reach this platform at (behind a proxy: the proxy's);
    /// result credentials name it as their issuer
    /// [default: http://localhost:PORT of --bind].
    #[arg(long, env = "GAIC_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Folder of task bundles imported when the store has no tasks yet.
    #[arg(long, env = "GAIC_TASKS_DIR", default_value = "./tasks")]
    pub tasks_dir: PathBuf,
    /// Password of the `admin` account created on first start
    /// [default: generated and printed once].
    #[arg(long, env = "GAIC_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Largest upload accepted (task bundles, submissions), in MiB.
    #[arg(long, env = "GAIC_MAX_UPLOAD_MIB", default_value_t = 256)]
    pub max_upload_mib: usize,
    /// Local evaluation workers: each runs one model at a time in its own
    /// evaluator child process (never in the server's); 0 leaves the queue
    /// to remote workers [default: the number of CPU cores].
    #[arg(long, env = "GAIC_WORKERS")]
    pub workers: Option<u32>,
    /// Seconds a worker's lease on a job lasts without a heartbeat; a worker
    /// silent for longer loses the job, which runs again.
    #[arg(long, env = "GAIC_LEASE_SECS", default_value_t = 30)]
    pub lease_secs: u64,
    /// Attempts before a job failing for platform reasons ends as
    /// platform_error (and is refunded).
    #[arg(long, env = "GAIC_MAX_ATTEMPTS", default_value_t = 3)]
    pub max_attempts: u32,
    /// Jobs one team may have running at once (fair share).
    #[arg(long, env = "GAIC_TEAM_RUNNING_CAP", default_value_t = 2)]
    pub team_running_cap: u32,
    /// Device for the models' host tensor ops: auto (CUDA when a GPU is
    /// found, else the CPU), cpu or cuda.
    #[arg(long, env = "GAIC_DEVICE", default_value = "auto")]
    pub device: gaic_sandbox::DeviceChoice,
    /// The gaic program started as the evaluator processes that run (and,
    /// in limited children of their own, compile) models [default: this
    /// binary].
    #[arg(long, env = "GAIC_CHILD_PROGRAM", hide = true)]
    pub child_program: Option<PathBuf>,
    /// Test hook: an evaluator process aborts when a model's log contains
    /// this text (to test crash handling end to end).
    #[arg(long, env = "GAIC_TEST_ABORT_ON_LOG", hide = true)]
    pub test_abort_on_log: Option<String>,
    /// Log format on stderr.
    #[arg(long, env = "GAIC_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Rate limits and caps on what one client may start.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Rate limits, stream caps and how a client's address is known.
#[derive(Clone, Debug, clap::Args)]
pub struct LimitArgs {
    /// Take each client's address from the last `X-Forwarded-For` entry:
    /// set this only behind a reverse proxy that appends it, or clients
    /// choose their own address [default: the connection's peer address].
    #[arg(long, env = "GAIC_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// A rate limit per client address and per account, as CLASS=N/PERIOD
    /// (e.g. login=30/1m; period units s, m, h, d) or CLASS=off; repeat the
    /// flag, or separate with commas in the variable. Classes and defaults:
    /// signup=30/15m, login=30/1m, token=20/10m, upload=60/1m, events=60/1m.
    #[arg(long = "rate-limit", env = "GAIC_RATE_LIMITS", value_delimiter = ',')]
    pub rate_limits: Vec<RateSetting>,
    /// Live event streams open at once, in total.
    #[arg(long, env = "GAIC_MAX_STREAMS", default_value_t = LimitSettings::default().streams)]
    pub max_streams: usize,
    /// Live event streams open at once per account (or per address, for
    /// anonymous viewers).
    #[arg(long, env = "GAIC_MAX_STREAMS_PER_VIEWER", default_value_t = LimitSettings::default().streams_per_viewer)]
    pub max_streams_per_viewer: usize,
}

impl Default for LimitArgs {
    fn default() -> Self {
        let d = LimitSettings::default();
        Self {
            trust_forwarded_for: false,
            rate_limits: d.rates,
            max_streams: d.streams,
            max_streams_per_viewer: d.streams_per_viewer,
        }
    }
}

impl LimitArgs {
    /// No quota at all (the stream caps stay): for benches and tests that
    /// send from one address what many clients would.
    pub fn unlimited() -> Self {
        let off = crate::limits::Class::ALL.iter().map(|c| RateSetting { class: *c, rate: crate::limits::Rate::Off });
        Self { rate_limits: off.collect(), ..Self::default() }
    }

    fn settings(&self) -> LimitSettings {
        LimitSettings {
            rates: self.rate_limits.clone(),
            streams: self.max_streams,
            streams_per_viewer: self.max_streams_per_viewer,
        }
    }
}

/// The blob store's settings.
#[derive(Clone, Default, clap::Args)]
pub struct StoreArgs {
    /// Blob store: `s3://BUCKET/PREFIX` for an S3-compatible store, or a
    /// folder [default: the folder blobs/ inside --data-dir]. Replicas of one
    /// platform share one store.
    #[arg(long, env = "GAIC_BLOB_URL")]
    pub blob_url: Option<String>,
    /// S3 endpoint, for a store other than AWS (e.g. `http://minio:9000`).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub s3_endpoint: Option<String>,
    /// S3 region.
    #[arg(long, env = "AWS_REGION")]
    pub s3_region: Option<String>,
    /// S3 access key id (better given as the variable than as a flag,
    /// which other users of the machine can read).
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key (give it as the variable).
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// The most MiB that uploads being received may hold at once in the
    /// data folder's spool/ (each upload is written there as it arrives);
    /// past it, an upload is refused with a 503 to retry, so hostile or
    /// simultaneous uploads cannot fill the disk [default: 4096].
    #[arg(long, env = "GAIC_MAX_SPOOL_MIB")]
    pub max_spool_mib: Option<u64>,
}

/// The default of `--max-spool-mib`.
const DEFAULT_MAX_SPOOL_MIB: u64 = 4096;

impl StoreArgs {
    /// Opens the store these settings name (the data folder's blobs/ by
    /// default), receiving uploads in the data folder's spool/, and checks
    /// that the store answers.
    pub async fn open(&self, data_dir: &std::path::Path) -> anyhow::Result<Blobs> {
        let location = match &self.blob_url {
            Some(url) => BlobLocation::parse(url)?,
            None => BlobLocation::Local(data_dir.join("blobs")),
        };
        let options = S3Options {
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
        };
        // Uploads are received into files under the data folder, never
        // whole in memory.
        let spool_bytes = self.max_spool_mib.unwrap_or(DEFAULT_MAX_SPOOL_MIB).saturating_mul(1 << 20);
        let blobs = Blobs::open(&location, &options)?.with_spool(&data_dir.join("spool"), spool_bytes)?;
        blobs.check().await.context("the blob store must answer before the server starts (check --blob-url, --s3-endpoint and the AWS_* credentials)")?;
        Ok(blobs)
    }
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(db::redact_url))
            .field("blob_url", &self.store.blob_url)
            .field("s3_endpoint", &self.store.s3_endpoint)
            .field("max_spool_mib", &self.store.max_spool_mib)
            .field("public_url", &self.public_url)
            .field("tasks_dir", &self.tasks_dir)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "***"))
            .field("max_upload_mib", &self.max_upload_mib)
            .field("workers", &self.workers)
            .field("device", &self.device)
            .field("lease_secs", &self.lease_secs)
            .field("max_attempts", &self.max_attempts)
            .field("team_running_cap", &self.team_running_cap)
            .field("child_program", &self.child_program)
            .field("log_format", &self.log_format)
            .field("limits", &self.limits)
            .finish()
    }
}

impl ServeArgs {
    /// The public URL, defaulting to `http://localhost:PORT`.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://localhost:{}", self.bind.port()),
        }
    }

    /// The database URL, defaulting to `gaic.db` in the data folder.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}?mode=rwc", self.data_dir.join("gaic.db").display()))
    }
}

/// Opens the store, ensures the admin account, imports the demo tasks into an
/// empty store, and returns the ready state. Shared by `serve` and the tests.
pub async fn prepare(args: &ServeArgs) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let db = db::connect(&args.database_url()).await?;
    let blobs = args.store.open(&args.data_dir).await?;
    tracing::info!(blobs = %blobs.location(), "blob store ready");
    let settings = Settings {
        data_dir: args.data_dir.clone(),
        max_upload_bytes: args.max_upload_mib << 20,
        https: args.public_url().starts_with("https://"),
        trust_forwarded_for: args.limits.trust_forwarded_for,
        limits: args.limits.settings(),
    };
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as u32));
    let sandbox = crate::eval::runner::upload_checker()?;
    let program = match args.child_program.clone() {
        Some(p) => p,
        None => std::env::current_exe().context("locating this program to start evaluators")?,
    };
    let evaluators = crate::eval::child::EvaluatorPool::new(crate::eval::child::EvaluatorSpec {
        program,
        device: args.device,
        cache_dir: args.data_dir.join("compiled"),
        abort_on_log: args.test_abort_on_log.clone(),
    });
    let issuer = crate::credentials::load_issuer(&db.pool, &args.data_dir, args.public_url())
        .await
        .context("loading the credential signing key")?;
    let platform = Platform::new(db, blobs, settings, sandbox, issuer);
    // The device this server's evaluators will use, probed once: with a
    // CUDA device they also take the jobs of tasks that need one.
    let gpu = match args.device {
        _ if args.workers == Some(0) => false,
        gaic_sandbox::DeviceChoice::Cpu => false,
        choice => match gaic_sandbox::tensor::select(choice) {
            Ok((_, d)) => {
                tracing::info!(device = %d.name, reason = %d.reason, "device of this server's evaluators");
                d.is_cuda()
            }
            Err(why) => {
                tracing::warn!(%why, "no CUDA device for this server's evaluators");
                false
            }
        },
    };
    let config = crate::eval::runner::QueueSettings {
        lease_ms: (args.lease_secs.max(1) * 1000) as i64,
        max_attempts: i64::from(args.max_attempts.max(1)),
        team_cap: i64::from(args.team_running_cap.max(1)),
        gpu,
    };
    let state = AppState::new(crate::eval::runner::Queue::new(platform, config, evaluators));
    let admin_id = ensure_admin(&state, args.admin_password.as_deref()).await?;
    let imported = crate::tasks::import_dir_if_empty(&state, &args.tasks_dir, admin_id).await?;
    if imported > 0 {
        tracing::info!(imported, dir = %args.tasks_dir.display(), "imported task bundles");
    }
    crate::eval::runner::start_workers(&state.queue, workers);
    let limits = state.limits.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            limits.forget_idle();
        }
    });
    Ok(state)
}

/// Creates the `admin` account on first start; returns its id.
async fn ensure_admin(state: &AppState, password: Option<&str>) -> anyhow::Result<i64> {
    if let Some(existing) = users::by_username(&state.db.pool, "admin").await? {
        return Ok(existing.user_id);
    }
    let (password, generated) = match password {
        Some(p) if p.chars().count() >= crate::accounts::MIN_PASSWORD => (p.to_owned(), false),
        Some(_) => anyhow::bail!("GAIC_ADMIN_PASSWORD must be at least {} characters", crate::accounts::MIN_PASSWORD),
        None => (crate::auth::random_password(), true),
    };
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || crate::auth::hash_password(&password)).await??
    };
    let now = db::now_ms();
    let new = users::NewUser {
        username: "admin",
        email: "admin@localhost.localdomain",
        password_hash: &hash,
        display_name: "Administrator",
        country: "KR",
    };
    let user_id = match users::insert(&state.db.pool, &new, now).await {
        Ok(id) => id,
        // Another replica starting on the same database made it first.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            let existing = users::by_username(&state.db.pool, "admin").await?;
            return existing.map(|u| u.user_id).context("the admin account vanished while being created");
        }
        Err(e) => return Err(e.into()),
    };
    users::grant_role(&state.db.pool, user_id, "admin", None, now).await?;
    users::grant_role(&state.db.pool, user_id, "organizer", None, now).await?;
    if generated {
        // Printed once, to the terminal only: never logged.
        println!(
            "\n  Created the admin account.\n  username: admin\n  password: {password}\n  (shown once; set GAIC_ADMIN_PASSWORD to choose it)\n"
        );
    }
    Ok(user_id)
}

/// Runs the server until SIGINT or SIGTERM, then drains in-flight requests.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    crate::telemetry::init_logging(args.log_format);
    tracing::info!(?args, "starting gaic");
    let state = prepare(&args).await?;
    let listener = TcpListener::bind(args.bind).await.with_context(|| format!("binding {}", args.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(database = ?state.db.backend, "listening on http://{addr}");
    println!("gaic is running at http://{addr}/ (tasks: http://{addr}/api/v1/tasks)");
    let app = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    crate::eval::runner::stop_workers(&state.queue, std::time::Duration::from_secs(30)).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

/// Refuses what [`crate::http::refused_early`] finds before the body is
/// read: the JSON error on the API, the message page in the viewer's
/// language on a page route.
async fn refuse_early(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(refused) = crate::http::refused_early(&state, &req) else { return next.run(req).await };
    let page = req.extensions().get::<axum::extract::MatchedPath>().is_some_and(|r| !r.as_str().starts_with("/api/"));
    if page { crate::web::refused_before_handler(req.headers(), req.uri(), &refused) } else { refused.into_response() }
}

/// The whole HTTP application: the JSON API and the pages, with the shared
/// layers (rate limits, security headers, request metrics, tracing, panic catching, the
/// 1 MiB JSON limit)
/// and JSON fallbacks.
pub fn app(state: AppState) -> axum::Router {
    use axum::extract::DefaultBodyLimit;
    use tower_http::catch_panic::CatchPanicLayer;
    use tower_http::trace::TraceLayer;
    let upload_limit = state.settings.max_upload_bytes;
    axum::Router::new()
        .merge(crate::api::router(upload_limit))
        .merge(crate::web::router(upload_limit))
        .fallback(crate::api::not_found)
        .method_not_allowed_fallback(crate::api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), refuse_early))
        .layer(axum::middleware::from_fn_with_state(state.settings.https, crate::http::security_headers))
        .layer(axum::middleware::from_fn(crate::telemetry::track_http))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(crate::api::panic_response))
        .layer(DefaultBodyLimit::max(crate::api::JSON_LIMIT))
        .with_state(state)
}
