//! `AppState`: what the adapters (API, pages, queue loops) share: the
//! [`Platform`] the rules work on, plus the evaluation queue (its loops and
//! evaluator processes) and the metrics handle that only adapters use. It dereferences
//! to the platform, so a handler passes `&state` to a domain function.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::eval::runner::Queue;
pub use crate::platform::{Platform, Settings};

/// Shared state of the server; clones share everything.
#[derive(Clone)]
pub struct AppState {
    /// The handles the rules work on.
    pub platform: Platform,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The evaluation queue: its loops, settings and evaluator processes.
    pub queue: Arc<Queue>,
}

impl AppState {
    /// The adapters' state over a platform.
    pub fn new(platform: Platform, queue: Queue) -> Self {
        Self { platform, queue: Arc::new(queue), metrics: crate::telemetry::prometheus() }
    }
}

impl std::ops::Deref for AppState {
    type Target = Platform;

    fn deref(&self) -> &Platform {
        &self.platform
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("platform", &self.platform).finish_non_exhaustive()
    }
}
