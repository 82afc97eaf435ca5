//! Submissions: upload and instant scoring of prediction CSVs, the daily
//! quota, a team's list, final selections, and an organizer's controls
//! (every submission of a task, hide with a reason).
//!
//! A prediction CSV is validated and scored before anything is stored: an
//! invalid one is a 422 listing every problem (rows and ids named, correct
//! values never), stores nothing and does not count toward the quota. A valid
//! one is stored (blob, then row, in a transaction that also re-checks the
//! quota under the team's lock) and answered with its public score.

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};

use crate::api::{Page, PageQuery};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::http::{AppJson, AppMultipart, AppPath, AppQuery, ErrorBody, spool_field, text_field};
use crate::state::AppState;
use crate::submissions::{
    Admission, CreatedSubmission, MAX_MESSAGE_BYTES, Stored, SubmissionListQuery, SubmissionUpload, SubmissionView,
    admit, message_too_long, submit_file,
};
use crate::teams::Reason;

/// Routes of this module; `upload_limit` bounds submission files.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/tasks/{slug}/submissions",
            post(create_submission).get(list_submissions).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/submissions/{id}", get(get_submission))
        .route("/submissions/{id}/selection", put(select_submission).delete(unselect_submission))
        .route("/submissions/{id}/hidden", put(hide_submission).delete(unhide_submission))
}

/// Uploads a submission (multipart: `file`, optional `message`). A
/// predictions CSV is scored at once (201, with its public score); a `.wasm`
/// model is checked against the guest ABI, stored and queued (202) and runs
/// in the sandbox on the hidden inputs. Both answers carry the team's
/// remaining quota for the UTC day.
#[utoipa::path(post, path = "/api/v1/tasks/{slug}/submissions", tag = "submissions", security(("bearer" = [])),
    params(("slug" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "makes a retried upload safe: the same key returns the stored submission (200) and counts once")),
    request_body(content = SubmissionUpload, content_type = "multipart/form-data"),
    responses((status = 200, body = CreatedSubmission, description = "already stored under this Idempotency-Key"),
              (status = 201, body = CreatedSubmission, description = "a CSV, scored"),
              (status = 202, body = CreatedSubmission, description = "a model, queued for evaluation"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "invalid submission: every problem listed"),
              (status = 429, body = ErrorBody, description = "daily cap reached, or too many uploads in a short time")))]
pub async fn create_submission(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    headers: axum::http::HeaderMap,
    AppMultipart(mut form): AppMultipart,
) -> AppResult<(StatusCode, AppJson<CreatedSubmission>)> {
    state.limits.account(crate::limits::Class::Upload, me.user_id)?;
    let key = match headers.get("idempotency-key") {
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= 100 => Some(k.trim().to_owned()),
            _ => return Err(AppError::BadRequest("Idempotency-Key: 1-100 visible ASCII characters".into())),
        },
        None => None,
    };
    // Everything that does not need the file is decided before its first
    // byte is read: a team out of quota is refused without receiving it.
    let admitted = match admit(&state, &me, &slug, key.as_deref()).await? {
        Admission::Again(done) => return Ok((StatusCode::OK, AppJson(*done))),
        Admission::Go(admitted) => *admitted,
    };
    let (mut file, mut file_name, mut message) = (None, String::from("submission"), String::new());
    while let Some(field) = form.next_field().await? {
        match field.name() {
            Some("file") => {
                file_name = field.file_name().unwrap_or("submission").chars().take(200).collect();
                file = Some(spool_field(field, &state.blobs).await?);
            }
            Some("message") => message = text_field(field, MAX_MESSAGE_BYTES, message_too_long).await?,
            _ => {}
        }
    }
    let file = file.ok_or_else(|| AppError::BadRequest("the form has no `file` field".into()))?;
    let (stored, created) = submit_file(&state, &me, admitted, &file_name, file, &message, key.as_deref()).await?;
    let status = match stored {
        Stored::Again => StatusCode::OK,
        Stored::Scored => StatusCode::CREATED,
        Stored::Queued => StatusCode::ACCEPTED,
    };
    Ok((status, AppJson(created)))
}

/// Your team's submissions, newest first (`scope=all`: every team's, for the
/// task's organizer and admins).
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/submissions", tag = "submissions", security(("bearer" = [])),
    params(("slug" = String, Path), SubmissionListQuery),
    responses((status = 200, body = Page<SubmissionView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_submissions(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<SubmissionListQuery>,
) -> AppResult<Page<SubmissionView>> {
    let (limit, offset, page, per_page) = PageQuery { page: q.page, per_page: q.per_page }.resolve()?;
    let scope = q.scope.as_deref().unwrap_or("team");
    let (items, total) = crate::submissions::list_submissions(&state, &me, &slug, scope, limit, offset).await?;
    Ok(Page { items, page, per_page, total })
}

/// One submission (your team's, or any for the organizer).
#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "submissions", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = SubmissionView), (status = 404, body = ErrorBody)))]
pub async fn get_submission(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<AppJson<SubmissionView>> {
    crate::submissions::get_submission(&state, &me, id).await.map(AppJson)
}

/// Selects a submission for the private board (before the close; at most
/// the task's `final_selections`).
#[utoipa::path(put, path = "/api/v1/submissions/{id}/selection", tag = "submissions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SubmissionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn select_submission(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<AppJson<SubmissionView>> {
    crate::submissions::select_submission(&state, &me, id).await.map(AppJson)
}

/// Unselects a submission.
#[utoipa::path(delete, path = "/api/v1/submissions/{id}/selection", tag = "submissions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SubmissionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn unselect_submission(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<AppJson<SubmissionView>> {
    crate::submissions::unselect_submission(&state, &me, id).await.map(AppJson)
}

/// Hides a submission from the boards, with a reason shown to its team.
/// The task's organizer or an admin.
#[utoipa::path(put, path = "/api/v1/submissions/{id}/hidden", tag = "submissions", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = Reason,
    responses((status = 200, body = SubmissionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn hide_submission(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Reason>,
) -> AppResult<AppJson<SubmissionView>> {
    crate::submissions::hide_submission(&state, &me, id, body).await.map(AppJson)
}

/// Shows a hidden submission again.
#[utoipa::path(delete, path = "/api/v1/submissions/{id}/hidden", tag = "submissions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SubmissionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unhide_submission(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<AppJson<SubmissionView>> {
    crate::submissions::unhide_submission(&state, &me, id).await.map(AppJson)
}
