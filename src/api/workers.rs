//! Remote workers: admins issue and revoke worker tokens and see the fleet;
//! workers (with a worker token, never a user's) register, lease jobs, fetch
//! the model and the hidden *inputs* of a job they hold a live lease on
//! (never labels, and nothing of another job), heartbeat, and post outcomes,
//! which the server checks and scores. A result for a lease the worker no
//! longer holds is refused (409).

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{self, CurrentUser};
use crate::db::{self, jobs, workers};
use crate::error::{AppError, AppResult};
use crate::eval::runner;
use crate::eval::wire::{FailPost, Lease, LeaseRef, Registration, ResultPost};
use crate::http;
use crate::http::{AppJson, AppPath, AppQuery, ErrorBody};
use crate::queue::{NewWorkerToken, WorkerView};
use crate::state::AppState;

/// Routes of this module; `upload_limit` bounds posted outcomes.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/admin/worker-tokens", post(create_worker_token))
        .route("/admin/worker-tokens/{id}", delete(revoke_worker_token))
        .route("/admin/workers", get(list_workers))
        .route("/worker/register", post(register_worker))
        .route("/worker/lease", post(lease_job))
        .route("/worker/blobs/{hash}", get(worker_blob))
        .route("/worker/jobs/{id}/heartbeat", post(heartbeat_job))
        .route("/worker/jobs/{id}/result", post(post_result).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/worker/jobs/{id}/fail", post(fail_job))
}

/// The authenticated worker.
#[derive(Debug, Clone)]
pub struct WorkerAuth {
    /// Its id.
    pub worker_id: i64,
    /// Whether it registered a CUDA device (it may take GPU jobs).
    pub gpu: bool,
}

impl WorkerAuth {
    fn owner_prefix(&self) -> String {
        crate::queue::owner_prefix(self.worker_id)
    }
}

impl FromRequestParts<AppState> for WorkerAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = http::presented_token(&parts.headers)
            .ok_or_else(|| AppError::Unauthorized("send the worker token as `Authorization: Bearer <token>`".into()))?;
        let row = workers::by_token_hash(&state.db.pool, &auth::token_hash(&token))
            .await?
            .ok_or_else(|| AppError::Unauthorized("the worker token is invalid or revoked".into()))?;
        workers::touch(&state.db.pool, row.worker_id, db::now_ms()).await?;
        let gpu = row.device.as_deref().is_some_and(gaic_sandbox::Device::is_cuda_name);
        Ok(Self { worker_id: row.worker_id, gpu })
    }
}

/// A worker token request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WorkerTokenRequest {
    /// A label, e.g. the machine's name.
    pub name: String,
}

/// Issues a worker token (admins).
#[utoipa::path(post, path = "/api/v1/admin/worker-tokens", tag = "workers", security(("bearer" = [])),
    request_body = WorkerTokenRequest,
    responses((status = 201, body = NewWorkerToken), (status = 403, body = ErrorBody)))]
pub async fn create_worker_token(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(req): AppJson<WorkerTokenRequest>,
) -> AppResult<(StatusCode, AppJson<NewWorkerToken>)> {
    crate::queue::issue_worker_token(&state, &me, &req.name).await.map(|t| (StatusCode::CREATED, AppJson(t)))
}

/// Revokes a worker token (admins); the worker is refused at once.
#[utoipa::path(delete, path = "/api/v1/admin/worker-tokens/{id}", tag = "workers", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_worker_token(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<StatusCode> {
    crate::queue::revoke_worker_token(&state, &me, id).await.map(|()| StatusCode::NO_CONTENT)
}

/// The worker fleet (admins).
#[utoipa::path(get, path = "/api/v1/admin/workers", tag = "workers", security(("bearer" = [])),
    responses((status = 200, body = [WorkerView]), (status = 403, body = ErrorBody)))]
pub async fn list_workers(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<Vec<WorkerView>>> {
    crate::queue::fleet(&state, &me, 3 * state.queue.config.lease_ms).await.map(AppJson)
}

/// Registers (or re-registers) the calling worker.
#[utoipa::path(post, path = "/api/v1/worker/register", tag = "workers", request_body = Registration,
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn register_worker(
    State(state): State<AppState>,
    w: WorkerAuth,
    AppJson(r): AppJson<Registration>,
) -> AppResult<StatusCode> {
    let device: String = r.device.chars().take(200).collect();
    let version: String = r.version.chars().take(50).collect();
    workers::register(&state.db.pool, w.worker_id, &device, &version, r.concurrency.clamp(1, 1024), db::now_ms())
        .await?;
    tracing::info!(worker = w.worker_id, device = %device, version = %version, "worker registered");
    Ok(StatusCode::NO_CONTENT)
}

/// Leases the next job (fairly across teams), or 204 when the queue is empty.
#[utoipa::path(post, path = "/api/v1/worker/lease", tag = "workers",
    responses((status = 200, body = Lease), (status = 204, description = "no job"), (status = 401, body = ErrorBody)))]
pub async fn lease_job(State(state): State<AppState>, w: WorkerAuth) -> AppResult<Response> {
    runner::reap(&state.queue).await.map_err(AppError::Internal)?;
    let owner = format!("{}{:08x}", w.owner_prefix(), rand::random::<u32>());
    let q = state.queue.config;
    let Some(claim) =
        jobs::claim(&state.db.pool, state.db.backend, &owner, db::now_ms(), q.lease_ms, q.team_cap, w.gpu).await?
    else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    crate::db::submissions::start_run(&state.db.pool, claim.submission_id, db::now_ms()).await?;
    let job = runner::job_spec(&state.queue, claim.submission_id).await.map_err(AppError::Internal)?;
    tracing::info!(job = claim.job_id, worker = w.worker_id, "job leased to a remote worker");
    Ok(AppJson(Lease { job_id: claim.job_id, lease: owner, lease_ms: q.lease_ms, job }).into_response())
}

/// The lease a blob is fetched under.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BlobQuery {
    /// The lease from `/worker/lease` of the job that needs the blob.
    pub lease: Option<String>,
}

/// Downloads the model or the task's hidden inputs of a job the calling
/// worker holds a live lease on, by content hash. Nothing else (labels least
/// of all, nor another job's files) is served here.
#[utoipa::path(get, path = "/api/v1/worker/blobs/{hash}", tag = "workers", params(("hash" = String, Path), BlobQuery),
    responses((status = 200, description = "the bytes"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "no `?lease=`")))]
pub async fn worker_blob(
    State(state): State<AppState>,
    w: WorkerAuth,
    AppPath(hash): AppPath<String>,
    AppQuery(q): AppQuery<BlobQuery>,
) -> AppResult<Response> {
    let lease = q.lease.ok_or_else(|| {
        AppError::invalid("lease_required", "send the lease of the job that needs this blob as ?lease=…")
    })?;
    own(&w, &lease)?;
    if hash.len() != 64
        || !hash.bytes().all(|b| b.is_ascii_hexdigit())
        || !workers::blob_of_lease(&state.db.pool, &lease, &hash).await?
    {
        return Err(AppError::NotFound("blob"));
    }
    let stream = state.blobs.stream(&hash).await.map_err(AppError::store)?;
    Ok(Body::from_stream(stream).into_response())
}

fn own(w: &WorkerAuth, lease: &str) -> AppResult<()> {
    if lease.starts_with(&w.owner_prefix()) {
        Ok(())
    } else {
        Err(AppError::Forbidden("that lease belongs to another worker".into()))
    }
}

fn lost() -> AppError {
    AppError::Conflict("the lease is no longer yours (it expired and the job went back to the queue)".into())
}

/// Extends a lease; 409 when it is no longer held.
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/heartbeat", tag = "workers", params(("id" = i64, Path)),
    request_body = LeaseRef, responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn heartbeat_job(
    State(state): State<AppState>,
    w: WorkerAuth,
    AppPath(id): AppPath<i64>,
    AppJson(l): AppJson<LeaseRef>,
) -> AppResult<StatusCode> {
    own(&w, &l.lease)?;
    if jobs::heartbeat(&state.db.pool, id, &l.lease, db::now_ms(), state.queue.config.lease_ms).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(lost())
    }
}

/// Posts a run's outcome: the server scores it and records it once; 409 when
/// the lease is no longer held (a late or duplicate result changes nothing).
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/result", tag = "workers", params(("id" = i64, Path)),
    request_body = ResultPost, responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn post_result(
    State(state): State<AppState>,
    w: WorkerAuth,
    AppPath(id): AppPath<i64>,
    AppJson(post): AppJson<ResultPost>,
) -> AppResult<StatusCode> {
    own(&w, &post.lease)?;
    let Some(submission_id) = jobs::held(&state.db.pool, id, &post.lease).await? else {
        return Err(lost());
    };
    let concluded = runner::conclude(&state.queue, submission_id, &post.outcome).await.map_err(AppError::Internal)?;
    let recorded =
        runner::record(&state.queue, id, &post.lease, submission_id, concluded).await.map_err(AppError::Internal)?;
    if recorded { Ok(StatusCode::NO_CONTENT) } else { Err(lost()) }
}

/// Reports a platform failure: the job goes back to the queue (or, after the
/// last attempt, ends as platform_error and is refunded). With `crashed`,
/// the evaluator died holding the job: see [`FailPost::crashed`].
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/fail", tag = "workers", params(("id" = i64, Path)),
    request_body = FailPost, responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn fail_job(
    State(state): State<AppState>,
    w: WorkerAuth,
    AppPath(id): AppPath<i64>,
    AppJson(post): AppJson<FailPost>,
) -> AppResult<StatusCode> {
    own(&w, &post.lease)?;
    let held = if post.crashed {
        runner::crashed(&state.queue, id, &post.lease, &post.error).await
    } else {
        runner::fail(&state.queue, id, &post.lease, &post.error).await
    };
    if held.map_err(AppError::Internal)? { Ok(StatusCode::NO_CONTENT) } else { Err(lost()) }
}
