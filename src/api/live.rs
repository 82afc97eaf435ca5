//! Live status and queue controls.
//!
//! Server-Sent Events: `/submissions/{id}/events` streams a submission's state
//! (queued with its place, running on which worker, then the score or the
//! verdict) until it is final; `/tasks/{slug}/events` says when the
//! leaderboard changed. Both poll the database (every 250 ms / 1 s), so they
//! see changes made by any server replica or remote worker.
//!
//! Organizers and admins cancel or requeue a model's job, purge a task's
//! queue, and see its depth and throughput.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use futures::Stream;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::db::{self, jobs, submissions};
use crate::error::{AppError, AppResult};
use crate::http::MaybeUser;
use crate::http::{AppJson, AppPath, ErrorBody};
use crate::state::AppState;
use crate::status::{JobState, SubmissionStatus};
use crate::submissions::{SubmissionView, view, visible_submission};
use crate::tasks::editable_by;
use crate::tasks::visible_task;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/submissions/{id}/events", get(submission_events))
        .route("/tasks/{slug}/events", get(task_events))
        .route("/submissions/{id}/cancel", post(cancel_submission))
        .route("/submissions/{id}/requeue", post(requeue_submission))
        .route("/tasks/{slug}/queue", get(get_queue).delete(purge_queue))
}

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

async fn live_state(state: &AppState, id: i64) -> sqlx::Result<Option<LiveState>> {
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

fn is_final(status: SubmissionStatus) -> bool {
    !status.is_pending()
}

/// Streams a submission's state changes (Server-Sent Events, event `state`)
/// until it is final.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/events", tag = "submissions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "text/event-stream of `state` events (LiveState JSON)"), (status = 404, body = ErrorBody)))]
pub async fn submission_events(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    visible_submission(&state, &me, id).await?;
    let stream = futures::stream::unfold((state, None::<LiveState>, false), move |(state, last, done)| async move {
        if done {
            return None;
        }
        loop {
            let now = live_state(&state, id).await.ok().flatten();
            match now {
                Some(s) if last.as_ref() != Some(&s) => {
                    let finished = is_final(s.status);
                    let event = Event::default().event("state").json_data(&s).unwrap_or_default();
                    return Some((Ok(event), (state, Some(s), finished)));
                }
                None => return None,
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Streams `leaderboard` events whenever a task's scored submissions change
/// (Server-Sent Events), so a board can refresh itself.
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/events", tag = "leaderboards", params(("slug" = String, Path)),
    responses((status = 200, description = "text/event-stream of `leaderboard` events"), (status = 404, body = ErrorBody)))]
pub async fn task_events(
    State(state): State<AppState>,
    viewer: MaybeUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let task = visible_task(&state, &slug, viewer.0.as_ref()).await?;
    let task_id = task.task_id;
    let first = submissions::scored_marker(&state.db.pool, task_id).await?;
    let stream = futures::stream::unfold((state, first), move |(state, last)| async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let Ok(now) = submissions::scored_marker(&state.db.pool, task_id).await else { continue };
            if now != last {
                let data = serde_json::json!({ "scored_submissions": now.0, "at": now.1.map(db::ms_to_rfc3339) });
                return Some((Ok(Event::default().event("leaderboard").data(data.to_string())), (state, now)));
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn organizer_submission(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(submissions::SubmissionRow, String)> {
    let (sub, task, organizer) = visible_submission(state, me, id).await?;
    if !organizer {
        return Err(AppError::Forbidden("only the task's organizer or an admin controls the queue".into()));
    }
    if sub.kind != "model" {
        return Err(AppError::Conflict("only model submissions are evaluated in the queue".into()));
    }
    Ok((sub, task.slug))
}

/// Cancels a queued or running model evaluation; it ends failed and does not
/// count toward the team's cap. A worker still running it is refused.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/cancel", tag = "queue", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SubmissionView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_submission(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<AppJson<SubmissionView>> {
    let (_, slug) = organizer_submission(&state, &me, id).await?;
    let now = db::now_ms();
    let mut tx = state.db.pool.begin().await?;
    if !jobs::cancel(&mut *tx, id, now).await? {
        return Err(AppError::Conflict("the submission is not queued or running".into()));
    }
    submissions::cancel(&mut *tx, id, &format!("cancelled by {}", me.username), now).await?;
    tx.commit().await?;
    tracing::info!(submission = id, by = %me.username, "evaluation cancelled");
    let row = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    Ok(AppJson(view(row, &slug, true)))
}

/// Runs a finished (or cancelled) model evaluation again, with fresh attempts.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/requeue", tag = "queue", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SubmissionView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn requeue_submission(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<AppJson<SubmissionView>> {
    let (_, slug) = organizer_submission(&state, &me, id).await?;
    let mut tx = state.db.pool.begin().await?;
    if !jobs::requeue_finished(&mut *tx, id).await? {
        return Err(AppError::Conflict("the submission is still queued or running".into()));
    }
    submissions::reset_for_requeue(&mut *tx, id).await?;
    tx.commit().await?;
    state.queue_wakeup.notify_one();
    tracing::info!(submission = id, by = %me.username, "evaluation requeued");
    let row = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    Ok(AppJson(view(row, &slug, true)))
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
}

async fn organizer_task(state: &AppState, me: &CurrentUser, slug: &str) -> AppResult<crate::db::tasks::TaskRow> {
    let task = visible_task(state, slug, Some(me)).await?;
    if !editable_by(&task, me) {
        return Err(AppError::Forbidden("only the task's organizer or an admin sees and controls its queue".into()));
    }
    Ok(task)
}

/// A task's queue depth, throughput and unfinished jobs (organizers).
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/queue", tag = "queue", security(("bearer" = [])),
    params(("slug" = String, Path)), responses((status = 200, body = QueueView), (status = 403, body = ErrorBody)))]
pub async fn get_queue(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<AppJson<QueueView>> {
    let task = organizer_task(&state, &me, &slug).await?;
    let rows = jobs::open_of_task(&state.db.pool, task.task_id).await?;
    let finished_last_hour = jobs::finished_since(&state.db.pool, task.task_id, db::now_ms() - 3_600_000).await?;
    Ok(AppJson(QueueView {
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
    }))
}

/// Cancels every queued (not running) job of a task (organizers).
#[utoipa::path(delete, path = "/api/v1/tasks/{slug}/queue", tag = "queue", security(("bearer" = [])),
    params(("slug" = String, Path)), responses((status = 200, description = "how many were cancelled"), (status = 403, body = ErrorBody)))]
pub async fn purge_queue(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<(StatusCode, AppJson<serde_json::Value>)> {
    let task = organizer_task(&state, &me, &slug).await?;
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
    tracing::info!(task = %slug, cancelled, by = %me.username, "queue purged");
    Ok((StatusCode::OK, AppJson(serde_json::json!({ "cancelled": cancelled }))))
}
