//! Teams: your team in a task, naming it, inviting by username, answering
//! invites (a merger when the invitee already has a team), leaving, and an
//! organizer's disqualification.
//!
//! Kaggle's rules hold: one team per person per task, the size cap, and a
//! merger only before the merger deadline and only while the merged team's
//! submissions stay within daily cap × days the task has run.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::http::{AppJson, AppPath, ErrorBody};
use crate::state::AppState;
use crate::teams::{InviteRequest, InviteView, Reason, TeamName, TeamView};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks/{slug}/team", get(get_team).post(create_team).patch(rename_team))
        .route("/tasks/{slug}/team/invites", post(invite_member))
        .route("/tasks/{slug}/team/leave", post(leave_team))
        .route("/tasks/{slug}/teams/{team_id}/disqualification", put(disqualify_team).delete(reinstate_team))
        .route("/invites", get(list_invites))
        .route("/invites/{id}/accept", post(accept_invite))
        .route("/invites/{id}/decline", post(decline_invite))
}

/// Your team in a task.
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/team", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path)), responses((status = 200, body = TeamView), (status = 404, body = ErrorBody)))]
pub async fn get_team(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<AppJson<TeamView>> {
    crate::teams::get_team(&state, &me, slug).await.map(AppJson)
}

/// Joins a task with a new named team (you as its only member).
#[utoipa::path(post, path = "/api/v1/tasks/{slug}/team", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = TeamName,
    responses((status = 201, body = TeamView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    AppJson(body): AppJson<TeamName>,
) -> AppResult<(StatusCode, AppJson<TeamView>)> {
    crate::teams::create_team(&state, &me, slug, body).await.map(|v| (StatusCode::CREATED, AppJson(v)))
}

/// Renames your team.
#[utoipa::path(patch, path = "/api/v1/tasks/{slug}/team", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = TeamName,
    responses((status = 200, body = TeamView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rename_team(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    AppJson(body): AppJson<TeamName>,
) -> AppResult<AppJson<TeamView>> {
    crate::teams::rename_team(&state, &me, slug, body).await.map(AppJson)
}

/// Invites someone to your team (joining, or merging their team into yours
/// when they accept).
#[utoipa::path(post, path = "/api/v1/tasks/{slug}/team/invites", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = InviteRequest,
    responses((status = 201, body = InviteView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn invite_member(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    AppJson(body): AppJson<InviteRequest>,
) -> AppResult<(StatusCode, AppJson<InviteView>)> {
    crate::teams::invite_member(&state, &me, slug, body).await.map(|v| (StatusCode::CREATED, AppJson(v)))
}

/// Your pending invites, across tasks.
#[utoipa::path(get, path = "/api/v1/invites", tag = "teams", security(("bearer" = [])),
    responses((status = 200, body = [InviteView]), (status = 401, body = ErrorBody)))]
pub async fn list_invites(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<Vec<InviteView>>> {
    crate::teams::list_invites(&state, &me).await.map(AppJson)
}

/// Accepts an invite: you join the team, and a team you were in merges into
/// it (its members and submissions move), within the task's rules.
#[utoipa::path(post, path = "/api/v1/invites/{id}/accept", tag = "teams", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TeamView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_invite(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<AppJson<TeamView>> {
    crate::teams::accept_invite(&state, &me, id).await.map(AppJson)
}

/// Declines an invite.
#[utoipa::path(post, path = "/api/v1/invites/{id}/decline", tag = "teams", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decline_invite(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<StatusCode> {
    crate::teams::decline_invite(&state, &me, id).await.map(|()| StatusCode::NO_CONTENT)
}

/// Leaves your team: you continue alone in a new team; the submissions stay
/// with the team you leave.
#[utoipa::path(post, path = "/api/v1/tasks/{slug}/team/leave", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = TeamView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn leave_team(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<AppJson<TeamView>> {
    crate::teams::leave_team(&state, &me, slug).await.map(AppJson)
}

/// Disqualifies a team, with a reason shown to it. Its entries leave the boards.
#[utoipa::path(put, path = "/api/v1/tasks/{slug}/teams/{team_id}/disqualification", tag = "teams",
    security(("bearer" = [])), params(("slug" = String, Path), ("team_id" = i64, Path)), request_body = Reason,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn disqualify_team(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((slug, team_id)): AppPath<(String, i64)>,
    AppJson(body): AppJson<Reason>,
) -> AppResult<StatusCode> {
    crate::teams::disqualify_team(&state, &me, (slug, team_id), body).await.map(|()| StatusCode::NO_CONTENT)
}

/// Lifts a disqualification.
#[utoipa::path(delete, path = "/api/v1/tasks/{slug}/teams/{team_id}/disqualification", tag = "teams",
    security(("bearer" = [])), params(("slug" = String, Path), ("team_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reinstate_team(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((slug, team_id)): AppPath<(String, i64)>,
) -> AppResult<StatusCode> {
    crate::teams::reinstate_team(&state, &me, (slug, team_id)).await.map(|()| StatusCode::NO_CONTENT)
}
