//! In-process evaluation of model submissions: a queued submission is run
//! in the sandbox on the task's hidden inputs (never its labels), its outputs
//! become a predictions CSV, and the scorer scores that exactly like an
//! uploaded CSV.
//!
//! Runs are limited to the sandbox's concurrency by a semaphore (the pooling
//! allocator has that many slots) and execute on the blocking pool. On start
//! the server re-runs submissions left `queued` or `running` by a crash, so
//! none is stuck; a result is written only while the submission is still
//! `running`, so a duplicate run changes nothing.

use std::sync::Arc;

use gaic_sandbox::{Limits, Verdict};

use crate::bundle::{HIDDEN_INPUTS, HIDDEN_LABELS};
use crate::db::{self, submissions, tasks};
use crate::scoring::scorer::format_of;
use crate::state::AppState;
use crate::tasks::spec_of;

/// What a finished run writes to its submission.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// `scored` or `failed`.
    pub status: &'static str,
    /// Public score when scored.
    pub public: Option<f64>,
    /// Private score when scored.
    pub private: Option<f64>,
    /// Message for the submitter when failed.
    pub error: Option<String>,
    /// The sandbox's verdict.
    pub verdict: Option<String>,
    /// Fuel spent.
    pub fuel_used: Option<i64>,
    /// Peak memory.
    pub peak_memory_bytes: Option<i64>,
    /// Wall time.
    pub wall_ms: Option<i64>,
    /// The model's log (organizers only).
    pub log: Option<String>,
    /// Blob of the predictions CSV the model's outputs became.
    pub predictions_hash: Option<String>,
}

/// Starts the evaluation of a queued model submission in the background.
pub fn spawn(state: AppState, submission_id: i64) {
    tokio::spawn(async move {
        if let Err(e) = evaluate(&state, submission_id).await {
            tracing::error!(submission = submission_id, error = format!("{e:#}"), "evaluation failed");
            let _ = submissions::finish_run(
                &state.db.pool,
                submission_id,
                &RunResult {
                    status: "platform_error",
                    error: Some(
                        "the platform failed to evaluate this model; it does not count toward your daily cap".into(),
                    ),
                    ..Default::default()
                },
                db::now_ms(),
            )
            .await;
        }
    });
}

/// Re-runs the model submissions a previous process left unfinished.
pub async fn resume_unfinished(state: &AppState) -> anyhow::Result<usize> {
    let ids = submissions::unfinished_models(&state.db.pool).await?;
    for &id in &ids {
        submissions::requeue(&state.db.pool, id).await?;
        spawn(state.clone(), id);
    }
    if !ids.is_empty() {
        tracing::info!(count = ids.len(), "resumed unfinished model evaluations");
    }
    Ok(ids.len())
}

/// Runs one model submission to its final state.
pub async fn evaluate(state: &AppState, submission_id: i64) -> anyhow::Result<()> {
    let _permit = state.eval_slots.clone().acquire_owned().await?;
    if !submissions::start_run(&state.db.pool, submission_id, db::now_ms()).await? {
        return Ok(()); // already taken or finished
    }
    let sub = submissions::by_id(&state.db.pool, submission_id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    let task = tasks::by_id(&state.db.pool, sub.task_id).await?.ok_or_else(|| anyhow::anyhow!("task gone"))?;
    let spec = spec_of(&task).map_err(|e| anyhow::anyhow!("{e}"))?;
    let format = format_of(&spec);
    let out_cols = super::out_cols(&format).map_err(anyhow::Error::msg)?;
    // The worker side: the model and the hidden *inputs*; labels stay below.
    let inputs_hash = submissions::hidden_file(&state.db.pool, task.task_id, HIDDEN_INPUTS)
        .await?
        .ok_or_else(|| anyhow::anyhow!("task {} has no hidden inputs", task.slug))?;
    let inputs_bytes = state.blobs.get(&inputs_hash).await?;
    let model_bytes = state.blobs.get(&sub.blob_hash).await?;
    let limits = Limits {
        fuel: spec.budget.fuel,
        memory_bytes: u64::from(spec.budget.memory_mib) << 20,
        wall_ms: spec.budget.wall_ms,
        ..Limits::default()
    };
    let sandbox = state.sandbox.clone();
    let features = spec.data.feature_columns.clone();
    let id_column = spec.data.id_column.clone();
    let (inputs, report) = tokio::task::spawn_blocking(move || {
        let inputs = super::read_inputs(&inputs_bytes, &id_column, &features)?;
        let report = sandbox.compile_and_run(&model_bytes, &inputs.values, inputs.cols, out_cols, &limits);
        Ok::<_, String>((inputs, report))
    })
    .await?
    .map_err(anyhow::Error::msg)?;
    let mut result = RunResult {
        verdict: Some(report.verdict.as_str().to_owned()),
        fuel_used: Some(report.fuel_used as i64),
        peak_memory_bytes: Some(report.peak_memory_bytes as i64),
        wall_ms: Some(report.wall_ms as i64),
        log: Some(report.log.clone()),
        ..Default::default()
    };
    if report.verdict == Verdict::Ok {
        // The scorer's side: the outputs become a predictions CSV, scored
        // like an upload.
        let csv = super::outputs_to_csv(&format, &inputs.ids, &report.outputs, out_cols);
        result.predictions_hash = Some(state.blobs.put(bytes::Bytes::from(csv.clone())).await?);
        let labels_hash = submissions::hidden_file(&state.db.pool, task.task_id, HIDDEN_LABELS)
            .await?
            .ok_or_else(|| anyhow::anyhow!("task {} has no labels", task.slug))?;
        let solution = state
            .scorer
            .solution(&state.blobs, task.task_id, &spec, &labels_hash)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match tokio::task::spawn_blocking(move || solution.score(csv.as_bytes())).await? {
            Ok(scores) => {
                result.status = "scored";
                result.public = Some(scores.public);
                result.private = Some(scores.private);
            }
            Err(problems) => {
                result.status = "failed";
                result.error = Some(format!(
                    "the model's predictions could not be scored: {}",
                    problems.first().map(|p| p.message.clone()).unwrap_or_default()
                ));
            }
        }
    } else {
        result.status = "failed";
        result.error = Some(format!("{}: {}", report.verdict, report.message));
    }
    submissions::finish_run(&state.db.pool, submission_id, &result, db::now_ms()).await?;
    metrics::counter!("gaic_model_runs_total", "verdict" => report.verdict.as_str()).increment(1);
    tracing::info!(
        submission = submission_id,
        verdict = report.verdict.as_str(),
        fuel = report.fuel_used,
        wall_ms = report.wall_ms,
        "model evaluated"
    );
    Ok(())
}

/// The sandbox the server evaluates with, sized to `concurrency` runs, its
/// compiled artifacts cached (authenticated) in `cache_dir`.
pub fn sandbox(
    concurrency: u32,
    compiler: gaic_sandbox::Compiler,
    device: gaic_sandbox::DeviceChoice,
    cache_dir: std::path::PathBuf,
) -> anyhow::Result<Arc<gaic_sandbox::Sandbox>> {
    let config = gaic_sandbox::SandboxConfig {
        concurrency,
        device,
        max_memory_bytes: 4 << 30,
        compiler,
        cache_dir: Some(cache_dir),
        ..Default::default()
    };
    let sandbox = gaic_sandbox::Sandbox::new(config)?;
    tracing::info!(device = %sandbox.device().name, reason = %sandbox.device().reason, "sandbox ready");
    Ok(Arc::new(sandbox))
}
