//! The audit log: who did what, for the admins, and who accessed whom, for
//! the people accessed.
//!
//! Every recruiter search (the filters and the people returned), profile
//! view, export and contact request, and every organizer or admin action
//! (task creation and edits, close, re-open, rescore, baselines, hiding,
//! disqualification, role changes, worker tokens, queue purges) appends one
//! row to `audit_log`, in the action's transaction where it has one. A
//! recruiter's access is also written to each person's own list
//! (`talent_views`), which their privacy page shows. Entries are kept when
//! the actor deletes their account; the actor is then shown as "deleted
//! recruiter" (or organizer, admin). Admins read the log on `/admin/audit`
//! and at `GET /api/v1/admin/audit`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::db::{self, audit};
use crate::error::{AppError, AppResult};
use crate::msg;
use crate::platform::Platform;

/// What an audited action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A recruiter searched people.
    TalentSearch,
    /// A recruiter saw one person's details.
    TalentView,
    /// A recruiter exported people (a shortlist).
    TalentExport,
    /// A recruiter asked a person for contact.
    TalentContact,
    /// A task was created from a bundle.
    TaskCreate,
    /// A task's settings or schedule changed.
    TaskEdit,
    /// A task was closed.
    TaskClose,
    /// A closed task was re-opened.
    TaskReopen,
    /// A task was rescored.
    TaskRescore,
    /// A baseline was added.
    BaselineAdd,
    /// A baseline was deleted.
    BaselineDelete,
    /// A submission was hidden.
    SubmissionHide,
    /// A hidden submission was shown again.
    SubmissionUnhide,
    /// A team was disqualified.
    TeamDisqualify,
    /// A disqualified team was reinstated.
    TeamReinstate,
    /// A role was granted.
    RoleGrant,
    /// A role was removed.
    RoleRevoke,
    /// A worker token was issued.
    WorkerTokenCreate,
    /// A worker token was revoked.
    WorkerTokenRevoke,
    /// A task's queue was purged.
    QueuePurge,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 20] = [
        Action::TalentSearch,
        Action::TalentView,
        Action::TalentExport,
        Action::TalentContact,
        Action::TaskCreate,
        Action::TaskEdit,
        Action::TaskClose,
        Action::TaskReopen,
        Action::TaskRescore,
        Action::BaselineAdd,
        Action::BaselineDelete,
        Action::SubmissionHide,
        Action::SubmissionUnhide,
        Action::TeamDisqualify,
        Action::TeamReinstate,
        Action::RoleGrant,
        Action::RoleRevoke,
        Action::WorkerTokenCreate,
        Action::WorkerTokenRevoke,
        Action::QueuePurge,
    ];

    /// Its stable name, e.g. `talent.search`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::TalentSearch => "talent.search",
            Action::TalentView => "talent.view",
            Action::TalentExport => "talent.export",
            Action::TalentContact => "talent.contact",
            Action::TaskCreate => "task.create",
            Action::TaskEdit => "task.edit",
            Action::TaskClose => "task.close",
            Action::TaskReopen => "task.reopen",
            Action::TaskRescore => "task.rescore",
            Action::BaselineAdd => "baseline.add",
            Action::BaselineDelete => "baseline.delete",
            Action::SubmissionHide => "submission.hide",
            Action::SubmissionUnhide => "submission.unhide",
            Action::TeamDisqualify => "team.disqualify",
            Action::TeamReinstate => "team.reinstate",
            Action::RoleGrant => "role.grant",
            Action::RoleRevoke => "role.revoke",
            Action::WorkerTokenCreate => "worker_token.create",
            Action::WorkerTokenRevoke => "worker_token.revoke",
            Action::QueuePurge => "queue.purge",
        }
    }

    /// What a person's privacy page calls a recruiter's access of this kind.
    fn access(self) -> Option<&'static str> {
        match self {
            Action::TalentSearch => Some("search"),
            Action::TalentView => Some("profile"),
            Action::TalentExport => Some("export"),
            Action::TalentContact => Some("contact"),
            _ => None,
        }
    }
}

/// The capacity `me` acts in for `action`.
fn role_of(me: &CurrentUser, action: Action) -> &'static str {
    if action.access().is_some() {
        "recruiter"
    } else if me.is_admin() {
        "admin"
    } else {
        "organizer"
    }
}

/// Appends `action` by `me` (on `task_id`, about `people`, with `detail`)
/// to the log through `ex`, and, for a recruiter's access, to each person's
/// own list.
pub async fn record(
    conn: &mut sqlx::AnyConnection,
    me: &CurrentUser,
    action: Action,
    task_id: Option<i64>,
    people: &[i64],
    detail: serde_json::Value,
) -> AppResult<()> {
    let now = db::now_ms();
    let entry = audit::NewEntry {
        actor_id: me.user_id,
        actor_role: role_of(me, action),
        action: action.as_str(),
        task_id,
        people: serde_json::to_string(people).map_err(|e| AppError::Internal(e.into()))?,
        detail: detail.to_string(),
    };
    audit::insert(&mut *conn, &entry, now).await?;
    if let Some(what) = action.access() {
        for &person in people.iter().filter(|&&p| p != me.user_id) {
            db::privacy::log_view(&mut *conn, me.user_id, person, what, now).await?;
        }
    }
    Ok(())
}

/// [`record`] on a connection of its own (for actions without a
/// transaction).
pub async fn log(
    state: &Platform,
    me: &CurrentUser,
    action: Action,
    task_id: Option<i64>,
    people: &[i64],
    detail: serde_json::Value,
) -> AppResult<()> {
    let mut tx = state.db.pool.begin().await?;
    record(&mut tx, me, action, task_id, people, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// One entry of the log as admins read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// Who: a username, or "deleted recruiter" (organizer, admin) once
    /// their account is deleted.
    pub actor: String,
    /// In which capacity: `recruiter`, `organizer` or `admin`.
    pub actor_role: String,
    /// What, e.g. `talent.search`, `task.close`.
    pub action: String,
    /// On which task.
    pub task: Option<String>,
    /// About whom (usernames now; `deleted-ID` for erased accounts).
    pub people: Vec<String>,
    /// Filters, reasons, counts: whatever the action records.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Filters and page of the log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// An action (`task.close`) or a family (`talent`).
    pub action: Option<String>,
    /// Only what this username did.
    pub actor: Option<String>,
    /// Only what concerned this username.
    pub person: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<u32>,
    /// Entries per page, 1–200 (default 50).
    pub per_page: Option<u32>,
}

/// A page of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries, newest first.
    pub items: Vec<AuditEntry>,
    /// This page.
    pub page: u32,
    /// Entries per page.
    pub per_page: u32,
    /// Entries matching, over all pages.
    pub total: i64,
}

/// The id of the user named `name`, if a name is given.
async fn user_id(state: &Platform, name: Option<&str>) -> AppResult<Option<i64>> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) => db::users::by_username(&state.db.pool, &n.to_ascii_lowercase())
            .await?
            .map(|u| Some(u.user_id))
            .ok_or(AppError::NotFound("user")),
    }
}

/// Reads the log (admins only), newest first.
pub async fn list(state: &Platform, me: &CurrentUser, q: &AuditQuery) -> AppResult<AuditPage> {
    me.require("admin")?;
    let (page, per_page) = (q.page.unwrap_or(1), q.per_page.unwrap_or(50));
    if page == 0 || !(1..=200).contains(&per_page) {
        return Err(AppError::BadRequest(msg!("bad_page_200")));
    }
    let action = q.action.as_deref().map(str::trim).filter(|a| !a.is_empty());
    if let Some(a) = action
        && !Action::ALL.iter().any(|k| k.as_str() == a || k.as_str().starts_with(&format!("{a}.")))
    {
        let names: Vec<&str> = Action::ALL.iter().map(|k| k.as_str()).collect();
        return Err(AppError::BadRequest(msg!("bad_audit_action", got = format!("{a:?}"), actions = names.join(", "))));
    }
    let filter = audit::Filter {
        action: action.map(str::to_owned),
        actor_id: user_id(state, q.actor.as_deref()).await?,
        person_id: user_id(state, q.person.as_deref()).await?,
    };
    let total = audit::count(&state.db.pool, &filter).await?;
    let rows =
        audit::list(&state.db.pool, &filter, i64::from(per_page), i64::from(page - 1) * i64::from(per_page)).await?;
    let mut ids: Vec<i64> =
        rows.iter().flat_map(|r| serde_json::from_str::<Vec<i64>>(&r.people).unwrap_or_default()).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: std::collections::HashMap<i64, String> =
        audit::usernames(&state.db.pool, &ids).await?.into_iter().collect();
    let items = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.audit_id,
            at: db::ms_to_rfc3339(r.at),
            actor: match (r.actor, r.actor_deleted_at) {
                (Some(name), None) => name,
                _ => format!("deleted {}", r.actor_role),
            },
            actor_role: r.actor_role,
            action: r.action,
            task: r.task,
            people: serde_json::from_str::<Vec<i64>>(&r.people)
                .unwrap_or_default()
                .into_iter()
                .map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("user {id}")))
                .collect(),
            detail: serde_json::from_str(&r.detail).unwrap_or_default(),
        })
        .collect();
    Ok(AuditPage { items, page, per_page, total })
}
