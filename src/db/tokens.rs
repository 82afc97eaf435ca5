//! Queries on `tokens`: API tokens for the CLI and web sessions.

use sqlx::{Any, Executor, FromRow};

/// A row of `tokens` (never the secret; only its hash is stored).
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    /// Primary key.
    pub token_id: i64,
    /// Owner.
    pub user_id: i64,
    /// `api` or `session`.
    pub kind: String,
    /// A label the owner chose (API) or the user agent (session).
    pub name: String,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last authenticated use (ms).
    pub last_used_at: Option<i64>,
    /// Expiry (ms), if any.
    pub expires_at: Option<i64>,
    /// Revocation time (ms), if revoked.
    pub revoked_at: Option<i64>,
    /// `read` (GET requests only) or `write`.
    pub scope: String,
}

const COLUMNS: &str = "token_id, user_id, kind, name, created_at, last_used_at, expires_at, revoked_at, scope";

/// What a new token is.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    /// Its owner.
    pub user_id: i64,
    /// `api` or `session`.
    pub kind: &'a str,
    /// Its label.
    pub name: &'a str,
    /// SHA-256 of its secret.
    pub token_hash: &'a str,
    /// When it stops working (ms), if ever.
    pub expires_at: Option<i64>,
    /// `read` or `write`.
    pub scope: &'a str,
}

/// Stores a new token's hash and returns its id.
pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, new: &NewToken<'_>, now: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO tokens (user_id, kind, name, token_hash, created_at, expires_at, scope)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING token_id",
    )
    .bind(new.user_id)
    .bind(new.kind)
    .bind(new.name)
    .bind(new.token_hash)
    .bind(now)
    .bind(new.expires_at)
    .bind(new.scope)
    .fetch_one(ex)
    .await
}

/// The live (not revoked, not expired) token with this hash.
pub async fn active_by_hash<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tokens
         WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(ex)
    .await
}

/// Records a use; best effort, at most once a minute per token.
pub async fn touch<'e>(ex: impl Executor<'e, Database = Any>, token_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tokens SET last_used_at = $2
         WHERE token_id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(token_id)
    .bind(now)
    .bind(now - 60_000)
    .execute(ex)
    .await
    .map(|_| ())
}

/// A user's tokens of one kind, newest first, revoked ones included.
pub async fn list_for_user<'e>(
    ex: impl Executor<'e, Database = Any>,
    user_id: i64,
    kind: &str,
) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM tokens WHERE user_id = $1 AND kind = $2 ORDER BY token_id DESC"))
        .bind(user_id)
        .bind(kind)
        .fetch_all(ex)
        .await
}

/// Revokes the token with this hash (logout); returns whether one was live.
pub async fn revoke_by_hash<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let res = sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(token_hash)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(res.rows_affected() > 0)
}

/// A user's live (not revoked, not expired) tokens of one kind, newest
/// first.
pub async fn live_for_user<'e>(
    ex: impl Executor<'e, Database = Any>,
    user_id: i64,
    kind: &str,
    now: i64,
) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tokens
         WHERE user_id = $1 AND kind = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)
         ORDER BY token_id DESC"
    ))
    .bind(user_id)
    .bind(kind)
    .bind(now)
    .fetch_all(ex)
    .await
}

/// Revokes a user's live token of `kind` by id; whether one was revoked.
pub async fn revoke_of_kind<'e>(
    ex: impl Executor<'e, Database = Any>,
    user_id: i64,
    kind: &str,
    token_id: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let res = sqlx::query(
        "UPDATE tokens SET revoked_at = $4 WHERE token_id = $1 AND user_id = $2 AND kind = $3 AND revoked_at IS NULL",
    )
    .bind(token_id)
    .bind(user_id)
    .bind(kind)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(res.rows_affected() > 0)
}

/// Revokes every live token of a user (of `kind`, or of every kind), but
/// `keep`; how many.
pub async fn revoke_all<'e>(
    ex: impl Executor<'e, Database = Any>,
    user_id: i64,
    kind: Option<&str>,
    keep: Option<i64>,
    now: i64,
) -> sqlx::Result<u64> {
    let res = sqlx::query(
        "UPDATE tokens SET revoked_at = $2
         WHERE user_id = $1 AND revoked_at IS NULL AND ($3 IS NULL OR kind = $3) AND ($4 IS NULL OR token_id <> $4)",
    )
    .bind(user_id)
    .bind(now)
    .bind(kind)
    .bind(keep)
    .execute(ex)
    .await?;
    Ok(res.rows_affected())
}
