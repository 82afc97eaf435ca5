//! The JSON API under `/api/v1`, plus the operational endpoints.
//!
//! One module per resource, each with `pub fn router() -> Router<AppState>`
//! and handlers that extract, call the domain and render JSON; [`router`]
//! assembles them, and `server::app` merges them with the pages under the
//! shared layers (what both `gaic serve` and the tests run). Every handler is
//! listed in [`ApiDoc`], served at `/api/v1/openapi.json`.

pub mod leaderboard;
pub mod live;
pub mod ops;
pub mod profile;
pub mod recruiting;
pub mod submissions;
pub mod tasks;
pub mod teams;
pub mod tokens;
pub mod users;
pub mod workers;

use std::any::Any;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::error::AppError;
use crate::http::{ErrorBody, error_response};
use crate::state::AppState;

pub use crate::http::JSON_LIMIT;

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(title = "gaic API", description = "Global AI Challenge: tasks, accounts, submissions, leaderboards."),
    paths(
        users::register_user, users::get_me, users::get_user, users::grant_role, users::revoke_role, users::audit_log,
        tokens::create_token, tokens::list_tokens, tokens::revoke_token, tokens::create_session, tokens::delete_session,
        tokens::list_sessions, tokens::revoke_session, tokens::log_out_everywhere, tokens::change_password,
        tasks::list_tasks, tasks::get_task, tasks::create_task, tasks::update_task, tasks::download_file,
        submissions::create_submission, submissions::list_submissions, submissions::get_submission,
        submissions::select_submission, submissions::unselect_submission, submissions::hide_submission,
        submissions::unhide_submission,
        teams::get_team, teams::create_team, teams::rename_team, teams::invite_member, teams::leave_team,
        teams::disqualify_team, teams::reinstate_team, teams::list_invites, teams::accept_invite, teams::decline_invite,
        leaderboard::get_leaderboard, leaderboard::close_task, leaderboard::reopen_task, leaderboard::integrity_review, leaderboard::add_baseline, leaderboard::delete_baseline,
        leaderboard::rescore_task,
        workers::create_worker_token, workers::revoke_worker_token, workers::list_workers, workers::register_worker,
        live::submission_events, live::task_events, live::cancel_submission, live::requeue_submission,
        live::get_queue, live::purge_queue,
        workers::lease_job, workers::worker_blob, workers::heartbeat_job, workers::post_result, workers::fail_job,
        profile::get_profile, profile::put_profile, profile::grant_consent, profile::withdraw_consent,
        profile::search_talent, profile::show_talent, profile::my_views, profile::export_me, profile::delete_me,
        profile::my_credentials, profile::credential_status, profile::revoked_credentials, profile::credential_key,
        profile::get_rankings,
        recruiting::list_shortlists, recruiting::create_shortlist, recruiting::get_shortlist, recruiting::add_to_shortlist,
        recruiting::remove_from_shortlist, recruiting::request_contact, recruiting::list_contact_requests,
        recruiting::answer_contact_request,
        ops::healthz, ops::readyz, ops::csp_report,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &CommonResponses),
    tags(
        (name = "accounts", description = "Registration, profiles and roles"),
        (name = "auth", description = "API tokens and web sessions"),
        (name = "tasks", description = "Challenges and their public data"),
        (name = "submissions", description = "Uploading, scoring and selecting submissions"),
        (name = "teams", description = "Teams, invites and mergers"),
        (name = "leaderboards", description = "Public and private boards, closing, baselines, rescoring"),
        (name = "workers", description = "Remote evaluation workers and their tokens"),
        (name = "queue", description = "The evaluation queue: cancel, requeue, purge, depth"),
        (name = "talent", description = "Profiles, consents and the recruiters' people search"),
        (name = "ops", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers any operation can give besides its own, added where an
/// operation does not name them: 400 (a malformed path, query or body), 401
/// (a bad or revoked token: every `/api/v1` operation reads one if sent),
/// 403 on changes (a read-only token; the session cookie without the CSRF
/// header), 413 and 422 on bodies (over the largest limit; invalid fields),
/// 404 where the path names something, 429 where a
/// rate limit applies, and 503 (the database or the blob store does not
/// answer). All are the JSON error body.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::content::ContentBuilder;
        use utoipa::openapi::response::ResponseBuilder;
        use utoipa::openapi::{Ref, RefOr};
        let error = |what: &str| {
            let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            RefOr::T(ResponseBuilder::new().description(what).content("application/json", body).build())
        };
        for (path, item) in &mut openapi.paths.paths {
            let api = path.starts_with("/api/v1/");
            let limited = [
                "/api/v1/users",
                "/api/v1/session",
                "/api/v1/tokens",
                "/api/v1/tasks",
                "/api/v1/tasks/{slug}/submissions",
            ]
            .contains(&path.as_str())
                || path.ends_with("/events");
            let operations = [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ];
            for (op, changes) in operations {
                let Some(op) = op.as_mut() else { continue };
                let answers = &mut op.responses.responses;
                let mut add = |code: &str, what: &str| {
                    answers.entry(code.to_owned()).or_insert_with(|| error(what));
                };
                add("400", "malformed path, query or body");
                add("503", "the database or the blob store does not answer; try again");
                if api {
                    add("401", "a bad, expired or revoked token (or none where one is needed)");
                }
                if api && changes {
                    add(
                        "403",
                        "not allowed: a role or owner only, a read-only token, or a cookie without X-CSRF-Token",
                    );
                    add("413", "the body is larger than the server takes");
                    add("422", "a well-formed body with invalid fields, each named");
                }
                if path.contains('{') {
                    add("404", "the named thing does not exist, or is not visible to the caller");
                }
                if limited {
                    add("429", "over a rate limit; `Retry-After` says when to try again");
                }
            }
        }
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The JSON API under `/api/v1`, the operational endpoints and the
/// credential key; `server::app` merges the pages and adds the layers.
pub fn router(upload_limit: usize) -> Router<AppState> {
    let api = Router::new()
        .merge(users::router())
        .merge(tokens::router())
        .merge(tasks::router(upload_limit))
        .merge(submissions::router(upload_limit))
        .merge(teams::router())
        .merge(profile::router())
        .merge(recruiting::router())
        .merge(leaderboard::router(upload_limit))
        .merge(workers::router(upload_limit))
        .merge(live::router())
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .merge(ops::router())
        .route("/.well-known/gaic-credential-key", get(profile::credential_key))
}

/// The JSON 404 of an unknown route.
pub async fn not_found() -> AppError {
    AppError::NotFound("route")
}

/// The JSON 405.
pub async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route".into(),
        vec![],
    )
}

/// The JSON 500 of a handler that panicked.
pub fn panic_response(_err: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal", crate::msg!("internal").to_string(), vec![])
}

/// `?page=&per_page=` of every listing.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    pub per_page: Option<u32>,
}

impl PageQuery {
    /// (limit, offset, page, per_page), or 400 for values out of range.
    pub fn resolve(self) -> Result<(i64, i64, u32, u32), AppError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if page == 0 {
            return Err(AppError::BadRequest("page starts at 1".into()));
        }
        if !(1..=100).contains(&per_page) {
            return Err(AppError::BadRequest(format!("per_page must be between 1 and 100, got {per_page}").into()));
        }
        Ok((i64::from(per_page), i64::from(page - 1) * i64::from(per_page), page, per_page))
    }
}

/// One page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// This page's number (1-based).
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
    /// Items over all pages.
    pub total: i64,
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}
