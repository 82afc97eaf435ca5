//! Live status and queue controls.
//!
//! Server-Sent Events: `/submissions/{id}/events` streams a submission's state
//! (queued with its place, running on which worker, then the score or the
//! verdict) until it is final; `/tasks/{slug}/events` says when the
//! leaderboard changed. Both read the database (a submission every 250 ms; a
//! board every second through one shared poller per task, `live`), so they
//! see changes made by any server replica or remote worker. Each open stream
//! holds one of its viewer's places (`limits`): a few per account or
//! anonymous address, and a cap in total.
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

use crate::auth::CurrentUser;
use crate::db;
use crate::error::AppResult;
use crate::http::{AppJson, AppPath, ErrorBody, MaybeUser};
use crate::limits::{Class, Client, Viewer};
use crate::queue::{LiveState, QueueView, is_final, live_state};
use crate::state::AppState;
use crate::submissions::{SubmissionView, visible_submission};
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

/// Streams a submission's state changes (Server-Sent Events, event `state`)
/// until it is final.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/events", tag = "submissions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "text/event-stream of `state` events (LiveState JSON)"), (status = 404, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "too many streams opened or open")))]
pub async fn submission_events(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    visible_submission(&state, &me, id).await?;
    state.limits.account(Class::Events, me.user_id)?;
    let permit = state.limits.stream(Viewer::Account(me.user_id))?;
    let start = (state, None::<LiveState>, false, permit);
    let stream = futures::stream::unfold(start, move |(state, last, done, permit)| async move {
        if done {
            return None;
        }
        loop {
            let now = live_state(&state, id).await.ok().flatten();
            match now {
                Some(s) if last.as_ref() != Some(&s) => {
                    let finished = is_final(s.status);
                    let event = Event::default().event("state").json_data(&s).unwrap_or_default();
                    return Some((Ok(event), (state, Some(s), finished, permit)));
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
    responses((status = 200, description = "text/event-stream of `leaderboard` events"), (status = 404, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "too many streams opened or open")))]
pub async fn task_events(
    State(state): State<AppState>,
    viewer: MaybeUser,
    client: Client,
    AppPath(slug): AppPath<String>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let task = visible_task(&state, &slug, viewer.0.as_ref()).await?;
    let who = match &viewer.0 {
        Some(me) => {
            state.limits.account(Class::Events, me.user_id)?;
            Viewer::Account(me.user_id)
        }
        None => Viewer::Anonymous(client),
    };
    let permit = state.limits.stream(who)?;
    let mut rx = state.live.watch(task.task_id).await?;
    rx.mark_unchanged();
    let stream = futures::stream::unfold((rx, permit), |(mut rx, permit)| async move {
        rx.changed().await.ok()?;
        let (count, at) = *rx.borrow_and_update();
        let data = serde_json::json!({ "scored_submissions": count, "at": at.map(db::ms_to_rfc3339) });
        Some((Ok(Event::default().event("leaderboard").data(data.to_string())), (rx, permit)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
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
    crate::queue::cancel_submission(&state, &me, id).await.map(AppJson)
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
    crate::queue::requeue_submission(&state, &me, id).await.map(AppJson)
}

/// A task's queue depth, throughput and unfinished jobs (organizers).
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/queue", tag = "queue", security(("bearer" = [])),
    params(("slug" = String, Path)), responses((status = 200, body = QueueView), (status = 403, body = ErrorBody)))]
pub async fn get_queue(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<AppJson<QueueView>> {
    crate::queue::get_queue(&state, &me, slug, 3 * state.queue.config.lease_ms).await.map(AppJson)
}

/// Cancels every queued (not running) job of a task (organizers).
#[utoipa::path(delete, path = "/api/v1/tasks/{slug}/queue", tag = "queue", security(("bearer" = [])),
    params(("slug" = String, Path)), responses((status = 200, description = "how many were cancelled"), (status = 403, body = ErrorBody)))]
pub async fn purge_queue(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<(StatusCode, AppJson<serde_json::Value>)> {
    crate::queue::purge_queue(&state, &me, slug).await.map(|v| (StatusCode::OK, AppJson(v)))
}
