//! Tasks as the rest of the code sees them: storing a validated bundle,
//! judging a task's state, who may see or edit it, the listing, and an
//! organizer's schedule and publication changes.
//!
//! Invariants: a task no viewer may see is "not found" to them (never
//! "forbidden", which would confirm it exists); only its organizer (with the
//! organizer role) or an admin changes it; a schedule always has
//! opens < closes and, when set, opens ≤ merger deadline ≤ closes.
//!
//! Both the startup import of `--tasks-dir` and the upload endpoint store
//! bundles through [`store_bundle`]: blobs first (content-addressed, so a
//! crash leaves at worst an unreferenced blob), then the task row and its file
//! rows in one transaction, so a task never exists without its files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::blobs::Spooled;
use crate::bundle::{self, Budget, Bundle, DataSpec, SubmissionKind, UnpackLimits};
use crate::db::{self, tasks};
use crate::error::{AppError, AppResult};
use crate::messages::Msg;
use crate::msg;
use crate::platform::Platform;
use crate::scoring::MetricKind;

/// Where a task is in its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Not open yet.
    Upcoming,
    /// Accepting ranked submissions.
    Open,
    /// Past its close.
    Closed,
}

impl TaskState {
    /// The state of a task with this schedule at `now` (all ms).
    pub fn at(opens_at: i64, closes_at: i64, now: i64) -> Self {
        if now < opens_at {
            Self::Upcoming
        } else if now < closes_at {
            Self::Open
        } else {
            Self::Closed
        }
    }
}

/// Whether `viewer` may see the task (published, or theirs, or an admin).
pub fn visible_to(row: &tasks::TaskRow, viewer: Option<&CurrentUser>) -> bool {
    row.published_at.is_some() || viewer.is_some_and(|u| u.is_admin() || u.user_id == row.organizer_id)
}

/// Whether `user` may change the task (its organizer or an admin).
pub fn editable_by(row: &tasks::TaskRow, user: &CurrentUser) -> bool {
    user.is_admin() || (user.user_id == row.organizer_id && user.has_role("organizer"))
}

pub use crate::bundle::spec_of;

/// Stores a validated bundle as a new task owned by `organizer_id`.
pub async fn store_bundle(
    state: &Platform,
    bundle: &Bundle,
    organizer_id: i64,
    publish: bool,
) -> Result<i64, AppError> {
    if tasks::by_slug(&state.db.pool, &bundle.spec.slug).await?.is_some() {
        return Err(AppError::Conflict(msg!("slug_taken", slug = format!("{:?}", bundle.spec.slug))));
    }
    for file in &bundle.files {
        state.blobs.put_file(&file.source, &file.hash).await.map_err(AppError::store)?;
    }
    let files: Vec<tasks::NewFile<'_>> = bundle
        .files
        .iter()
        .map(|f| tasks::NewFile {
            path: &f.path,
            visibility: f.visibility.as_str(),
            blob_hash: &f.hash,
            size: f.size as i64,
        })
        .collect();
    let spec = &bundle.spec;
    let spec_json = serde_json::to_string(spec).context("encoding spec").map_err(AppError::Internal)?;
    let statements =
        serde_json::to_string(&bundle.statements).context("encoding statements").map_err(AppError::Internal)?;
    let now = db::now_ms();
    let new = tasks::NewTask {
        slug: &spec.slug,
        title: &spec.title,
        summary: &spec.summary,
        statement: &bundle.statement,
        statements: &statements,
        spec: &spec_json,
        organizer_id,
        opens_at: spec.schedule.opens.timestamp_millis(),
        closes_at: spec.schedule.closes.timestamp_millis(),
        merger_deadline_at: spec.schedule.merger_deadline.map(|d| d.timestamp_millis()),
        published_at: publish.then_some(now),
    };
    let mut tx = state.db.pool.begin().await?;
    let task_id = tasks::insert(&mut tx, &new, &files, now).await?;
    tx.commit().await?;
    Ok(task_id)
}

/// On a store with no tasks, imports (and publishes) every bundle folder in
/// `dir`, owned by `organizer_id`. A bundle with problems is logged with each
/// problem and skipped; the others still import.
pub async fn import_dir_if_empty(state: &Platform, dir: &Path, organizer_id: i64) -> anyhow::Result<usize> {
    if tasks::count_all(&state.db.pool).await? > 0 {
        return Ok(0);
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "tasks folder not found; starting with no tasks");
        return Ok(0);
    };
    let mut dirs: Vec<_> =
        entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("task.toml").is_file()).collect();
    dirs.sort();
    let mut imported = 0;
    for path in dirs {
        let loaded = tokio::task::spawn_blocking({
            let path = path.clone();
            move || bundle::load_dir(&path)
        })
        .await?;
        match loaded {
            Ok(b) => match store_bundle(state, &b, organizer_id, true).await {
                Ok(_) => {
                    imported += 1;
                    tracing::info!(slug = %b.spec.slug, "imported task bundle");
                }
                // Another replica starting on the same store imported it.
                Err(AppError::Conflict(_)) => tracing::info!(slug = %b.spec.slug, "task bundle already imported"),
                Err(e) => tracing::error!(bundle = %path.display(), error = %e, "could not store task bundle"),
            },
            Err(problems) => {
                for p in &problems {
                    tracing::error!(bundle = %path.display(), problem = %p, "invalid task bundle skipped");
                }
            }
        }
    }
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_the_schedule() {
        assert_eq!(TaskState::at(10, 20, 5), TaskState::Upcoming);
        assert_eq!(TaskState::at(10, 20, 10), TaskState::Open);
        assert_eq!(TaskState::at(10, 20, 20), TaskState::Closed);
    }
}

/// A task in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskSummary {
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One sentence.
    pub summary: String,
    /// Domain tag.
    pub domain: String,
    /// Metric.
    pub metric: MetricKind,
    /// Whether larger scores are better.
    pub higher_is_better: bool,
    /// Accepted submission kinds.
    pub kinds: Vec<SubmissionKind>,
    /// Upcoming, open or closed, now.
    pub state: TaskState,
    /// RFC 3339.
    pub opens_at: String,
    /// RFC 3339.
    pub closes_at: String,
    /// False for a draft (seen only by its organizer and admins).
    pub published: bool,
    /// The organizer's username.
    pub organizer: String,
    /// Title and summary in other languages, by language code (`ko`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, crate::bundle::Translation>,
}

/// A public file of a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Path under the task's public files.
    pub path: String,
    /// Bytes.
    pub size: i64,
    /// Download URL (relative to the server).
    pub url: String,
}

/// The competition rules of a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesView {
    /// Submissions per team per UTC day.
    pub daily_cap: u32,
    /// Final selections per team.
    pub final_selections: u32,
    /// Largest team.
    pub team_size_cap: u32,
    /// Share of hidden rows on the public board.
    pub public_fraction: f64,
    /// Last moment to merge teams (RFC 3339).
    pub merger_deadline: Option<String>,
    /// Whether final ranks feed the global rating.
    pub rated: bool,
    /// The split's seed (decimal), shown to the task's organizers and admins
    /// only: with it, anyone could tell the public rows from the private.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_seed: Option<String>,
}

/// A task with everything a competitor needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    /// Listing fields.
    #[serde(flatten)]
    pub summary: TaskSummary,
    /// The statement, Markdown.
    pub statement: String,
    /// The statement in other languages, by language code (`ko`), where
    /// the bundle has one.
    pub statement_translations: BTreeMap<String, String>,
    /// `k` of `map_at_k`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_k: Option<u32>,
    /// Decimals the task's pages show scores with (the API's scores are
    /// full precision).
    pub score_decimals: u32,
    /// Shape of the data.
    pub data: DataSpec,
    /// Rules.
    pub rules: RulesView,
    /// Budget of one model run.
    pub budget: Budget,
    /// Public files.
    pub files: Vec<FileView>,
}

fn summary(row: &tasks::TaskRow, now: i64) -> AppResult<TaskSummary> {
    let spec = spec_of(row)?;
    Ok(TaskSummary {
        slug: row.slug.clone(),
        title: row.title.clone(),
        summary: row.summary.clone(),
        domain: spec.domain,
        metric: spec.metric.name,
        higher_is_better: spec.metric.higher_is_better,
        kinds: spec.submissions.kinds,
        state: TaskState::at(row.opens_at, row.closes_at, now),
        opens_at: db::ms_to_rfc3339(row.opens_at),
        closes_at: db::ms_to_rfc3339(row.closes_at),
        published: row.published_at.is_some(),
        organizer: row.organizer.clone(),
        translations: spec.i18n,
    })
}

async fn detail(state: &Platform, row: tasks::TaskRow, viewer: Option<&CurrentUser>) -> AppResult<TaskDetail> {
    let manages = viewer.is_some_and(|v| editable_by(&row, v));
    let spec = spec_of(&row)?;
    let files = tasks::public_files(&state.db.pool, row.task_id)
        .await?
        .into_iter()
        .map(|(path, size)| FileView { url: format!("/api/v1/tasks/{}/files/{path}", row.slug), path, size })
        .collect();
    Ok(TaskDetail {
        summary: summary(&row, db::now_ms())?,
        statement_translations: statements_of(&row),
        statement: row.statement,
        metric_k: spec.metric.k,
        score_decimals: spec.metric.shown_decimals() as u32,
        data: spec.data,
        rules: RulesView {
            daily_cap: spec.submissions.daily_cap,
            final_selections: spec.submissions.final_selections,
            team_size_cap: spec.submissions.team_size_cap,
            public_fraction: spec.split.public_fraction,
            merger_deadline: row.merger_deadline_at.map(db::ms_to_rfc3339),
            rated: spec.rated,
            split_seed: manages.then(|| spec.split.seed.to_string()),
        },
        budget: spec.budget,
        files,
    })
}

/// Filters and order of the task listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// `open`, `upcoming`, `closed` or `all` (default).
    pub state: Option<String>,
    /// `closes_at` (default), `-closes_at`, `opens_at`, `-opens_at`, `title`, `-created_at`.
    pub sort: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    pub per_page: Option<u32>,
}

/// One page of the tasks `viewer` may see, filtered and ordered by `q`,
/// with how many there are in all.
pub async fn list_tasks(
    state: &Platform,
    viewer: Option<&CurrentUser>,
    q: &TaskListQuery,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<TaskSummary>, i64)> {
    let state_filter = q.state.as_deref().unwrap_or("all");
    if !["all", "open", "upcoming", "closed"].contains(&state_filter) {
        return Err(AppError::BadRequest(msg!("bad_task_state", got = format!("{state_filter:?}"))));
    }
    let sort = q.sort.as_deref().unwrap_or("closes_at");
    let Some((_, order_sql)) = tasks::SORTS.iter().find(|(name, _)| *name == sort) else {
        let names: Vec<_> = tasks::SORTS.iter().map(|(n, _)| *n).collect();
        return Err(AppError::BadRequest(msg!("bad_sort", names = names.join(", "), got = format!("{sort:?}"))));
    };
    let now = db::now_ms();
    let filter = tasks::TaskFilter {
        state: state_filter,
        viewer_id: viewer.map_or(0, |u| u.user_id),
        viewer_is_admin: viewer.is_some_and(CurrentUser::is_admin),
        now,
    };
    let total = tasks::count(&state.db.pool, filter).await?;
    let rows = tasks::list(&state.db.pool, filter, order_sql, limit, offset).await?;
    let items = rows.iter().map(|r| summary(r, now)).collect::<AppResult<Vec<_>>>()?;
    Ok((items, total))
}

/// The task `slug` if `viewer` may see it; otherwise "not found".
pub async fn visible_task(state: &Platform, slug: &str, viewer: Option<&CurrentUser>) -> AppResult<tasks::TaskRow> {
    match tasks::by_slug(&state.db.pool, slug).await? {
        Some(row) if visible_to(&row, viewer) => Ok(row),
        _ => Err(AppError::NotFound("task")),
    }
}

/// The task `slug` and its spec if `viewer` may see it, through the cache.
pub async fn visible_task_and_spec(
    state: &Platform,
    slug: &str,
    viewer: Option<&CurrentUser>,
) -> AppResult<crate::boards::CachedTask> {
    match state.task_rows.get(&state.db, slug).await? {
        Some((row, spec)) if visible_to(&row, viewer) => Ok((row, spec)),
        _ => Err(AppError::NotFound("task")),
    }
}

/// A task's title and summary in one language.
#[derive(Debug, Clone)]
pub struct Words {
    /// The title.
    pub title: String,
    /// The summary.
    pub summary: String,
    /// Whether they are the English original for want of a translation.
    pub fell_back: bool,
}

/// The task's title and summary in `lang`, the English original where the
/// bundle has no translation (what a listing needs).
pub fn words_in(row: &tasks::TaskRow, spec: &crate::bundle::TaskSpec, lang: crate::messages::Lang) -> Words {
    match spec.i18n.get(lang.code()).filter(|_| lang != crate::messages::Lang::En) {
        Some(w) => Words { title: w.title.clone(), summary: w.summary.clone(), fell_back: false },
        None => Words {
            title: row.title.clone(),
            summary: row.summary.clone(),
            fell_back: lang != crate::messages::Lang::En,
        },
    }
}

/// The statement's translations of a stored task, by language code.
fn statements_of(row: &tasks::TaskRow) -> BTreeMap<String, String> {
    serde_json::from_str(&row.statements).unwrap_or_default()
}

/// A task's statement in one language.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Markdown.
    pub text: String,
    /// Its language code (`en` where it fell back).
    pub lang: &'static str,
}

/// The task's statement in `lang`, the English original where the bundle
/// has no `README.<code>.md`.
pub fn statement_in(row: &tasks::TaskRow, lang: crate::messages::Lang) -> Statement {
    let translated = (lang != crate::messages::Lang::En).then(|| statements_of(row).remove(lang.code())).flatten();
    match translated {
        Some(text) => Statement { text, lang: lang.code() },
        None => Statement { text: row.statement.clone(), lang: "en" },
    }
}

/// One task with its statement, rules and public files.
pub async fn get_task(state: &Platform, viewer: Option<&CurrentUser>, slug: String) -> AppResult<TaskDetail> {
    let row = visible_task(state, &slug, viewer).await?;
    detail(state, row, viewer).await
}

/// Stores a task (a draft) from an uploaded bundle (`.tar.gz`), unpacked
/// straight from its received file — for the API and the organizer's web
/// page alike.
pub async fn create_from_tarball(state: &Platform, me: &CurrentUser, bundle: Spooled) -> AppResult<TaskDetail> {
    me.require("organizer")?;
    let tmp_root = state.settings.data_dir.join("tmp");
    let limits = UnpackLimits { max_bytes: 4 * state.settings.max_upload_bytes as u64, max_entries: 20_000 };
    let loaded = tokio::task::spawn_blocking(move || {
        let storage = |e: std::io::Error| vec![crate::error::Problem::new("", "", format!("server storage: {e}"))];
        std::fs::create_dir_all(&tmp_root).map_err(storage)?;
        let tmp = tempfile::tempdir_in(&tmp_root).map_err(storage)?;
        let file = bundle.open().map_err(storage)?;
        let root = bundle::unpack_tarball(file, tmp.path(), limits)?;
        // The unpacked folder goes with the bundle: its files are stored
        // from there.
        bundle::load_dir(&root).map(|b| (tmp, b))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let (_unpacked, b) = loaded.map_err(|details| AppError::Invalid {
        code: "invalid_bundle",
        message: msg!("bundle_problems", count = details.len()),
        details,
    })?;
    crate::tasks::store_bundle(state, &b, me.user_id, false).await?;
    tracing::info!(slug = %b.spec.slug, by = %me.username, "task created from bundle");
    let row = tasks::by_slug(&state.db.pool, &b.spec.slug).await?.ok_or(AppError::NotFound("task"))?;
    let logged = serde_json::json!({ "slug": row.slug, "title": b.spec.title });
    crate::audit::log(state, me, crate::audit::Action::TaskCreate, Some(row.task_id), &[], logged).await?;
    detail(state, row, Some(me)).await
}

/// Changes to a task's schedule or publication. Absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// New opening time (RFC 3339).
    pub opens_at: Option<DateTime<Utc>>,
    /// New closing time (RFC 3339).
    pub closes_at: Option<DateTime<Utc>>,
    /// New merger deadline (RFC 3339).
    pub merger_deadline: Option<DateTime<Utc>>,
    /// Publish (true) or withdraw to draft (false).
    pub published: Option<bool>,
}

/// The task `slug` if `me` may change it (its organizer or an admin):
/// "not found" when they cannot see it, else `refusal` when they cannot
/// change it.
pub async fn managed_task(
    state: &Platform,
    me: &CurrentUser,
    slug: &str,
    refusal: impl Into<Msg>,
) -> AppResult<tasks::TaskRow> {
    let task = visible_task(state, slug, Some(me)).await?;
    if !editable_by(&task, me) {
        return Err(AppError::Forbidden(refusal.into()));
    }
    Ok(task)
}

/// Edits a task's schedule or publishes/unpublishes it. Its organizer or an admin.
pub async fn update_task(state: &Platform, me: &CurrentUser, slug: String, patch: TaskPatch) -> AppResult<TaskDetail> {
    let row = managed_task(state, me, &slug, msg!("organizer_only_change")).await?;
    let now = db::now_ms();
    // A closed task's schedule is final: its private board has been shown
    // and its final results may be credentialed. Re-opening is its own,
    // logged, admin-only action (`POST …/reopen`).
    if now >= row.closes_at
        && (patch.opens_at.is_some() || patch.closes_at.is_some() || patch.merger_deadline.is_some())
    {
        return Err(AppError::Conflict(msg!("schedule_final", at = db::ms_to_rfc3339(row.closes_at))));
    }
    let mut spec = spec_of(&row)?;
    let sched = &mut spec.schedule;
    if let Some(t) = patch.opens_at {
        sched.opens = t;
    }
    if let Some(t) = patch.closes_at {
        sched.closes = t;
    }
    if patch.merger_deadline.is_some() {
        sched.merger_deadline = patch.merger_deadline;
    }
    if sched.closes <= sched.opens {
        return Err(AppError::invalid("invalid_schedule", msg!("closes_before_opens")));
    }
    if sched.merger_deadline.is_some_and(|m| m < sched.opens || m > sched.closes) {
        return Err(AppError::invalid("invalid_schedule", msg!("merger_outside_schedule")));
    }
    let published_at = match patch.published {
        Some(true) => row.published_at.or(Some(now)),
        Some(false) => None,
        None => row.published_at,
    };
    let update = tasks::ScheduleUpdate {
        opens_at: sched.opens.timestamp_millis(),
        closes_at: sched.closes.timestamp_millis(),
        merger_deadline_at: sched.merger_deadline.map(|d| d.timestamp_millis()),
        published_at,
        spec: serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.into()))?,
    };
    let mut tx = state.db.pool.begin().await?;
    tasks::update_schedule(&mut *tx, row.task_id, &update, now).await?;
    let logged = serde_json::json!({
        "opens": db::ms_to_rfc3339(update.opens_at), "closes": db::ms_to_rfc3339(update.closes_at),
        "merger_deadline": update.merger_deadline_at.map(db::ms_to_rfc3339), "published": update.published_at.is_some(),
    });
    crate::audit::record(&mut tx, me, crate::audit::Action::TaskEdit, Some(row.task_id), &[], logged).await?;
    tx.commit().await?;
    tracing::info!(slug = %slug, by = %me.username, "task updated");
    let row = tasks::by_slug(&state.db.pool, &slug).await?.ok_or(AppError::NotFound("task"))?;
    detail(state, row, Some(me)).await
}
