//! Queries on `jobs`: the durable evaluation queue.
//!
//! The claim is one statement: an `UPDATE … WHERE job_id = (SELECT … LIMIT 1)
//! RETURNING`. On PostgreSQL the inner select adds `FOR UPDATE SKIP LOCKED`,
//! so concurrent workers never wait on or take the same job; SQLite runs
//! writers one at a time, so the single statement is atomic as it is.
//! The next job is chosen round-robin across teams (the team served least
//! recently first) among teams under their running-job cap.

use sqlx::{Any, Executor, FromRow};

use super::Backend;
use crate::status::JobState;

/// A claimed job.
#[derive(Debug, Clone, FromRow)]
pub struct Claim {
    /// The job.
    pub job_id: i64,
    /// Its submission.
    pub submission_id: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Queues a job for a submission.
pub async fn enqueue<'e>(
    ex: impl Executor<'e, Database = Any>,
    submission_id: i64,
    task_id: i64,
    team_id: i64,
    now: i64,
    needs_gpu: bool,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO jobs (submission_id, task_id, team_id, state, attempts, created_at, needs_gpu)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5) RETURNING job_id",
    )
    .bind(submission_id)
    .bind(task_id)
    .bind(team_id)
    .bind(now)
    .bind(i64::from(needs_gpu))
    .fetch_one(ex)
    .await
}

/// Leases the next job for `owner` until `now + lease_ms`, fairly across
/// teams and under `team_cap` running jobs per team; a job that needs a
/// GPU only when `gpu` (the worker has a CUDA device).
pub async fn claim<'e>(
    ex: impl Executor<'e, Database = Any>,
    backend: Backend,
    owner: &str,
    now: i64,
    lease_ms: i64,
    team_cap: i64,
    gpu: bool,
) -> sqlx::Result<Option<Claim>> {
    let lock = if backend == Backend::Postgres { "FOR UPDATE OF j SKIP LOCKED" } else { "" };
    sqlx::query_as(&format!(
        "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2, heartbeat_at = $3,
                         started_at = $3, attempts = attempts + 1
         WHERE job_id = (
             SELECT j.job_id FROM jobs j
             WHERE j.state = 'queued' AND (j.needs_gpu = 0 OR $5 = 1)
               AND (SELECT COUNT(*) FROM jobs r WHERE r.team_id = j.team_id AND r.state = 'running') < $4
             ORDER BY COALESCE((SELECT MAX(s.started_at) FROM jobs s WHERE s.team_id = j.team_id), 0), j.job_id
             LIMIT 1 {lock})
           AND state = 'queued'
         RETURNING job_id, submission_id, attempts"
    ))
    .bind(owner)
    .bind(now + lease_ms)
    .bind(now)
    .bind(team_cap)
    .bind(i64::from(gpu))
    .fetch_optional(ex)
    .await
}

/// Extends a lease; false if `owner` no longer holds it.
pub async fn heartbeat<'e>(
    ex: impl Executor<'e, Database = Any>,
    job_id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET lease_expires_at = $3, heartbeat_at = $4
         WHERE job_id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(job_id)
    .bind(owner)
    .bind(now + lease_ms)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Marks a job done if `owner` still holds it; false means the result is
/// stale (the lease expired and the job went to someone else) and must be
/// dropped.
pub async fn finish<'e>(
    ex: impl Executor<'e, Database = Any>,
    job_id: i64,
    owner: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'done', finished_at = $3, lease_owner = NULL
         WHERE job_id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(job_id)
    .bind(owner)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Gives a job back to the queue after a platform failure of `owner`.
pub async fn release<'e>(
    ex: impl Executor<'e, Database = Any>,
    job_id: i64,
    owner: &str,
    error: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, last_error = $3
         WHERE job_id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(job_id)
    .bind(owner)
    .bind(error)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Records that the evaluator process holding `owner`'s lease died: the
/// job goes back to the queue, or is done once it has crashed `final_at`
/// times. Returns (submission, crashes so far), or `None` if `owner` no
/// longer held the job.
pub async fn crash<'e>(
    ex: impl Executor<'e, Database = Any>,
    job_id: i64,
    owner: &str,
    why: &str,
    now: i64,
    final_at: i64,
) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as(
        "UPDATE jobs SET crashes = crashes + 1, last_error = $3,
                         state = CASE WHEN crashes + 1 >= $5 THEN 'done' ELSE 'queued' END,
                         finished_at = CASE WHEN crashes + 1 >= $5 THEN $4 END,
                         lease_owner = NULL, lease_expires_at = NULL
         WHERE job_id = $1 AND lease_owner = $2 AND state = 'running'
         RETURNING submission_id, crashes",
    )
    .bind(job_id)
    .bind(owner)
    .bind(why)
    .bind(now)
    .bind(final_at)
    .fetch_optional(ex)
    .await
}

/// Running jobs whose lease has expired: (job, submission, attempts).
pub async fn expired<'e>(ex: impl Executor<'e, Database = Any>, now: i64) -> sqlx::Result<Vec<(i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT job_id, submission_id, attempts FROM jobs WHERE state = 'running' AND lease_expires_at < $1 ORDER BY job_id",
    )
    .bind(now)
    .fetch_all(ex)
    .await
}

/// Puts an expired job back in the queue (if it is still expired).
pub async fn requeue_expired<'e>(ex: impl Executor<'e, Database = Any>, job_id: i64, now: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                         last_error = 'the worker stopped heartbeating'
         WHERE job_id = $1 AND state = 'running' AND lease_expires_at < $2",
    )
    .bind(job_id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Ends a job without a result (too many attempts, or cancelled).
pub async fn end<'e>(ex: impl Executor<'e, Database = Any>, job_id: i64, state: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE jobs SET state = $2, finished_at = $3, lease_owner = NULL WHERE job_id = $1")
        .bind(job_id)
        .bind(state)
        .bind(now)
        .execute(ex)
        .await
        .map(|_| ())
}

/// 1-based position of a queued submission's job in the queue (by age).
pub async fn position<'e>(ex: impl Executor<'e, Database = Any>, submission_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM jobs q WHERE q.state = 'queued' AND q.job_id <= j.job_id)
         FROM jobs j WHERE j.submission_id = $1 AND j.state = 'queued'",
    )
    .bind(submission_id)
    .fetch_optional(ex)
    .await
}

/// The lease owner and start of a running submission's job.
pub async fn running_info<'e>(
    ex: impl Executor<'e, Database = Any>,
    submission_id: i64,
) -> sqlx::Result<Option<(String, i64)>> {
    sqlx::query_as("SELECT lease_owner, started_at FROM jobs WHERE submission_id = $1 AND state = 'running'")
        .bind(submission_id)
        .fetch_optional(ex)
        .await
}

/// The submission of a job `owner` still holds, if it does.
pub async fn held<'e>(ex: impl Executor<'e, Database = Any>, job_id: i64, owner: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT submission_id FROM jobs WHERE job_id = $1 AND lease_owner = $2 AND state = 'running'")
        .bind(job_id)
        .bind(owner)
        .fetch_optional(ex)
        .await
}

/// Attempts so far of a job.
pub async fn attempts<'e>(ex: impl Executor<'e, Database = Any>, job_id: i64) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as("SELECT submission_id, attempts FROM jobs WHERE job_id = $1").bind(job_id).fetch_optional(ex).await
}

/// A job with its submission's names, for the organizer's queue view.
#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    /// The job.
    pub job_id: i64,
    /// Its submission.
    pub submission_id: i64,
    /// The team's name.
    pub team: String,
    /// queued, running, done or cancelled.
    pub state: JobState,
    /// Attempts so far.
    pub attempts: i64,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Queued at (ms).
    pub created_at: i64,
    /// Started at (ms).
    pub started_at: Option<i64>,
}

/// A task's unfinished jobs, oldest first.
pub async fn open_of_task<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as(
        "SELECT j.job_id, j.submission_id, t.name AS team, j.state, j.attempts, j.lease_owner, j.created_at, j.started_at
         FROM jobs j JOIN teams t ON t.team_id = j.team_id
         WHERE j.task_id = $1 AND j.state IN ('queued', 'running') ORDER BY j.job_id",
    )
    .bind(task_id)
    .fetch_all(ex)
    .await
}

/// Jobs of a task finished since `since` (ms).
pub async fn finished_since<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64, since: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE task_id = $1 AND state = 'done' AND finished_at >= $2")
        .bind(task_id)
        .bind(since)
        .fetch_one(ex)
        .await
}

/// Cancels a submission's job if it is queued or running; whether it was.
pub async fn cancel<'e>(ex: impl Executor<'e, Database = Any>, submission_id: i64, now: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $2, lease_owner = NULL
         WHERE submission_id = $1 AND state IN ('queued', 'running')",
    )
    .bind(submission_id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Puts a finished or cancelled job back in the queue with fresh attempts.
pub async fn requeue_finished<'e>(ex: impl Executor<'e, Database = Any>, submission_id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, lease_owner = NULL, lease_expires_at = NULL, finished_at = NULL
         WHERE submission_id = $1 AND state IN ('done', 'cancelled')",
    )
    .bind(submission_id)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() > 0)
}
