//! Credentials: API tokens for the CLI and cookie sessions for the web.
//!
//! Both are rows of `tokens`; a secret is shown exactly once, when created.
//! Failed logins are throttled per username (429 with the wait).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{self, CurrentUser, SESSION_COOKIE, SESSION_TTL};
use crate::db::{self, tokens, users};
use crate::error::{AppError, AppResult};
use crate::http;
use crate::http::{AppJson, AppPath, ErrorBody};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", post(create_token).get(list_tokens))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/session", post(create_session).delete(delete_session))
}

/// Username and password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
    /// A label for the token, e.g. the machine it lives on (tokens only).
    pub name: Option<String>,
}

/// A token without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Id, for revoking.
    pub id: i64,
    /// Label.
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, if ever used.
    pub last_used_at: Option<String>,
    /// RFC 3339, if revoked.
    pub revoked_at: Option<String>,
}

/// A new token, with its secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenView {
    /// Id, for revoking.
    pub id: i64,
    /// Label.
    pub name: String,
    /// The secret: send as `Authorization: Bearer <token>`. Not shown again.
    pub token: String,
    /// Whose token it is.
    pub username: String,
}

/// Checks a username and password, throttling failures.
pub(crate) async fn check_credentials(state: &AppState, creds: &Credentials) -> AppResult<users::UserRow> {
    let username = creds.username.trim().to_ascii_lowercase();
    state.throttle.check(&username)?;
    let user = users::by_username(&state.db.pool, &username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let password = creds.password.clone();
    // Verify even for unknown users (against a fixed hash) so that timing does
    // not reveal which usernames exist.
    let ok = tokio::task::spawn_blocking(move || {
        let fallback =
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0000000000000000000000000000000000000000000";
        auth::verify_password(&password, stored.as_deref().unwrap_or(fallback))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    match user {
        Some(u) if ok => {
            state.throttle.succeeded(&username);
            Ok(u)
        }
        _ => {
            state.throttle.failed(&username);
            Err(AppError::Unauthorized("wrong username or password".into()))
        }
    }
}

/// Creates an API token from a username and password; the secret is shown once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = Credentials,
    responses((status = 201, body = NewTokenView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    AppJson(creds): AppJson<Credentials>,
) -> AppResult<(StatusCode, AppJson<NewTokenView>)> {
    let user = check_credentials(&state, &creds).await?;
    let name = creds.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or("cli");
    if name.chars().count() > 100 {
        return Err(AppError::invalid("invalid_token_name", "name: at most 100 characters"));
    }
    let (token, hash) = auth::new_token();
    let id = tokens::insert(&state.db.pool, user.user_id, "api", name, &hash, None, db::now_ms()).await?;
    tracing::info!(user = %user.username, token_id = id, "API token created");
    Ok((StatusCode::CREATED, AppJson(NewTokenView { id, name: name.to_owned(), token, username: user.username })))
}

/// The caller's API tokens (never their secrets), newest first.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = [TokenView]), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<Vec<TokenView>>> {
    let rows = tokens::list_for_user(&state.db.pool, me.user_id, "api").await?;
    Ok(AppJson(
        rows.into_iter()
            .map(|t| TokenView {
                id: t.token_id,
                name: t.name,
                created_at: db::ms_to_rfc3339(t.created_at),
                last_used_at: t.last_used_at.map(db::ms_to_rfc3339),
                revoked_at: t.revoked_at.map(db::ms_to_rfc3339),
            })
            .collect(),
    ))
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
    if tokens::revoke(&state.db.pool, me.user_id, id, db::now_ms()).await? {
        tracing::info!(user = %me.username, token_id = id, "API token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound("token"))
    }
}

/// Starts a web session for a user; the `Set-Cookie` value.
pub(crate) async fn new_session(state: &AppState, user_id: i64, agent: &str) -> AppResult<HeaderValue> {
    let agent: String = agent.chars().take(100).collect();
    let (token, hash) = auth::new_token();
    let now = db::now_ms();
    let expires = now + SESSION_TTL.as_millis() as i64;
    tokens::insert(&state.db.pool, user_id, "session", &agent, &hash, Some(expires), now).await?;
    Ok(session_cookie(&token, SESSION_TTL.as_secs()))
}

/// A `gaic_session` cookie (an empty value with max-age 0 clears it).
pub(crate) fn session_cookie(value: &str, max_age_secs: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}"))
        .expect("cookie characters are valid")
}

/// Logs in for the web: sets an HttpOnly, SameSite=Lax session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "auth", request_body = Credentials,
    responses((status = 200, description = "logged in; `Set-Cookie: gaic_session=…`"),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppJson(creds): AppJson<Credentials>,
) -> AppResult<Response> {
    let user = check_credentials(&state, &creds).await?;
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("browser");
    let cookie = new_session(&state, user.user_id, agent).await?;
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
