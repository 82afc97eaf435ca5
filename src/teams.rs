//! Team membership rules shared by submissions and the team endpoints.
//!
//! Invariants: a person is in at most one team per task (the primary key
//! of `team_members`; [`ensure_team`] creates a solo team, named after them,
//! on first use and tolerates a concurrent creation); team names are unique
//! within a task (`UNIQUE (task_id, name)`; a taken name gets a numbered
//! suffix). Mergers, invites and the size cap are checked by the team
//! endpoints against `competition`'s merge rule.

use crate::db::{self, teams, users};
use crate::error::AppError;
use crate::platform::Platform;

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
        return Err(AppError::invalid("invalid_team_name", "name: a team name is 1-64 printable characters"));
    }
    Ok(name.to_owned())
}
