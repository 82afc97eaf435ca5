//! Queries on `teams`, `team_members` and `team_invites`.

use sqlx::{Any, AnyConnection, Executor, FromRow};

/// A row of `teams`.
#[derive(Debug, Clone, FromRow)]
pub struct TeamRow {
    /// Primary key.
    pub team_id: i64,
    /// The task.
    pub task_id: i64,
    /// Unique within the task.
    pub name: String,
    /// Creation (ms).
    pub created_at: i64,
    /// Disqualification (ms).
    pub disqualified_at: Option<i64>,
    /// Why, shown to the team.
    pub disqualified_reason: Option<String>,
}

const COLUMNS: &str = "team_id, task_id, name, created_at, disqualified_at, disqualified_reason";

/// A member of a team.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    /// Team.
    pub team_id: i64,
    /// User.
    pub user_id: i64,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Joined (ms).
    pub joined_at: i64,
}

/// The team `user_id` belongs to in `task_id`.
pub async fn of_user<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
    user_id: i64,
) -> sqlx::Result<Option<TeamRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM teams WHERE team_id = (SELECT team_id FROM team_members WHERE task_id = $1 AND user_id = $2)"
    ))
    .bind(task_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

/// A team by id.
pub async fn by_id<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<Option<TeamRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM teams WHERE team_id = $1")).bind(team_id).fetch_optional(ex).await
}

/// Whether a team name is taken in a task.
pub async fn name_taken<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64, name: &str) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE task_id = $1 AND LOWER(name) = LOWER($2)")
        .bind(task_id)
        .bind(name)
        .fetch_one(ex)
        .await?;
    Ok(n > 0)
}

/// Creates a team with `user_id` as its only member; returns its id.
pub async fn create(conn: &mut AnyConnection, task_id: i64, name: &str, user_id: i64, now: i64) -> sqlx::Result<i64> {
    let team_id: i64 =
        sqlx::query_scalar("INSERT INTO teams (task_id, name, created_at) VALUES ($1, $2, $3) RETURNING team_id")
            .bind(task_id)
            .bind(name)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
    add_member(&mut *conn, task_id, team_id, user_id, now).await?;
    Ok(team_id)
}

/// Adds a member.
pub async fn add_member<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
    team_id: i64,
    user_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO team_members (task_id, team_id, user_id, joined_at) VALUES ($1, $2, $3, $4)")
        .bind(task_id)
        .bind(team_id)
        .bind(user_id)
        .bind(now)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Removes a member.
pub async fn remove_member<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM team_members WHERE task_id = $1 AND user_id = $2")
        .bind(task_id)
        .bind(user_id)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Renames a team.
pub async fn rename<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64, name: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE teams SET name = $2 WHERE team_id = $1").bind(team_id).bind(name).execute(ex).await.map(|_| ())
}

/// Members of a team, earliest first.
pub async fn members<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as(
        "SELECT m.team_id, m.user_id, u.username, u.display_name, m.joined_at
         FROM team_members m JOIN users u ON u.user_id = m.user_id
         WHERE m.team_id = $1 ORDER BY m.joined_at, u.username",
    )
    .bind(team_id)
    .fetch_all(ex)
    .await
}

/// Every member of every team of a task (for leaderboards).
pub async fn members_of_task<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as(
        "SELECT m.team_id, m.user_id, u.username, u.display_name, m.joined_at
         FROM team_members m JOIN users u ON u.user_id = m.user_id
         WHERE m.task_id = $1 ORDER BY m.team_id, m.joined_at, u.username",
    )
    .bind(task_id)
    .fetch_all(ex)
    .await
}

/// The (task, team) pairs a user is a member of, newest task first.
pub async fn memberships<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as("SELECT task_id, team_id FROM team_members WHERE user_id = $1 ORDER BY task_id DESC")
        .bind(user_id)
        .fetch_all(ex)
        .await
}

/// Teams with a member, per task that has any: `(task_id, teams)`.
pub async fn count_per_task<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as("SELECT task_id, COUNT(DISTINCT team_id) FROM team_members GROUP BY task_id").fetch_all(ex).await
}

/// Every team of a task.
pub async fn of_task<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<Vec<TeamRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM teams WHERE task_id = $1 ORDER BY team_id"))
        .bind(task_id)
        .fetch_all(ex)
        .await
}

/// Sets or clears a disqualification.
pub async fn set_disqualified<'e>(
    ex: impl Executor<'e, Database = Any>,
    team_id: i64,
    at: Option<i64>,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE teams SET disqualified_at = $2, disqualified_reason = $3 WHERE team_id = $1")
        .bind(team_id)
        .bind(at)
        .bind(reason)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Takes a team's row lock for the transaction without changing the row
/// (a model's result is recorded under it, as an upload is).
pub async fn lock_row<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE teams SET last_submission_at = last_submission_at WHERE team_id = $1")
        .bind(team_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Takes the team's row lock (PostgreSQL) or the write lock (SQLite) for the
/// rest of the transaction, so concurrent submissions of one team serialise.
pub async fn lock<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE teams SET last_submission_at = $2 WHERE team_id = $1")
        .bind(team_id)
        .bind(now)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Moves every member, submission and pending invite of `from` into `into`
/// and deletes `from` (a merger).
pub async fn merge(conn: &mut AnyConnection, from: i64, into: i64) -> sqlx::Result<()> {
    for sql in [
        "UPDATE team_members SET team_id = $2 WHERE team_id = $1",
        "UPDATE submissions SET team_id = $2 WHERE team_id = $1",
        "DELETE FROM team_invites WHERE team_id = $1",
        "DELETE FROM teams WHERE team_id = $1",
    ] {
        let q = sqlx::query(sql).bind(from);
        let q = if sql.contains("$2") { q.bind(into) } else { q };
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A row of `team_invites` with names filled in.
#[derive(Debug, Clone, FromRow)]
pub struct InviteRow {
    /// Primary key.
    pub invite_id: i64,
    /// The inviting team.
    pub team_id: i64,
    /// Its name.
    pub team_name: String,
    /// The task.
    pub task_id: i64,
    /// Its slug.
    pub task_slug: String,
    /// The invitee.
    pub user_id: i64,
    /// The invitee's username.
    pub username: String,
    /// Who invited.
    pub invited_by: String,
    /// When (ms).
    pub created_at: i64,
    /// Answered (ms).
    pub answered_at: Option<i64>,
    /// 1 accepted, 0 declined.
    pub accepted: Option<i64>,
}

const INVITE_SELECT: &str = "SELECT i.invite_id, i.team_id, t.name AS team_name, t.task_id, k.slug AS task_slug,
        i.user_id, u.username, b.username AS invited_by, i.created_at, i.answered_at, i.accepted
    FROM team_invites i JOIN teams t ON t.team_id = i.team_id JOIN tasks k ON k.task_id = t.task_id
    JOIN users u ON u.user_id = i.user_id JOIN users b ON b.user_id = i.invited_by";

/// Creates an invite; returns its id.
pub async fn invite<'e>(
    ex: impl Executor<'e, Database = Any>,
    team_id: i64,
    user_id: i64,
    invited_by: i64,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO team_invites (team_id, user_id, invited_by, created_at) VALUES ($1, $2, $3, $4) RETURNING invite_id",
    )
    .bind(team_id)
    .bind(user_id)
    .bind(invited_by)
    .bind(now)
    .fetch_one(ex)
    .await
}

/// An invite by id.
pub async fn invite_by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    invite_id: i64,
) -> sqlx::Result<Option<InviteRow>> {
    sqlx::query_as(&format!("{INVITE_SELECT} WHERE i.invite_id = $1")).bind(invite_id).fetch_optional(ex).await
}

/// Pending invites for a user, newest first.
pub async fn pending_for_user<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64) -> sqlx::Result<Vec<InviteRow>> {
    sqlx::query_as(&format!("{INVITE_SELECT} WHERE i.user_id = $1 AND i.answered_at IS NULL ORDER BY i.invite_id DESC"))
        .bind(user_id)
        .fetch_all(ex)
        .await
}

/// Pending invites a team has sent.
pub async fn pending_of_team<'e>(ex: impl Executor<'e, Database = Any>, team_id: i64) -> sqlx::Result<Vec<InviteRow>> {
    sqlx::query_as(&format!("{INVITE_SELECT} WHERE i.team_id = $1 AND i.answered_at IS NULL ORDER BY i.invite_id"))
        .bind(team_id)
        .fetch_all(ex)
        .await
}

/// Records an answer.
pub async fn answer<'e>(
    ex: impl Executor<'e, Database = Any>,
    invite_id: i64,
    accepted: bool,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE team_invites SET answered_at = $2, accepted = $3 WHERE invite_id = $1")
        .bind(invite_id)
        .bind(now)
        .bind(i64::from(accepted))
        .execute(ex)
        .await
        .map(|_| ())
}
