//! Evaluation of model submissions through the durable queue (`jobs`).
//!
//! A model submission is stored with its job in one transaction. The
//! server's queue loops ([`start_workers`], `--workers N`) step the queue
//! with [`run_once`]: lease the next job fairly across teams, heartbeat
//! while an evaluator *child process* runs the model on the task's hidden
//! inputs (never its labels; see [`super::child`]), turn the outputs into a
//! predictions CSV, score it here, and record the result only while the
//! lease is still theirs. No model ever runs in the server's process.
//!
//! Failures: a verdict caused by the model is final. A worker that goes
//! silent loses its lease and the job runs again; a platform fault is
//! retried up to `max_attempts` times, then ends as `platform_error` and is
//! refunded. An evaluator process that dies holding the job ([`crashed`])
//! gets the job once more on a fresh process; a second death ends it as
//! `crashed`, final and counted against the team's cap, so that crashing
//! the judge buys no free retries.
//!
//! What a competitor sees of a run on a task whose test inputs are hidden
//! is fixed by the verdict alone ([`redact`]): the model chose nothing in
//! it. The real message and exact figures are kept for organizers.

use std::sync::Arc;

use anyhow::Context as _;
use gaic_sandbox::Verdict;

use super::child::EvalError;
use super::wire::{JobSpec, RunOutcome};
use crate::bundle::{HIDDEN_INPUTS, PUBLIC_INPUTS};
use crate::db::{self, jobs, submissions, tasks};
use crate::platform::Platform;
use crate::status::SubmissionStatus;
use crate::tasks::spec_of;

pub use crate::db::submissions::RunResult;

/// The evaluation queue's loops over a platform: their settings, the
/// evaluator processes they hand models to, and their stop switch. It
/// dereferences to the platform.
#[derive(Debug)]
pub struct Queue {
    /// The handles the rules work on.
    pub platform: Platform,
    /// Lease, retry and fairness settings.
    pub config: QueueSettings,
    /// The evaluator child processes that run models.
    pub evaluators: crate::eval::child::EvaluatorPool,
    /// Set when the server is stopping: loops take no new job.
    pub stopping: std::sync::atomic::AtomicBool,
    /// The running loops, awaited at shutdown.
    pub workers: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Queue {
    /// A queue over `platform`, no loop started.
    pub fn new(platform: Platform, config: QueueSettings, evaluators: crate::eval::child::EvaluatorPool) -> Self {
        Self { platform, config, evaluators, stopping: Default::default(), workers: Default::default() }
    }
}

impl std::ops::Deref for Queue {
    type Target = Platform;

    fn deref(&self) -> &Platform {
        &self.platform
    }
}

/// How the queue behaves.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// How long a lease lasts without a heartbeat (ms).
    pub lease_ms: i64,
    /// Attempts before a job that keeps failing for platform reasons ends as
    /// `platform_error` (refunded).
    pub max_attempts: i64,
    /// Jobs one team may have running at once.
    pub team_cap: i64,
    /// Whether this server's own evaluators have a CUDA device (they then
    /// also take the jobs of tasks that need one).
    pub gpu: bool,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self { lease_ms: 30_000, max_attempts: 3, team_cap: 2, gpu: false }
    }
}

fn platform_error(message: &str) -> RunResult {
    RunResult {
        error: Some(format!("{message}; it does not count toward your daily cap")),
        ..RunResult::with_status(SubmissionStatus::PlatformError)
    }
}

/// Returns expired leases to the queue, or ends their jobs as
/// `platform_error` once they have used every attempt.
pub async fn reap(state: &Queue) -> anyhow::Result<()> {
    let now = db::now_ms();
    for (job_id, submission_id, attempts) in jobs::expired(&state.db.pool, now).await? {
        let mut tx = state.db.pool.begin().await?;
        if attempts >= state.config.max_attempts {
            jobs::end(&mut *tx, job_id, "done", now).await?;
            let result = platform_error("the evaluation failed on the platform");
            submissions::finish_run(&mut *tx, submission_id, &result, now).await?;
        } else if jobs::requeue_expired(&mut *tx, job_id, now).await? {
            submissions::requeue(&mut *tx, submission_id).await?;
        }
        tx.commit().await?;
        tracing::warn!(job = job_id, submission = submission_id, attempts, "lease expired");
    }
    Ok(())
}

/// Steps the queue once for worker `owner`: reaps expired leases, leases the
/// next job fairly, evaluates it while heartbeating, and records the result
/// only if the lease is still ours. Returns the submission it ran, or `None`
/// when the queue was empty. Tests drive the queue with it, without sleeping.
pub async fn run_once(state: &Queue, owner: &str) -> anyhow::Result<Option<i64>> {
    reap(state).await?;
    // A replica that cannot reach the blob store takes no job: the job would
    // only fail for the platform's sake and spend one of its attempts.
    state.blobs.check().await.context("not taking jobs")?;
    let q = state.config;
    let claimed =
        jobs::claim(&state.db.pool, state.db.backend, owner, db::now_ms(), q.lease_ms, q.team_cap, q.gpu).await?;
    let Some(claim) = claimed else { return Ok(None) };
    submissions::start_run(&state.db.pool, claim.submission_id, db::now_ms()).await?;
    let heartbeat = {
        let (state, owner) = (state.platform.clone(), owner.to_owned());
        tokio::spawn(async move {
            let every = std::time::Duration::from_millis((q.lease_ms / 3).max(1) as u64);
            loop {
                tokio::time::sleep(every).await;
                let now = db::now_ms();
                if !jobs::heartbeat(&state.db.pool, claim.job_id, &owner, now, q.lease_ms).await.unwrap_or(false) {
                    break;
                }
            }
        })
    };
    let outcome = evaluate(state, claim.submission_id).await;
    heartbeat.abort();
    match outcome {
        Ok(concluded) => {
            if !record(state, claim.job_id, owner, claim.submission_id, concluded).await? {
                tracing::warn!(job = claim.job_id, owner, "result dropped: the lease was no longer ours");
            }
        }
        Err(Evaluation::Crashed(why)) => {
            crashed(state, claim.job_id, owner, &why).await?;
        }
        Err(Evaluation::Platform(e)) => {
            fail(state, claim.job_id, owner, &format!("{e:#}")).await?;
        }
    }
    Ok(Some(claim.submission_id))
}

/// A scored run's result and, on a Ladder task, what judging its step again
/// needs.
#[derive(Debug)]
pub struct Concluded {
    /// What is stored.
    pub result: RunResult,
    ladder: Option<LadderStep>,
}

impl From<RunResult> for Concluded {
    fn from(result: RunResult) -> Self {
        Self { result, ladder: None }
    }
}

/// A Ladder step judged against the team's scored submissions as they
/// stood at `stamp`.
#[derive(Debug)]
struct LadderStep {
    task: tasks::TaskRow,
    spec: crate::bundle::TaskSpec,
    team_id: i64,
    predictions: Arc<crate::scoring::solution::Predictions>,
    raw: f64,
    stamp: (i64, i64),
}

/// Records a concluded run for the job `job_id` held by `owner`, in one
/// transaction under the team's lock; false (nothing recorded) when the
/// lease is no longer held. A Ladder step is judged against the team's best:
/// if another of its submissions was scored since the step was judged, it is
/// judged again against the new best (outside the lock, which a step must
/// not hold while it computes), as an upload's is.
pub async fn record(
    state: &Queue,
    job_id: i64,
    owner: &str,
    submission_id: i64,
    mut concluded: Concluded,
) -> anyhow::Result<bool> {
    let team_id = concluded.ladder.as_ref().map(|l| l.team_id);
    let mut attempts = 0;
    let mut tx = loop {
        let mut tx = state.db.pool.begin().await?;
        let (Some(team_id), Some(step)) = (team_id, concluded.ladder.as_mut()) else { break tx };
        crate::db::teams::lock_row(&mut *tx, team_id).await?;
        let newest = submissions::newest_scored(&mut *tx, team_id).await?;
        attempts += 1;
        if newest == step.stamp || attempts > 5 {
            break tx;
        }
        drop(tx);
        step.stamp = newest;
        let shown = crate::leaderboard::ladder_shown(
            state,
            &step.task,
            &step.spec,
            team_id,
            step.predictions.clone(),
            step.raw,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        concluded.result.public = Some(shown);
    };
    let now = db::now_ms();
    if !jobs::finish(&mut *tx, job_id, owner, now).await? {
        return Ok(false);
    }
    submissions::finish_run(&mut *tx, submission_id, &concluded.result, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// The evaluator process holding `owner`'s lease died (or hung and was
/// killed): the job runs once more on a fresh process; the second time it
/// ends as `crashed`, final and counted. False if the lease was not held.
pub async fn crashed(state: &Queue, job_id: i64, owner: &str, why: &str) -> anyhow::Result<bool> {
    let now = db::now_ms();
    let mut tx = state.db.pool.begin().await?;
    let Some((submission_id, crashes)) = jobs::crash(&mut *tx, job_id, owner, why, now, CRASHES_BEFORE_VERDICT).await?
    else {
        return Ok(false);
    };
    tracing::warn!(job = job_id, submission = submission_id, crashes, why, "an evaluator process died running a job");
    metrics::counter!("gaic_evaluator_crashes_total").increment(1);
    if crashes >= CRASHES_BEFORE_VERDICT {
        let result = RunResult {
            verdict: Some(Verdict::Crashed),
            error: Some(format!("{}: {}", Verdict::Crashed, Verdict::Crashed.message())),
            detail: Some(format!("the evaluator process died on {crashes} attempts; last: {why}")),
            ..RunResult::with_status(SubmissionStatus::Failed)
        };
        submissions::finish_run(&mut *tx, submission_id, &result, now).await?;
        metrics::counter!("gaic_model_runs_total", "verdict" => Verdict::Crashed.as_str()).increment(1);
    } else {
        submissions::requeue(&mut *tx, submission_id).await?;
    }
    tx.commit().await?;
    state.queue_wakeup.notify_waiters();
    Ok(true)
}

/// Deaths of the evaluator process after which a job ends as `crashed`.
pub const CRASHES_BEFORE_VERDICT: i64 = 2;

/// A platform failure of the worker holding `owner`'s lease: the job goes
/// back to the queue, or after its last attempt ends as `platform_error`
/// (refunded). False if the lease was no longer held.
pub async fn fail(state: &Queue, job_id: i64, owner: &str, error: &str) -> anyhow::Result<bool> {
    let Some((submission_id, attempts)) = jobs::attempts(&state.db.pool, job_id).await? else { return Ok(false) };
    tracing::error!(job = job_id, attempt = attempts, error, "evaluation failed on the platform");
    // A device (CUDA) failure is counted apart: it is never hidden by
    // running the op on the CPU instead.
    let kind = if error.starts_with("device error") { "device" } else { "other" };
    metrics::counter!("gaic_platform_errors_total", "kind" => kind).increment(1);
    let now = db::now_ms();
    let mut tx = state.db.pool.begin().await?;
    let held = if attempts >= state.config.max_attempts {
        let done = jobs::finish(&mut *tx, job_id, owner, now).await?;
        if done {
            let result = platform_error("the evaluation failed on the platform");
            submissions::finish_run(&mut *tx, submission_id, &result, now).await?;
        }
        done
    } else {
        let released = jobs::release(&mut *tx, job_id, owner, error).await?;
        if released {
            submissions::requeue(&mut *tx, submission_id).await?;
        }
        released
    };
    tx.commit().await?;
    Ok(held)
}

/// Starts `n` queue loops that run the queue until [`stop_workers`], each
/// handing one model at a time to an evaluator child process (started
/// now, so the first jobs pay no start-up).
pub fn start_workers(state: &std::sync::Arc<Queue>, n: u32) {
    if n > 0
        && let Err(e) = state.evaluators.warm(n as usize)
    {
        tracing::error!(error = %e, "starting the evaluator processes");
    }
    for i in 0..n {
        let worker_state = state.clone();
        let owner = format!("inproc:{}:{i}", std::process::id());
        let handle = tokio::spawn(async move {
            let state = worker_state;
            while !state.stopping.load(std::sync::atomic::Ordering::Relaxed) {
                match run_once(&state, &owner).await {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(e) => tracing::error!(worker = %owner, error = format!("{e:#}"), "queue step failed"),
                }
                let wake = state.queue_wakeup.notified();
                let _ = tokio::time::timeout(std::time::Duration::from_millis(500), wake).await;
            }
        });
        state.workers.lock().unwrap_or_else(|e| e.into_inner()).push(handle);
    }
}

/// Graceful stop: workers take no new job and finish the ones they hold
/// (up to `grace`); a job still running then keeps its lease until it
/// expires, and runs again elsewhere.
pub async fn stop_workers(state: &Queue, grace: std::time::Duration) {
    state.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    state.queue_wakeup.notify_waiters();
    let handles: Vec<_> = std::mem::take(&mut *state.workers.lock().unwrap_or_else(|e| e.into_inner()));
    let all = futures::future::join_all(handles);
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::warn!("workers still busy after the grace period; their jobs will run again");
    }
}

/// The job for a submission (server side).
pub async fn job_spec(state: &Queue, submission_id: i64) -> anyhow::Result<JobSpec> {
    let sub = submissions::by_id(&state.db.pool, submission_id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    let task = tasks::by_id(&state.db.pool, sub.task_id).await?.ok_or_else(|| anyhow::anyhow!("task gone"))?;
    let spec = spec_of(&task).map_err(|e| anyhow::anyhow!("{e}"))?;
    let out_cols = super::out_cols(&spec.format()).map_err(anyhow::Error::msg)?;
    let inputs_hash = submissions::hidden_file(&state.db.pool, task.task_id, HIDDEN_INPUTS)
        .await?
        .ok_or_else(|| anyhow::anyhow!("task {} has no hidden inputs", task.slug))?;
    Ok(JobSpec {
        submission_id,
        model_hash: sub.blob_hash,
        inputs_hash,
        id_column: spec.data.id_column.clone(),
        feature_columns: spec.data.feature_columns.clone(),
        out_cols,
        fuel: spec.budget.fuel,
        memory_bytes: u64::from(spec.budget.memory_mib) << 20,
        wall_ms: spec.budget.wall_ms,
    })
}

/// Turns a run's outcome into the submission's result (server side): the
/// outputs are checked (count, finite), become a predictions CSV and are
/// scored here, where the labels are. On a task whose test inputs are
/// hidden, the competitor-facing fields are then [`redact`]ed.
pub async fn conclude(state: &Queue, submission_id: i64, outcome: &RunOutcome) -> anyhow::Result<Concluded> {
    let verdict: Verdict = outcome.verdict.parse().map_err(anyhow::Error::msg)?;
    if verdict == Verdict::Crashed {
        anyhow::bail!("a run cannot report `crashed`: only the queue decides it");
    }
    let sub = submissions::by_id(&state.db.pool, submission_id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    let task = tasks::by_id(&state.db.pool, sub.task_id).await?.ok_or_else(|| anyhow::anyhow!("task gone"))?;
    // Public files are stored under their path inside `public/`.
    let public_name = PUBLIC_INPUTS.trim_start_matches("public/");
    let inputs_public = tasks::public_file(&state.db.pool, task.task_id, public_name).await?.is_some();
    let mut result = RunResult {
        verdict: Some(verdict),
        fuel_used: Some(outcome.fuel_used as i64),
        peak_memory_bytes: Some(outcome.peak_memory_bytes as i64),
        wall_ms: Some(outcome.wall_ms as i64),
        log: Some(outcome.log.chars().take(64 << 10).collect()),
        // The platform's device, not anything the model chose.
        device: Some(outcome.device.clone()).filter(|d| !d.is_empty()),
        // Failed unless the outputs score below.
        ..RunResult::with_status(SubmissionStatus::Failed)
    };
    let mut ladder = None;
    if verdict == Verdict::Ok {
        let spec = spec_of(&task).map_err(|e| anyhow::anyhow!("{e}"))?;
        let format = spec.format();
        let out_cols = super::out_cols(&format).map_err(anyhow::Error::msg)?;
        let inputs_hash = submissions::hidden_file(&state.db.pool, task.task_id, HIDDEN_INPUTS)
            .await?
            .ok_or_else(|| anyhow::anyhow!("task {} has no hidden inputs", task.slug))?;
        // Only the ids: the worker parsed these same inputs (by hash) to run
        // the model.
        let ids =
            super::read_ids(&state.blobs.get(&inputs_hash).await?, &spec.data.id_column).map_err(anyhow::Error::msg)?;
        if outcome.outputs.len() != ids.len() * out_cols || outcome.outputs.iter().any(|v| !v.is_finite()) {
            result.verdict = Some(Verdict::InvalidOutput);
            result.error = Some("invalid_output: the worker returned outputs of the wrong shape".into());
            return Ok(if inputs_public { result } else { redact(result, &outcome.device) }.into());
        }
        let csv = bytes::Bytes::from(super::outputs_to_csv(&format, &ids, &outcome.outputs, out_cols));
        result.predictions_hash = Some(state.blobs.put(csv.clone()).await?);
        let solution =
            crate::leaderboard::current_solution(state, &task, &spec).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let scored = tokio::task::spawn_blocking(move || {
            let preds = solution.solution.parse_submission(&csv)?;
            Ok::<_, Vec<crate::error::Problem>>((solution.score_parsed(&preds)?, preds))
        })
        .await?;
        match scored {
            Ok((scores, preds)) => {
                result.status = SubmissionStatus::Scored;
                result.public = Some(scores.public);
                result.private = Some(scores.private);
                if spec.public_board == crate::bundle::PublicBoard::Ladder {
                    let predictions = Arc::new(preds);
                    let stamp = submissions::newest_scored(&state.db.pool, sub.team_id).await?;
                    let shown = crate::leaderboard::ladder_shown(
                        state,
                        &task,
                        &spec,
                        sub.team_id,
                        predictions.clone(),
                        scores.public,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    result.raw_public = Some(scores.public);
                    result.public = Some(shown);
                    ladder = Some(LadderStep {
                        task: task.clone(),
                        spec: spec.clone(),
                        team_id: sub.team_id,
                        predictions,
                        raw: scores.public,
                        stamp,
                    });
                }
            }
            Err(problems) => {
                result.error = Some(format!(
                    "the model's predictions could not be scored: {}",
                    problems.first().map(|p| p.message.to_string()).unwrap_or_default()
                ));
            }
        }
    } else {
        result.error = Some(format!("{verdict}: {}", outcome.message));
    }
    metrics::counter!("gaic_model_runs_total", "verdict" => verdict.as_str()).increment(1);
    tracing::info!(submission = submission_id, verdict = verdict.as_str(), fuel = outcome.fuel_used, "model evaluated");
    let result = if inputs_public { result } else { redact(result, &outcome.device) };
    Ok(Concluded { result, ladder })
}

/// What a competitor may see of a run on a task whose test inputs are
/// hidden: a message fixed by the verdict, memory rounded up to a power of
/// two MiB and wall time to 100 ms × a power of two. Nothing the model chose
/// (error codes, shapes, values, log) remains; fuel is already shown to 3
/// significant digits. The real message and exact figures move to
/// `detail`, which only organizers see.
pub fn redact(mut result: RunResult, device: &str) -> RunResult {
    let verdict = result.verdict;
    let detail = format!(
        "{} · peak memory {} bytes · wall {} · device {}",
        result.error.as_deref().unwrap_or("ok"),
        result.peak_memory_bytes.unwrap_or(0),
        crate::submissions::wall_time(result.wall_ms.unwrap_or(0).max(0) as u64),
        if device.is_empty() { "unknown" } else { device },
    );
    result.error = result.error.as_ref().map(|_| match verdict {
        Some(Verdict::Ok) => "the model's predictions could not be scored".to_owned(),
        Some(v) => format!("{v}: {}", v.message()),
        None => "the model's run failed".to_owned(),
    });
    result.peak_memory_bytes = result.peak_memory_bytes.map(|b| {
        let mib = (b.max(1) as u64).div_ceil(1 << 20).next_power_of_two();
        (mib << 20) as i64
    });
    result.wall_ms = result.wall_ms.map(|ms| {
        let steps = (ms.max(1) as u64).div_ceil(100).next_power_of_two();
        (steps * 100) as i64
    });
    result.detail = Some(detail);
    result
}

/// Why [`evaluate`] produced no result.
#[derive(Debug)]
pub enum Evaluation {
    /// The evaluator process died holding the job.
    Crashed(String),
    /// A platform fault: retried.
    Platform(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Evaluation {
    fn from(e: E) -> Self {
        Evaluation::Platform(e.into())
    }
}

/// Evaluates one model submission in an evaluator child process and
/// scores it here.
pub async fn evaluate(state: &Queue, submission_id: i64) -> Result<Concluded, Evaluation> {
    let job = job_spec(state, submission_id).await?;
    let model = state.blobs.get(&job.model_hash).await?;
    let inputs = state.blobs.get(&job.inputs_hash).await?;
    let outcome = match state.evaluators.run(&job, &model, &inputs).await {
        Ok(outcome) => outcome,
        Err(EvalError::Crashed(why)) => return Err(Evaluation::Crashed(why)),
        Err(EvalError::Platform(why)) => return Err(Evaluation::Platform(anyhow::anyhow!(why))),
    };
    Ok(conclude(state, submission_id, &outcome).await?)
}

/// The largest memory cap a task may give a model run; the upload checks
/// and the evaluators use the same one.
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;

/// The server's sandbox: it only pre-checks uploads (size, ABI, imports,
/// initial memory); models run in evaluator processes.
pub fn upload_checker() -> anyhow::Result<Arc<gaic_sandbox::Sandbox>> {
    let config = gaic_sandbox::SandboxConfig {
        concurrency: 1,
        device: gaic_sandbox::DeviceChoice::Cpu,
        max_memory_bytes: MAX_MEMORY_BYTES,
        ..Default::default()
    };
    Ok(Arc::new(gaic_sandbox::Sandbox::new(config)?))
}
