//! A person's own profile and consents, and the recruiters' people search.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, put};

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::http::{AppJson, AppPath, AppQuery, ErrorBody};
use crate::profiles::{
    CredentialKey, DeleteAccount, ProfileUpdate, ProfileView, Rankings, RankingsQuery, TalentPage, TalentQuery,
    TalentRow, ViewEntry, delete_account,
};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/profile", get(get_profile).put(put_profile))
        .route("/me/views", get(my_views))
        .route("/me/credentials", get(my_credentials))
        .route("/credentials/revoked", get(revoked_credentials))
        .route("/credentials/{credential_id}", get(credential_status))
        .route("/me/export", get(export_me))
        .route("/me/consents/{kind}", put(grant_consent).delete(withdraw_consent))
        .route("/talent", get(search_talent))
        .route("/rankings", get(get_rankings))
        .route("/talent/{username}", get(show_talent))
}

/// Your profile, consents and consent history.
#[utoipa::path(get, path = "/api/v1/me/profile", tag = "talent", security(("bearer" = [])),
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody)))]
pub async fn get_profile(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<ProfileView>> {
    crate::profiles::get_profile(&state, &me).await.map(AppJson)
}

/// Replaces your profile (every field; every problem is listed).
#[utoipa::path(put, path = "/api/v1/me/profile", tag = "talent", security(("bearer" = [])), request_body = ProfileUpdate,
    responses((status = 200, body = ProfileView), (status = 422, body = ErrorBody)))]
pub async fn put_profile(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(body): AppJson<ProfileUpdate>,
) -> AppResult<AppJson<ProfileView>> {
    crate::profiles::put_profile(&state, &me, body).await.map(AppJson)
}

/// Gives a consent (the current version of its text).
#[utoipa::path(put, path = "/api/v1/me/consents/{kind}", tag = "talent", security(("bearer" = [])),
    params(("kind" = String, Path, description = "public_profile, recruiters or abroad")),
    responses((status = 200, body = ProfileView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn grant_consent(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(kind): AppPath<String>,
) -> AppResult<AppJson<ProfileView>> {
    crate::profiles::grant_consent(&state, &me, kind).await.map(AppJson)
}

/// Withdraws a consent, effective at once.
#[utoipa::path(delete, path = "/api/v1/me/consents/{kind}", tag = "talent", security(("bearer" = [])),
    params(("kind" = String, Path)), responses((status = 200, body = ProfileView), (status = 404, body = ErrorBody)))]
pub async fn withdraw_consent(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(kind): AppPath<String>,
) -> AppResult<AppJson<ProfileView>> {
    crate::profiles::withdraw_consent(&state, &me, kind).await.map(AppJson)
}

/// Searches people who consented to be found by recruiters (and, across
/// borders, to be found from abroad). Recruiters and admins. Ratings inform;
/// people decide.
#[utoipa::path(get, path = "/api/v1/talent", tag = "talent", security(("bearer" = [])), params(TalentQuery),
    responses((status = 200, body = TalentPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn search_talent(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<TalentQuery>,
) -> AppResult<AppJson<TalentPage>> {
    crate::profiles::search_talent(&state, &me, q).await.map(AppJson)
}

/// One person a recruiter may see: profile details and final results.
/// Recruiters and admins; people who have not agreed to be found are "not
/// found".
#[utoipa::path(get, path = "/api/v1/talent/{username}", tag = "talent", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 200, body = TalentRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show_talent(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(username): AppPath<String>,
) -> AppResult<AppJson<TalentRow>> {
    crate::profiles::show_talent(&state, &me, username).await.map(AppJson)
}

/// The recruiters who saw or exported your details, newest first (the last 500).
#[utoipa::path(get, path = "/api/v1/me/views", tag = "talent", security(("bearer" = [])),
    responses((status = 200, body = [ViewEntry]), (status = 401, body = ErrorBody)))]
pub async fn my_views(State(state): State<AppState>, me: CurrentUser) -> AppResult<AppJson<Vec<ViewEntry>>> {
    crate::profiles::my_views(&state, &me).await.map(AppJson)
}

/// Everything stored about you, as one JSON document (a download):
/// account, roles, profile, consents and their history, teams, your
/// submissions, tokens and sessions (never their secrets), invites, contact
/// requests, shortlists you keep, result credentials, what you did that the
/// audit log holds, and every recruiter access to you.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "talent", security(("bearer" = [])),
    responses((status = 200, description = "a JSON document"), (status = 401, body = ErrorBody)))]
pub async fn export_me(State(state): State<AppState>, me: CurrentUser) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let doc = crate::profiles::export(&state, &me).await?;
    let body = serde_json::to_string_pretty(&doc).map_err(|e| AppError::Internal(e.into()))?;
    let disposition = format!("attachment; filename=\"gaic-{}.json\"", me.username);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/json".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// Deletes your account: personal data is erased at once; your results stay
/// on the boards as "deleted user". The last admin cannot delete theirs.
#[utoipa::path(delete, path = "/api/v1/me", tag = "talent", security(("bearer" = [])), request_body = DeleteAccount,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_me(
    State(state): State<AppState>,
    me: CurrentUser,
    client: crate::limits::Client,
    AppJson(body): AppJson<DeleteAccount>,
) -> AppResult<axum::http::StatusCode> {
    delete_account(&state, &me, &body.password, client).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Signed credentials for each of your final results (closed tasks where
/// your team is ranked). Verify one with `gaic verify FILE` (offline with
/// `--public-key KEY`, the key from `/.well-known/gaic-credential-key`).
#[utoipa::path(get, path = "/api/v1/me/credentials", tag = "talent", security(("bearer" = [])),
    responses((status = 200, body = [crate::credentials::Signed]), (status = 401, body = ErrorBody)))]
pub async fn my_credentials(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<AppJson<Vec<crate::credentials::Signed>>> {
    crate::profiles::my_credentials(&state, &me).await.map(AppJson)
}

/// Whether a credential this server issued still holds: `valid`, or
/// `revoked` with the reason (the result was disqualified, hidden or
/// rescored), or `unknown`. Public: anyone holding a credential may ask.
#[utoipa::path(get, path = "/api/v1/credentials/{credential_id}", tag = "talent",
    params(("credential_id" = String, Path, description = "The credential's id (SHA-256 of its payload, hex)")),
    responses((status = 200, body = crate::credentials::Status)))]
pub async fn credential_status(
    State(state): State<AppState>,
    AppPath(credential_id): AppPath<String>,
) -> AppResult<AppJson<crate::credentials::Status>> {
    crate::profiles::credential(&state, &credential_id).await.map(AppJson)
}

/// Every credential this server issued whose result no longer holds, with
/// the reason (the revocation list).
#[utoipa::path(get, path = "/api/v1/credentials/revoked", tag = "talent",
    responses((status = 200, body = [crate::credentials::Status])))]
pub async fn revoked_credentials(State(state): State<AppState>) -> AppResult<AppJson<Vec<crate::credentials::Status>>> {
    crate::profiles::revoked_credentials(&state).await.map(AppJson)
}

/// The keys to verify this server's result credentials with.
#[utoipa::path(get, path = "/.well-known/gaic-credential-key", tag = "talent",
    responses((status = 200, body = CredentialKey)))]
pub async fn credential_key(State(state): State<AppState>) -> AppResult<AppJson<CredentialKey>> {
    crate::profiles::credential_key(&state).await.map(AppJson)
}

/// Everyone with final results in rated tasks, by rating or by recent
/// points. Built from the public boards only (usernames and results), so it
/// needs no consent; profile details stay behind the consents.
#[utoipa::path(get, path = "/api/v1/rankings", tag = "talent", params(RankingsQuery),
    responses((status = 200, body = Rankings), (status = 400, body = ErrorBody)))]
pub async fn get_rankings(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<RankingsQuery>,
) -> AppResult<AppJson<Rankings>> {
    crate::profiles::get_rankings(&state, q).await.map(AppJson)
}
