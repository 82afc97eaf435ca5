//! The worker protocol: what the server and a worker (the remote `gaic
//! worker`, and through it an evaluator child) exchange. Both sides use these
//! types, so the wire format has one definition. None of them can carry a
//! label: a job names the model and the hidden *inputs* by content hash.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a worker needs to run one job; never the labels.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobSpec {
    /// The submission.
    pub submission_id: i64,
    /// Content hash of the model.
    pub model_hash: String,
    /// Content hash of the task's hidden inputs CSV.
    pub inputs_hash: String,
    /// Id column of the inputs.
    pub id_column: String,
    /// Feature columns, in the order the model receives them.
    pub feature_columns: Vec<String>,
    /// Outputs per row.
    pub out_cols: usize,
    /// Fuel budget.
    pub fuel: u64,
    /// Memory cap, bytes.
    pub memory_bytes: u64,
    /// Wall-clock net, ms.
    pub wall_ms: u64,
}

/// What a run reported, as a worker sends it back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunOutcome {
    /// The verdict's name.
    pub verdict: String,
    /// Its message.
    pub message: String,
    /// Fuel spent.
    pub fuel_used: u64,
    /// Peak memory.
    pub peak_memory_bytes: u64,
    /// Wall time.
    pub wall_ms: u64,
    /// The model's log.
    pub log: String,
    /// Outputs (rows × out_cols) when the verdict is ok.
    pub outputs: Vec<f32>,
    /// The device that ran the host ops.
    #[serde(default)]
    pub device: String,
}

/// What a worker says about itself.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Registration {
    /// `cpu` or `cuda:N (name)`.
    pub device: String,
    /// gaic version.
    pub version: String,
    /// Jobs at once.
    pub concurrency: i64,
}

/// A leased job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Lease {
    /// The job.
    pub job_id: i64,
    /// The lease to present with heartbeats and the result.
    pub lease: String,
    /// Milliseconds the lease lasts without a heartbeat.
    pub lease_ms: i64,
    /// What to run.
    pub job: JobSpec,
}

/// A lease presented back.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct LeaseRef {
    /// The lease from `/worker/lease`.
    pub lease: String,
}

/// A run's outcome with its lease.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ResultPost {
    /// The lease.
    pub lease: String,
    /// What the sandbox reported.
    pub outcome: RunOutcome,
}

/// Why a worker could not run a job.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct FailPost {
    /// The lease.
    pub lease: String,
    /// What went wrong on the worker (a platform failure: the job is retried).
    pub error: String,
    /// The evaluator process died holding the job: it runs once more on a
    /// fresh one, and a second death ends it as `crashed` (counted).
    #[serde(default)]
    pub crashed: bool,
}
