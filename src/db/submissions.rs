//! Queries on `submissions` and `baselines`.

use sqlx::{Any, Executor, FromRow};

use crate::status::{Flag, SubmissionStatus};

/// A row of `submissions` with its team and submitter names.
#[derive(Debug, Clone, FromRow)]
pub struct SubmissionRow {
    /// Primary key.
    pub submission_id: i64,
    /// Task.
    pub task_id: i64,
    /// Team.
    pub team_id: i64,
    /// Team name.
    pub team_name: String,
    /// Submitter.
    pub user_id: i64,
    /// Submitter's username.
    pub username: String,
    /// `predictions` or `model`.
    pub kind: String,
    /// The competitor's note.
    pub message: String,
    /// Uploaded file name.
    pub file_name: String,
    /// Content hash.
    pub blob_hash: String,
    /// Bytes.
    pub size: i64,
    /// Where it stands.
    pub status: SubmissionStatus,
    /// Public-board score.
    pub public_score: Option<f64>,
    /// Private-board score.
    pub private_score: Option<f64>,
    /// Message for the submitter.
    pub error: Option<String>,
    /// Made at or after the task's close as it stands now (decided when
    /// read, not when stored: moving the close moves it): scored, never
    /// ranked.
    pub late: Flag,
    /// Counts toward the daily cap (not after a platform failure).
    pub counted: Flag,
    /// Final selection (ms).
    pub selected_at: Option<i64>,
    /// Hidden by the organizer (ms).
    pub hidden_at: Option<i64>,
    /// Why.
    pub hidden_reason: Option<String>,
    /// Created (ms).
    pub created_at: i64,
    /// Scored (ms).
    pub scored_at: Option<i64>,
    /// Model runs: the sandbox's verdict.
    pub verdict: Option<crate::status::StoredVerdict>,
    /// Model runs: fuel spent.
    pub fuel_used: Option<i64>,
    /// Model runs: peak memory.
    pub peak_memory_bytes: Option<i64>,
    /// Model runs: wall time.
    pub wall_ms: Option<i64>,
    /// Model runs: the predictions CSV the outputs became.
    pub predictions_hash: Option<String>,
    /// On a Ladder task, the public score as scored (`public_score` is the
    /// score shown).
    pub raw_public_score: Option<f64>,
    /// Model runs: the device that ran the host ops.
    pub device: Option<String>,
}

impl SubmissionRow {
    /// The blob holding this submission's predictions as a CSV, if any.
    pub fn predictions_blob(&self) -> Option<&str> {
        match self.kind.as_str() {
            "predictions" => Some(&self.blob_hash),
            _ => self.predictions_hash.as_deref(),
        }
    }
}

const SELECT: &str = "SELECT s.submission_id, s.task_id, s.team_id, t.name AS team_name, s.user_id, u.username,
        s.kind, s.message, s.file_name, s.blob_hash, s.size, s.status, s.public_score, s.private_score, s.error,
        CAST(CASE WHEN s.created_at >= k.closes_at THEN 1 ELSE 0 END AS BIGINT) AS late,
        s.counted, s.selected_at, s.hidden_at, s.hidden_reason, s.created_at, s.scored_at,
        s.verdict, s.fuel_used, s.peak_memory_bytes, s.wall_ms, s.predictions_hash, s.raw_public_score, s.device
    FROM submissions s JOIN teams t ON t.team_id = s.team_id JOIN users u ON u.user_id = s.user_id
        JOIN tasks k ON k.task_id = s.task_id";

/// The fields of a new submission.
#[derive(Debug)]
pub struct NewSubmission<'a> {
    /// Task.
    pub task_id: i64,
    /// Team.
    pub team_id: i64,
    /// Submitter.
    pub user_id: i64,
    /// `predictions` or `model`.
    pub kind: &'a str,
    /// Note.
    pub message: &'a str,
    /// File name.
    pub file_name: &'a str,
    /// Content hash.
    pub blob_hash: &'a str,
    /// Bytes.
    pub size: i64,
    /// Initial status.
    pub status: SubmissionStatus,
    /// Public score, if scored (on a Ladder task, the score shown).
    pub public_score: Option<f64>,
    /// On a Ladder task, the public score as scored.
    pub raw_public_score: Option<f64>,
    /// Private score, if scored.
    pub private_score: Option<f64>,
    /// Made after the close.
    pub late: bool,
    /// The client's idempotency key, if it sent one.
    pub idempotency_key: Option<&'a str>,
}

/// A nullable float as two always-typed bind values: the number (0 when
/// absent) and a 1/0 presence flag, read back with
/// `CASE WHEN flag = 1 THEN value END`. sqlx's Any driver binds a NULL f64
/// as float4 on PostgreSQL, so a statement first prepared with a NULL would
/// later refuse a real score (22P03); this way the types never change.
fn nullable(v: Option<f64>) -> (f64, i64) {
    (v.unwrap_or(0.0), i64::from(v.is_some()))
}

/// Inserts a submission; returns its id.
pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, s: &NewSubmission<'_>, now: i64) -> sqlx::Result<i64> {
    let scored_at = (s.status == SubmissionStatus::Scored).then_some(now);
    sqlx::query_scalar(
        "INSERT INTO submissions (task_id, team_id, user_id, kind, message, file_name, blob_hash, size, status,
                                  public_score, private_score, late, counted, created_at, scored_at, idempotency_key,
                                  raw_public_score)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $16 = 1 THEN $10 END, CASE WHEN $17 = 1 THEN $11 END,
                 $12, 1, $13, $14, $15, CASE WHEN $19 = 1 THEN $18 END) RETURNING submission_id",
    )
    .bind(s.task_id)
    .bind(s.team_id)
    .bind(s.user_id)
    .bind(s.kind)
    .bind(s.message)
    .bind(s.file_name)
    .bind(s.blob_hash)
    .bind(s.size)
    .bind(s.status)
    .bind(nullable(s.public_score).0)
    .bind(nullable(s.private_score).0)
    .bind(i64::from(s.late))
    .bind(now)
    .bind(scored_at)
    .bind(s.idempotency_key)
    .bind(nullable(s.public_score).1)
    .bind(nullable(s.private_score).1)
    .bind(nullable(s.raw_public_score).0)
    .bind(nullable(s.raw_public_score).1)
    .fetch_one(ex)
    .await
}

/// The submission a user already made with this idempotency key.
pub async fn by_idempotency_key<'e>(
    ex: impl Executor<'e, Database = Any>,
    user_id: i64,
    key: &str,
) -> sqlx::Result<Option<SubmissionRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE s.user_id = $1 AND s.idempotency_key = $2"))
        .bind(user_id)
        .bind(key)
        .fetch_optional(ex)
        .await
}

/// A submission by id.
pub async fn by_id<'e>(ex: impl Executor<'e, Database = Any>, id: i64) -> sqlx::Result<Option<SubmissionRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE s.submission_id = $1")).bind(id).fetch_optional(ex).await
}

/// A team's submissions, newest first.
pub async fn of_team<'e>(
    ex: impl Executor<'e, Database = Any>,
    team_id: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<SubmissionRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE s.team_id = $1 ORDER BY s.submission_id DESC LIMIT $2 OFFSET $3"))
        .bind(team_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(ex)
        .await
}

/// How many submissions a team has.
pub async fn count_of_team<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE team_id = $1").bind(team_id).fetch_one(ex).await
}

/// Every submission of a task, newest first (organizer views).
pub async fn of_task<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<SubmissionRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE s.task_id = $1 ORDER BY s.submission_id DESC LIMIT $2 OFFSET $3"))
        .bind(task_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(ex)
        .await
}

/// How many submissions a task has.
pub async fn count_of_task<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE task_id = $1").bind(task_id).fetch_one(ex).await
}

/// Submissions since `since` (ms), per task that has any: `(task_id, count)`.
pub async fn count_per_task_since<'e>(
    ex: impl Executor<'e, Database = Any>,
    since: i64,
) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as("SELECT task_id, COUNT(*) FROM submissions WHERE created_at >= $1 GROUP BY task_id")
        .bind(since)
        .fetch_all(ex)
        .await
}

/// Every scored submission of a task, oldest first (leaderboards, rescoring).
pub async fn scored_of_task<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
) -> sqlx::Result<Vec<SubmissionRow>> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE s.task_id = $1 AND s.status = 'scored' ORDER BY s.created_at, s.submission_id"
    ))
    .bind(task_id)
    .fetch_all(ex)
    .await
}

/// Submissions of a team that count toward the cap since `since` (ms).
pub async fn counted_since<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64, since: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE team_id = $1 AND counted = 1 AND created_at >= $2")
        .bind(team_id)
        .bind(since)
        .fetch_one(ex)
        .await
}

/// How many of a team's submissions have a public score, and the newest
/// (0 when none): what a Ladder step was judged against, read again under
/// the team's lock before its result is stored. The count changes too when
/// an older model is scored after a newer upload.
pub async fn newest_scored<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MAX(submission_id), 0) FROM submissions WHERE team_id = $1 AND public_score IS NOT NULL",
    )
    .bind(team_id)
    .fetch_one(ex)
    .await
}

/// Submissions of a team that count toward the cap, ever.
pub async fn counted_total<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<i64> {
    counted_since(ex, team_id, i64::MIN).await
}

/// Number of a team's selected submissions.
pub async fn selected_count<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE team_id = $1 AND selected_at IS NOT NULL")
        .bind(team_id)
        .fetch_one(ex)
        .await
}

/// Selects or unselects a submission.
pub async fn set_selected<'e>(ex: impl Executor<'e, Database = Any>, id: i64, at: Option<i64>) -> sqlx::Result<()> {
    sqlx::query("UPDATE submissions SET selected_at = $2 WHERE submission_id = $1")
        .bind(id)
        .bind(at)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Clears every selection of a team.
pub async fn clear_selections<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE submissions SET selected_at = NULL WHERE team_id = $1")
        .bind(team_id)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Uploads of a team refused since `since` (ms).
pub async fn refused_since<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64, since: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM refused_uploads WHERE team_id = $1 AND refused_at >= $2")
        .bind(team_id)
        .bind(since)
        .fetch_one(ex)
        .await
}

/// Records a refused upload at `now`, pruning the team's refusals before
/// `before`.
pub async fn record_refused(pool: &sqlx::AnyPool, team_id: i64, now: i64, before: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM refused_uploads WHERE team_id = $1 AND refused_at < $2")
        .bind(team_id)
        .bind(before)
        .execute(pool)
        .await?;
    sqlx::query("INSERT INTO refused_uploads (team_id, refused_at) VALUES ($1, $2)")
        .bind(team_id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// Voids every final selection in a task (a re-open); returns how many.
pub async fn clear_task_selections<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<u64> {
    sqlx::query("UPDATE submissions SET selected_at = NULL WHERE task_id = $1 AND selected_at IS NOT NULL")
        .bind(task_id)
        .execute(ex)
        .await
        .map(|r| r.rows_affected())
}

/// Hides (with a reason) or unhides a submission.
pub async fn set_hidden<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
    at: Option<i64>,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE submissions SET hidden_at = $2, hidden_reason = $3 WHERE submission_id = $1")
        .bind(id)
        .bind(at)
        .bind(reason)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Writes new scores (rescoring).
pub async fn set_scores<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
    (public, raw_public, private): (Option<f64>, Option<f64>, Option<f64>),
    error: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    let status = if error.is_some() { SubmissionStatus::Failed } else { SubmissionStatus::Scored };
    sqlx::query(
        "UPDATE submissions SET public_score = CASE WHEN $7 = 1 THEN $2 END, private_score = CASE WHEN $8 = 1 THEN $3 END,
                error = $4, status = $5, scored_at = $6, raw_public_score = CASE WHEN $10 = 1 THEN $9 END
         WHERE submission_id = $1",
    )
    .bind(id)
    .bind(nullable(public).0)
    .bind(nullable(private).0)
    .bind(error)
    .bind(status)
    .bind(now)
    .bind(nullable(public).1)
    .bind(nullable(private).1)
    .bind(nullable(raw_public).0)
    .bind(nullable(raw_public).1)
    .execute(ex)
    .await
    .map(|_| ())
}

/// A row of `baselines`.
#[derive(Debug, Clone, FromRow)]
pub struct BaselineRow {
    /// Primary key.
    pub baseline_id: i64,
    /// Name shown on the boards.
    pub name: String,
    /// Public score.
    pub public_score: f64,
    /// Private score.
    pub private_score: f64,
    /// Created (ms).
    pub created_at: i64,
}

/// A task's baselines.
pub async fn baselines<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<Vec<BaselineRow>> {
    sqlx::query_as(
        "SELECT baseline_id, name, public_score, private_score, created_at FROM baselines WHERE task_id = $1 ORDER BY baseline_id",
    )
    .bind(task_id)
    .fetch_all(ex)
    .await
}

/// Adds a baseline; returns its id.
pub async fn add_baseline<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
    name: &str,
    public: f64,
    private: f64,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO baselines (task_id, name, public_score, private_score, created_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING baseline_id",
    )
    .bind(task_id)
    .bind(name)
    .bind(public)
    .bind(private)
    .bind(now)
    .fetch_one(ex)
    .await
}

/// Removes a baseline; whether it existed.
pub async fn delete_baseline<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64, id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM baselines WHERE task_id = $1 AND baseline_id = $2")
        .bind(task_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Replaces the blob of a task's hidden file (after a label fix).
pub async fn replace_hidden_file<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
    path: &str,
    blob_hash: &str,
    size: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE task_files SET blob_hash = $3, size = $4 WHERE task_id = $1 AND visibility = 'hidden' AND path = $2",
    )
    .bind(task_id)
    .bind(path)
    .bind(blob_hash)
    .bind(size)
    .execute(ex)
    .await
    .map(|_| ())
}

/// The blob hash of a task's hidden file.
pub async fn hidden_file<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
    path: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT blob_hash FROM task_files WHERE task_id = $1 AND visibility = 'hidden' AND path = $2")
        .bind(task_id)
        .bind(path)
        .fetch_optional(ex)
        .await
}

/// Marks a queued submission as running; false if it was not queued.
pub async fn start_run<'e>(ex: impl Executor<'e, Database = Any>, id: i64, now: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE submissions SET status = 'running', started_at = $2 WHERE submission_id = $1 AND status = 'queued'",
    )
    .bind(id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// What a finished run writes to its submission.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// `scored`, `failed` or `platform_error`.
    pub status: crate::status::SubmissionStatus,
    /// Public score when scored.
    pub public: Option<f64>,
    /// On a Ladder task, the public score as scored (`public` is then the
    /// score shown).
    pub raw_public: Option<f64>,
    /// Private score when scored.
    pub private: Option<f64>,
    /// Message for the submitter when failed.
    pub error: Option<String>,
    /// The sandbox's verdict.
    pub verdict: Option<gaic_sandbox::Verdict>,
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
    /// Organizers only: the real message and exact figures, where the
    /// competitor sees a fixed message and coarse figures.
    pub detail: Option<String>,
    /// The device that ran the host ops.
    pub device: Option<String>,
}

impl RunResult {
    /// A result with `status` and nothing else yet.
    pub fn with_status(status: crate::status::SubmissionStatus) -> Self {
        Self {
            status,
            public: None,
            raw_public: None,
            private: None,
            error: None,
            verdict: None,
            fuel_used: None,
            peak_memory_bytes: None,
            wall_ms: None,
            log: None,
            predictions_hash: None,
            detail: None,
            device: None,
        }
    }
}

/// Writes a run's result; only a `running` submission changes, so a late or
/// duplicate result is ignored. A platform error does not count toward the cap.
pub async fn finish_run<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
    r: &RunResult,
    now: i64,
) -> sqlx::Result<bool> {
    let res = sqlx::query(
        "UPDATE submissions SET status = $2, public_score = CASE WHEN $13 = 1 THEN $3 END,
                private_score = CASE WHEN $14 = 1 THEN $4 END, error = $5, verdict = $6,
                fuel_used = $7, peak_memory_bytes = $8, wall_ms = $9, run_log = $10, scored_at = $11,
                predictions_hash = $12, run_detail = $15, raw_public_score = CASE WHEN $17 = 1 THEN $16 END, device = $18,
                counted = CASE WHEN $2 = 'platform_error' THEN 0 ELSE counted END
         WHERE submission_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(id)
    .bind(r.status)
    .bind(nullable(r.public).0)
    .bind(nullable(r.private).0)
    .bind(r.error.as_deref())
    .bind(r.verdict.map(|v| v.as_str()))
    .bind(r.fuel_used)
    .bind(r.peak_memory_bytes)
    .bind(r.wall_ms)
    .bind(r.log.as_deref())
    .bind(now)
    .bind(r.predictions_hash.as_deref())
    .bind(nullable(r.public).1)
    .bind(nullable(r.private).1)
    .bind(r.detail.as_deref())
    .bind(nullable(r.raw_public).0)
    .bind(nullable(r.raw_public).1)
    .bind(r.device.as_deref())
    .execute(ex)
    .await?;
    Ok(res.rows_affected() > 0)
}

/// Puts an unfinished submission back in the queue.
pub async fn requeue<'e>(ex: impl Executor<'e, Database = Any>, id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE submissions SET status = 'queued', started_at = NULL WHERE submission_id = $1 AND status = 'running'",
    )
    .bind(id)
    .execute(ex)
    .await
    .map(|_| ())
}

/// The run details of a model submission.
#[derive(Debug, Clone, Default, FromRow)]
pub struct RunRow {
    /// Verdict.
    pub verdict: Option<crate::status::StoredVerdict>,
    /// Fuel.
    pub fuel_used: Option<i64>,
    /// Peak memory.
    pub peak_memory_bytes: Option<i64>,
    /// Wall time.
    pub wall_ms: Option<i64>,
    /// Model log.
    pub run_log: Option<String>,
    /// The real message and exact figures where competitors see coarse ones.
    pub run_detail: Option<String>,
}

/// The run details of a submission.
pub async fn run_of<'e>(ex: impl Executor<'e, Database = Any>, id: i64) -> sqlx::Result<RunRow> {
    sqlx::query_as(
        "SELECT verdict, fuel_used, peak_memory_bytes, wall_ms, run_log, run_detail FROM submissions WHERE submission_id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await
    .map(Option::unwrap_or_default)
}

/// Fuel used by each scored model submission of a task.
pub async fn fuel_of_task<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as("SELECT submission_id, fuel_used FROM submissions WHERE task_id = $1 AND fuel_used IS NOT NULL")
        .bind(task_id)
        .fetch_all(ex)
        .await
}

/// Marks a submission cancelled (failed, refunded).
pub async fn cancel<'e>(ex: impl Executor<'e, Database = Any>, id: i64, reason: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE submissions SET status = 'failed', error = $2, counted = 0, scored_at = $3
         WHERE submission_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(id)
    .bind(reason)
    .bind(now)
    .execute(ex)
    .await
    .map(|_| ())
}

/// Resets a model submission for another evaluation.
pub async fn reset_for_requeue<'e>(ex: impl Executor<'e, Database = Any>, id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE submissions SET status = 'queued', public_score = NULL, private_score = NULL, error = NULL, verdict = NULL,
                fuel_used = NULL, peak_memory_bytes = NULL, wall_ms = NULL, run_log = NULL, predictions_hash = NULL,
                run_detail = NULL, device = NULL, scored_at = NULL, started_at = NULL
         WHERE submission_id = $1",
    )
    .bind(id)
    .execute(ex)
    .await
    .map(|_| ())
}

/// The status fields a live view follows.
pub async fn live<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> sqlx::Result<Option<(SubmissionStatus, Option<f64>, Option<String>, Option<String>)>> {
    sqlx::query_as("SELECT status, public_score, verdict, error FROM submissions WHERE submission_id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await
}

/// How many submissions of a task are scored, and the latest score time.
pub async fn scored_marker<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
) -> sqlx::Result<(i64, Option<i64>)> {
    sqlx::query_as("SELECT COUNT(*), MAX(scored_at) FROM submissions WHERE task_id = $1 AND status = 'scored'")
        .bind(task_id)
        .fetch_one(ex)
        .await
}
