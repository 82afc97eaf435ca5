//! The platform the rules work on: the shared handles every domain function
//! may use, built once at start and cheap to clone.
//!
//! Invariants: this is the top of the domain layer. It holds the database,
//! the blob store, the fixed settings, the scorer, the upload checker, the
//! boards and the talent pool (each owning its cache), the login throttle
//! and the rate limits; nothing here knows of HTTP, pages or the evaluation loops. A
//! domain module may take `&Platform`; the modules `Platform` is built from
//! (`boards`, `talent`, `auth`, `limits`, `live`, `scoring`) take plain handles instead, so the
//! imports stay a tree.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::LoginThrottle;
use crate::blobs::Blobs;
use crate::boards::Boards;
use crate::db::Db;
use crate::talent::Talent;

/// Settings the rules need, fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data folder (blobs, temporary unpacking, the SQLite file).
    pub data_dir: PathBuf,
    /// Largest accepted upload (bundles, submissions), in bytes.
    pub max_upload_bytes: usize,
    /// Whether the public URL is https (HSTS, `Secure` cookies).
    pub https: bool,
    /// Whether a client's address is the last `X-Forwarded-For` entry
    /// (behind a reverse proxy) rather than the connection's peer.
    pub trust_forwarded_for: bool,
    /// Rate limits and stream caps.
    pub limits: crate::limits::LimitSettings,
}

/// The shared handles; clones share everything.
#[derive(Clone)]
pub struct Platform {
    /// The database.
    pub db: Db,
    /// The blob store.
    pub blobs: Blobs,
    /// Fixed settings.
    pub settings: Arc<Settings>,
    /// Failed-login throttle.
    pub throttle: Arc<LoginThrottle>,
    /// Rate limits per client address and account, and live-stream caps.
    pub limits: Arc<crate::limits::Limits>,
    /// The boards live streams watch, one poller per task.
    pub live: crate::live::BoardWatch,
    /// The scorer and its solution cache.
    pub scorer: Arc<crate::scoring::scorer::Scorer>,
    /// The model sandbox, used here only to pre-check uploads (no model
    /// runs in this process).
    pub sandbox: Arc<gaic_sandbox::Sandbox>,
    /// Wakes idle queue loops when a job is queued.
    pub queue_wakeup: Arc<tokio::sync::Notify>,
    /// Every task's boards, cached per task under its board version.
    pub boards: Arc<Boards>,
    /// The talent pool (ratings, medals, points), cached under a
    /// fingerprint of the final results.
    pub talent: Arc<Talent>,
    /// Task rows and specs, kept while each row stands.
    pub task_rows: Arc<crate::boards::TaskRows>,
    /// What signs result credentials (the database's key, the public URL).
    pub issuer: Arc<crate::credentials::Issuer>,
    /// Boards' statistical ties, per (task, private) under the board version.
    pub ties: Arc<crate::ties::Cache>,
    /// Slots for judging uploads (scoring a CSV, checking a model), one per
    /// CPU core: an upload's file is in memory only while it holds one.
    pub checks: Arc<tokio::sync::Semaphore>,
}

impl Platform {
    /// The platform over an open database and blob store.
    pub fn new(
        db: Db,
        blobs: Blobs,
        settings: Settings,
        sandbox: Arc<gaic_sandbox::Sandbox>,
        issuer: crate::credentials::Issuer,
    ) -> Self {
        let boards = Arc::new(Boards::new(db.clone()));
        Self {
            issuer: Arc::new(issuer),
            ties: Arc::default(),
            talent: Arc::new(Talent::new(db.clone(), boards.clone())),
            boards,
            task_rows: Arc::default(),
            sandbox,
            queue_wakeup: Arc::new(tokio::sync::Notify::new()),
            throttle: Arc::new(LoginThrottle::new(db.clone(), 10, Duration::from_secs(15 * 60))),
            limits: Arc::new(crate::limits::Limits::new(&settings.limits)),
            live: crate::live::BoardWatch::new(db.clone(), Duration::from_secs(1)),
            db,
            blobs,
            settings: Arc::new(settings),
            scorer: Arc::default(),
            checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
        }
    }
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("db", &self.db.backend)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
