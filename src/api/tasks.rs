//! Tasks: listing, details, public file downloads, and organizers creating
//! tasks from bundles and editing their schedule.
//!
//! Hidden files never leave through here: downloads look a file up by its
//! exact stored path among the task's *public* rows, so no spelling of a path
//! (`../`, `%2e%2e`, absolute, `hidden/…`) can name a hidden one.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::ToSchema;

use crate::api::{Page, PageQuery};
use crate::auth::CurrentUser;
use crate::db::tasks;
use crate::error::{AppError, AppResult};
use crate::http::{AppJson, AppMultipart, AppPath, AppQuery, ErrorBody, MaybeUser};
use crate::state::AppState;
use crate::tasks::{TaskDetail, TaskListQuery, TaskPatch, TaskSummary, create_from_tarball, visible_task};

/// Routes of this module; `upload_limit` bounds bundle uploads.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list_tasks).post(create_task).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/tasks/{slug}", get(get_task).patch(update_task))
        .route("/tasks/{slug}/files/{*path}", get(download_file))
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
    let (items, total) = crate::tasks::list_tasks(&state, viewer.0.as_ref(), &q, limit, offset).await?;
    Ok(Page { items, page, per_page, total })
}

/// One task with its statement, rules and public files.
#[utoipa::path(get, path = "/api/v1/tasks/{slug}", tag = "tasks", params(("slug" = String, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = ErrorBody)))]
pub async fn get_task(
    State(state): State<AppState>,
    viewer: MaybeUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<AppJson<TaskDetail>> {
    crate::tasks::get_task(&state, viewer.0.as_ref(), slug).await.map(AppJson)
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
    let stream = state.blobs.stream(&hash).await.map_err(AppError::store)?;
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
              (status = 422, body = ErrorBody, description = "invalid bundle: every problem listed"),
              (status = 429, body = ErrorBody, description = "too many uploads in a short time")))]
pub async fn create_task(
    State(state): State<AppState>,
    me: CurrentUser,
    AppMultipart(mut form): AppMultipart,
) -> AppResult<(StatusCode, AppJson<TaskDetail>)> {
    me.require("organizer")?;
    state.limits.account(crate::limits::Class::Upload, me.user_id)?;
    let mut upload = None;
    while let Some(field) = form.next_field().await? {
        if field.name() == Some("bundle") {
            upload = Some(crate::http::spool_field(field, &state.blobs).await?);
        }
    }
    let bundle = upload.ok_or_else(|| AppError::BadRequest("the form has no `bundle` file field".into()))?;
    Ok((StatusCode::CREATED, AppJson(create_from_tarball(&state, &me, bundle).await?)))
}

/// Edits a task's schedule or publishes/unpublishes it. Its organizer or an admin.
#[utoipa::path(patch, path = "/api/v1/tasks/{slug}", tag = "tasks", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = TaskPatch,
    responses((status = 200, body = TaskDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "the task has closed: its schedule is final"),
              (status = 422, body = ErrorBody)))]
pub async fn update_task(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    AppJson(patch): AppJson<TaskPatch>,
) -> AppResult<AppJson<TaskDetail>> {
    crate::tasks::update_task(&state, &me, slug, patch).await.map(AppJson)
}
