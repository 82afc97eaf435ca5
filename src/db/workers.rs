//! Queries on `workers`: remote evaluation workers and their tokens.

use sqlx::{Any, Executor, FromRow};

/// A row of `workers`.
#[derive(Debug, Clone, FromRow)]
pub struct WorkerRow {
    /// Primary key.
    pub worker_id: i64,
    /// Label given by the admin.
    pub name: String,
    /// Issued (ms).
    pub created_at: i64,
    /// Revoked (ms).
    pub revoked_at: Option<i64>,
    /// `cpu` or `cuda:N (name)`, as last registered.
    pub device: Option<String>,
    /// gaic version of the worker.
    pub version: Option<String>,
    /// Jobs it runs at once.
    pub concurrency: Option<i64>,
    /// Last request (ms).
    pub last_seen_at: Option<i64>,
}

const COLUMNS: &str = "worker_id, name, created_at, revoked_at, device, version, concurrency, last_seen_at";

/// Issues a worker token (its hash); returns the worker's id.
pub async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    name: &str,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO workers (name, token_hash, created_at) VALUES ($1, $2, $3) RETURNING worker_id")
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .fetch_one(ex)
        .await
}

/// The live worker holding this token hash.
pub async fn by_token_hash<'e>(ex: impl Executor<'e, Database = Any>, hash: &str) -> sqlx::Result<Option<WorkerRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM workers WHERE token_hash = $1 AND revoked_at IS NULL"))
        .bind(hash)
        .fetch_optional(ex)
        .await
}

/// Every worker, newest first.
pub async fn list<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<WorkerRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM workers ORDER BY worker_id DESC")).fetch_all(ex).await
}

/// Revokes a worker's token; whether it was live.
pub async fn revoke<'e>(ex: impl Executor<'e, Database = Any>, worker_id: i64, now: i64) -> sqlx::Result<bool> {
    let r = sqlx::query("UPDATE workers SET revoked_at = $2 WHERE worker_id = $1 AND revoked_at IS NULL")
        .bind(worker_id)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Records what a worker reports about itself.
pub async fn register<'e>(
    ex: impl Executor<'e, Database = Any>,
    worker_id: i64,
    device: &str,
    version: &str,
    concurrency: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE workers SET device = $2, version = $3, concurrency = $4, last_seen_at = $5 WHERE worker_id = $1",
    )
    .bind(worker_id)
    .bind(device)
    .bind(version)
    .bind(concurrency)
    .bind(now)
    .execute(ex)
    .await
    .map(|_| ())
}

/// Notes that a worker was heard from.
pub async fn touch<'e>(ex: impl Executor<'e, Database = Any>, worker_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE workers SET last_seen_at = $2 WHERE worker_id = $1")
        .bind(worker_id)
        .bind(now)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Submissions a worker's leases are running now.
pub async fn running_jobs<'e>(ex: impl Executor<'e, Database = Any>, owner_prefix: &str) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT submission_id FROM jobs WHERE state = 'running' AND lease_owner LIKE $1 ORDER BY job_id")
        .bind(format!("{owner_prefix}%"))
        .fetch_all(ex)
        .await
}

/// Whether `hash` is the model or the hidden inputs of the job `lease`
/// holds right now (running under that owner: until the reaper takes an
/// expired lease back, as for heartbeats and results).
pub async fn blob_of_lease<'e>(ex: impl Executor<'e, Database = Any>, lease: &str, hash: &str) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs j JOIN submissions s ON s.submission_id = j.submission_id
         WHERE j.lease_owner = $1 AND j.state = 'running'
           AND (s.blob_hash = $2
                OR EXISTS (SELECT 1 FROM task_files f WHERE f.task_id = j.task_id AND f.visibility = 'hidden'
                           AND f.path = 'hidden/test_inputs.csv' AND f.blob_hash = $2))",
    )
    .bind(lease)
    .bind(hash)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}
