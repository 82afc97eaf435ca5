//! Tasks: listing, details, public file downloads, and organizers creating
//! tasks from bundles and editing their schedule.
//!
//! Hidden files never leave through here: downloads look a file up by its
//! exact stored path among the task's *public* rows, so no spelling of a path
//! (`../`, `%2e%2e`, absolute, `hidden/…`) can name a hidden one.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{Page, PageQuery};
use crate::auth::CurrentUser;
use crate::bundle::{self, Budget, DataSpec, SubmissionKind, UnpackLimits};
use crate::db::{self, tasks};
use crate::error::{AppError, AppResult};
use crate::http::MaybeUser;
use crate::http::{AppJson, AppPath, AppQuery, ErrorBody};
use crate::scoring::MetricKind;
use crate::state::AppState;
use crate::tasks::{TaskState, editable_by, spec_of, visible_to};

/// Routes of this module; `upload_limit` bounds bundle uploads.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list_tasks).post(create_task).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/tasks/{slug}", get(get_task).patch(update_task))
        .route("/tasks/{slug}/files/{*path}", get(download_file))
}

/// A task in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskSummary {
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One sentence.
    pub summary: String,
    /// Domain tag.
    pub domain: String,
    /// Metric.
    pub metric: MetricKind,
    /// Whether larger scores are better.
    pub higher_is_better: bool,
    /// Accepted submission kinds.
    pub kinds: Vec<SubmissionKind>,
    /// Upcoming, open or closed, now.
    pub state: TaskState,
    /// RFC 3339.
    pub opens_at: String,
    /// RFC 3339.
    pub closes_at: String,
    /// False for a draft (seen only by its organizer and admins).
    pub published: bool,
    /// The organizer's username.
    pub organizer: String,
}

/// A public file of a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Path under the task's public files.
    pub path: String,
    /// Bytes.
    pub size: i64,
    /// Download URL (relative to the server).
    pub url: String,
}

/// The competition rules of a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesView {
    /// Submissions per team per UTC day.
    pub daily_cap: u32,
    /// Final selections per team.
    pub final_selections: u32,
    /// Largest team.
    pub team_size_cap: u32,
    /// Share of hidden rows on the public board.
    pub public_fraction: f64,
    /// Last moment to merge teams (RFC 3339).
    pub merger_deadline: Option<String>,
    /// Whether final ranks feed the global rating.
    pub rated: bool,
}

/// A task with everything a competitor needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    /// Listing fields.
    #[serde(flatten)]
    pub summary: TaskSummary,
    /// The statement, Markdown.
    pub statement: String,
    /// `k` of `map_at_k`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_k: Option<u32>,
    /// Shape of the data.
    pub data: DataSpec,
    /// Rules.
    pub rules: RulesView,
    /// Budget of one model run.
    pub budget: Budget,
    /// Public files.
    pub files: Vec<FileView>,
}

fn summary(row: &tasks::TaskRow, now: i64) -> AppResult<TaskSummary> {
    let spec = spec_of(row)?;
    Ok(TaskSummary {
        slug: row.slug.clone(),
        title: row.title.clone(),
        summary: row.summary.clone(),
        domain: spec.domain,
        metric: spec.metric.name,
        higher_is_better: spec.metric.higher_is_better,
        kinds: spec.submissions.kinds,
        state: TaskState::at(row.opens_at, row.closes_at, now),
        opens_at: db::ms_to_rfc3339(row.opens_at),
        closes_at: db::ms_to_rfc3339(row.closes_at),
        published: row.published_at.is_some(),
        organizer: row.organizer.clone(),
    })
}

async fn detail(state: &AppState, row: tasks::TaskRow) -> AppResult<TaskDetail> {
    let spec = spec_of(&row)?;
    let files = tasks::public_files(&state.db.pool, row.task_id)
        .await?
        .into_iter()
        .map(|(path, size)| FileView { url: format!("/api/v1/tasks/{}/files/{path}", row.slug), path, size })
        .collect();
    Ok(TaskDetail {
        summary: summary(&row, db::now_ms())?,
        statement: row.statement,
        metric_k: spec.metric.k,
        data: spec.data,
        rules: RulesView {
            daily_cap: spec.submissions.daily_cap,
            final_selections: spec.submissions.final_selections,
            team_size_cap: spec.submissions.team_size_cap,
            public_fraction: spec.split.public_fraction,
            merger_deadline: row.merger_deadline_at.map(db::ms_to_rfc3339),
            rated: spec.rated,
        },
        budget: spec.budget,
        files,
    })
}

/// Filters and order of the task listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// `open`, `upcoming`, `closed` or `all` (default).
    pub state: Option<String>,
    /// `closes_at` (default), `-closes_at`, `opens_at`, `-opens_at`, `title`, `-created_at`.
    pub sort: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    pub per_page: Option<u32>,
}

/// Lists the tasks the caller may see, one page at a time.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskListQuery),
    responses((status = 200, body = Page<TaskSummary>), (status = 400, body = ErrorBody)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    viewer: MaybeUser,
    AppQuery(q): AppQuery<TaskListQuery>,
) -> AppResult<Page<TaskSummary>> {
    let (limit, offset, page, per_page) = PageQuery { page: q.page, per_page: q.per_page }.resolve()?;
    let state_filter = q.state.as_deref().unwrap_or("all");
    if !["all", "open", "upcoming", "closed"].contains(&state_filter) {
        return Err(AppError::BadRequest(
            format!("state must be open, upcoming, closed or all, got {state_filter:?}").into(),
        ));
    }
    let sort = q.sort.as_deref().unwrap_or("closes_at");
    let Some((_, order_sql)) = tasks::SORTS.iter().find(|(name, _)| *name == sort) else {
        let names: Vec<_> = tasks::SORTS.iter().map(|(n, _)| *n).collect();
        return Err(AppError::BadRequest(format!("sort must be one of {}, got {sort:?}", names.join(", ")).into()));
    };
    let now = db::now_ms();
    let filter = tasks::TaskFilter {
        state: state_filter,
        viewer_id: viewer.0.as_ref().map_or(0, |u| u.user_id),
        viewer_is_admin: viewer.0.as_ref().is_some_and(CurrentUser::is_admin),
        now,
    };
    let total = tasks::count(&state.db.pool, filter).await?;
    let rows = tasks::list(&state.db.pool, filter, order_sql, limit, offset).await?;
    let items = rows.iter().map(|r| summary(r, now)).collect::<AppResult<Vec<_>>>()?;
    Ok(Page { items, page, per_page, total })
}

pub(crate) async fn visible_task(
    state: &AppState,
    slug: &str,
    viewer: Option<&CurrentUser>,
) -> AppResult<tasks::TaskRow> {
    match tasks::by_slug(&state.db.pool, slug).await? {
        Some(row) if visible_to(&row, viewer) => Ok(row),
        _ => Err(AppError::NotFound("task")),
    }
}

/// One task with its statement, rules and public files.
#[utoipa::path(get, path = "/api/v1/tasks/{slug}", tag = "tasks", params(("slug" = String, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = ErrorBody)))]
pub async fn get_task(
    State(state): State<AppState>,
    viewer: MaybeUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<AppJson<TaskDetail>> {
    let row = visible_task(&state, &slug, viewer.0.as_ref()).await?;
    Ok(AppJson(detail(&state, row).await?))
}

/// Downloads a public file of a task.
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/files/{path}", tag = "tasks",
    params(("slug" = String, Path), ("path" = String, Path, description = "file path as listed in the task's `files`")),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)))]
pub async fn download_file(
    State(state): State<AppState>,
    viewer: MaybeUser,
    AppPath((slug, path)): AppPath<(String, String)>,
) -> AppResult<Response> {
    let row = visible_task(&state, &slug, viewer.0.as_ref()).await?;
    let Some((hash, size)) = tasks::public_file(&state.db.pool, row.task_id, &path).await? else {
        return Err(AppError::NotFound("file"));
    };
    let stream = state.blobs.stream(&hash).await.map_err(AppError::Internal)?;
    let name = path.rsplit('/').next().unwrap_or("file").replace(['"', '\\'], "_");
    let content_type = if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else if name.ends_with(".md") || name.ends_with(".txt") {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, size.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The multipart form of a bundle upload.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "documents the multipart form for OpenAPI only")]
pub struct BundleUpload {
    /// The bundle as a `.tar.gz` (a folder with task.toml, README.md, public/, hidden/).
    #[schema(value_type = String, format = Binary)]
    bundle: Vec<u8>,
}

/// Creates a task (as a draft) from an uploaded bundle. Organizers only.
/// Every problem in the bundle is listed in `error.details`.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", security(("bearer" = [])),
    request_body(content = BundleUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = TaskDetail), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "slug taken"), (status = 413, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "invalid bundle: every problem listed")))]
pub async fn create_task(
    State(state): State<AppState>,
    me: CurrentUser,
    mut form: Multipart,
) -> AppResult<(StatusCode, AppJson<TaskDetail>)> {
    me.require("organizer")?;
    let mut upload = None;
    while let Some(field) = form.next_field().await? {
        if field.name() == Some("bundle") {
            upload = Some(field.bytes().await?);
        }
    }
    let bytes = upload.ok_or_else(|| AppError::BadRequest("the form has no `bundle` file field".into()))?;
    Ok((StatusCode::CREATED, AppJson(create_from_tarball(&state, &me, bytes).await?)))
}

/// Stores a task (a draft) from a bundle's `.tar.gz` bytes — for the API
/// and the organizer's web page alike.
pub(crate) async fn create_from_tarball(state: &AppState, me: &CurrentUser, bytes: Bytes) -> AppResult<TaskDetail> {
    me.require("organizer")?;
    let tmp_root = state.settings.data_dir.join("tmp");
    let limits = UnpackLimits { max_bytes: 4 * state.settings.max_upload_bytes as u64, max_entries: 20_000 };
    let loaded = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&tmp_root)
            .map_err(|e| vec![crate::error::Problem::new("", "", format!("server storage: {e}"))])?;
        let tmp = tempfile::tempdir_in(&tmp_root)
            .map_err(|e| vec![crate::error::Problem::new("", "", format!("server storage: {e}"))])?;
        let root = bundle::unpack_tarball(&bytes, tmp.path(), limits)?;
        bundle::load_dir(&root)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let b = loaded.map_err(|details| AppError::Invalid {
        code: "invalid_bundle",
        message: format!("the bundle has {} problem(s)", details.len()).into(),
        details,
    })?;
    crate::tasks::store_bundle(state, &b, me.user_id, false).await?;
    tracing::info!(slug = %b.spec.slug, by = %me.username, "task created from bundle");
    let row = tasks::by_slug(&state.db.pool, &b.spec.slug).await?.ok_or(AppError::NotFound("task"))?;
    detail(state, row).await
}

/// Changes to a task's schedule or publication. Absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// New opening time (RFC 3339).
    pub opens_at: Option<DateTime<Utc>>,
    /// New closing time (RFC 3339).
    pub closes_at: Option<DateTime<Utc>>,
    /// New merger deadline (RFC 3339).
    pub merger_deadline: Option<DateTime<Utc>>,
    /// Publish (true) or withdraw to draft (false).
    pub published: Option<bool>,
}

/// Edits a task's schedule or publishes/unpublishes it. Its organizer or an admin.
#[utoipa::path(patch, path = "/api/v1/tasks/{slug}", tag = "tasks", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = TaskPatch,
    responses((status = 200, body = TaskDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn update_task(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    AppJson(patch): AppJson<TaskPatch>,
) -> AppResult<AppJson<TaskDetail>> {
    let row = visible_task(&state, &slug, Some(&me)).await?;
    if !editable_by(&row, &me) {
        return Err(AppError::Forbidden("only the task's organizer or an admin can change it".into()));
    }
    let mut spec = spec_of(&row)?;
    let sched = &mut spec.schedule;
    if let Some(t) = patch.opens_at {
        sched.opens = t;
    }
    if let Some(t) = patch.closes_at {
        sched.closes = t;
    }
    if patch.merger_deadline.is_some() {
        sched.merger_deadline = patch.merger_deadline;
    }
    if sched.closes <= sched.opens {
        return Err(AppError::invalid("invalid_schedule", "closes_at must be after opens_at"));
    }
    if sched.merger_deadline.is_some_and(|m| m < sched.opens || m > sched.closes) {
        return Err(AppError::invalid("invalid_schedule", "merger_deadline must lie between opens_at and closes_at"));
    }
    let now = db::now_ms();
    let published_at = match patch.published {
        Some(true) => row.published_at.or(Some(now)),
        Some(false) => None,
        None => row.published_at,
    };
    let update = tasks::ScheduleUpdate {
        opens_at: sched.opens.timestamp_millis(),
        closes_at: sched.closes.timestamp_millis(),
        merger_deadline_at: sched.merger_deadline.map(|d| d.timestamp_millis()),
        published_at,
        spec: serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.into()))?,
    };
    tasks::update_schedule(&state.db.pool, row.task_id, &update, now).await?;
    tracing::info!(slug = %slug, by = %me.username, "task updated");
    let row = tasks::by_slug(&state.db.pool, &slug).await?.ok_or(AppError::NotFound("task"))?;
    Ok(AppJson(detail(&state, row).await?))
}
