//! Queries on `audit_log`: one row per audited action.

use sqlx::{Any, Executor, FromRow};

/// An action to log.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// Who did it.
    pub actor_id: i64,
    /// In which capacity (`recruiter`, `organizer`, `admin`).
    pub actor_role: &'a str,
    /// What (`talent.search`, `task.close`, ...).
    pub action: &'a str,
    /// On which task, if any.
    pub task_id: Option<i64>,
    /// The ids of the people it is about, as a JSON array.
    pub people: String,
    /// What else matters (filters, reasons, ...), as a JSON object.
    pub detail: String,
}

/// Appends an entry.
pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, e: &NewEntry<'_>, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_role, action, task_id, people, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now)
    .bind(e.actor_id)
    .bind(e.actor_role)
    .bind(e.action)
    .bind(e.task_id)
    .bind(&e.people)
    .bind(&e.detail)
    .execute(ex)
    .await
    .map(|_| ())
}

/// An entry as read back, with the actor's current username (`deleted-ID`
/// once erased) and whether they deleted their account, and the task's slug.
#[derive(Debug, Clone, FromRow)]
pub struct EntryRow {
    /// Primary key.
    pub audit_id: i64,
    /// When (ms).
    pub at: i64,
    /// The actor's username now.
    pub actor: Option<String>,
    /// When the actor's account was deleted (ms), if it was.
    pub actor_deleted_at: Option<i64>,
    /// In which capacity.
    pub actor_role: String,
    /// What.
    pub action: String,
    /// The task's slug, if any.
    pub task: Option<String>,
    /// JSON array of people ids.
    pub people: String,
    /// JSON object.
    pub detail: String,
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this action, or the actions starting with it and a dot
    /// (`talent` gives `talent.search`, `talent.view`, ...).
    pub action: Option<String>,
    /// Only this actor.
    pub actor_id: Option<i64>,
    /// Only about this person.
    pub person_id: Option<i64>,
}

const WHERE: &str = "WHERE ($1 IS NULL OR a.action = $1 OR a.action LIKE $1 || '.%')
      AND ($2 IS NULL OR a.actor_id = $2)
      AND ($3 IS NULL OR a.people LIKE '%[' || $3 || ',%' OR a.people LIKE '%,' || $3 || ',%'
           OR a.people LIKE '%,' || $3 || ']%' OR a.people = '[' || $3 || ']')";

/// A page of entries, newest first.
pub async fn list<'e>(
    ex: impl Executor<'e, Database = Any>,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<EntryRow>> {
    sqlx::query_as(&format!(
        "SELECT a.audit_id, a.at, u.username AS actor, u.deleted_at AS actor_deleted_at, a.actor_role,
                a.action, t.slug AS task, a.people, a.detail
         FROM audit_log a LEFT JOIN users u ON u.user_id = a.actor_id LEFT JOIN tasks t ON t.task_id = a.task_id
         {WHERE} ORDER BY a.audit_id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(f.action.as_deref())
    .bind(f.actor_id)
    .bind(f.person_id.map(|p| p.to_string()))
    .bind(limit)
    .bind(offset)
    .fetch_all(ex)
    .await
}

/// How many entries match.
pub async fn count<'e>(ex: impl Executor<'e, Database = Any>, f: &Filter) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_log a {WHERE}"))
        .bind(f.action.as_deref())
        .bind(f.actor_id)
        .bind(f.person_id.map(|p| p.to_string()))
        .fetch_one(ex)
        .await
}

/// Usernames (now) of user ids.
pub async fn usernames<'e>(ex: impl Executor<'e, Database = Any>, ids: &[i64]) -> sqlx::Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    sqlx::query_as(&format!("SELECT user_id, username FROM users WHERE user_id IN ({})", list.join(",")))
        .fetch_all(ex)
        .await
}
