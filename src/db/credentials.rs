//! Queries on `credential_keys` (the signing key every replica shares) and
//! `credentials_issued` (what each handed-out credential states, for
//! revocation).

use sqlx::AnyPool;

/// A signing key: its id and 32-byte seed (base64).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    /// Short id, named in every credential it signs.
    pub key_id: String,
    /// The seed, base64.
    pub seed: String,
    /// `current` for the key that signs; empty for a retired one.
    pub slot: Option<String>,
}

/// The current key, if one exists.
pub async fn current_key(pool: &AnyPool) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as("SELECT key_id, seed, slot FROM credential_keys WHERE slot = 'current'").fetch_optional(pool).await
}

/// Every key, current first, then newest first.
pub async fn keys(pool: &AnyPool) -> sqlx::Result<Vec<KeyRow>> {
    sqlx::query_as(
        "SELECT key_id, seed, slot FROM credential_keys
         ORDER BY CASE WHEN slot = 'current' THEN 0 ELSE 1 END, created_at DESC",
    )
    .fetch_all(pool)
    .await
}

/// Makes `key_id` the current key unless another replica already made one
/// (the unique slot decides the race); the caller reads back the winner.
pub async fn offer_key(pool: &AnyPool, key_id: &str, seed: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO credential_keys (key_id, seed, slot, created_at) VALUES ($1, $2, 'current', $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(key_id)
    .bind(seed)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// The result a credential stated when it was issued.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssuedRow {
    /// The credential's id (SHA-256 of its signed bytes, hex).
    pub credential_id: String,
    /// The person.
    pub user_id: i64,
    /// The task.
    pub task_id: i64,
    /// Their team then.
    pub team_id: i64,
    /// The submission that ranked.
    pub submission_id: i64,
    /// The private-board rank.
    pub place: i64,
    /// Of how many ranked teams.
    pub ranked: i64,
    /// The private score.
    pub score: f64,
    /// When first handed out (ms).
    pub issued_at: i64,
    /// Why it was revoked outright (its holder deleted their account).
    #[sqlx(default)]
    pub revoked_reason: Option<String>,
}

/// Records a credential (once: the same statement has the same id).
pub async fn record_issued(pool: &AnyPool, row: &IssuedRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO credentials_issued
           (credential_id, user_id, task_id, team_id, submission_id, place, ranked, score, issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(&row.credential_id)
    .bind(row.user_id)
    .bind(row.task_id)
    .bind(row.team_id)
    .bind(row.submission_id)
    .bind(row.place)
    .bind(row.ranked)
    .bind(row.score)
    .bind(row.issued_at)
    .execute(pool)
    .await?;
    Ok(())
}

const ISSUED: &str = "SELECT credential_id, user_id, task_id, team_id, submission_id, place, ranked, score, issued_at,
    revoked_reason FROM credentials_issued";

/// One issued credential.
pub async fn issued(pool: &AnyPool, credential_id: &str) -> sqlx::Result<Option<IssuedRow>> {
    sqlx::query_as(&format!("{ISSUED} WHERE credential_id = $1")).bind(credential_id).fetch_optional(pool).await
}

/// Every issued credential, by task.
pub async fn all_issued(pool: &AnyPool) -> sqlx::Result<Vec<IssuedRow>> {
    sqlx::query_as(&format!("{ISSUED} ORDER BY task_id, issued_at, credential_id")).fetch_all(pool).await
}
