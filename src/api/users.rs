//! Accounts: registration, profiles and role management.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};

use crate::accounts::{RegisterRequest, UserView};
use crate::audit::{AuditPage, AuditQuery};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::http;
use crate::http::{AppJson, AppPath, AppQuery, ErrorBody};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(register_user))
        .route("/me", get(get_me).delete(crate::api::profile::delete_me))
        .route("/users/{username}", get(get_user))
        .route("/users/{username}/roles/{role}", put(grant_role).delete(revoke_role))
        .route("/admin/audit", get(audit_log))
}

/// The audit log (admins): every recruiter search, view, export and
/// contact, and every organizer and admin action, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "accounts", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such actor or person")))]
pub async fn audit_log(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<AuditQuery>,
) -> AppResult<AppJson<AuditPage>> {
    crate::audit::list(&state, &me, &q).await.map(AppJson)
}

/// Creates an account. Everyone is a competitor; other roles are granted by an admin.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody, description = "username or email taken"),
              (status = 422, body = ErrorBody, description = "invalid fields, each named")))]
pub async fn register_user(
    State(state): State<AppState>,
    AppJson(req): AppJson<RegisterRequest>,
) -> AppResult<(StatusCode, AppJson<UserView>)> {
    crate::accounts::register_user(&state, req).await.map(|v| (StatusCode::CREATED, AppJson(v)))
}

/// The caller's own account, with email.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<UserView>> {
    crate::accounts::get_me(&state, &me).await.map(AppJson)
}

/// A public profile (email only for admins).
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "accounts",
    params(("username" = String, Path, description = "login name")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    viewer: http::MaybeUser,
    AppPath(username): AppPath<String>,
) -> AppResult<AppJson<UserView>> {
    crate::accounts::get_user(&state, viewer.0.as_ref(), username).await.map(AppJson)
}

/// Grants a role (admin only). Granting a role already held changes nothing.
#[utoipa::path(put, path = "/api/v1/users/{username}/roles/{role}", tag = "accounts", security(("bearer" = [])),
    params(("username" = String, Path), ("role" = String, Path, description = "admin, organizer or recruiter")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn grant_role(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((username, role)): AppPath<(String, String)>,
) -> AppResult<AppJson<UserView>> {
    crate::accounts::grant_role(&state, &me, (username, role)).await.map(AppJson)
}

/// Removes a role (admin only). The last admin cannot lose the admin role.
#[utoipa::path(delete, path = "/api/v1/users/{username}/roles/{role}", tag = "accounts", security(("bearer" = [])),
    params(("username" = String, Path), ("role" = String, Path)),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "the last admin")))]
pub async fn revoke_role(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((username, role)): AppPath<(String, String)>,
) -> AppResult<AppJson<UserView>> {
    crate::accounts::revoke_role(&state, &me, (username, role)).await.map(AppJson)
}
