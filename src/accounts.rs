//! Accounts: registration, role management, and credentials (API tokens
//! for the CLI, sessions for the web).
//!
//! Invariants: usernames are unique, emails are not (sign-up never says
//! whether an email is registered), both stored lower-case; a password is
//! at least [`MIN_PASSWORD`] characters and stored only as its argon2id
//! hash; a token's secret is shown exactly once, when created, and stored
//! only as its SHA-256; a token may be read-only and may expire; failed
//! logins are throttled per client address and username; only an admin
//! grants or revokes roles, and the last admin keeps theirs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{self, COUNTRIES, CurrentUser, ROLES, SESSION_TTL};
use crate::db::{self, tokens, users};
use crate::error::{AppError, AppResult, Problem};
use crate::limits::{Class, Client};
use crate::msg;
use crate::platform::Platform;

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
    /// "I am 14 or older": this or a birth year is required, so that an
    /// unknown age never reaches recruiter search.
    #[serde(default)]
    pub age_14_or_older: bool,
    /// Year of birth (instead of the confirmation; kept on the profile).
    #[serde(default)]
    pub birth_year: Option<i64>,
}

/// A public profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Login name.
    pub username: String,
    /// Name shown on boards.
    pub display_name: String,
    /// ISO 3166-1 alpha-2: to the user themself and admins, and to anyone
    /// when the user consented to a public profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `competitor` plus any extra roles: to the user themself and admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// When the account was made (RFC 3339).
    pub created_at: String,
    /// Only to the user themself and admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The whole account (to the user themself and admins).
fn view(u: users::UserRow, extra_roles: Vec<String>, with_email: bool) -> UserView {
    let mut roles = vec!["competitor".to_owned()];
    roles.extend(extra_roles);
    UserView {
        username: u.username,
        display_name: u.display_name,
        country: Some(u.country),
        roles: Some(roles),
        created_at: db::ms_to_rfc3339(u.created_at),
        email: with_email.then_some(u.email),
    }
}

/// Names nobody may register: the platform's own, and the prefix deleted
/// accounts are renamed to (`deleted-{id}`), so that no one can take a
/// deleted account's name first and make its deletion fail.
const RESERVED: &[&str] = &["admin", "administrator", "root", "system", "gaic", "support", "security", "staff"];

/// Whether `username` is reserved (any case).
pub fn reserved(username: &str) -> bool {
    let u = username.to_ascii_lowercase();
    u.starts_with("deleted-") || u.starts_with("admin") || RESERVED.contains(&u.as_str())
}

/// Minimum password length.
pub const MIN_PASSWORD: usize = 10;

fn validate(req: &RegisterRequest) -> Vec<Problem> {
    let mut problems = Vec::new();
    let username = req.username.trim();
    if !(3..=32).contains(&username.len())
        || !username.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        problems.push(Problem::new("", "username", msg!("username_invalid")));
    } else if reserved(username) {
        problems.push(Problem::new("", "username", msg!("username_reserved")));
    }
    let email = req.email.trim();
    let email_ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if !email_ok {
        problems.push(Problem::new("", "email", msg!("email_invalid")));
    }
    if req.password.chars().count() < MIN_PASSWORD {
        problems.push(Problem::new("", "password", msg!("password_short", min = MIN_PASSWORD)));
    }
    if req.password.len() > 1024 {
        problems.push(Problem::new("", "password", msg!("password_long")));
    }
    if COUNTRIES.binary_search(&req.country.trim().to_ascii_uppercase().as_str()).is_err() {
        problems.push(Problem::new("", "country", msg!("country_invalid", country = format!("{:?}", req.country))));
    }
    if let Some(name) = &req.display_name {
        let len = name.trim().chars().count();
        if len == 0 || len > 64 || name.chars().any(char::is_control) {
            problems.push(Problem::new("", "display_name", msg!("display_name_invalid")));
        }
    }
    problems.extend(crate::consent::birth_year_problem(req.birth_year, db::now_ms()));
    if req.birth_year.is_none() && !req.age_14_or_older {
        problems.push(Problem::new("", "age_14_or_older", msg!("age_confirm_needed")));
    }
    problems
}

/// Creates an account. Everyone is a competitor; other roles are granted by an admin.
pub async fn register_user(state: &Platform, req: RegisterRequest) -> AppResult<UserView> {
    let row = create_account(state, req).await?;
    Ok(view(row, vec![], true))
}

/// Validates a registration and creates the account (API and web form).
pub async fn create_account(state: &Platform, req: RegisterRequest) -> AppResult<users::UserRow> {
    let details = validate(&req);
    if !details.is_empty() {
        let message = format!("{} invalid field(s)", details.len());
        return Err(AppError::Invalid { code: "invalid_registration", message: message.into(), details });
    }
    let username = req.username.trim().to_ascii_lowercase();
    let email = req.email.trim().to_ascii_lowercase();
    // Only the username is checked (usernames are public on the boards);
    // whether an email is registered is never said.
    if users::username_taken(&state.db.pool, &username).await? {
        return Err(AppError::Conflict(msg!("username_registered")));
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
        AppError::Conflict(_) => AppError::Conflict(msg!("username_registered")),
        other => other,
    })?;
    let now = db::now_ms();
    if req.age_14_or_older {
        users::confirm_age(&state.db.pool, user_id, now).await?;
    }
    if let Some(year) = req.birth_year {
        let profile =
            crate::db::profiles::ProfileRow { user_id, birth_year: Some(year), updated_at: now, ..Default::default() };
        crate::db::profiles::put(&state.db.pool, &profile, now).await?;
    }
    tracing::info!(user_id, username = %username, "account created");
    let row = users::by_id(&state.db.pool, user_id).await?.ok_or(AppError::NotFound("user"))?;
    Ok(row)
}

/// The caller's own account, with email.
pub async fn get_me(state: &Platform, me: &CurrentUser) -> AppResult<UserView> {
    let row = users::by_id(&state.db.pool, me.user_id).await?.ok_or(AppError::NotFound("user"))?;
    Ok(view(row, me.roles.clone(), true))
}

/// A public profile (email only for admins).
pub async fn get_user(state: &Platform, viewer: Option<&CurrentUser>, username: String) -> AppResult<UserView> {
    let row =
        users::by_username(&state.db.pool, &username.to_ascii_lowercase()).await?.ok_or(AppError::NotFound("user"))?;
    let roles = users::roles(&state.db.pool, row.user_id).await?;
    let admin = viewer.is_some_and(CurrentUser::is_admin);
    if admin || viewer.is_some_and(|v| v.user_id == row.user_id) {
        return Ok(view(row, roles, true));
    }
    // Others see what the boards show, and the country only under a public
    // profile.
    let public = crate::db::profiles::consents(&state.db.pool, row.user_id)
        .await?
        .iter()
        .any(|c| c.kind == "public_profile" && crate::consent::in_force(&c.kind, &c.text_version));
    let mut shown = view(row, roles, false);
    shown.roles = None;
    if !public {
        shown.country = None;
    }
    Ok(shown)
}

/// The user whose `role` an admin is changing, after checking the caller
/// and the role's name.
async fn role_target(state: &Platform, me: &CurrentUser, username: &str, role: &str) -> AppResult<users::UserRow> {
    me.require("admin")?;
    if !ROLES.contains(&role) {
        return Err(AppError::invalid(
            "unknown_role",
            msg!("unknown_role", role = format!("{role:?}"), roles = ROLES.join(", ")),
        ));
    }
    users::by_username(&state.db.pool, &username.to_ascii_lowercase()).await?.ok_or(AppError::NotFound("user"))
}

/// Grants a role (admin only). Granting a role already held changes nothing.
pub async fn grant_role(state: &Platform, me: &CurrentUser, (username, role): (String, String)) -> AppResult<UserView> {
    let row = role_target(state, me, &username, &role).await?;
    let mut tx = state.db.pool.begin().await?;
    users::grant_role(&mut *tx, row.user_id, &role, Some(me.user_id), db::now_ms()).await?;
    let detail = serde_json::json!({ "role": role });
    crate::audit::record(&mut tx, me, crate::audit::Action::RoleGrant, None, &[row.user_id], detail).await?;
    tx.commit().await?;
    tracing::info!(by = %me.username, user = %row.username, role, "role granted");
    let roles = users::roles(&state.db.pool, row.user_id).await?;
    Ok(view(row, roles, true))
}

/// Removes a role (admin only). The last admin cannot lose the admin role.
pub async fn revoke_role(
    state: &Platform,
    me: &CurrentUser,
    (username, role): (String, String),
) -> AppResult<UserView> {
    let row = role_target(state, me, &username, &role).await?;
    let mut tx = state.db.pool.begin().await?;
    let held = users::roles(&mut *tx, row.user_id).await?.contains(&role);
    if held && role == "admin" && users::count_with_role(&mut *tx, "admin").await? <= 1 {
        return Err(AppError::Conflict(msg!("last_admin")));
    }
    users::revoke_role(&mut *tx, row.user_id, &role).await?;
    let detail = serde_json::json!({ "role": role });
    crate::audit::record(&mut tx, me, crate::audit::Action::RoleRevoke, None, &[row.user_id], detail).await?;
    tx.commit().await?;
    tracing::info!(by = %me.username, user = %row.username, role, "role revoked");
    let roles = users::roles(&state.db.pool, row.user_id).await?;
    Ok(view(row, roles, true))
}

/// Username and password.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Credentials {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
    /// A label for the token, e.g. the machine it lives on (tokens only).
    pub name: Option<String>,
    /// What the token may do (tokens only; default `write`).
    #[serde(default)]
    pub scope: TokenScope,
    /// Days until the token stops working, 1–365 (tokens only; default:
    /// never).
    pub expires_in_days: Option<u32>,
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Read only: GET requests.
    Read,
    /// Everything its owner may do.
    #[default]
    Write,
}

impl TokenScope {
    fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "read" { TokenScope::Read } else { TokenScope::Write }
    }
}

/// A token without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Id, for revoking.
    pub id: i64,
    /// Label.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, if ever used.
    pub last_used_at: Option<String>,
    /// RFC 3339, if it expires.
    pub expires_at: Option<String>,
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
    /// What it may do.
    pub scope: TokenScope,
    /// RFC 3339, if it expires.
    pub expires_at: Option<String>,
}

/// Checks a username and password, throttling the failures of `client`.
pub async fn check_credentials(state: &Platform, creds: &Credentials, client: Client) -> AppResult<users::UserRow> {
    let username = creds.username.trim().to_ascii_lowercase();
    state.throttle.check(client, &username).await?;
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
            state.throttle.succeeded(client, &username).await?;
            Ok(u)
        }
        _ => {
            state.throttle.failed(client, &username).await?;
            Err(AppError::Unauthorized(msg!("wrong_login")))
        }
    }
}

/// Creates an API token from a username and password; the secret is shown
/// once.
pub async fn create_token(state: &Platform, creds: Credentials, client: Client) -> AppResult<NewTokenView> {
    let user = check_credentials(state, &creds, client).await?;
    let new = TokenRequest {
        name: creds.name.as_deref().unwrap_or_default(),
        fallback: "cli",
        scope: creds.scope,
        expires_in_days: creds.expires_in_days,
    };
    let (id, name, token, expires_at) = issue_token(state, user.user_id, &new).await?;
    tracing::info!(user = %user.username, token_id = id, scope = creds.scope.as_str(), "API token created");
    Ok(NewTokenView {
        id,
        name,
        token,
        username: user.username,
        scope: creds.scope,
        expires_at: expires_at.map(db::ms_to_rfc3339),
    })
}

/// An API token asked for.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// Its label.
    pub name: &'a str,
    /// The label when `name` is blank.
    pub fallback: &'a str,
    /// What it may do.
    pub scope: TokenScope,
    /// Days it works, 1–365 (None: until revoked).
    pub expires_in_days: Option<u32>,
}

/// Issues an API token to `user_id`: its id, name, secret and expiry (ms).
/// An account issues at most the `token` quota.
pub async fn issue_token(
    state: &Platform,
    user_id: i64,
    req: &TokenRequest<'_>,
) -> AppResult<(i64, String, String, Option<i64>)> {
    let name = req.name.trim();
    let name = if name.is_empty() { req.fallback } else { name };
    if name.chars().count() > 100 {
        return Err(AppError::invalid("invalid_token_name", msg!("token_name_long")));
    }
    if req.expires_in_days.is_some_and(|d| !(1..=365).contains(&d)) {
        return Err(AppError::invalid("invalid_token_expiry", msg!("token_expiry_range")));
    }
    state.limits.account(Class::Token, user_id)?;
    let (token, hash) = auth::new_token();
    let now = db::now_ms();
    let expires_at = req.expires_in_days.map(|d| now + i64::from(d) * 86_400_000);
    let new = tokens::NewToken { user_id, kind: "api", name, token_hash: &hash, expires_at, scope: req.scope.as_str() };
    let id = tokens::insert(&state.db.pool, &new, now).await?;
    Ok((id, name.to_owned(), token, expires_at))
}

/// The caller's API tokens (never their secrets), newest first.
pub async fn list_tokens(state: &Platform, me: &CurrentUser) -> AppResult<Vec<TokenView>> {
    let rows = tokens::list_for_user(&state.db.pool, me.user_id, "api").await?;
    Ok(rows
        .into_iter()
        .map(|t| TokenView {
            id: t.token_id,
            name: t.name,
            scope: TokenScope::parse(&t.scope),
            created_at: db::ms_to_rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(db::ms_to_rfc3339),
            expires_at: t.expires_at.map(db::ms_to_rfc3339),
            revoked_at: t.revoked_at.map(db::ms_to_rfc3339),
        })
        .collect())
}

/// Revokes one of the caller's tokens; it stops working at once.
pub async fn revoke_token(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<()> {
    if tokens::revoke_of_kind(&state.db.pool, me.user_id, "api", id, db::now_ms()).await? {
        tracing::info!(user = %me.username, token_id = id, "API token revoked");
        Ok(())
    } else {
        Err(AppError::NotFound("token"))
    }
}

/// One of a person's signed-in web sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Id, for revoking.
    pub id: i64,
    /// The browser it was started from (its user agent).
    pub agent: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, if used since.
    pub last_used_at: Option<String>,
    /// RFC 3339: when it ends by itself.
    pub expires_at: Option<String>,
    /// Whether this request came through it.
    pub current: bool,
}

/// The caller's live web sessions, newest first.
pub async fn list_sessions(state: &Platform, me: &CurrentUser) -> AppResult<Vec<SessionView>> {
    let rows = tokens::live_for_user(&state.db.pool, me.user_id, "session", db::now_ms()).await?;
    Ok(rows
        .into_iter()
        .map(|t| SessionView {
            current: t.token_id == me.token_id,
            id: t.token_id,
            agent: t.name,
            created_at: db::ms_to_rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(db::ms_to_rfc3339),
            expires_at: t.expires_at.map(db::ms_to_rfc3339),
        })
        .collect())
}

/// Ends one of the caller's web sessions.
pub async fn revoke_session(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<()> {
    if tokens::revoke_of_kind(&state.db.pool, me.user_id, "session", id, db::now_ms()).await? {
        tracing::info!(user = %me.username, session = id, "session ended");
        Ok(())
    } else {
        Err(AppError::NotFound("session"))
    }
}

/// Logs the caller out everywhere: every web session (this one too) ends
/// and every API token is revoked. How many were ended.
pub async fn log_out_everywhere(state: &Platform, me: &CurrentUser) -> AppResult<u64> {
    let ended = tokens::revoke_all(&state.db.pool, me.user_id, None, None, db::now_ms()).await?;
    tracing::info!(user = %me.username, ended, "logged out everywhere");
    Ok(ended)
}

/// A password change: the current one, and the new one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new password (at least 10 characters).
    pub new_password: String,
}

/// Changes the caller's password after checking the current one (failures
/// throttled like logins); every other web session ends. API tokens stay
/// (revoke them on their own, or log out everywhere).
pub async fn change_password(
    state: &Platform,
    me: &CurrentUser,
    change: &PasswordChange,
    client: Client,
) -> AppResult<u64> {
    let creds =
        Credentials { username: me.username.clone(), password: change.current_password.clone(), ..Default::default() };
    check_credentials(state, &creds, client).await.map_err(|e| match e {
        AppError::Unauthorized(_) => AppError::Forbidden(msg!("current_password_wrong")),
        other => other,
    })?;
    let new = change.new_password.clone();
    if new.chars().count() < MIN_PASSWORD {
        return Err(AppError::invalid("invalid_password", msg!("password_short", min = MIN_PASSWORD)));
    }
    if new.len() > 1024 {
        return Err(AppError::invalid("invalid_password", msg!("password_long")));
    }
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&new))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::Internal)?;
    let mut tx = state.db.pool.begin().await?;
    users::set_password(&mut *tx, me.user_id, &hash).await?;
    let ended = tokens::revoke_all(&mut *tx, me.user_id, Some("session"), Some(me.token_id), db::now_ms()).await?;
    tx.commit().await?;
    tracing::info!(user = %me.username, sessions_ended = ended, "password changed");
    Ok(ended)
}

/// Starts a web session for a user; the session's token.
pub async fn new_session(state: &Platform, user_id: i64, agent: &str) -> AppResult<String> {
    let agent: String = agent.chars().take(100).collect();
    let (token, hash) = auth::new_token();
    let now = db::now_ms();
    let expires = now + SESSION_TTL.as_millis() as i64;
    let new = tokens::NewToken {
        user_id,
        kind: "session",
        name: &agent,
        token_hash: &hash,
        expires_at: Some(expires),
        scope: "write",
    };
    tokens::insert(&state.db.pool, &new, now).await?;
    Ok(token)
}
