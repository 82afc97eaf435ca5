//! `AppState`: what the adapters (API, pages, queue loops) share: the
//! evaluation queue (its loops and evaluator processes, over the
//! [`Platform`] the rules work on) and the metrics handle. It dereferences
//! to the platform, so a handler passes `&state` to a domain function.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::eval::runner::Queue;
pub use crate::platform::{Platform, Settings};

/// Shared state of the server; clones share everything.
#[derive(Clone)]
pub struct AppState {
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The evaluation queue: its loops, settings and evaluator processes.
    pub queue: Arc<Queue>,
}

impl AppState {
    /// The adapters' state over the queue (which holds the platform).
    pub fn new(queue: Queue) -> Self {
        Self { queue: Arc::new(queue), metrics: crate::telemetry::prometheus() }
    }
}

impl std::ops::Deref for AppState {
    type Target = Platform;

    fn deref(&self) -> &Platform {
        &self.queue.platform
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("platform", &self.queue.platform).finish_non_exhaustive()
    }
}
