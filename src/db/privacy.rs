//! Queries on `talent_views` and the erasure of an account.

use sqlx::{Any, AnyConnection, Executor, FromRow};

/// Logs that `recruiter_id` saw (`profile`), exported (`export`), found
/// (`search`) or asked to contact (`contact`) `user_id`.
pub async fn log_view<'e>(
    ex: impl Executor<'e, Database = Any>,
    recruiter_id: i64,
    user_id: i64,
    what: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO talent_views (recruiter_id, user_id, what, at) VALUES ($1, $2, $3, $4)")
        .bind(recruiter_id)
        .bind(user_id)
        .bind(what)
        .bind(now)
        .execute(ex)
        .await
        .map(|_| ())
}

/// A logged view, with who looked.
#[derive(Debug, Clone, FromRow)]
pub struct ViewRow {
    /// The recruiter's username.
    pub recruiter: String,
    /// Their display name.
    pub recruiter_name: String,
    /// Their organisation (profile affiliation), if given.
    pub organisation: Option<String>,
    /// `profile`, `export`, `search` or `contact`.
    pub what: String,
    /// When (ms).
    pub at: i64,
    /// When the recruiter deleted their account, if they did.
    pub recruiter_deleted_at: Option<i64>,
}

/// Who saw a person's details, newest first.
pub async fn views_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    user_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<ViewRow>> {
    sqlx::query_as(
        "SELECT u.username AS recruiter, u.display_name AS recruiter_name, p.affiliation AS organisation, v.what, v.at,
                u.deleted_at AS recruiter_deleted_at
         FROM talent_views v JOIN users u ON u.user_id = v.recruiter_id LEFT JOIN profiles p ON p.user_id = v.recruiter_id
         WHERE v.user_id = $1 ORDER BY v.view_id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Erases an account's personal data in one transaction's connection: the
/// row stays (its results stay on the boards) as `deleted-ID` / "deleted
/// user" with no usable password; tokens are revoked; roles, profile,
/// consents, their log and views of them are deleted; a team named after
/// the old username is renamed.
pub async fn erase(conn: &mut AnyConnection, user_id: i64, old_username: &str, now: i64) -> sqlx::Result<()> {
    let anon = format!("deleted-{user_id}");
    sqlx::query(
        "UPDATE users SET username = $2, email = $3, display_name = 'deleted user', password_hash = '!', country = 'ZZ',
                          deleted_at = $4 WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(&anon)
    .bind(format!("{anon}@deleted.invalid"))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    for table in ["user_roles", "profiles", "consents", "consent_log", "shortlist_entries", "contact_requests"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1")).bind(user_id).execute(&mut *conn).await?;
    }
    // What recruiters saw of this person goes; what this person, as a
    // recruiter, saw of others stays on those people's lists ("deleted
    // recruiter"), as it stays in the audit log.
    sqlx::query("DELETE FROM talent_views WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for table in ["shortlists", "contact_requests"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE recruiter_id = $1")).bind(user_id).execute(&mut *conn).await?;
    }
    sqlx::query(
        "UPDATE teams SET name = $2 WHERE name = $3 AND team_id IN (SELECT team_id FROM team_members WHERE user_id = $1)",
    )
    .bind(user_id)
    .bind(format!("deleted user {user_id}"))
    .bind(old_username)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
