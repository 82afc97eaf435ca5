//! The challenge pages: the home page, a task's tabs (overview, data, rules,
//! leaderboard with its chart, team, submit, my submissions), submitting and
//! choosing finals.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{FieldsSoFar, PageCtx, Posted, PostedFiles, charts, grouped, markdown, refused, when};
use crate::auth::CurrentUser;
use crate::db::{self, tasks, teams};
use crate::error::{AppError, Problem};
use crate::http::{AppPath, ErrorStatus, MaybeUser};
use crate::state::AppState;
use crate::submissions::Admission;
use crate::tasks::{TaskState, editable_by, spec_of};

/// Rows of a leaderboard page.
pub(super) const BOARD_PAGE: usize = 50;

pub(super) async fn home_page(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    let now = db::now_ms();
    let mut groups = Vec::new();
    let activity = state.boards.activity(now - 24 * 3_600_000).await?;
    for (key, sort) in [
        ("open", "t.closes_at ASC, t.slug ASC"),
        ("upcoming", "t.opens_at ASC, t.slug ASC"),
        ("closed", "t.closes_at DESC, t.slug ASC"),
    ] {
        let filter = tasks::TaskFilter {
            state: key,
            viewer_id: viewer.0.as_ref().map_or(0, |u| u.user_id),
            viewer_is_admin: viewer.0.as_ref().is_some_and(CurrentUser::is_admin),
            now,
        };
        let rows = tasks::list(&state.db.pool, filter, sort, 50, 0).await?;
        let mut cards = Vec::new();
        for row in rows {
            let spec = spec_of(&row)?;
            let counts = activity.get(&row.task_id).copied().unwrap_or_default();
            let at = if key == "upcoming" { row.opens_at } else { row.closes_at };
            let words = crate::tasks::words_in(&row, &spec, page.lang);
            cards.push(context! {
                slug => row.slug, title => words.title, summary => words.summary, metric => spec.metric.name.name(),
                metric_words => page.t(&format!("metric_{}", spec.metric.name.name())),
                untranslated => words.fell_back,
                when => when(at, page.lang), when_iso => db::ms_to_rfc3339(at), teams => grouped(counts.teams),
                recent => grouped(counts.recent), draft => row.published_at.is_none(), state => page.t(&format!("state_{key}")),
                left => (key != "closed").then(|| time_left(at - now, &page)),
            });
        }
        groups.push(context! { key => key, title => page.t(key), tasks => cards });
    }
    Ok(page.render(StatusCode::OK, "home.html", context! { groups => groups }))
}

/// A duration as words in the page's language: "3 days 4 hours",
/// "5 hours 12 minutes", "12 minutes" (what the countdown shows without
/// a script).
fn time_left(ms: i64, page: &PageCtx) -> String {
    let minutes = ms.max(0) / 60_000;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let unit = |n: i64, key: &str| format!("{n}{}", page.t(key));
    match (days, hours) {
        (0, 0) => unit(mins, "unit_minutes"),
        (0, h) => format!("{} {}", unit(h, "unit_hours"), unit(mins, "unit_minutes")),
        (d, h) => format!("{} {}", unit(d, "unit_days"), unit(h, "unit_hours")),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TabQuery {
    pub tab: Option<String>,
    pub board: Option<String>,
    pub page: Option<usize>,
}

pub(super) async fn task_page(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    AppPath(slug): AppPath<String>,
    Query(q): Query<TabQuery>,
) -> Result<Response, AppError> {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    task_view(&state, &page, viewer.0.as_ref(), &slug, q, TabOutcome::default()).await
}

/// What a refused form on a tab shows next to it: the problems, and what
/// was typed (kept).
#[derive(Debug, Default)]
pub(super) struct TabOutcome {
    pub status: Option<StatusCode>,
    pub summary: String,
    pub problems: Vec<Problem>,
    /// The submission note, or the team tab's typed name.
    pub message: String,
}

const TABS: &[(&str, &str)] = &[
    ("overview", "tab_overview"),
    ("data", "tab_data"),
    ("rules", "tab_rules"),
    ("leaderboard", "tab_leaderboard"),
    ("team", "tab_team"),
    ("submit", "tab_submit"),
    ("submissions", "tab_submissions"),
];

/// A score as shown on the pages.
pub(super) fn score(v: f64) -> String {
    score_to(v, crate::bundle::DEFAULT_SCORE_DECIMALS as usize)
}

/// A score with `d` decimals (the task's `metric.decimals`).
fn score_to(v: f64, d: usize) -> String {
    format!("{v:.d$}")
}

pub(super) async fn task_view(
    state: &AppState,
    page: &PageCtx,
    viewer: Option<&CurrentUser>,
    slug: &str,
    q: TabQuery,
    outcome: TabOutcome,
) -> Result<Response, AppError> {
    let (row, spec) = match crate::tasks::visible_task_and_spec(state, slug, viewer).await {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => {
            return Ok(page.render(
                StatusCode::NOT_FOUND,
                "message.html",
                context! { heading => page.t("not_found"), message => slug },
            ));
        }
        Err(e) => return Err(e),
    };
    let current = TABS.iter().map(|t| t.0).find(|t| q.tab.as_deref() == Some(*t)).unwrap_or("overview");
    let tabs: Vec<Value> = TABS.iter().map(|(k, l)| context! { key => k, label => page.t(l) }).collect();
    let now = db::now_ms();
    let closed = TaskState::at(row.opens_at, row.closes_at, now) == TaskState::Closed;
    let manager = viewer.is_some_and(|u| editable_by(&row, u));
    let team = match viewer {
        Some(u) => teams::of_user(&state.db.pool, row.task_id, u.user_id).await?,
        None => None,
    };
    let mut extra = context! {};
    match current {
        "data" => {
            let files: Vec<Value> = tasks::public_files(&state.db.pool, row.task_id)
                .await?
                .into_iter()
                .map(|(p, size)| context! { url => format!("/api/v1/tasks/{}/files/{p}", row.slug), path => p, size => size })
                .collect();
            extra = context! { files => files };
        }
        "leaderboard" => extra = board_context(state, page, &row, &spec, &q, closed, manager).await?,
        "team" => {
            if let Some(u) = viewer {
                let team_ctx = super::teams::team_context(state, page, &row, u, team.clone()).await?;
                let problems: Vec<Value> =
                    outcome.problems.iter().map(|p| context! { message => p.message.render(page.lang) }).collect();
                extra = context! { ..team_ctx, ..context! { problems => problems, typed => outcome.message } };
            }
        }
        "submit" => {
            let cap = spec.submissions.daily_cap;
            let quota = match &team {
                Some(t) => crate::teams::quota(state, t.team_id, cap, now).await?,
                None => crate::teams::Quota::at(cap, 0, 0, now),
            };
            let resets_ms = chrono::DateTime::parse_from_rfc3339(&quota.resets_at).map_or(0, |d| d.timestamp_millis());
            let quota = context! { remaining => quota.remaining_today, cap => quota.daily_cap, resets => when(resets_ms, page.lang), resets_iso => quota.resets_at };
            let problems: Vec<Value> = outcome
                .problems
                .iter()
                .map(|p| context! { field => p.field, message => p.message.render(page.lang) })
                .collect();
            let accepts: Vec<&str> = spec
                .submissions
                .kinds
                .iter()
                .map(|k| match k {
                    crate::bundle::SubmissionKind::Predictions => ".csv",
                    crate::bundle::SubmissionKind::Model => ".wasm",
                })
                .collect();
            let accepts = accepts.join(",");
            extra = context! {
                quota => quota, problems => problems, problem_summary => outcome.summary, message => outcome.message,
                accepts => accepts,
            };
        }
        "submissions" => {
            if let Some(t) = &team {
                extra =
                    my_submissions(state, page, t.team_id, closed, q.page.unwrap_or(1), spec.metric.shown_decimals())
                        .await?;
            }
        }
        _ => {}
    }
    let rules = context! {
        daily_cap => spec.submissions.daily_cap,
        final_selections => spec.submissions.final_selections,
        team_size_cap => spec.submissions.team_size_cap,
        public_share => format!("{:.0}%", spec.split.public_fraction * 100.0),
        merger_deadline => row.merger_deadline_at.map(|t| when(t, page.lang)),
        budget => format!("{} fuel · {} MiB · {} ms", spec.budget.fuel, spec.budget.memory_mib, spec.budget.wall_ms),
    };
    let words = crate::tasks::words_in(&row, &spec, page.lang);
    let statement = crate::tasks::statement_in(&row, page.lang);
    let task = context! {
        slug => row.slug, title => words.title, summary => words.summary, metric => spec.metric.name.name(),
        fell_back => words.fell_back || statement.lang != page.lang.code(), statement_lang => statement.lang,
        higher_is_better => spec.metric.higher_is_better, closes => when(row.closes_at, page.lang), closes_iso => db::ms_to_rfc3339(row.closes_at),
        opens => when(row.opens_at, page.lang), opens_iso => db::ms_to_rfc3339(row.opens_at), closed => closed,
        draft => row.published_at.is_none(),
    };
    let base = context! {
        task => task, tabs => tabs, current => current, statement_html => markdown(&statement.text), rules => rules,
        joined => team.is_some(), manager => manager, metric_help => page.t(&format!("metric_{}", spec.metric.name.name())),
    };
    Ok(page.render(outcome.status.unwrap_or(StatusCode::OK), "task.html", context! { ..base, ..extra }))
}

/// The leaderboard tab: one page of the chosen board, its movement arrows
/// after the close, and the score-over-time chart.
async fn board_context(
    state: &AppState,
    page: &PageCtx,
    row: &tasks::TaskRow,
    spec: &crate::bundle::TaskSpec,
    q: &TabQuery,
    closed: bool,
    manager: bool,
) -> Result<Value, AppError> {
    let private = q.board.as_deref() == Some("private") && (closed || manager);
    let entries = state.boards.board_rows(row, spec, private, closed).await?;
    // The private board shows statistical ties (metrics that are a mean
    // over rows).
    let ties = if private { crate::leaderboard::ties(state, row, spec, true).await? } else { None };
    let total = entries.len();
    let pages = total.div_ceil(BOARD_PAGE).max(1);
    let at = q.page.unwrap_or(1).clamp(1, pages);
    let shown = &entries[((at - 1) * BOARD_PAGE).min(total)..(at * BOARD_PAGE).min(total)];
    let shown = match &ties {
        Some(t) => crate::leaderboard::with_ties(shown, t),
        None => shown.to_vec(),
    };
    let d = spec.metric.shown_decimals();
    let score = |v: f64| score_to(v, d);
    let board: Vec<Value> = shown
        .iter()
        .map(|e| {
            let moved = e.movement.map(|m| match m {
                0 => ("=".to_owned(), page.t("moved_none").to_owned()),
                m if m > 0 => (format!("▲{m}"), format!("{} {m}", page.t("moved_up"))),
                m => (format!("▼{}", -m), format!("{} {}", page.t("moved_down"), -m)),
            });
            context! {
                rank => e.rank, team => e.team, members => e.members, score => score(e.score), entries => e.entries,
                baseline => e.baseline, fuel => e.fuel_used.map(grouped), moved => moved.as_ref().map(|m| m.0.clone()),
                moved_label => moved.map(|m| m.1), last => e.last_submission_at.as_deref().map(|t| iso_to_when(t, page.lang)),
                interval => e.interval.map(|[lo, hi]| format!("{} – {}", score(lo), score(hi))), tied_with => e.tied_with,
            }
        })
        .collect();
    let chart = charts::score_over_time(state, row, spec, page).await?;
    Ok(context! {
        board => board, board_title => page.t(if private { "private_board" } else { "public_board" }),
        private => private, can_private => closed || manager, board_page => at, board_pages => pages, board_total => total,
        ties => ties.is_some(),
        chart => chart,
    })
}

fn iso_to_when(iso: &str, lang: crate::messages::Lang) -> String {
    chrono::DateTime::parse_from_rfc3339(iso).map_or_else(|_| iso.to_owned(), |d| when(d.timestamp_millis(), lang))
}

/// Rows of a "My submissions" page.
const MINE_PAGE: i64 = 50;

/// "My submissions": a page of the team's submissions, newest first, with
/// live status, run costs and final selection, and their scores over time.
async fn my_submissions(
    state: &AppState,
    page: &PageCtx,
    team_id: i64,
    closed: bool,
    at: usize,
    d: usize,
) -> Result<Value, AppError> {
    let score = |v: f64| score_to(v, d);
    let total = crate::db::submissions::count_of_team(&state.db.pool, team_id).await?;
    let pages = (total.max(1) + MINE_PAGE - 1) / MINE_PAGE;
    let at = (at as i64).clamp(1, pages);
    let rows = crate::db::submissions::of_team(&state.db.pool, team_id, MINE_PAGE, (at - 1) * MINE_PAGE).await?;
    let chart = charts::own_scores(&rows, page);
    let mine: Vec<Value> = rows
        .into_iter()
        .map(|s| {
            context! {
                id => s.submission_id,
                created => when(s.created_at, page.lang),
                live => s.status.is_pending(),
                score => s.public_score.map(score).unwrap_or_default(),
                verdict => s.verdict.map(|v| crate::messages::word("verdict", v.as_str(), page.lang)).unwrap_or_default(),
                error => s.error.unwrap_or_default(),
                fuel => s.fuel_used.map(|f| grouped(crate::boards::round3(f))).unwrap_or_default(),
                memory => s.peak_memory_bytes.map(|b| format!("{:.1} MiB", b as f64 / 1048576.0)).unwrap_or_default(),
                wall => s.wall_ms.map(|ms| crate::submissions::wall_time(ms.max(0) as u64)).unwrap_or_default(),
                device => s.device.unwrap_or_default(),
                selected => s.selected_at.is_some(),
                selectable => s.status == crate::status::SubmissionStatus::Scored && !s.late.get() && !closed,
                file => s.file_name,
                message => s.message,
                status => crate::messages::word("status", s.status.as_str(), page.lang),
            }
        })
        .collect();
    // Catalog texts only (no `<`), so the JSON is safe inside the script.
    let words = crate::messages::words(&["status.", "verdict."], page.lang);
    let live_words = serde_json::to_string(&words).unwrap_or_else(|_| "{}".into());
    Ok(
        context! { mine => mine, own_chart => chart, mine_page => at, mine_pages => pages, live_words => live_words, decimals => d },
    )
}

/// The submit form: a CSV or `.wasm` with a message. The task's schedule,
/// the team and its quota are judged when the file's part begins, before a
/// byte of it is read: a team out of quota is told without sending it.
pub(super) async fn submit_form(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    // The form sends its message before its file, so a refusal here keeps it.
    let gate = async |me: &CurrentUser, page: &PageCtx, sent: FieldsSoFar<'_>| match crate::submissions::admit(
        &state, me, &slug, None,
    )
    .await
    {
        Ok(admission) => Ok(admission),
        Err(e) => {
            let message = sent.text("message");
            Err(submit_refused(&state, page, me, &slug, e, message).await.unwrap_or_else(|e| e.into_response()))
        }
    };
    let (posted, admission) = match PostedFiles::read(req, &state, gate).await {
        Ok(read) => read,
        Err(refused) => return Ok(refused),
    };
    let message = posted.text("message");
    let file = posted.file("file").map(|(name, file)| (name.to_owned(), file.clone()));
    let PostedFiles { me, page, .. } = posted;
    let submitted = match (file, admission) {
        (Some((file_name, file)), Some(Admission::Go(admitted))) => {
            let file_name = if file_name.is_empty() { "submission" } else { &file_name };
            crate::submissions::submit_file(&state, &me, *admitted, file_name, file, &message, None).await.map(|_| ())
        }
        // Only an idempotency key repeats a submission; the form sends none.
        (_, Some(Admission::Again(_))) => Ok(()),
        _ => Err(AppError::invalid("invalid_submission", crate::msg!("file_empty"))),
    };
    match submitted {
        Ok(()) => Ok(Redirect::to(&format!("/tasks/{slug}?tab=submissions")).into_response()),
        Err(e) => submit_refused(&state, &page, &me, &slug, e, message).await,
    }
}

/// The submit tab again, saying why a submission was refused (the message
/// kept for another try); an error of another kind is the caller's.
async fn submit_refused(
    state: &AppState,
    page: &PageCtx,
    me: &CurrentUser,
    slug: &str,
    e: AppError,
    message: String,
) -> Result<Response, AppError> {
    let q = TabQuery { tab: Some("submit".into()), ..TabQuery::default() };
    match e {
        AppError::Invalid { message: summary, details, .. } => {
            let details = if details.is_empty() { vec![Problem::new("", "", summary.clone())] } else { details };
            let outcome = TabOutcome {
                status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                summary: summary.render(page.lang),
                problems: details,
                message,
            };
            task_view(state, page, Some(me), slug, q, outcome).await
        }
        e @ (AppError::TooManyRequests(_) | AppError::Forbidden(_) | AppError::Conflict(_)) => {
            let status = e.status();
            let problems = vec![Problem::new("", "", e.render(page.lang))];
            let outcome = TabOutcome { status: Some(status), summary: String::new(), problems, message };
            task_view(state, page, Some(me), slug, q, outcome).await
        }
        e => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct FinalForm {
    #[serde(default)]
    select: String,
}

/// Selects or unselects a final submission from "My submissions".
pub(super) async fn final_submit(
    State(state): State<AppState>,
    AppPath(id): AppPath<i64>,
    Posted { me, page, form }: Posted<FinalForm>,
) -> Result<Response, AppError> {
    match crate::submissions::set_selection(&state, &me, id, form.select == "1").await {
        Ok(view) => Ok(Redirect::to(&format!("/tasks/{}?tab=submissions", view.task)).into_response()),
        Err(e) => refused(&page, page.t("final"), "/", e),
    }
}
