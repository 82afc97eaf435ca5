//! Admin pages: users and their roles (searchable, paginated), and the
//! worker fleet (device, last heartbeat, current jobs).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{Posted, SignedIn, refused, when};
use crate::auth::ROLES;
use crate::db::users;
use crate::error::AppError;
use crate::http::AppPath;
use crate::state::AppState;

/// Users per page.
const USERS_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(super) struct UsersQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

pub(super) async fn users_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
    Query(query): Query<UsersQuery>,
) -> Result<Response, AppError> {
    if let Err(e) = me.require("admin") {
        return refused(&page, page.t("nav_admin"), "/", e);
    }
    let q = query.q.trim().to_owned();
    let total = users::count_search(&state.db.pool, &q).await?;
    let pages = ((total + USERS_PAGE - 1) / USERS_PAGE).max(1);
    let at = query.page.unwrap_or(1).clamp(1, pages);
    let rows: Vec<Value> = users::search(&state.db.pool, &q, USERS_PAGE, (at - 1) * USERS_PAGE)
        .await?
        .into_iter()
        .map(|(u, roles)| {
            let held: Vec<&str> = roles.split(',').filter(|r| !r.is_empty()).collect();
            let toggles: Vec<Value> = ROLES.iter().map(|r| context! { role => r, held => held.contains(r) }).collect();
            context! {
                username => u.username, display_name => u.display_name, email => u.email, country => u.country,
                since => when(u.created_at, page.lang), roles => toggles,
            }
        })
        .collect();
    Ok(page.render(
        StatusCode::OK,
        "admin.html",
        context! { view => "users", users => rows, q => q, users_page => at, users_pages => pages, users_total => total },
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    person: String,
    page: Option<u32>,
}

/// The audit log, filtered by action family, actor or person.
pub(super) async fn audit_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
    Query(f): Query<AuditForm>,
) -> Result<Response, AppError> {
    let q = crate::audit::AuditQuery {
        action: Some(f.action.clone()),
        actor: Some(f.actor.clone()),
        person: Some(f.person.clone()),
        page: f.page,
        per_page: Some(50),
    };
    let found = match crate::audit::list(&state, &me, &q).await {
        Ok(found) => found,
        Err(e @ (AppError::Forbidden(_) | AppError::BadRequest(_) | AppError::NotFound(_))) => {
            return refused(&page, page.t("audit_log"), "/admin/audit", e);
        }
        Err(e) => return Err(e),
    };
    let pages = u32::try_from((found.total.max(0) as u64).div_ceil(50)).unwrap_or(u32::MAX).max(1);
    let entries: Vec<Value> = found
        .items
        .into_iter()
        .map(|e| {
            context! {
                id => e.id, at => super::when_text(Some(&e.at), page.lang), actor => e.actor, role => e.actor_role,
                action => e.action, task => e.task, people => e.people, detail => e.detail.to_string(),
            }
        })
        .collect();
    let families = ["talent", "task", "baseline", "submission", "team", "role", "worker_token", "queue"];
    let base = format!("/admin/audit?action={}&actor={}&person={}", esc(&f.action), esc(&f.actor), esc(&f.person));
    Ok(page.render(
        StatusCode::OK,
        "admin.html",
        context! {
            view => "audit", entries => entries, families => families, action => f.action, actor => f.actor,
            person => f.person, audit_page => found.page, audit_pages => pages, audit_total => found.total, base => base,
        },
    ))
}

fn esc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Debug, Deserialize)]
pub(super) struct RoleForm {
    #[serde(default)]
    role: String,
    /// `grant` or `revoke`.
    #[serde(default)]
    action: String,
}

/// Grants or revokes a role.
pub(super) async fn role_submit(
    State(state): State<AppState>,
    AppPath(username): AppPath<String>,
    Posted { me, page, form }: Posted<RoleForm>,
) -> Result<Response, AppError> {
    let path = (username.clone(), form.role);
    let done = match form.action.as_str() {
        "grant" => crate::accounts::grant_role(&state, &me, path).await.map(|_| ()),
        _ => crate::accounts::revoke_role(&state, &me, path).await.map(|_| ()),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/admin?q={}", url_escape(&username))).into_response()),
        Err(e) => refused(&page, page.t("nav_admin"), "/admin", e),
    }
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(super) async fn workers_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
) -> Result<Response, AppError> {
    let list = match crate::queue::fleet(&state, &me, 3 * state.queue.config.lease_ms).await {
        Ok(l) => l,
        Err(e) => return refused(&page, page.t("nav_admin"), "/", e),
    };
    let rows: Vec<Value> = list
        .into_iter()
        .map(|w| {
            let seen = w
                .last_seen_at
                .as_deref()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|d| when(d.timestamp_millis(), page.lang));
            context! {
                id => w.id, name => w.name, device => w.device, version => w.version, concurrency => w.concurrency,
                seen => seen, lost => w.lost, revoked => w.revoked, running => w.running,
            }
        })
        .collect();
    Ok(page.render(StatusCode::OK, "admin.html", context! { view => "workers", workers => rows }))
}
