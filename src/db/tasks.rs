//! Queries on `tasks` and `task_files`.

use sqlx::{Any, AnyConnection, Executor, FromRow};

/// A row of `tasks`, with its organizer's username.
#[derive(Debug, Clone, FromRow)]
pub struct TaskRow {
    /// Primary key.
    pub task_id: i64,
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One-sentence summary.
    pub summary: String,
    /// Markdown statement.
    pub statement: String,
    /// Its translations: a JSON object from language code to Markdown.
    pub statements: String,
    /// The validated `task.toml` as JSON.
    pub spec: String,
    /// Owner.
    pub organizer_id: i64,
    /// Owner's username.
    pub organizer: String,
    /// Opening time (ms).
    pub opens_at: i64,
    /// Closing time (ms).
    pub closes_at: i64,
    /// Merger deadline (ms).
    pub merger_deadline_at: Option<i64>,
    /// Publication time (ms); `None` for a draft.
    pub published_at: Option<i64>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Bumped (by triggers, in the same transaction) by every change that
    /// can move the task's boards: what the board cache is keyed by.
    pub board_version: i64,
}

const COLUMNS: &str = "t.task_id, t.slug, t.title, t.summary, t.statement, t.statements, t.spec, t.organizer_id, \
    u.username AS organizer, t.opens_at, t.closes_at, t.merger_deadline_at, t.published_at, t.created_at, t.updated_at, \
    t.board_version";

/// Which tasks a listing shows.
#[derive(Debug, Clone, Copy)]
pub struct TaskFilter<'a> {
    /// `all`, `upcoming`, `open` or `closed`, relative to `now`.
    pub state: &'a str,
    /// The viewer's id (drafts of their own are shown), or 0.
    pub viewer_id: i64,
    /// Whether the viewer is an admin (every draft is shown).
    pub viewer_is_admin: bool,
    /// The moment states are judged at (ms).
    pub now: i64,
}

const FILTER: &str = "(t.published_at IS NOT NULL OR t.organizer_id = $1 OR $2 = 1)
    AND ($3 = 'all'
         OR ($3 = 'upcoming' AND t.opens_at > $4)
         OR ($3 = 'open' AND t.opens_at <= $4 AND t.closes_at > $4)
         OR ($3 = 'closed' AND t.closes_at <= $4))";

/// Sort orders a listing accepts, as (name, SQL).
pub const SORTS: &[(&str, &str)] = &[
    ("closes_at", "t.closes_at ASC, t.slug ASC"),
    ("-closes_at", "t.closes_at DESC, t.slug ASC"),
    ("opens_at", "t.opens_at ASC, t.slug ASC"),
    ("-opens_at", "t.opens_at DESC, t.slug ASC"),
    ("title", "t.title ASC, t.slug ASC"),
    ("-created_at", "t.created_at DESC, t.task_id DESC"),
];

/// One page of tasks; `order_sql` must come from [`SORTS`].
pub async fn list<'e>(
    ex: impl Executor<'e, Database = Any>,
    filter: TaskFilter<'_>,
    order_sql: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<TaskRow>> {
    debug_assert!(SORTS.iter().any(|(_, sql)| *sql == order_sql));
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tasks t JOIN users u ON u.user_id = t.organizer_id
         WHERE {FILTER} ORDER BY {order_sql} LIMIT $5 OFFSET $6"
    ))
    .bind(filter.viewer_id)
    .bind(i64::from(filter.viewer_is_admin))
    .bind(filter.state)
    .bind(filter.now)
    .bind(limit)
    .bind(offset)
    .fetch_all(ex)
    .await
}

/// How many tasks the filter matches.
pub async fn count<'e>(ex: impl Executor<'e, Database = Any>, filter: TaskFilter<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM tasks t WHERE {FILTER}"))
        .bind(filter.viewer_id)
        .bind(i64::from(filter.viewer_is_admin))
        .bind(filter.state)
        .bind(filter.now)
        .fetch_one(ex)
        .await
}

/// How many tasks exist at all.
pub async fn count_all<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM tasks").fetch_one(ex).await
}

/// The task with this slug, drafts included (callers check visibility).
pub async fn by_slug<'e>(ex: impl Executor<'e, Database = Any>, slug: &str) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tasks t JOIN users u ON u.user_id = t.organizer_id WHERE t.slug = $1"
    ))
    .bind(slug)
    .fetch_optional(ex)
    .await
}

/// The fields of a new task.
#[derive(Debug)]
pub struct NewTask<'a> {
    /// URL name.
    pub slug: &'a str,
    /// Title.
    pub title: &'a str,
    /// Summary.
    pub summary: &'a str,
    /// Markdown statement.
    pub statement: &'a str,
    /// Its translations, JSON (language code → Markdown).
    pub statements: &'a str,
    /// Spec JSON.
    pub spec: &'a str,
    /// Owner.
    pub organizer_id: i64,
    /// Opening (ms).
    pub opens_at: i64,
    /// Closing (ms).
    pub closes_at: i64,
    /// Merger deadline (ms).
    pub merger_deadline_at: Option<i64>,
    /// Publication (ms), `None` for a draft.
    pub published_at: Option<i64>,
}

/// A file row to insert.
#[derive(Debug)]
pub struct NewFile<'a> {
    /// Path (public: under `public/`; hidden: `hidden/...`).
    pub path: &'a str,
    /// `public` or `hidden`.
    pub visibility: &'a str,
    /// SHA-256 of the content.
    pub blob_hash: &'a str,
    /// Bytes.
    pub size: i64,
}

/// Inserts a task and its files; run inside a transaction so that a task
/// never exists without its files.
pub async fn insert(
    conn: &mut AnyConnection,
    task: &NewTask<'_>,
    files: &[NewFile<'_>],
    now: i64,
) -> sqlx::Result<i64> {
    let task_id: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (slug, title, summary, statement, spec, organizer_id, opens_at, closes_at,
                            merger_deadline_at, published_at, created_at, updated_at, statements)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING task_id",
    )
    .bind(task.slug)
    .bind(task.title)
    .bind(task.summary)
    .bind(task.statement)
    .bind(task.spec)
    .bind(task.organizer_id)
    .bind(task.opens_at)
    .bind(task.closes_at)
    .bind(task.merger_deadline_at)
    .bind(task.published_at)
    .bind(now)
    .bind(task.statements)
    .fetch_one(&mut *conn)
    .await?;
    for f in files {
        sqlx::query("INSERT INTO task_files (task_id, path, visibility, blob_hash, size) VALUES ($1, $2, $3, $4, $5)")
            .bind(task_id)
            .bind(f.path)
            .bind(f.visibility)
            .bind(f.blob_hash)
            .bind(f.size)
            .execute(&mut *conn)
            .await?;
    }
    Ok(task_id)
}

/// The schedule and publication fields of a task.
#[derive(Debug, Clone)]
pub struct ScheduleUpdate {
    /// Opening (ms).
    pub opens_at: i64,
    /// Closing (ms).
    pub closes_at: i64,
    /// Merger deadline (ms).
    pub merger_deadline_at: Option<i64>,
    /// Publication (ms).
    pub published_at: Option<i64>,
    /// The spec JSON with the schedule rewritten to match.
    pub spec: String,
}

/// What tells whether a cached task row is current: `updated_at` moves
/// (strictly) with every write of the row's own fields, `board_version` with
/// every change to its boards.
#[derive(Debug, Clone, Copy, FromRow)]
pub struct TaskHead {
    /// Primary key.
    pub task_id: i64,
    /// Last change of the row's fields (ms, strictly increasing).
    pub updated_at: i64,
    /// The board version.
    pub board_version: i64,
}

/// The head of the task `slug`.
pub async fn head_by_slug<'e>(ex: impl Executor<'e, Database = Any>, slug: &str) -> sqlx::Result<Option<TaskHead>> {
    sqlx::query_as("SELECT task_id, updated_at, board_version FROM tasks WHERE slug = $1")
        .bind(slug)
        .fetch_optional(ex)
        .await
}

/// Writes a new schedule and publication state (`updated_at` moves forward
/// even within one millisecond).
pub async fn update_schedule<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
    u: &ScheduleUpdate,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tasks SET opens_at = $2, closes_at = $3, merger_deadline_at = $4, published_at = $5,
                          spec = $6, updated_at = CASE WHEN $7 > updated_at THEN $7 ELSE updated_at + 1 END
         WHERE task_id = $1",
    )
    .bind(task_id)
    .bind(u.opens_at)
    .bind(u.closes_at)
    .bind(u.merger_deadline_at)
    .bind(u.published_at)
    .bind(&u.spec)
    .bind(now)
    .execute(ex)
    .await
    .map(|_| ())
}

/// A public file of a task: (path, size).
pub async fn public_files<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT path, size FROM task_files WHERE task_id = $1 AND visibility = 'public' ORDER BY path")
        .bind(task_id)
        .fetch_all(ex)
        .await
}

/// The blob hash and size of the *public* file at exactly `path`; hidden
/// files are never returned, whatever the path.
pub async fn public_file<'e>(
    ex: impl Executor<'e, Database = Any>,
    task_id: i64,
    path: &str,
) -> sqlx::Result<Option<(String, i64)>> {
    sqlx::query_as("SELECT blob_hash, size FROM task_files WHERE task_id = $1 AND visibility = 'public' AND path = $2")
        .bind(task_id)
        .bind(path)
        .fetch_optional(ex)
        .await
}

/// The task with this id.
pub async fn by_id<'e>(ex: impl Executor<'e, Database = Any>, task_id: i64) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tasks t JOIN users u ON u.user_id = t.organizer_id WHERE t.task_id = $1"
    ))
    .bind(task_id)
    .fetch_optional(ex)
    .await
}
