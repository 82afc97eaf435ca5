//! Accounts: registration, profiles and role management.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{self, COUNTRIES, CurrentUser, ROLES};
use crate::db::{self, users};
use crate::error::{AppError, AppResult, Problem};
use crate::http;
use crate::http::{AppJson, AppPath, ErrorBody};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(register_user))
        .route("/me", get(get_me).delete(crate::api::profile::delete_me))
        .route("/users/{username}", get(get_user))
        .route("/users/{username}/roles/{role}", put(grant_role).delete(revoke_role))
}

/// A registration.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// 3–32 characters: letters, digits, `_` or `-` (stored lower-case).
    pub username: String,
    /// A reachable email address (stored lower-case, never shown publicly).
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    /// ISO 3166-1 alpha-2 country code, e.g. `KR`.
    pub country: String,
    /// The name shown on boards (defaults to the username).
    pub display_name: Option<String>,
}

/// A public profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Login name.
    pub username: String,
    /// Name shown on boards.
    pub display_name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `competitor` plus any extra roles.
    pub roles: Vec<String>,
    /// When the account was made (RFC 3339).
    pub created_at: String,
    /// Only to the user themself and admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn view(u: users::UserRow, extra_roles: Vec<String>, with_email: bool) -> UserView {
    let mut roles = vec!["competitor".to_owned()];
    roles.extend(extra_roles);
    UserView {
        username: u.username,
        display_name: u.display_name,
        country: u.country,
        roles,
        created_at: db::ms_to_rfc3339(u.created_at),
        email: with_email.then_some(u.email),
    }
}

/// Minimum password length.
pub const MIN_PASSWORD: usize = 10;

fn validate(req: &RegisterRequest) -> Vec<Problem> {
    let mut problems = Vec::new();
    let username = req.username.trim();
    if !(3..=32).contains(&username.len())
        || !username.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        problems.push(Problem::new("", "username", "must be 3-32 characters: letters, digits, '_' or '-'"));
    }
    let email = req.email.trim();
    let email_ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if !email_ok {
        problems.push(Problem::new("", "email", "is not a valid email address"));
    }
    if req.password.chars().count() < MIN_PASSWORD {
        problems.push(Problem::new("", "password", format!("must be at least {MIN_PASSWORD} characters")));
    }
    if req.password.len() > 1024 {
        problems.push(Problem::new("", "password", "must be at most 1024 bytes"));
    }
    if COUNTRIES.binary_search(&req.country.trim().to_ascii_uppercase().as_str()).is_err() {
        problems.push(Problem::new(
            "",
            "country",
            format!("{:?} is not an ISO 3166-1 alpha-2 code such as KR or US", req.country),
        ));
    }
    if let Some(name) = &req.display_name {
        let len = name.trim().chars().count();
        if len == 0 || len > 64 || name.chars().any(char::is_control) {
            problems.push(Problem::new("", "display_name", "must be 1-64 printable characters"));
        }
    }
    problems
}

/// Creates an account. Everyone is a competitor; other roles are granted by an admin.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody, description = "username or email taken"),
              (status = 422, body = ErrorBody, description = "invalid fields, each named")))]
pub async fn register_user(
    State(state): State<AppState>,
    AppJson(req): AppJson<RegisterRequest>,
) -> AppResult<(StatusCode, AppJson<UserView>)> {
    let row = create_account(&state, req).await?;
    Ok((StatusCode::CREATED, AppJson(view(row, vec![], true))))
}

/// Validates a registration and creates the account (API and web form).
pub(crate) async fn create_account(state: &AppState, req: RegisterRequest) -> AppResult<users::UserRow> {
    let details = validate(&req);
    if !details.is_empty() {
        let message = format!("{} invalid field(s)", details.len());
        return Err(AppError::Invalid { code: "invalid_registration", message: message.into(), details });
    }
    let username = req.username.trim().to_ascii_lowercase();
    let email = req.email.trim().to_ascii_lowercase();
    if let Some(field) = users::taken(&state.db.pool, &username, &email).await? {
        return Err(AppError::Conflict(format!("that {field} is already registered").into()));
    }
    let password = req.password;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    let country = req.country.trim().to_ascii_uppercase();
    let display_name = req.display_name.as_deref().map_or(username.as_str(), str::trim).to_owned();
    let new = users::NewUser {
        username: &username,
        email: &email,
        password_hash: &hash,
        display_name: &display_name,
        country: &country,
    };
    let user_id = users::insert(&state.db.pool, &new, db::now_ms()).await.map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict("that username or email is already registered".into()),
        other => other,
    })?;
    tracing::info!(user_id, username = %username, "account created");
    let row = users::by_id(&state.db.pool, user_id).await?.ok_or(AppError::NotFound("user"))?;
    Ok(row)
}

/// The caller's own account, with email.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<UserView>> {
    let row = users::by_id(&state.db.pool, me.user_id).await?.ok_or(AppError::NotFound("user"))?;
    Ok(AppJson(view(row, me.roles, true)))
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
    let row =
        users::by_username(&state.db.pool, &username.to_ascii_lowercase()).await?.ok_or(AppError::NotFound("user"))?;
    let roles = users::roles(&state.db.pool, row.user_id).await?;
    let admin = viewer.0.as_ref().is_some_and(CurrentUser::is_admin);
    Ok(AppJson(view(row, roles, admin)))
}

/// The user whose `role` an admin is changing, after checking the caller
/// and the role's name.
async fn role_target(state: &AppState, me: &CurrentUser, username: &str, role: &str) -> AppResult<users::UserRow> {
    me.require("admin")?;
    if !ROLES.contains(&role) {
        return Err(AppError::invalid("unknown_role", format!("unknown role {role:?}; roles: {}", ROLES.join(", "))));
    }
    users::by_username(&state.db.pool, &username.to_ascii_lowercase()).await?.ok_or(AppError::NotFound("user"))
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
    let row = role_target(&state, &me, &username, &role).await?;
    users::grant_role(&state.db.pool, row.user_id, &role, Some(me.user_id), db::now_ms()).await?;
    tracing::info!(by = %me.username, user = %row.username, role, "role granted");
    let roles = users::roles(&state.db.pool, row.user_id).await?;
    Ok(AppJson(view(row, roles, true)))
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
    let row = role_target(&state, &me, &username, &role).await?;
    let mut tx = state.db.pool.begin().await?;
    let held = users::roles(&mut *tx, row.user_id).await?.contains(&role);
    if held && role == "admin" && users::count_with_role(&mut *tx, "admin").await? <= 1 {
        return Err(AppError::Conflict("cannot remove the last admin".into()));
    }
    users::revoke_role(&mut *tx, row.user_id, &role).await?;
    tx.commit().await?;
    tracing::info!(by = %me.username, user = %row.username, role, "role revoked");
    let roles = users::roles(&state.db.pool, row.user_id).await?;
    Ok(AppJson(view(row, roles, true)))
}
