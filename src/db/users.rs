//! Queries on `users` and `user_roles`.

use sqlx::{Any, Executor, FromRow};

/// A row of `users`.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    /// Primary key.
    pub user_id: i64,
    /// Unique lower-case login name.
    pub username: String,
    /// Lower-case email (not unique: sign-up never says whether one is
    /// registered).
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Name shown on boards.
    pub display_name: String,
    /// ISO 3166-1 alpha-2 code.
    pub country: String,
    /// Creation time (ms).
    pub created_at: i64,
}

/// The fields of a new account.
#[derive(Debug)]
pub struct NewUser<'a> {
    /// Lower-case login name.
    pub username: &'a str,
    /// Lower-case email.
    pub email: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// Name shown on boards.
    pub display_name: &'a str,
    /// ISO 3166-1 alpha-2 code.
    pub country: &'a str,
}

const COLUMNS: &str = "user_id, username, email, password_hash, display_name, country, created_at";

/// Inserts a user and returns its id.
pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, new: &NewUser<'_>, now: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO users (username, email, password_hash, display_name, country, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING user_id",
    )
    .bind(new.username)
    .bind(new.email)
    .bind(new.password_hash)
    .bind(new.display_name)
    .bind(new.country)
    .bind(now)
    .fetch_one(ex)
    .await
}

/// Replaces a user's password hash.
pub async fn set_password<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $2 WHERE user_id = $1").bind(user_id).bind(hash).execute(ex).await?;
    Ok(())
}

/// Records that the person confirmed being 14 or older (once).
pub async fn confirm_age<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET age_confirmed_at = $2 WHERE user_id = $1 AND age_confirmed_at IS NULL")
        .bind(user_id)
        .bind(now)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Whether the person confirmed being 14 or older.
pub async fn age_confirmed<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64) -> sqlx::Result<bool> {
    let at: Option<i64> =
        sqlx::query_scalar("SELECT age_confirmed_at FROM users WHERE user_id = $1").bind(user_id).fetch_one(ex).await?;
    Ok(at.is_some())
}

/// The user with this (lower-case) username.
pub async fn by_username<'e>(ex: impl Executor<'e, Database = Any>, username: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username = $1")).bind(username).fetch_optional(ex).await
}

/// The user with this id.
pub async fn by_id<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE user_id = $1")).bind(user_id).fetch_optional(ex).await
}

/// Whether a username is taken.
pub async fn username_taken<'e>(ex: impl Executor<'e, Database = Any>, username: &str) -> sqlx::Result<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1").bind(username).fetch_one(ex).await?;
    Ok(n > 0)
}

/// The extra roles of a user, sorted.
pub async fn roles<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role").bind(user_id).fetch_all(ex).await
}

/// Grants a role; granting one already held changes nothing.
pub async fn grant_role<'e>(
    ex: impl Executor<'e, Database = Any>,
    user_id: i64,
    role: &str,
    granted_by: Option<i64>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO user_roles (user_id, role, granted_at, granted_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, role) DO NOTHING",
    )
    .bind(user_id)
    .bind(role)
    .bind(now)
    .bind(granted_by)
    .execute(ex)
    .await
    .map(|_| ())
}

/// Removes a role; returns whether it was held.
pub async fn revoke_role<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64, role: &str) -> sqlx::Result<bool> {
    let res = sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role = $2")
        .bind(user_id)
        .bind(role)
        .execute(ex)
        .await?;
    Ok(res.rows_affected() > 0)
}

/// How many users hold `role`.
pub async fn count_with_role<'e>(ex: impl Executor<'e, Database = Any>, role: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM user_roles WHERE role = $1").bind(role).fetch_one(ex).await
}

/// Users whose username or display name starts with `prefix` (case-folded;
/// empty for all), by username, with their extra roles comma-joined.
pub async fn search<'e>(
    ex: impl Executor<'e, Database = Any>,
    prefix: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<(UserRow, String)>> {
    let pattern = format!("{}%", prefix.to_lowercase().replace(['%', '_', '\\'], ""));
    let rows: Vec<UserWithRoles> = sqlx::query_as(
        "SELECT u.user_id, u.username, u.email, u.password_hash, u.display_name, u.country, u.created_at,
                COALESCE((SELECT STRING_AGG(r.role, ',') FROM user_roles r WHERE r.user_id = u.user_id), '') AS roles
         FROM users u WHERE u.username LIKE $1 OR LOWER(u.display_name) LIKE $1
         ORDER BY u.username LIMIT $2 OFFSET $3",
    )
    .bind(pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user, r.roles)).collect())
}

/// How many users [`search`] finds.
pub async fn count_search<'e>(ex: impl Executor<'e, Database = Any>, prefix: &str) -> sqlx::Result<i64> {
    let pattern = format!("{}%", prefix.to_lowercase().replace(['%', '_', '\\'], ""));
    sqlx::query_scalar("SELECT COUNT(*) FROM users u WHERE u.username LIKE $1 OR LOWER(u.display_name) LIKE $1")
        .bind(pattern)
        .fetch_one(ex)
        .await
}

#[derive(FromRow)]
struct UserWithRoles {
    #[sqlx(flatten)]
    user: UserRow,
    roles: String,
}
