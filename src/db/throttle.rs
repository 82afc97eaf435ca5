//! Queries on `login_failures`: the failed-login throttle every replica shares.

use sqlx::{Any, Executor};

/// Failures of `username_hash` after `since` (ms): how many, and the oldest.
pub async fn failures_since<'e>(
    ex: impl Executor<'e, Database = Any>,
    username_hash: &str,
    since: i64,
) -> sqlx::Result<(i64, Option<i64>)> {
    sqlx::query_as("SELECT COUNT(*), MIN(failed_at) FROM login_failures WHERE username_hash = $1 AND failed_at > $2")
        .bind(username_hash)
        .bind(since)
        .fetch_one(ex)
        .await
}

/// Records a failure at `now` and prunes every failure at or before `before`.
pub async fn record(pool: &sqlx::AnyPool, username_hash: &str, now: i64, before: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1").bind(before).execute(pool).await?;
    sqlx::query("INSERT INTO login_failures (username_hash, failed_at) VALUES ($1, $2)")
        .bind(username_hash)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// Forgets a username's failures (after a successful login).
pub async fn clear<'e>(ex: impl Executor<'e, Database = Any>, username_hash: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username_hash = $1").bind(username_hash).execute(ex).await?;
    Ok(())
}
