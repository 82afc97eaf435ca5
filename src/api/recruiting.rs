//! Recruiters' tools: shortlists with private notes, their export (only
//! consented fields, logged per person), and contact requests the person
//! accepts or declines — their email is revealed only on acceptance.
//! Everyone on a shortlist is re-checked against their consents on every
//! read: a withdrawal hides them at once.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

use crate::auth::CurrentUser;
use crate::db::users;
use crate::error::{AppError, AppResult};
use crate::http::{AppJson, AppPath, AppQuery, ErrorBody};
use crate::recruiting::{
    ContactRequest, ContactView, Note, Shortlist, ShortlistName, ShortlistQuery, ShortlistSummary, shortlist,
};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shortlists", get(list_shortlists).post(create_shortlist))
        .route("/shortlists/{id}", get(get_shortlist))
        .route("/shortlists/{id}/people/{username}", put(add_to_shortlist).delete(remove_from_shortlist))
        .route("/talent/{username}/contact", post(request_contact))
        .route("/contact-requests", get(list_contact_requests))
        .route("/contact-requests/{id}/{answer}", post(answer_contact_request))
}

/// Your shortlists.
#[utoipa::path(get, path = "/api/v1/shortlists", tag = "talent", security(("bearer" = [])),
    responses((status = 200, body = [ShortlistSummary]), (status = 403, body = ErrorBody)))]
pub async fn list_shortlists(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<AppJson<Vec<ShortlistSummary>>> {
    crate::recruiting::list_shortlists(&state, &me).await.map(AppJson)
}

/// Creates a shortlist.
#[utoipa::path(post, path = "/api/v1/shortlists", tag = "talent", security(("bearer" = [])), request_body = ShortlistName,
    responses((status = 201, body = ShortlistSummary), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_shortlist(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(body): AppJson<ShortlistName>,
) -> AppResult<(StatusCode, AppJson<ShortlistSummary>)> {
    crate::recruiting::create_shortlist(&state, &me, body).await.map(|v| (StatusCode::CREATED, AppJson(v)))
}

/// A shortlist (only people who may still be seen, with consented fields);
/// `?format=csv` or `?export=true` exports it, and each person sees the
/// export in their list of views.
#[utoipa::path(get, path = "/api/v1/shortlists/{id}", tag = "talent", security(("bearer" = [])),
    params(("id" = i64, Path), ShortlistQuery),
    responses((status = 200, body = Shortlist), (status = 404, body = ErrorBody)))]
pub async fn get_shortlist(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<ShortlistQuery>,
) -> AppResult<Response> {
    let list = shortlist(&state, &me, id).await?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(AppError::BadRequest(format!("format must be json or csv, not {other:?}").into())),
    };
    if csv || q.export == Some(true) {
        let mut ids = Vec::with_capacity(list.people.len());
        for p in &list.people {
            if let Some(u) = users::by_username(&state.db.pool, &p.username).await? {
                ids.push(u.user_id);
            }
        }
        let detail = serde_json::json!({ "shortlist": id, "format": if csv { "csv" } else { "json" } });
        crate::audit::log(&state, &me, crate::audit::Action::TalentExport, None, &ids, detail).await?;
    }
    if !csv {
        return Ok(AppJson(list).into_response());
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let head = [
        "username",
        "display_name",
        "country",
        "affiliation",
        "skills",
        "open_to_work",
        "rating",
        "tier",
        "best_percentile",
        "note",
    ];
    let _ = w.write_record(head);
    for p in &list.people {
        let _ = w.write_record([
            crate::http::csv_text(&p.username),
            crate::http::csv_text(&p.display_name),
            crate::http::csv_text(&p.country),
            crate::http::csv_text(&p.affiliation),
            crate::http::csv_text(&p.skills.join(";")),
            p.open_to_work.to_string(),
            p.rating.map(|r| r.to_string()).unwrap_or_default(),
            p.tier.clone(),
            p.best_percentile.map(|r| format!("{r:.1}")).unwrap_or_default(),
            crate::http::csv_text(&p.note),
        ]);
    }
    let body = w.into_inner().unwrap_or_default();
    let disposition = format!("attachment; filename=\"shortlist-{id}.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
}

/// Adds someone you may see to a shortlist (or changes your note on them).
#[utoipa::path(put, path = "/api/v1/shortlists/{id}/people/{username}", tag = "talent", security(("bearer" = [])),
    params(("id" = i64, Path), ("username" = String, Path)), request_body = Note,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_to_shortlist(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((id, username)): AppPath<(i64, String)>,
    AppJson(body): AppJson<Note>,
) -> AppResult<StatusCode> {
    crate::recruiting::add_to_shortlist(&state, &me, (id, username), body).await.map(|()| StatusCode::NO_CONTENT)
}

/// Removes someone from a shortlist.
#[utoipa::path(delete, path = "/api/v1/shortlists/{id}/people/{username}", tag = "talent", security(("bearer" = [])),
    params(("id" = i64, Path), ("username" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_from_shortlist(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((id, username)): AppPath<(i64, String)>,
) -> AppResult<StatusCode> {
    crate::recruiting::remove_from_shortlist(&state, &me, (id, username)).await.map(|()| StatusCode::NO_CONTENT)
}

/// Asks someone you may find whether they want to be contacted; they see
/// your organisation and message and accept or decline.
#[utoipa::path(post, path = "/api/v1/talent/{username}/contact", tag = "talent", security(("bearer" = [])),
    params(("username" = String, Path)), request_body = ContactRequest,
    responses((status = 201, body = ContactView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn request_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(username): AppPath<String>,
    AppJson(body): AppJson<ContactRequest>,
) -> AppResult<(StatusCode, AppJson<ContactView>)> {
    crate::recruiting::request_contact(&state, &me, username, body).await.map(|v| (StatusCode::CREATED, AppJson(v)))
}

/// Contact requests: those sent to you, and (recruiters) those you sent —
/// with the email of each person who accepted.
#[utoipa::path(get, path = "/api/v1/contact-requests", tag = "talent", security(("bearer" = [])),
    responses((status = 200, body = [ContactView])))]
pub async fn list_contact_requests(
    State(state): State<AppState>,
    me: CurrentUser,
) -> AppResult<AppJson<Vec<ContactView>>> {
    crate::recruiting::list_contact_requests(&state, &me).await.map(AppJson)
}

/// Accepts (your email is shown to the recruiter) or declines a request
/// sent to you.
#[utoipa::path(post, path = "/api/v1/contact-requests/{id}/{answer}", tag = "talent", security(("bearer" = [])),
    params(("id" = i64, Path), ("answer" = String, Path, description = "accept or decline")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer_contact_request(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((id, answer)): AppPath<(i64, String)>,
) -> AppResult<StatusCode> {
    crate::recruiting::answer_contact_request(&state, &me, (id, answer)).await.map(|()| StatusCode::NO_CONTENT)
}
