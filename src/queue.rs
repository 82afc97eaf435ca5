//! The evaluation queue as people see it: a submission's live state (its
//! place in the queue, the worker running it), and the organizer's controls
//! (cancel or requeue a model's job, purge a task's queue, see its depth and
//! throughput).
//!
//! Invariants: only the task's organizer or an admin controls its queue; a
//! cancelled job ends `cancelled` and is refunded (it never counts toward the
//! daily cap); a requeued one runs again from the start; everything is read
//! from the database, so every replica and remote worker sees the same.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::db::{self, jobs, submissions};
use crate::error::{AppError, AppResult};
use crate::msg;
use crate::platform::Platform;
use crate::status::{JobState, SubmissionStatus};
use crate::submissions::{SubmissionView, view, visible_submission};
use crate::tasks::managed_task;

/// One state of a submission, as streamed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LiveState {
    /// queued, running, scored, failed or platform_error.
    pub status: SubmissionStatus,
    /// While queued: 1-based place.
    pub queue_position: Option<i64>,
    /// While running: the worker.
    pub worker: Option<String>,
    /// Once scored.
    pub public_score: Option<f64>,
    /// Models: the verdict.
    pub verdict: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A submission's live state (status, queue place, worker), or `None` if it is gone.
pub async fn live_state(state: &Platform, id: i64) -> sqlx::Result<Option<LiveState>> {
    let Some((status, public_score, verdict, error)) = submissions::live(&state.db.pool, id).await? else {
        return Ok(None);
    };
    let queue_position =
        if status == SubmissionStatus::Queued { jobs::position(&state.db.pool, id).await? } else { None };
    let worker = if status == SubmissionStatus::Running {
        jobs::running_info(&state.db.pool, id).await?.map(|(w, _)| w)
    } else {
        None
    };
    Ok(Some(LiveState { status, queue_position, worker, public_score, verdict, error }))
}

/// Whether a submission in `status` will not change again.
pub fn is_final(status: SubmissionStatus) -> bool {
    !status.is_pending()
}

async fn organizer_submission(
    state: &Platform,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(submissions::SubmissionRow, String)> {
    let (sub, task, organizer) = visible_submission(state, me, id).await?;
    if !organizer {
        return Err(AppError::Forbidden(msg!("organizer_only_queue")));
    }
    if sub.kind != "model" {
        return Err(AppError::Conflict(msg!("queue_models_only")));
    }
    Ok((sub, task.slug))
}

/// Cancels a queued or running model evaluation; it ends failed and does not
/// count toward the team's cap. A worker still running it is refused.
pub async fn cancel_submission(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<SubmissionView> {
    let (_, slug) = organizer_submission(state, me, id).await?;
    let now = db::now_ms();
    let mut tx = state.db.pool.begin().await?;
    if !jobs::cancel(&mut *tx, id, now).await? {
        return Err(AppError::Conflict(msg!("not_pending")));
    }
    submissions::cancel(&mut *tx, id, &format!("cancelled by {}", me.username), now).await?;
    tx.commit().await?;
    tracing::info!(submission = id, by = %me.username, "evaluation cancelled");
    let row = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    Ok(view(row, &slug, true))
}

/// Runs a finished (or cancelled) model evaluation again, with fresh attempts.
pub async fn requeue_submission(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<SubmissionView> {
    let (_, slug) = organizer_submission(state, me, id).await?;
    let mut tx = state.db.pool.begin().await?;
    if !jobs::requeue_finished(&mut *tx, id).await? {
        return Err(AppError::Conflict(msg!("still_pending")));
    }
    submissions::reset_for_requeue(&mut *tx, id).await?;
    tx.commit().await?;
    state.queue_wakeup.notify_one();
    tracing::info!(submission = id, by = %me.username, "evaluation requeued");
    let row = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    Ok(view(row, &slug, true))
}

/// One unfinished job.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedJob {
    /// Its submission.
    pub submission_id: i64,
    /// The team.
    pub team: String,
    /// queued or running.
    pub state: JobState,
    /// Attempts so far.
    pub attempts: i64,
    /// The worker holding it.
    pub worker: Option<String>,
    /// RFC 3339.
    pub queued_at: String,
    /// RFC 3339.
    pub started_at: Option<String>,
}

/// A task's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    /// Jobs waiting.
    pub queued: usize,
    /// Jobs running.
    pub running: usize,
    /// Jobs finished in the last hour.
    pub finished_last_hour: i64,
    /// The unfinished jobs, oldest first.
    pub jobs: Vec<QueuedJob>,
    /// Whether the task's models must run on a GPU (`[budget] device =
    /// "cuda"`): only workers with a CUDA device take its jobs.
    pub needs_gpu: bool,
    /// Remote workers with a CUDA device, live (seen within three leases)
    /// and not revoked.
    pub gpu_workers: i64,
}

async fn organizer_task(state: &Platform, me: &CurrentUser, slug: &str) -> AppResult<crate::db::tasks::TaskRow> {
    managed_task(state, me, slug, msg!("organizer_only_task_queue")).await
}

/// A task's queue depth, throughput and unfinished jobs (organizers); a
/// worker silent for `lost_after_ms` is not counted among the GPU workers.
pub async fn get_queue(state: &Platform, me: &CurrentUser, slug: String, lost_after_ms: i64) -> AppResult<QueueView> {
    let task = organizer_task(state, me, &slug).await?;
    let rows = jobs::open_of_task(&state.db.pool, task.task_id).await?;
    let finished_last_hour = jobs::finished_since(&state.db.pool, task.task_id, db::now_ms() - 3_600_000).await?;
    let needs_gpu = crate::bundle::spec_of(&task)?.budget.needs_gpu();
    let now = db::now_ms();
    let gpu_workers = db::workers::list(&state.db.pool)
        .await?
        .iter()
        .filter(|w| w.revoked_at.is_none() && !lost(w, now, lost_after_ms))
        .filter(|w| w.device.as_deref().is_some_and(gaic_sandbox::Device::is_cuda_name))
        .count() as i64;
    Ok(QueueView {
        needs_gpu,
        gpu_workers,
        queued: rows.iter().filter(|j| j.state == JobState::Queued).count(),
        running: rows.iter().filter(|j| j.state == JobState::Running).count(),
        finished_last_hour,
        jobs: rows
            .into_iter()
            .map(|j| QueuedJob {
                submission_id: j.submission_id,
                team: j.team,
                state: j.state,
                attempts: j.attempts,
                worker: j.lease_owner,
                queued_at: db::ms_to_rfc3339(j.created_at),
                started_at: j.started_at.map(db::ms_to_rfc3339),
            })
            .collect(),
    })
}

/// Cancels every queued (not running) job of a task (organizers).
pub async fn purge_queue(state: &Platform, me: &CurrentUser, slug: String) -> AppResult<serde_json::Value> {
    let task = organizer_task(state, me, &slug).await?;
    let now = db::now_ms();
    let mut cancelled = 0;
    for j in jobs::open_of_task(&state.db.pool, task.task_id).await?.into_iter().filter(|j| j.state == JobState::Queued)
    {
        let mut tx = state.db.pool.begin().await?;
        if jobs::cancel(&mut *tx, j.submission_id, now).await? {
            submissions::cancel(&mut *tx, j.submission_id, &format!("the queue was purged by {}", me.username), now)
                .await?;
            cancelled += 1;
        }
        tx.commit().await?;
    }
    let detail = serde_json::json!({ "cancelled": cancelled });
    crate::audit::log(state, me, crate::audit::Action::QueuePurge, Some(task.task_id), &[], detail).await?;
    tracing::info!(task = %slug, cancelled, by = %me.username, "queue purged");
    Ok(serde_json::json!({ "cancelled": cancelled }))
}

/// A worker as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerView {
    /// Id.
    pub id: i64,
    /// Label.
    pub name: String,
    /// Device it registered.
    pub device: Option<String>,
    /// Its gaic version.
    pub version: Option<String>,
    /// Jobs at once.
    pub concurrency: Option<i64>,
    /// Last heard from (RFC 3339).
    pub last_seen_at: Option<String>,
    /// Silent for longer than three leases.
    pub lost: bool,
    /// Token revoked.
    pub revoked: bool,
    /// Submissions it is running now.
    pub running: Vec<i64>,
}

/// A worker token just issued: its secret is shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewWorkerToken {
    /// The worker's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The secret: `gaic worker --token …`. Not shown again.
    pub token: String,
}

/// Issues a worker token (admins): `gaicw_…`, unlike a user's, stored
/// hashed, named 1–100 characters; audited.
pub async fn issue_worker_token(state: &Platform, me: &CurrentUser, name: &str) -> AppResult<NewWorkerToken> {
    me.require("admin")?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("invalid_name", "name: 1-100 characters"));
    }
    let token = format!("gaicw_{}", &crate::auth::new_token().0["gaic_".len()..]);
    let id = db::workers::insert(&state.db.pool, name, &crate::auth::token_hash(&token), db::now_ms()).await?;
    let detail = serde_json::json!({ "worker": id, "name": name });
    crate::audit::log(state, me, crate::audit::Action::WorkerTokenCreate, None, &[], detail).await?;
    tracing::info!(worker = id, by = %me.username, "worker token issued");
    Ok(NewWorkerToken { id, name: name.to_owned(), token })
}

/// Revokes a worker token (admins): the worker is refused at once; audited.
pub async fn revoke_worker_token(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<()> {
    me.require("admin")?;
    if !db::workers::revoke(&state.db.pool, id, db::now_ms()).await? {
        return Err(AppError::NotFound("worker"));
    }
    let detail = serde_json::json!({ "worker": id });
    crate::audit::log(state, me, crate::audit::Action::WorkerTokenRevoke, None, &[], detail).await
}

/// Whether a worker has been silent for longer than `lost_after_ms` (or
/// never checked in).
fn lost(w: &db::workers::WorkerRow, now: i64, lost_after_ms: i64) -> bool {
    w.last_seen_at.is_none_or(|t| now - t > lost_after_ms)
}

/// The lease owner names of a remote worker's jobs start with this.
pub fn owner_prefix(worker_id: i64) -> String {
    format!("w{worker_id}-")
}

/// The worker fleet (admins); a worker silent for `lost_after_ms` is lost.
pub async fn fleet(state: &Platform, me: &CurrentUser, lost_after_ms: i64) -> AppResult<Vec<WorkerView>> {
    me.require("admin")?;
    let now = db::now_ms();
    let mut out = Vec::new();
    for w in db::workers::list(&state.db.pool).await? {
        let running = db::workers::running_jobs(&state.db.pool, &owner_prefix(w.worker_id)).await?;
        let lost = lost(&w, now, lost_after_ms);
        out.push(WorkerView {
            id: w.worker_id,
            name: w.name,
            device: w.device,
            version: w.version,
            concurrency: w.concurrency,
            last_seen_at: w.last_seen_at.map(db::ms_to_rfc3339),
            lost,
            revoked: w.revoked_at.is_some(),
            running,
        });
    }
    Ok(out)
}
