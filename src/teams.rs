//! Teams: your team in a task, naming it, inviting by username, answering
//! invites (a merger when the invitee already has a team), leaving, an
//! organizer's disqualification, and a team's daily quota.
//!
//! Invariants: a person is in at most one team per task (the primary key
//! of `team_members`; [`ensure_team`] creates a solo team, named after them,
//! on first use and tolerates a concurrent creation); team names are unique
//! within a task (`UNIQUE (task_id, name)`; a taken name gets a numbered
//! suffix). Kaggle's rules hold: the size cap, and a merger only before the
//! merger deadline and only while the merged team's submissions stay within
//! daily cap × days the task has run (`competition::merge_allowed`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::competition::{DAY_MS, merge_allowed, utc_day_start};
use crate::db::{self, submissions, tasks, teams, users};
use crate::error::{AppError, AppResult};
use crate::msg;
use crate::platform::Platform;
use crate::tasks::{managed_task, spec_of, visible_task};

/// The caller's team in a task, creating a solo team (named after them) on
/// first use: a solo competitor is a team of one.
pub async fn ensure_team(state: &Platform, task_id: i64, user_id: i64) -> Result<teams::TeamRow, AppError> {
    if let Some(team) = teams::of_user(&state.db.pool, task_id, user_id).await? {
        return Ok(team);
    }
    let user = users::by_id(&state.db.pool, user_id).await?.ok_or(AppError::NotFound("user"))?;
    let name = free_name(state, task_id, &user.username).await?;
    let mut tx = state.db.pool.begin().await?;
    let created = teams::create(&mut tx, task_id, &name, user_id, db::now_ms()).await;
    match created {
        Ok(team_id) => {
            tx.commit().await?;
            teams::by_id(&state.db.pool, team_id).await?.ok_or(AppError::NotFound("team"))
        }
        // A concurrent request created it first: use that one.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            drop(tx);
            teams::of_user(&state.db.pool, task_id, user_id).await?.ok_or(AppError::NotFound("team"))
        }
        Err(e) => Err(e.into()),
    }
}

/// `base`, or `base-2`, `base-3`, … whichever is free in the task.
pub async fn free_name(state: &Platform, task_id: i64, base: &str) -> Result<String, AppError> {
    let mut name = base.to_owned();
    let mut n = 1;
    while teams::name_taken(&state.db.pool, task_id, &name).await? {
        n += 1;
        name = format!("{base}-{n}");
    }
    Ok(name)
}

/// Checks a team name: 1–64 printable characters.
pub fn valid_team_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    let len = name.chars().count();
    if len == 0 || len > 64 || name.chars().any(char::is_control) {
        return Err(AppError::invalid("invalid_team_name", msg!("team_name_invalid")));
    }
    Ok(name.to_owned())
}

/// A team's daily submission quota.
#[derive(Debug, Serialize, ToSchema)]
pub struct Quota {
    /// Submissions allowed per UTC day.
    pub daily_cap: u32,
    /// Used today.
    pub used_today: i64,
    /// Left today.
    pub remaining_today: i64,
    /// When the count resets (RFC 3339, midnight UTC).
    pub resets_at: String,
    /// Uploads refused today (invalid files: not counted above).
    pub refused_today: i64,
    /// Refusals allowed per UTC day (3 × the daily cap): beyond them the
    /// team waits for the next day, so invalid uploads cannot probe the
    /// hidden data without bound.
    pub refused_cap: i64,
}

/// Refused uploads a team may have per day, per submission of its cap.
pub const REFUSALS_PER_SUBMISSION: i64 = 3;

impl Quota {
    /// The quota of a team with `used` submissions and `refused` refusals
    /// in `now`'s UTC day.
    pub fn at(daily_cap: u32, used: i64, refused: i64, now: i64) -> Self {
        Quota {
            daily_cap,
            used_today: used,
            remaining_today: (i64::from(daily_cap) - used).max(0),
            resets_at: db::ms_to_rfc3339(utc_day_start(now) + DAY_MS),
            refused_today: refused,
            refused_cap: i64::from(daily_cap) * REFUSALS_PER_SUBMISSION,
        }
    }
}

/// The quota of a team at `now`.
pub async fn quota(state: &Platform, team_id: i64, daily_cap: u32, now: i64) -> AppResult<Quota> {
    let day = utc_day_start(now);
    let used = submissions::counted_since(&state.db.pool, team_id, day).await?;
    let refused = submissions::refused_since(&state.db.pool, team_id, day).await?;
    Ok(Quota::at(daily_cap, used, refused, now))
}

/// A reason, shown to the team concerned.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Reason {
    /// Why (1–500 characters).
    pub reason: String,
}

/// Checks a reason's length.
pub fn valid_reason(r: &Reason) -> AppResult<&str> {
    valid_reason_text(&r.reason)
}

/// A reason (shown to whom it concerns, or logged) trimmed, if it has 1 to
/// 500 characters.
pub fn valid_reason_text(reason: &str) -> AppResult<&str> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::invalid("invalid_reason", msg!("reason_invalid")));
    }
    Ok(reason)
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

async fn team_view(state: &Platform, task: &tasks::TaskRow, team: teams::TeamRow) -> AppResult<TeamView> {
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

async fn my_team(state: &Platform, task: &tasks::TaskRow, me: &CurrentUser) -> AppResult<teams::TeamRow> {
    teams::of_user(&state.db.pool, task.task_id, me.user_id).await?.ok_or_else(|| AppError::NotFound("team_not_joined"))
}

/// Your team in a task.
pub async fn get_team(state: &Platform, me: &CurrentUser, slug: String) -> AppResult<TeamView> {
    let task = visible_task(state, &slug, Some(me)).await?;
    let team = my_team(state, &task, me).await?;
    team_view(state, &task, team).await
}

/// A team name.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TeamName {
    /// 1–64 printable characters, unique in the task.
    pub name: String,
}

/// Joins a task with a new named team (you as its only member).
pub async fn create_team(state: &Platform, me: &CurrentUser, slug: String, body: TeamName) -> AppResult<TeamView> {
    let task = visible_task(state, &slug, Some(me)).await?;
    if db::now_ms() >= task.closes_at {
        return Err(AppError::Conflict(msg!("task_closed")));
    }
    let name = valid_team_name(&body.name)?;
    if let Some(team) = teams::of_user(&state.db.pool, task.task_id, me.user_id).await? {
        return Err(AppError::Conflict(msg!("already_in_team", team = format!("{:?}", team.name))));
    }
    if teams::name_taken(&state.db.pool, task.task_id, &name).await? {
        return Err(AppError::Conflict(msg!("team_name_taken", name = format!("{name:?}"))));
    }
    let mut tx = state.db.pool.begin().await?;
    let team_id = teams::create(&mut tx, task.task_id, &name, me.user_id, db::now_ms()).await?;
    tx.commit().await?;
    let team = teams::by_id(&state.db.pool, team_id).await?.ok_or(AppError::NotFound("team"))?;
    team_view(state, &task, team).await
}

/// Renames your team.
pub async fn rename_team(state: &Platform, me: &CurrentUser, slug: String, body: TeamName) -> AppResult<TeamView> {
    let task = visible_task(state, &slug, Some(me)).await?;
    let team = my_team(state, &task, me).await?;
    let name = valid_team_name(&body.name)?;
    if !name.eq_ignore_ascii_case(&team.name) && teams::name_taken(&state.db.pool, task.task_id, &name).await? {
        return Err(AppError::Conflict(msg!("team_name_taken", name = format!("{name:?}"))));
    }
    teams::rename(&state.db.pool, team.team_id, &name).await?;
    let team = teams::by_id(&state.db.pool, team.team_id).await?.ok_or(AppError::NotFound("team"))?;
    team_view(state, &task, team).await
}

/// Whom to invite.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InviteRequest {
    /// Their username.
    pub username: String,
}

/// Invites someone to your team (joining, or merging their team into yours
/// when they accept).
pub async fn invite_member(
    state: &Platform,
    me: &CurrentUser,
    slug: String,
    body: InviteRequest,
) -> AppResult<InviteView> {
    let task = visible_task(state, &slug, Some(me)).await?;
    let spec = spec_of(&task)?;
    let now = db::now_ms();
    check_merge_window(&task, now)?;
    let team = ensure_team(state, task.task_id, me.user_id).await?;
    stays_put(&team)?;
    let invitee = users::by_username(&state.db.pool, &body.username.trim().to_ascii_lowercase())
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let theirs = teams::of_user(&state.db.pool, task.task_id, invitee.user_id).await?;
    if theirs.as_ref().is_some_and(|t| t.team_id == team.team_id) {
        return Err(AppError::Conflict(msg!("already_member", user = &invitee.username)));
    }
    let size = teams::members(&state.db.pool, team.team_id).await?.len() as u32;
    if size >= spec.submissions.team_size_cap {
        return Err(AppError::Conflict(msg!("your_team_full", max = spec.submissions.team_size_cap)));
    }
    if teams::pending_of_team(&state.db.pool, team.team_id).await?.iter().any(|i| i.user_id == invitee.user_id) {
        return Err(AppError::Conflict(msg!("invite_pending", user = &invitee.username)));
    }
    let id = teams::invite(&state.db.pool, team.team_id, invitee.user_id, me.user_id, now).await?;
    let invite = teams::invite_by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("invite"))?;
    Ok(invite_view(invite))
}

fn check_merge_window(task: &tasks::TaskRow, now: i64) -> AppResult<()> {
    if now >= task.closes_at {
        return Err(AppError::Conflict(msg!("teams_fixed")));
    }
    if task.merger_deadline_at.is_some_and(|d| now >= d) {
        let deadline = db::ms_to_rfc3339(task.merger_deadline_at.unwrap_or_default());
        return Err(AppError::Conflict(msg!("merger_deadline_passed", at = deadline)));
    }
    Ok(())
}

/// Your pending invites, across tasks.
pub async fn list_invites(state: &Platform, me: &CurrentUser) -> AppResult<Vec<InviteView>> {
    let rows = teams::pending_for_user(&state.db.pool, me.user_id).await?;
    Ok(rows.into_iter().map(invite_view).collect())
}

async fn pending_invite(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<teams::InviteRow> {
    match teams::invite_by_id(&state.db.pool, id).await? {
        Some(i) if i.user_id == me.user_id && i.answered_at.is_none() => Ok(i),
        Some(i) if i.user_id == me.user_id => Err(AppError::Conflict(msg!("invite_answered"))),
        _ => Err(AppError::NotFound("invite")),
    }
}

/// Accepts an invite: you join the team, and a team you were in merges into
/// it (its members and submissions move), within the task's rules.
pub async fn accept_invite(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<TeamView> {
    let invite = pending_invite(state, me, id).await?;
    let task = tasks::by_id(&state.db.pool, invite.task_id).await?.ok_or(AppError::NotFound("task"))?;
    let spec = spec_of(&task)?;
    let now = db::now_ms();
    check_merge_window(&task, now)?;
    let mut tx = state.db.pool.begin().await?;
    teams::lock(&mut *tx, invite.team_id, now).await?;
    let target_size = teams::members(&mut *tx, invite.team_id).await?.len() as u32;
    // Disqualification sticks to its members: neither side of a merge may
    // be disqualified (the merge would launder the old team's submissions).
    let target = teams::by_id(&mut *tx, invite.team_id).await?.ok_or(AppError::NotFound("team"))?;
    if target.disqualified_at.is_some() {
        return Err(AppError::Conflict(msg!("disqualified_team_closed", team = &target.name)));
    }
    let mine = teams::of_user(&mut *tx, task.task_id, me.user_id).await?;
    if let Some(old) = &mine {
        stays_put(old)?;
    }
    match mine {
        Some(old) => {
            let moving = teams::members(&mut *tx, old.team_id).await?.len() as u32;
            if target_size + moving > spec.submissions.team_size_cap {
                return Err(AppError::Conflict(msg!(
                    "merge_too_big",
                    size = target_size + moving,
                    max = spec.submissions.team_size_cap
                )));
            }
            let total = submissions::counted_total(&mut *tx, old.team_id).await?
                + submissions::counted_total(&mut *tx, invite.team_id).await?;
            if !merge_allowed(total, spec.submissions.daily_cap, task.opens_at, now) {
                return Err(AppError::Conflict(msg!(
                    "merge_too_many",
                    total = total,
                    cap = spec.submissions.daily_cap
                )));
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
                return Err(AppError::Conflict(msg!("team_full", max = spec.submissions.team_size_cap)));
            }
            teams::add_member(&mut *tx, task.task_id, invite.team_id, me.user_id, now).await?;
        }
    }
    teams::answer(&mut *tx, id, true, now).await?;
    tx.commit().await?;
    tracing::info!(invite = id, team = invite.team_id, user = %me.username, "invite accepted");
    let team = teams::by_id(&state.db.pool, invite.team_id).await?.ok_or(AppError::NotFound("team"))?;
    team_view(state, &task, team).await
}

/// Declines an invite.
pub async fn decline_invite(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<()> {
    pending_invite(state, me, id).await?;
    teams::answer(&state.db.pool, id, false, db::now_ms()).await?;
    Ok(())
}

/// Leaves your team: you continue alone in a new team; the submissions stay
/// with the team you leave.
pub async fn leave_team(state: &Platform, me: &CurrentUser, slug: String) -> AppResult<TeamView> {
    let task = visible_task(state, &slug, Some(me)).await?;
    let now = db::now_ms();
    if now >= task.closes_at {
        return Err(AppError::Conflict(msg!("teams_fixed")));
    }
    let team = my_team(state, &task, me).await?;
    stays_put(&team)?;
    if teams::members(&state.db.pool, team.team_id).await?.len() <= 1 {
        return Err(AppError::Conflict(msg!("only_member")));
    }
    let name = crate::teams::free_name(state, task.task_id, &me.username).await?;
    let mut tx = state.db.pool.begin().await?;
    teams::remove_member(&mut *tx, task.task_id, me.user_id).await?;
    let new_id = teams::create(&mut tx, task.task_id, &name, me.user_id, now).await?;
    tx.commit().await?;
    let team = teams::by_id(&state.db.pool, new_id).await?.ok_or(AppError::NotFound("team"))?;
    team_view(state, &task, team).await
}

/// Refuses any way out of a disqualified team (leaving, merging, joining
/// another): disqualification follows the people and their submissions.
fn stays_put(team: &teams::TeamRow) -> AppResult<()> {
    match (&team.disqualified_at, &team.disqualified_reason) {
        (Some(_), reason) => Err(AppError::Conflict(msg!(
            "disqualified_stays",
            team = &team.name,
            reason = reason.as_deref().unwrap_or("-")
        ))),
        _ => Ok(()),
    }
}

async fn organizer_team(state: &Platform, me: &CurrentUser, slug: &str, team_id: i64) -> AppResult<teams::TeamRow> {
    let task = managed_task(state, me, slug, msg!("organizer_only_disqualify")).await?;
    match teams::by_id(&state.db.pool, team_id).await? {
        Some(t) if t.task_id == task.task_id => Ok(t),
        _ => Err(AppError::NotFound("team")),
    }
}

/// Disqualifies a team, with a reason shown to it. Its entries leave the boards.
pub async fn disqualify_team(
    state: &Platform,
    me: &CurrentUser,
    (slug, team_id): (String, i64),
    body: Reason,
) -> AppResult<()> {
    let team = organizer_team(state, me, &slug, team_id).await?;
    let reason = valid_reason(&body)?;
    let mut tx = state.db.pool.begin().await?;
    teams::set_disqualified(&mut *tx, team.team_id, Some(db::now_ms()), Some(reason)).await?;
    let detail = serde_json::json!({ "team": team.name, "team_id": team.team_id, "reason": reason });
    crate::audit::record(&mut tx, me, crate::audit::Action::TeamDisqualify, Some(team.task_id), &[], detail).await?;
    tx.commit().await?;
    tracing::info!(team = team.team_id, by = %me.username, "team disqualified");
    Ok(())
}

/// Lifts a disqualification.
pub async fn reinstate_team(state: &Platform, me: &CurrentUser, (slug, team_id): (String, i64)) -> AppResult<()> {
    let team = organizer_team(state, me, &slug, team_id).await?;
    let mut tx = state.db.pool.begin().await?;
    teams::set_disqualified(&mut *tx, team.team_id, None, None).await?;
    let detail = serde_json::json!({ "team": team.name, "team_id": team.team_id });
    crate::audit::record(&mut tx, me, crate::audit::Action::TeamReinstate, Some(team.task_id), &[], detail).await?;
    tx.commit().await?;
    Ok(())
}
