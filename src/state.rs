//! `AppState`: the cheap handles every handler shares, built once at start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::LoginThrottle;
use crate::blobs::Blobs;
use crate::db::Db;

/// Settings the handlers need, fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data folder (blobs, temporary unpacking, the SQLite file).
    pub data_dir: PathBuf,
    /// Largest accepted upload (bundles, submissions), in bytes.
    pub max_upload_bytes: usize,
}

/// Shared state of the server; clones share everything.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The blob store.
    pub blobs: Blobs,
    /// Fixed settings.
    pub settings: Arc<Settings>,
    /// Failed-login throttle.
    pub throttle: Arc<LoginThrottle>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The scorer and its solution cache.
    pub scorer: Arc<crate::scoring::scorer::Scorer>,
    /// The model sandbox, used here only to pre-check uploads (no model
    /// runs in this process).
    pub sandbox: Arc<gaic_sandbox::Sandbox>,
    /// The evaluator child processes that run models.
    pub evaluators: Arc<crate::eval::child::EvaluatorPool>,
    /// Lease, retry and fairness settings of the evaluation queue.
    pub queue: crate::eval::runner::QueueSettings,
    /// Wakes idle in-process workers when a job is queued.
    pub queue_wakeup: Arc<tokio::sync::Notify>,
    /// Set when the server is stopping: workers take no new job.
    pub stopping: Arc<std::sync::atomic::AtomicBool>,
    /// The in-process workers, awaited at shutdown.
    pub workers: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    /// The talent pool (ratings, medals, points) with the fingerprint of
    /// the final results it was computed from.
    pub talent: Arc<std::sync::Mutex<Option<crate::talent::CachedPool>>>,
    /// Each task's computed boards, keyed by what they depend on.
    pub boards: Arc<std::sync::Mutex<crate::boards::BoardCache>>,
}

impl AppState {
    /// Builds the state over an open database.
    pub fn new(
        db: Db,
        blobs: Blobs,
        settings: Settings,
        sandbox: Arc<gaic_sandbox::Sandbox>,
        evaluators: crate::eval::child::EvaluatorPool,
    ) -> Self {
        Self {
            sandbox,
            evaluators: Arc::new(evaluators),
            queue: crate::eval::runner::QueueSettings::default(),
            queue_wakeup: Arc::new(tokio::sync::Notify::new()),
            stopping: Arc::default(),
            workers: Arc::default(),
            talent: Arc::default(),
            boards: Arc::default(),
            db,
            blobs,
            settings: Arc::new(settings),
            throttle: Arc::new(LoginThrottle::new(10, Duration::from_secs(15 * 60))),
            metrics: crate::telemetry::prometheus(),
            scorer: Arc::default(),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db.backend)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
