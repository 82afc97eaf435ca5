//! Credentials: API tokens for the CLI and cookie sessions for the web.
//!
//! Both are rows of `tokens`; a secret is shown exactly once, when created.
//! Failed logins are throttled per username (429 with the wait).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};

use crate::accounts::{Credentials, NewTokenView, TokenView, check_credentials, new_session};
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
}

/// Creates an API token from a username and password; the secret is shown once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = Credentials,
    responses((status = 201, body = NewTokenView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
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
