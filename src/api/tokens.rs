//! Credentials: API tokens for the CLI and cookie sessions for the web.
//!
//! Both are rows of `tokens`; a secret is shown exactly once, when created.
//! A token may be read-only and may expire. Failed logins are throttled per
//! client address and username (429 with the wait). A person lists and ends
//! their sessions, logs out everywhere, and changes their password (which
//! ends their other sessions).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};

use crate::accounts::{
    Credentials, NewTokenView, PasswordChange, SessionView, TokenView, check_credentials, new_session,
};
use crate::auth::{self, CurrentUser};
use crate::db::{self, tokens};
use crate::error::AppResult;
use crate::http;
use crate::http::{AppJson, AppPath, ErrorBody, new_session_cookie, session_cookie};
use crate::limits::Client;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", post(create_token).get(list_tokens))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/session", post(create_session).delete(delete_session))
        .route("/me/sessions", get(list_sessions).delete(log_out_everywhere))
        .route("/me/sessions/{id}", delete(revoke_session))
        .route("/me/password", put(change_password))
}

/// The caller's live web sessions (which browser, since when, last used),
/// newest first; `current` marks the one this request came through.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = [SessionView]), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<Vec<SessionView>>> {
    crate::accounts::list_sessions(&state, &me).await.map(AppJson)
}

/// Ends one of the caller's web sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<StatusCode> {
    crate::accounts::revoke_session(&state, &me, id).await.map(|()| StatusCode::NO_CONTENT)
}

/// Logs out everywhere: every web session ends (this one too) and every
/// API token is revoked.
#[utoipa::path(delete, path = "/api/v1/me/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "`{\"ended\": N}`; the session cookie is cleared"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn log_out_everywhere(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let ended = crate::accounts::log_out_everywhere(&state, &me).await?;
    let body = AppJson(serde_json::json!({ "ended": ended }));
    Ok(([(header::SET_COOKIE, session_cookie("", 0))], body).into_response())
}

/// Changes the caller's password (the current one is checked); every other
/// web session ends, this one and API tokens stay.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "auth", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 200, description = "`{\"sessions_ended\": N}`"), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "the current password is wrong, or a read-only token"),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    AppJson(change): AppJson<PasswordChange>,
) -> AppResult<AppJson<serde_json::Value>> {
    let ended = crate::accounts::change_password(&state, &me, &change, client).await?;
    Ok(AppJson(serde_json::json!({ "sessions_ended": ended })))
}

/// Creates an API token from a username and password; the secret is shown
/// once. `scope: "read"` makes a token that may only read (GET);
/// `expires_in_days` (1–365) one that stops working by itself.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = Credentials,
    responses((status = 201, body = NewTokenView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    client: Client,
    AppJson(creds): AppJson<Credentials>,
) -> AppResult<(StatusCode, AppJson<NewTokenView>)> {
    crate::accounts::create_token(&state, creds, client).await.map(|v| (StatusCode::CREATED, AppJson(v)))
}

/// The caller's API tokens (never their secrets), newest first.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = [TokenView]), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<Vec<TokenView>>> {
    crate::accounts::list_tokens(&state, &me).await.map(AppJson)
}

/// Revokes one of the caller's tokens; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<StatusCode> {
    crate::accounts::revoke_token(&state, &me, id).await.map(|()| StatusCode::NO_CONTENT)
}

/// Logs in for the web: sets an HttpOnly, SameSite=Lax session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "auth", request_body = Credentials,
    responses((status = 200, description = "logged in; `Set-Cookie: gaic_session=…`"),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    AppJson(creds): AppJson<Credentials>,
) -> AppResult<Response> {
    let user = check_credentials(&state, &creds, client).await?;
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("browser");
    let cookie = new_session_cookie(&new_session(&state, user.user_id, agent).await?);
    let body = AppJson(serde_json::json!({ "username": user.username }));
    Ok(([(header::SET_COOKIE, cookie)], body).into_response())
}

/// Logs out: revokes the presented session or token and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "auth",
    responses((status = 204, description = "logged out (also when not logged in)")))]
pub async fn delete_session(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if let Some(token) = http::presented_token(&headers) {
        tokens::revoke_by_hash(&state.db.pool, &auth::token_hash(&token), db::now_ms()).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session_cookie("", 0))]).into_response())
}
