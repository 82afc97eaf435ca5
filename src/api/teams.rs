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
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::submissions::{Quota, Reason, quota, valid_reason};
use crate::tasks::visible_task;
use crate::auth::CurrentUser;
use crate::competition::merge_allowed;
use crate::db::{self, submissions, tasks, teams, users};
use crate::error::{AppError, AppResult};
use crate::http::{AppJson, AppPath, ErrorBody};
use crate::state::AppState;
use crate::tasks::{editable_by, spec_of};
use crate::teams::{ensure_team, valid_team_name};

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

/// A team member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// RFC 3339.
    pub joined_at: String,
}

/// An invite.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteView {
    /// Id, to accept or decline.
    pub id: i64,
    /// Task slug.
    pub task: String,
    /// Inviting team.
    pub team: String,
    /// Invitee.
    pub username: String,
    /// Who invited.
    pub invited_by: String,
    /// RFC 3339.
    pub created_at: String,
}

/// Your team in a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    /// Team id.
    pub id: i64,
    /// Task slug.
    pub task: String,
    /// Name.
    pub name: String,
    /// Members, earliest first.
    pub members: Vec<MemberView>,
    /// Invites the team has sent and that are unanswered.
    pub pending_invites: Vec<InviteView>,
    /// Largest team allowed.
    pub team_size_cap: u32,
    /// Submissions made, all time.
    pub submissions: i64,
    /// Today's quota.
    pub quota: Quota,
    /// Why the team is disqualified, if it is.
    pub disqualified_reason: Option<String>,
}

fn invite_view(i: teams::InviteRow) -> InviteView {
    InviteView {
        id: i.invite_id,
        task: i.task_slug,
        team: i.team_name,
        username: i.username,
        invited_by: i.invited_by,
        created_at: db::ms_to_rfc3339(i.created_at),
    }
}

async fn team_view(state: &AppState, task: &tasks::TaskRow, team: teams::TeamRow) -> AppResult<TeamView> {
    let spec = spec_of(task)?;
    let members = teams::members(&state.db.pool, team.team_id)
        .await?
        .into_iter()
        .map(|m| MemberView {
            username: m.username,
            display_name: m.display_name,
            joined_at: db::ms_to_rfc3339(m.joined_at),
        })
        .collect();
    let pending_invites =
        teams::pending_of_team(&state.db.pool, team.team_id).await?.into_iter().map(invite_view).collect();
    Ok(TeamView {
        id: team.team_id,
        task: task.slug.clone(),
        name: team.name,
        members,
        pending_invites,
        team_size_cap: spec.submissions.team_size_cap,
        submissions: submissions::count_of_team(&state.db.pool, team.team_id).await?,
        quota: quota(state, team.team_id, spec.submissions.daily_cap, db::now_ms()).await?,
        disqualified_reason: team.disqualified_reason,
    })
}

async fn my_team(state: &AppState, task: &tasks::TaskRow, me: &CurrentUser) -> AppResult<teams::TeamRow> {
    teams::of_user(&state.db.pool, task.task_id, me.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("team (you have not joined this task; submit or create a team first)"))
}

/// Your team in a task.
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/team", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path)), responses((status = 200, body = TeamView), (status = 404, body = ErrorBody)))]
pub async fn get_team(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<AppJson<TeamView>> {
    let task = visible_task(&state, &slug, Some(&me)).await?;
    let team = my_team(&state, &task, &me).await?;
    Ok(AppJson(team_view(&state, &task, team).await?))
}

/// A team name.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TeamName {
    /// 1–64 printable characters, unique in the task.
    pub name: String,
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
    let task = visible_task(&state, &slug, Some(&me)).await?;
    if db::now_ms() >= task.closes_at {
        return Err(AppError::Conflict("the task has closed".into()));
    }
    let name = valid_team_name(&body.name)?;
    if let Some(team) = teams::of_user(&state.db.pool, task.task_id, me.user_id).await? {
        return Err(AppError::Conflict(format!("you are already in team {:?}; rename it instead", team.name).into()));
    }
    if teams::name_taken(&state.db.pool, task.task_id, &name).await? {
        return Err(AppError::Conflict(format!("a team named {name:?} already exists in this task").into()));
    }
    let mut tx = state.db.pool.begin().await?;
    let team_id = teams::create(&mut tx, task.task_id, &name, me.user_id, db::now_ms()).await?;
    tx.commit().await?;
    let team = teams::by_id(&state.db.pool, team_id).await?.ok_or(AppError::NotFound("team"))?;
    Ok((StatusCode::CREATED, AppJson(team_view(&state, &task, team).await?)))
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
    let task = visible_task(&state, &slug, Some(&me)).await?;
    let team = my_team(&state, &task, &me).await?;
    let name = valid_team_name(&body.name)?;
    if !name.eq_ignore_ascii_case(&team.name) && teams::name_taken(&state.db.pool, task.task_id, &name).await? {
        return Err(AppError::Conflict(format!("a team named {name:?} already exists in this task").into()));
    }
    teams::rename(&state.db.pool, team.team_id, &name).await?;
    let team = teams::by_id(&state.db.pool, team.team_id).await?.ok_or(AppError::NotFound("team"))?;
    Ok(AppJson(team_view(&state, &task, team).await?))
}

/// Whom to invite.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InviteRequest {
    /// Their username.
    pub username: String,
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
    let task = visible_task(&state, &slug, Some(&me)).await?;
    let spec = spec_of(&task)?;
    let now = db::now_ms();
    check_merge_window(&task, now)?;
    let team = ensure_team(&state, task.task_id, me.user_id).await?;
    let invitee = users::by_username(&state.db.pool, &body.username.trim().to_ascii_lowercase())
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let theirs = teams::of_user(&state.db.pool, task.task_id, invitee.user_id).await?;
    if theirs.as_ref().is_some_and(|t| t.team_id == team.team_id) {
        return Err(AppError::Conflict(format!("{} is already in your team", invitee.username).into()));
    }
    let size = teams::members(&state.db.pool, team.team_id).await?.len() as u32;
    if size >= spec.submissions.team_size_cap {
        return Err(AppError::Conflict(
            format!("your team is full ({} members at most)", spec.submissions.team_size_cap).into(),
        ));
    }
    if teams::pending_of_team(&state.db.pool, team.team_id).await?.iter().any(|i| i.user_id == invitee.user_id) {
        return Err(AppError::Conflict(
            format!("{} already has a pending invite from your team", invitee.username).into(),
        ));
    }
    let id = teams::invite(&state.db.pool, team.team_id, invitee.user_id, me.user_id, now).await?;
    let invite = teams::invite_by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("invite"))?;
    Ok((StatusCode::CREATED, AppJson(invite_view(invite))))
}

fn check_merge_window(task: &tasks::TaskRow, now: i64) -> AppResult<()> {
    if now >= task.closes_at {
        return Err(AppError::Conflict("the task has closed; teams are fixed".into()));
    }
    if task.merger_deadline_at.is_some_and(|d| now >= d) {
        return Err(AppError::Conflict(
            format!(
                "the team merger deadline ({}) has passed",
                db::ms_to_rfc3339(task.merger_deadline_at.unwrap_or_default())
            )
            .into(),
        ));
    }
    Ok(())
}

/// Your pending invites, across tasks.
#[utoipa::path(get, path = "/api/v1/invites", tag = "teams", security(("bearer" = [])),
    responses((status = 200, body = [InviteView]), (status = 401, body = ErrorBody)))]
pub async fn list_invites(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<Vec<InviteView>>> {
    let rows = teams::pending_for_user(&state.db.pool, me.user_id).await?;
    Ok(AppJson(rows.into_iter().map(invite_view).collect()))
}

async fn pending_invite(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<teams::InviteRow> {
    match teams::invite_by_id(&state.db.pool, id).await? {
        Some(i) if i.user_id == me.user_id && i.answered_at.is_none() => Ok(i),
        Some(i) if i.user_id == me.user_id => Err(AppError::Conflict("this invite was already answered".into())),
        _ => Err(AppError::NotFound("invite")),
    }
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
    let invite = pending_invite(&state, &me, id).await?;
    let task = tasks::by_id(&state.db.pool, invite.task_id).await?.ok_or(AppError::NotFound("task"))?;
    let spec = spec_of(&task)?;
    let now = db::now_ms();
    check_merge_window(&task, now)?;
    let mut tx = state.db.pool.begin().await?;
    teams::lock(&mut *tx, invite.team_id, now).await?;
    let target_size = teams::members(&mut *tx, invite.team_id).await?.len() as u32;
    let mine = teams::of_user(&mut *tx, task.task_id, me.user_id).await?;
    match mine {
        Some(old) => {
            let moving = teams::members(&mut *tx, old.team_id).await?.len() as u32;
            if target_size + moving > spec.submissions.team_size_cap {
                return Err(AppError::Conflict(
                    format!(
                        "the merged team would have {} members; at most {} are allowed",
                        target_size + moving,
                        spec.submissions.team_size_cap
                    )
                    .into(),
                ));
            }
            let total = submissions::counted_total(&mut *tx, old.team_id).await?
                + submissions::counted_total(&mut *tx, invite.team_id).await?;
            if !merge_allowed(total, spec.submissions.daily_cap, task.opens_at, now) {
                return Err(AppError::Conflict(format!(
                    "the merged team would have {total} submissions, more than the daily cap ({}) × days run allows",
                    spec.submissions.daily_cap
                ).into()));
            }
            let selected = submissions::selected_count(&mut *tx, old.team_id).await?
                + submissions::selected_count(&mut *tx, invite.team_id).await?;
            teams::merge(&mut tx, old.team_id, invite.team_id).await?;
            if selected > i64::from(spec.submissions.final_selections) {
                // Too many selections between the two: the merged team chooses again.
                submissions::clear_selections(&mut *tx, invite.team_id).await?;
            }
        }
        None => {
            if target_size >= spec.submissions.team_size_cap {
                return Err(AppError::Conflict(
                    format!("the team is full ({} members at most)", spec.submissions.team_size_cap).into(),
                ));
            }
            teams::add_member(&mut *tx, task.task_id, invite.team_id, me.user_id, now).await?;
        }
    }
    teams::answer(&mut *tx, id, true, now).await?;
    tx.commit().await?;
    tracing::info!(invite = id, team = invite.team_id, user = %me.username, "invite accepted");
    let team = teams::by_id(&state.db.pool, invite.team_id).await?.ok_or(AppError::NotFound("team"))?;
    Ok(AppJson(team_view(&state, &task, team).await?))
}

/// Declines an invite.
#[utoipa::path(post, path = "/api/v1/invites/{id}/decline", tag = "teams", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decline_invite(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<StatusCode> {
    pending_invite(&state, &me, id).await?;
    teams::answer(&state.db.pool, id, false, db::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
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
    let task = visible_task(&state, &slug, Some(&me)).await?;
    let now = db::now_ms();
    if now >= task.closes_at {
        return Err(AppError::Conflict("the task has closed; teams are fixed".into()));
    }
    let team = my_team(&state, &task, &me).await?;
    if teams::members(&state.db.pool, team.team_id).await?.len() <= 1 {
        return Err(AppError::Conflict("you are the team's only member".into()));
    }
    let name = crate::teams::free_name(&state, task.task_id, &me.username).await?;
    let mut tx = state.db.pool.begin().await?;
    teams::remove_member(&mut *tx, task.task_id, me.user_id).await?;
    let new_id = teams::create(&mut tx, task.task_id, &name, me.user_id, now).await?;
    tx.commit().await?;
    let team = teams::by_id(&state.db.pool, new_id).await?.ok_or(AppError::NotFound("team"))?;
    Ok(AppJson(team_view(&state, &task, team).await?))
}

async fn organizer_team(state: &AppState, me: &CurrentUser, slug: &str, team_id: i64) -> AppResult<teams::TeamRow> {
    let task = visible_task(state, slug, Some(me)).await?;
    if !editable_by(&task, me) {
        return Err(AppError::Forbidden("only the task's organizer or an admin can disqualify a team".into()));
    }
    match teams::by_id(&state.db.pool, team_id).await? {
        Some(t) if t.task_id == task.task_id => Ok(t),
        _ => Err(AppError::NotFound("team")),
    }
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
    let team = organizer_team(&state, &me, &slug, team_id).await?;
    let reason = valid_reason(&body)?;
    teams::set_disqualified(&state.db.pool, team.team_id, Some(db::now_ms()), Some(reason)).await?;
    tracing::info!(team = team.team_id, by = %me.username, "team disqualified");
    Ok(StatusCode::NO_CONTENT)
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
    let team = organizer_team(&state, &me, &slug, team_id).await?;
    teams::set_disqualified(&state.db.pool, team.team_id, None, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
