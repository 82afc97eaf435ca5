//! The team tab and its actions: join a task (accepting its rules), create,
//! rename, invite, accept or decline (which merges teams within the rules),
//! leave. Each action calls the API's handler, so the rules are the same.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{CsrfField, PageCtx, Posted, refused, when};
use crate::auth::CurrentUser;
use crate::db::{self, tasks, teams};
use crate::error::AppError;
use crate::http::{AppPath, ErrorStatus};
use crate::state::AppState;
use crate::teams::{self as domain, InviteRequest, TeamName};

/// What the team tab shows the signed-in viewer.
pub(super) async fn team_context(
    state: &AppState,
    page: &PageCtx,
    task: &tasks::TaskRow,
    me: &CurrentUser,
    team: Option<teams::TeamRow>,
) -> Result<Value, AppError> {
    let invites: Vec<Value> = teams::pending_for_user(&state.db.pool, me.user_id)
        .await?
        .into_iter()
        .filter(|i| i.task_id == task.task_id)
        .map(|i| context! { id => i.invite_id, team => i.team_name, by => i.invited_by, at => when(i.created_at, page.lang) })
        .collect();
    let Some(team) = team else { return Ok(context! { invites => invites }) };
    let members: Vec<Value> = teams::members(&state.db.pool, team.team_id)
        .await?
        .into_iter()
        .map(|m| context! { username => m.username, display_name => m.display_name, joined => when(m.joined_at, page.lang) })
        .collect();
    let sent: Vec<Value> = teams::pending_of_team(&state.db.pool, team.team_id)
        .await?
        .into_iter()
        .map(|i| context! { username => i.username, at => when(i.created_at, page.lang) })
        .collect();
    let solo = members.len() <= 1;
    let now = db::now_ms();
    let merging_open = now < task.closes_at && task.merger_deadline_at.is_none_or(|d| now < d);
    Ok(context! {
        invites => invites,
        team => context! {
            name => team.name, members => members, sent => sent, disqualified => team.disqualified_reason,
            merging_open => merging_open, solo => solo,
        },
    })
}

/// The team tab again with a refused action's message next to the forms
/// and what was typed kept.
async fn on_team_tab(
    state: &AppState,
    page: &super::PageCtx,
    me: &CurrentUser,
    slug: &str,
    e: AppError,
    typed: String,
) -> Result<Response, AppError> {
    let status = e.status();
    if !status.is_client_error() {
        return Err(e);
    }
    let message = match &e {
        AppError::Invalid { message, details, .. } if !details.is_empty() => {
            let list: Vec<String> = details.iter().map(|d| d.message.render(page.lang)).collect();
            format!("{}: {}", message.render(page.lang), list.join("; "))
        }
        other => other.render(page.lang),
    };
    let outcome = super::tasks::TabOutcome {
        status: Some(status),
        summary: String::new(),
        problems: vec![crate::error::Problem::new("", "", message)],
        message: typed,
    };
    let q = super::tasks::TabQuery { tab: Some("team".into()), ..Default::default() };
    super::tasks::task_view(state, page, Some(me), slug, q, outcome).await
}

fn to_team_tab(slug: &str) -> Response {
    Redirect::to(&format!("/tasks/{slug}?tab=team")).into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct JoinForm {
    #[serde(default)]
    accept: String,
}

/// Joins a task as a team of one, once its rules are accepted.
pub(super) async fn join_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    Posted { me, page, form }: Posted<JoinForm>,
) -> Result<Response, AppError> {
    let back = format!("/tasks/{slug}?tab=rules");
    if form.accept != "yes" {
        let e = AppError::invalid("rules_not_accepted", page.t("accept_rules_needed"));
        return refused(&page, page.t("join"), &back, e);
    }
    let task = match crate::tasks::visible_task(&state, &slug, Some(&me)).await {
        Ok(t) if db::now_ms() < t.closes_at => t,
        Ok(_) => return refused(&page, page.t("join"), &back, AppError::Conflict(crate::msg!("task_closed"))),
        Err(e) => return refused(&page, page.t("join"), &back, e),
    };
    domain::ensure_team(&state, task.task_id, me.user_id).await?;
    Ok(Redirect::to(&format!("/tasks/{slug}?tab=submit")).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct NameForm {
    #[serde(default)]
    name: String,
}

/// Creates a named team (joining the task).
pub(super) async fn create_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    Posted { me, page, form }: Posted<NameForm>,
) -> Result<Response, AppError> {
    let typed = form.name.clone();
    match domain::create_team(&state, &me, slug.clone(), TeamName { name: form.name }).await {
        Ok(_) => Ok(to_team_tab(&slug)),
        Err(e) => on_team_tab(&state, &page, &me, &slug, e, typed).await,
    }
}

/// Renames the viewer's team.
pub(super) async fn rename_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    Posted { me, page, form }: Posted<NameForm>,
) -> Result<Response, AppError> {
    let typed = String::new();
    match domain::rename_team(&state, &me, slug.clone(), TeamName { name: form.name }).await {
        Ok(_) => Ok(to_team_tab(&slug)),
        Err(e) => on_team_tab(&state, &page, &me, &slug, e, typed).await,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct InviteForm {
    #[serde(default)]
    username: String,
}

/// Invites a user to the viewer's team.
pub(super) async fn invite_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    Posted { me, page, form }: Posted<InviteForm>,
) -> Result<Response, AppError> {
    let typed = form.username.clone();
    match domain::invite_member(&state, &me, slug.clone(), InviteRequest { username: form.username }).await {
        Ok(_) => Ok(to_team_tab(&slug)),
        Err(e) => on_team_tab(&state, &page, &me, &slug, e, typed).await,
    }
}

/// Leaves the viewer's team (continuing alone).
pub(super) async fn leave_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    Posted { me, page, .. }: Posted<CsrfField>,
) -> Result<Response, AppError> {
    match domain::leave_team(&state, &me, slug.clone()).await {
        Ok(_) => Ok(to_team_tab(&slug)),
        Err(e) => on_team_tab(&state, &page, &me, &slug, e, String::new()).await,
    }
}

/// Accepts or declines an invite.
pub(super) async fn answer_submit(
    State(state): State<AppState>,
    AppPath((id, answer)): AppPath<(i64, String)>,
    Posted { me, page, .. }: Posted<CsrfField>,
) -> Result<Response, AppError> {
    let slug = match teams::invite_by_id(&state.db.pool, id).await? {
        Some(i) if i.user_id == me.user_id => i.task_slug,
        _ => return refused(&page, page.t("tab_team"), "/", AppError::NotFound("invite")),
    };
    let back = format!("/tasks/{slug}?tab=team");
    let done = match answer.as_str() {
        "accept" => domain::accept_invite(&state, &me, id).await.map(|_| ()),
        "decline" => domain::decline_invite(&state, &me, id).await,
        _ => Err(AppError::NotFound("invite_answer")),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&back).into_response()),
        Err(e) => refused(&page, page.t("tab_team"), &back, e),
    }
}
