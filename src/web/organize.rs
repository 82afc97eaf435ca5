//! Organizer pages: create a task from a bundle (every problem listed), and
//! a task's management page — schedule and publication, close now, the
//! queue, every submission (hide with a reason), teams (disqualify with a
//! reason), baselines and rescoring with the rank-change preview.
//! Every action goes through the API's handler for the same rules.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{PageCtx, Posted, PostedFiles, SignedIn, refused, tasks::score, when};
use crate::auth::CurrentUser;
use crate::db::{self, submissions, tasks, teams};
use crate::error::AppError;
use crate::http::{AppPath, ErrorStatus};
use crate::state::AppState;
use crate::tasks::{editable_by, spec_of};

/// Submissions per page of the management list.
const SUBMISSIONS_PAGE: i64 = 50;
/// Teams per page of the management list.
const TEAMS_PAGE: usize = 50;

fn is_organizer(me: &CurrentUser) -> bool {
    me.is_admin() || me.has_role("organizer")
}

/// The organizer's tasks and the bundle upload form.
pub(super) async fn index_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
) -> Result<Response, AppError> {
    render_index(&state, &page, &me, StatusCode::OK, None).await
}

async fn render_index(
    state: &AppState,
    page: &PageCtx,
    me: &CurrentUser,
    status: StatusCode,
    upload_error: Option<AppError>,
) -> Result<Response, AppError> {
    if !is_organizer(me) {
        let e = AppError::Forbidden(crate::msg!("organizer_role_needed"));
        return refused(page, page.t("nav_organize"), "/", e);
    }
    let filter =
        tasks::TaskFilter { state: "all", viewer_id: me.user_id, viewer_is_admin: me.is_admin(), now: db::now_ms() };
    let mine: Vec<Value> = tasks::list(&state.db.pool, filter, "t.created_at DESC, t.task_id DESC", 200, 0)
        .await?
        .into_iter()
        .filter(|t| editable_by(t, me))
        .map(|t| {
            context! {
                slug => t.slug, title => t.title, draft => t.published_at.is_none(),
                opens => when(t.opens_at, page.lang), closes => when(t.closes_at, page.lang),
            }
        })
        .collect();
    let (error, problems) = match upload_error {
        Some(AppError::Invalid { message, details, .. }) => {
            let list: Vec<Value> = details
                .iter()
                .map(|p| context! { file => p.file, field => p.field, message => p.message.render(page.lang) })
                .collect();
            (Some(message.render(page.lang)), list)
        }
        Some(e) => (Some(e.render(page.lang)), Vec::new()),
        None => (None, Vec::new()),
    };
    Ok(page.render(status, "organize.html", context! { tasks => mine, error => error, problems => problems }))
}

/// Creates a draft task from an uploaded `.tar.gz` bundle.
pub(super) async fn create_submit(State(state): State<AppState>, posted: PostedFiles) -> Result<Response, AppError> {
    let bundle = posted.file("bundle").map(|(_, file)| file.clone());
    let PostedFiles { me, page, .. } = posted;
    let result = match bundle {
        Some(b) => crate::tasks::create_from_tarball(&state, &me, b).await,
        None => Err(AppError::invalid("invalid_bundle", page.t("choose_bundle"))),
    };
    match result {
        Ok(detail) => Ok(Redirect::to(&format!("/tasks/{}/manage", detail.summary.slug)).into_response()),
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            render_index(&state, &page, &me, status, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ManageQuery {
    page: Option<i64>,
    /// The page of the teams list.
    tpage: Option<usize>,
    /// `1`: run the near-duplicate review.
    review: Option<u8>,
}

/// A task's management page.
pub(super) async fn manage_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
    AppPath(slug): AppPath<String>,
    Query(q): Query<ManageQuery>,
) -> Result<Response, AppError> {
    let outcome = Outcome { teams_page: q.tpage.unwrap_or(1), review: q.review == Some(1), ..Outcome::default() };
    render_manage(&state, &page, &me, &slug, q.page.unwrap_or(1), outcome).await
}

/// What an action on the management page has to show.
#[derive(Default)]
struct Outcome {
    status: Option<StatusCode>,
    /// Field name → message, for the schedule form.
    field_errors: Vec<(String, String)>,
    /// Values the schedule form had (kept on an error).
    schedule: Option<ScheduleForm>,
    /// A message at the top.
    notice: Option<String>,
    error: Option<String>,
    /// A rescore preview or result.
    rescore: Option<crate::leaderboard::RescoreReport>,
    /// The page of the teams list (disqualified teams first).
    teams_page: usize,
    /// Whether to run the near-duplicate review.
    review: bool,
}

fn local_input(ms: Option<i64>) -> String {
    ms.and_then(DateTime::from_timestamp_millis).map(|d| d.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

async fn render_manage(
    state: &AppState,
    page: &PageCtx,
    me: &CurrentUser,
    slug: &str,
    at: i64,
    outcome: Outcome,
) -> Result<Response, AppError> {
    let task = match crate::tasks::visible_task(state, slug, Some(me)).await {
        Ok(t) if editable_by(&t, me) => t,
        Ok(_) => {
            let e = AppError::Forbidden(crate::msg!("organizer_only_manage"));
            return refused(page, page.t("manage"), &format!("/tasks/{slug}"), e);
        }
        Err(e) => return refused(page, page.t("manage"), "/", e),
    };
    let spec = spec_of(&task)?;
    let now = db::now_ms();
    let schedule = outcome.schedule.unwrap_or_else(|| ScheduleForm {
        opens_at: local_input(Some(task.opens_at)),
        closes_at: local_input(Some(task.closes_at)),
        merger_deadline: local_input(task.merger_deadline_at),
        published: if task.published_at.is_some() { "yes".into() } else { String::new() },
    });
    let queue = crate::queue::get_queue(state, me, slug.to_owned(), 3 * state.queue.config.lease_ms).await?;
    let jobs: Vec<Value> = queue
        .jobs
        .iter()
        .map(|j| {
            context! { id => j.submission_id, team => j.team, state => j.state, attempts => j.attempts, worker => j.worker, queued => j.queued_at }
        })
        .collect();
    let total = submissions::count_of_task(&state.db.pool, task.task_id).await?;
    let pages = ((total + SUBMISSIONS_PAGE - 1) / SUBMISSIONS_PAGE).max(1);
    let at = at.clamp(1, pages);
    let subs: Vec<Value> = submissions::of_task(
        &state.db.pool,
        task.task_id,
        SUBMISSIONS_PAGE,
        (at - 1) * SUBMISSIONS_PAGE,
    )
    .await?
    .into_iter()
    .map(|s| {
        context! {
            id => s.submission_id, team => s.team_name, by => s.username, kind => s.kind, status => crate::messages::word("status", s.status.as_str(), page.lang),
            public => s.public_score.map(score), private => s.private_score.map(score), created => when(s.created_at, page.lang),
            hidden => s.hidden_reason, late => s.late.get(), verdict => s.verdict.map(|v| crate::messages::word("verdict", v.as_str(), page.lang)),
        }
    })
    .collect();
    let mut all_teams = teams::of_task(&state.db.pool, task.task_id).await?;
    all_teams.sort_by_key(|t| (t.disqualified_at.is_none(), t.name.to_lowercase()));
    let teams_total = all_teams.len();
    let teams_pages = teams_total.div_ceil(TEAMS_PAGE).max(1);
    let teams_at = outcome.teams_page.clamp(1, teams_pages);
    let team_rows: Vec<Value> = all_teams
        .into_iter()
        .skip((teams_at - 1) * TEAMS_PAGE)
        .take(TEAMS_PAGE)
        .map(|t| context! { id => t.team_id, name => t.name, disqualified => t.disqualified_reason })
        .collect();
    let baselines: Vec<Value> = submissions::baselines(&state.db.pool, task.task_id)
        .await?
        .into_iter()
        .map(|b| context! { name => b.name, public => score(b.public_score), private => score(b.private_score) })
        .collect();
    let rescore = outcome.rescore.map(|r| {
        let changes: Vec<Value> = r
            .changes
            .iter()
            .map(|c| {
                let fmt = |v: Option<f64>| v.map(score).unwrap_or_else(|| "–".into());
                let rank = |v: Option<u32>| v.map_or_else(|| "–".into(), |r| r.to_string());
                context! {
                    team => c.team, changed => c.changed,
                    public_rank => format!("{} → {}", rank(c.public_rank[0]), rank(c.public_rank[1])),
                    public_score => format!("{} → {}", fmt(c.public_score[0]), fmt(c.public_score[1])),
                    private_rank => format!("{} → {}", rank(c.private_rank[0]), rank(c.private_rank[1])),
                    private_score => format!("{} → {}", fmt(c.private_score[0]), fmt(c.private_score[1])),
                }
            })
            .collect();
        context! {
            applied => r.applied, new_labels => r.new_labels, submissions => r.submissions, failed => r.failed,
            changes => changes,
        }
    });
    let review = if outcome.review {
        let r = crate::integrity::review(state, me, slug, None).await?;
        let team = |t: &crate::integrity::TeamRef| format!("{} ({})", t.team, t.members.join(", "));
        let pairs: Vec<Value> = r
            .pairs
            .iter()
            .map(|p| context! { a => team(&p.a), b => team(&p.b), same => format!("{:.1}", 100.0 * p.same_share), excess => format!("{:.1}", 100.0 * p.excess), a_sub => p.a.submission_id, b_sub => p.b.submission_id })
            .collect();
        let models: Vec<Value> = r
            .shared_models
            .iter()
            .map(|m| context! { sha => m.sha256[..12.min(m.sha256.len())].to_owned(), teams => m.teams.iter().map(team).collect::<Vec<_>>().join(" · ") })
            .collect();
        // A large task is compared on a sample of its rows: say so.
        let sample = (r.rows_compared < r.rows).then(|| {
            page.t("review_sample")
                .replace("{compared}", &super::grouped(r.rows_compared as i64))
                .replace("{rows}", &super::grouped(r.rows as i64))
        });
        Some(context! { teams => r.teams, pairs => pairs, models => models, sample => sample })
    } else {
        None
    };
    let errors: std::collections::HashMap<String, String> = outcome.field_errors.into_iter().collect();
    let task_ctx = context! {
        slug => task.slug, title => task.title, draft => task.published_at.is_none(), closed => now >= task.closes_at,
        can_reopen => me.is_admin(),
        opens => when(task.opens_at, page.lang), closes => when(task.closes_at, page.lang), metric => spec.metric.name.name(),
    };
    Ok(page.render(
        outcome.status.unwrap_or(StatusCode::OK),
        "manage.html",
        context! {
            task => task_ctx, schedule => schedule, errors => errors, notice => outcome.notice, error => outcome.error,
            queue => context! {
                queued => queue.queued, running => queue.running, finished => queue.finished_last_hour, jobs => jobs,
                needs_gpu => queue.needs_gpu, gpu_workers => queue.gpu_workers,
            },
            subs => subs, subs_page => at, subs_pages => pages, subs_total => total, teams => team_rows,
            teams_page => teams_at, teams_pages => teams_pages, teams_total => teams_total,
            baselines => baselines, rescore => rescore, review => review,
        },
    ))
}

/// The schedule form, as typed (UTC, `YYYY-MM-DDTHH:MM`).
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub(super) struct ScheduleForm {
    #[serde(default)]
    opens_at: String,
    #[serde(default)]
    closes_at: String,
    #[serde(default)]
    merger_deadline: String,
    #[serde(default)]
    published: String,
}

fn parse_utc(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .map(|n| n.and_utc())
}

/// Edits the schedule and publication.
pub(super) async fn schedule_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    Posted { me, page, form }: Posted<ScheduleForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let mut field = |name: &str, value: &str, required: bool| match parse_utc(value) {
        Some(t) => Some(t),
        None if value.trim().is_empty() && !required => None,
        None => {
            errors.push((name.to_owned(), page.t("bad_datetime").to_owned()));
            None
        }
    };
    let opens = field("opens_at", &form.opens_at, true);
    let closes = field("closes_at", &form.closes_at, true);
    let merger = field("merger_deadline", &form.merger_deadline, false);
    let outcome = |errors, error| Outcome {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        field_errors: errors,
        schedule: Some(form.clone()),
        error,
        ..Outcome::default()
    };
    if !errors.is_empty() {
        return render_manage(&state, &page, &me, &slug, 1, outcome(errors, None)).await;
    }
    let patch = crate::tasks::TaskPatch {
        opens_at: opens,
        closes_at: closes,
        merger_deadline: merger,
        published: Some(form.published == "yes"),
    };
    match crate::tasks::update_task(&state, &me, slug.clone(), patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/tasks/{slug}/manage")).into_response()),
        Err(AppError::Invalid { message, .. }) => {
            let field = if message == crate::msg!("merger_outside_schedule") { "merger_deadline" } else { "closes_at" };
            render_manage(&state, &page, &me, &slug, 1, outcome(vec![(field.into(), message.render(page.lang))], None))
                .await
        }
        Err(e) => refused(&page, page.t("manage"), &format!("/tasks/{slug}/manage"), e),
    }
}

/// The re-open form (admins, closed tasks).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ReopenForm {
    #[serde(default)]
    closes_at: String,
    #[serde(default)]
    reason: String,
}

/// Re-opens a closed task (admins): a new close, a reason; logged, final
/// selections voided.
pub(super) async fn reopen_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    Posted { me, page, form }: Posted<ReopenForm>,
) -> Result<Response, AppError> {
    let Some(closes_at) = parse_utc(&form.closes_at) else {
        let error = Some(page.t("bad_datetime").to_owned());
        let status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        return render_manage(&state, &page, &me, &slug, 1, Outcome { status, error, ..Outcome::default() }).await;
    };
    let body = crate::leaderboard::Reopen { closes_at, reason: form.reason };
    match crate::leaderboard::reopen_task(&state, &me, slug.clone(), body).await {
        Ok(_) => Ok(Redirect::to(&format!("/tasks/{slug}/manage")).into_response()),
        Err(e) if e.status().is_client_error() => {
            let status = Some(e.status());
            let error = Some(problem_text(&e, page.lang));
            render_manage(&state, &page, &me, &slug, 1, Outcome { status, error, ..Outcome::default() }).await
        }
        Err(e) => Err(e),
    }
}

/// Closes the task now (revealing the private board).
pub(super) async fn close_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    Posted { me, page, .. }: Posted<super::CsrfField>,
) -> Result<Response, AppError> {
    match crate::leaderboard::close_task(&state, &me, slug.clone()).await {
        Ok(_) => Ok(Redirect::to(&format!("/tasks/{slug}?tab=leaderboard&board=private")).into_response()),
        Err(e) => refused(&page, page.t("manage"), &format!("/tasks/{slug}/manage"), e),
    }
}

/// Adds a baseline from a predictions CSV.
pub(super) async fn baseline_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    posted: PostedFiles,
) -> Result<Response, AppError> {
    let name = posted.text("name");
    let file = posted.file_bytes("file").await?.unwrap_or_default();
    let PostedFiles { me, page, .. } = posted;
    match crate::leaderboard::baseline_from(&state, &me, &slug, name, file).await {
        Ok(b) => {
            let notice = format!("{}: {} ({})", page.t("baseline_added"), b.name, score(b.public_score));
            render_manage(&state, &page, &me, &slug, 1, Outcome { notice: Some(notice), ..Outcome::default() }).await
        }
        Err(e) if e.status().is_client_error() => {
            let status = Some(e.status());
            let error = Some(problem_text(&e, page.lang));
            render_manage(&state, &page, &me, &slug, 1, Outcome { status, error, ..Outcome::default() }).await
        }
        Err(e) => Err(e),
    }
}

/// An error with its problems, in one line.
fn problem_text(e: &AppError, lang: crate::messages::Lang) -> String {
    match e {
        AppError::Invalid { message, details, .. } if !details.is_empty() => {
            let list: Vec<String> = details
                .iter()
                .take(5)
                .map(|p| {
                    let text = p.message.render(lang);
                    if p.field.is_empty() { text } else { format!("{}: {text}", p.field) }
                })
                .collect();
            format!("{} — {}", message.render(lang), list.join("; "))
        }
        other => other.render(lang),
    }
}

/// Previews a rescore (optionally with corrected labels); applies it when
/// the form says so (applying with labels takes the same file again).
pub(super) async fn rescore_submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    posted: PostedFiles,
) -> Result<Response, AppError> {
    let apply = posted.text("apply") == "yes";
    let labels = posted.file_bytes("labels").await?;
    let PostedFiles { me, page, .. } = posted;
    match crate::leaderboard::rescore(&state, &me, &slug, labels, apply).await {
        Ok(report) => {
            let outcome = Outcome { rescore: Some(report), ..Outcome::default() };
            render_manage(&state, &page, &me, &slug, 1, outcome).await
        }
        Err(e) if e.status() == StatusCode::FORBIDDEN || e.status() == StatusCode::NOT_FOUND => {
            refused(&page, page.t("manage"), &format!("/tasks/{slug}"), e)
        }
        Err(e) if e.status().is_client_error() => {
            let status = Some(e.status());
            let error = Some(problem_text(&e, page.lang));
            render_manage(&state, &page, &me, &slug, 1, Outcome { status, error, ..Outcome::default() }).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ReasonForm {
    #[serde(default)]
    reason: String,
    /// `set` or `clear`.
    #[serde(default)]
    action: String,
}

/// Disqualifies a team with a reason, or reinstates it.
pub(super) async fn disqualify_submit(
    State(state): State<AppState>,
    AppPath((slug, team_id)): AppPath<(String, i64)>,
    Posted { me, page, form }: Posted<ReasonForm>,
) -> Result<Response, AppError> {
    let path = (slug.clone(), team_id);
    let done = if form.action == "clear" {
        crate::teams::reinstate_team(&state, &me, path).await.map(|_| ())
    } else {
        let reason = crate::teams::Reason { reason: form.reason };
        crate::teams::disqualify_team(&state, &me, path, reason).await.map(|_| ())
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/tasks/{slug}/manage#teams")).into_response()),
        Err(e) => refused(&page, page.t("manage"), &format!("/tasks/{slug}/manage"), e),
    }
}

/// Hides a submission with a reason, or shows it again.
pub(super) async fn hide_submit(
    State(state): State<AppState>,
    AppPath((slug, id)): AppPath<(String, i64)>,
    Posted { me, page, form }: Posted<ReasonForm>,
) -> Result<Response, AppError> {
    let done = if form.action == "clear" {
        crate::submissions::unhide_submission(&state, &me, id).await.map(|_| ())
    } else {
        let reason = crate::teams::Reason { reason: form.reason };
        crate::submissions::hide_submission(&state, &me, id, reason).await.map(|_| ())
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/tasks/{slug}/manage#submissions")).into_response()),
        Err(e) => refused(&page, page.t("manage"), &format!("/tasks/{slug}/manage"), e),
    }
}
