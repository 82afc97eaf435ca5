//! Leaderboards (public, and private after the close, with shake-up and CSV
//! export) and the organizer's board controls: closing a task, baselines, and
//! rescoring after a label fix with a preview of every rank change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::tasks::visible_task;
use crate::auth::{CurrentUser, MaybeUser};
use crate::bundle::{HIDDEN_LABELS, TaskSpec};
use crate::competition::{Standing, private_board, public_board};
use crate::db::{self, submissions, tasks, teams};
use crate::error::{AppError, AppJson, AppPath, AppQuery, AppResult, ErrorBody, Problem};
use crate::scoring::MetricKind;
use crate::scoring::scorer::TaskSolution;
use crate::state::AppState;
use crate::tasks::{editable_by, spec_of};

/// Routes of this module; `upload_limit` bounds label and baseline files.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/tasks/{slug}/leaderboard", get(get_leaderboard))
        .route("/tasks/{slug}/close", post(close_task))
        .route("/tasks/{slug}/baselines", post(add_baseline).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/tasks/{slug}/baselines/{id}", delete(delete_baseline))
        .route("/tasks/{slug}/rescore", post(rescore_task).layer(DefaultBodyLimit::max(upload_limit)))
}

/// One row of a board.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardEntry {
    /// 1-based rank; `null` for a baseline.
    pub rank: Option<u32>,
    /// Team name, or the baseline's name.
    pub team: String,
    /// Team id (absent for baselines).
    pub team_id: Option<i64>,
    /// Members' usernames.
    pub members: Vec<String>,
    /// The score that ranks the team on this board.
    pub score: f64,
    /// Submissions the team made.
    pub entries: i64,
    /// Time of the team's last submission (RFC 3339).
    pub last_submission_at: Option<String>,
    /// A displayed, unranked reference row.
    pub baseline: bool,
    /// Efficiency: fuel the ranking submission used, when it is a model
    /// (3 significant digits).
    pub fuel_used: Option<i64>,
    /// After the close: rank on the public board.
    pub public_rank: Option<u32>,
    /// After the close: rank on the private board.
    pub private_rank: Option<u32>,
    /// After the close: public rank − private rank (positive = climbed).
    pub movement: Option<i64>,
}

/// A page of a board.
#[derive(Debug, Serialize, ToSchema)]
pub struct Leaderboard {
    /// Task slug.
    pub task: String,
    /// `public` or `private`.
    pub board: String,
    /// The metric.
    pub metric: MetricKind,
    /// Whether larger scores rank higher.
    pub higher_is_better: bool,
    /// Whether the task has closed (the private board is revealed).
    pub closed: bool,
    /// Ranked teams plus baselines, over all pages.
    pub total: usize,
    /// This page (1-based).
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// The rows.
    pub entries: Vec<BoardEntry>,
}

/// Which board and how.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// `public` (default) or `private` (after the close; before it, only the
    /// task's organizer and admins).
    pub board: Option<String>,
    /// `json` (default) or `csv` (every row, as a download).
    pub format: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<u32>,
    /// Rows per page, 1–500 (default 50).
    pub per_page: Option<u32>,
}

/// Both boards of a task, computed from its scored submissions.
struct Boards {
    public: Vec<Standing>,
    private: Vec<Standing>,
}

fn boards(subs: &[submissions::SubmissionRow], spec: &TaskSpec, disqualified: &HashSet<i64>) -> Boards {
    let higher = spec.metric.higher_is_better;
    Boards {
        public: public_board(subs, higher, disqualified),
        private: private_board(subs, higher, spec.submissions.final_selections, disqualified),
    }
}

/// What a task's boards and chart are built from, computed once per change
/// of its scored submissions (and disqualifications) and cached.
pub struct Computed {
    boards: Boards,
    /// Per team: (scored submissions, last one's time in ms).
    counts: HashMap<i64, (i64, i64)>,
    /// Per submission: fuel used (models).
    fuel: HashMap<i64, i64>,
    /// Per team: its best public score so far, at each improvement (ms,
    /// score), counting what the public board counts.
    pub progress: HashMap<i64, Vec<(i64, f64)>>,
}

impl Computed {
    /// The private board's standings, best first.
    pub fn private(&self) -> &[Standing] {
        &self.boards.private
    }
}

/// A task's cached [`Computed`], by task id, with the board version it was
/// computed at.
pub type BoardCache = HashMap<i64, (i64, Arc<Computed>)>;

/// A task's boards and progress lines, from the cache when nothing changed.
pub async fn computed(state: &AppState, task: &tasks::TaskRow, spec: &TaskSpec) -> AppResult<Arc<Computed>> {
    // The version comes with the task row: a cache hit costs no query. A
    // change committed after the row was read is caught on the next request.
    let key = task.board_version;
    if let Some((k, c)) = state.boards.lock().unwrap_or_else(|e| e.into_inner()).get(&task.task_id)
        && *k == key
    {
        return Ok(c.clone());
    }
    let subs = submissions::scored_of_task(&state.db.pool, task.task_id).await?;
    let dq = disqualified(state, task.task_id).await?;
    let higher = spec.metric.higher_is_better;
    let mut counts: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut progress: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
    for s in &subs {
        let e = counts.entry(s.team_id).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.max(s.created_at);
        if let Some(v) = s.public_score.filter(|_| s.late == 0 && s.hidden_at.is_none() && !dq.contains(&s.team_id)) {
            let line = progress.entry(s.team_id).or_default();
            if line.last().is_none_or(|&(_, b)| if higher { v > b } else { v < b }) {
                line.push((s.created_at, v));
            }
        }
    }
    let c = Arc::new(Computed {
        boards: boards(&subs, spec, &dq),
        counts,
        fuel: subs.iter().filter_map(|s| Some((s.submission_id, s.fuel_used?))).collect(),
        progress,
    });
    state.boards.lock().unwrap_or_else(|e| e.into_inner()).insert(task.task_id, (key, c.clone()));
    Ok(c)
}

async fn disqualified(state: &AppState, task_id: i64) -> AppResult<HashSet<i64>> {
    Ok(teams::of_task(&state.db.pool, task_id)
        .await?
        .into_iter()
        .filter(|t| t.disqualified_at.is_some())
        .map(|t| t.team_id)
        .collect())
}

/// A task's leaderboard. The private board is revealed after the close (403
/// before it, except for the task's organizer and admins); after the close
/// both boards show each team's movement between them.
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/leaderboard", tag = "leaderboards", params(("slug" = String, Path), BoardQuery),
    responses((status = 200, body = Leaderboard), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_leaderboard(
    State(state): State<AppState>,
    viewer: MaybeUser,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<BoardQuery>,
) -> AppResult<Response> {
    let task = visible_task(&state, &slug, viewer.0.as_ref()).await?;
    let spec = spec_of(&task)?;
    let now = db::now_ms();
    let closed = now >= task.closes_at;
    let board = q.board.as_deref().unwrap_or("public");
    let private = match board {
        "public" => false,
        "private" => true,
        other => return Err(AppError::BadRequest(format!("board must be public or private, got {other:?}"))),
    };
    if private && !closed && !viewer.0.as_ref().is_some_and(|u| editable_by(&task, u)) {
        return Err(AppError::Forbidden(format!(
            "the private leaderboard is revealed when the task closes at {}",
            db::ms_to_rfc3339(task.closes_at)
        )));
    }
    let (per_page, page) = (q.per_page.unwrap_or(50), q.page.unwrap_or(1));
    if !(1..=500).contains(&per_page) || page == 0 {
        return Err(AppError::BadRequest("page starts at 1 and per_page is 1-500".into()));
    }
    let entries = board_rows(&state, &task, &spec, private, closed).await?;
    let higher = spec.metric.higher_is_better;
    if q.format.as_deref() == Some("csv") {
        return Ok(csv_response(&slug, board, &entries, closed));
    }
    if let Some(f) = q.format.as_deref().filter(|f| *f != "json") {
        return Err(AppError::BadRequest(format!("format must be json or csv, got {f:?}")));
    }
    let total = entries.len();
    let start = ((page - 1) as usize * per_page as usize).min(total);
    let entries = entries.into_iter().skip(start).take(per_page as usize).collect();
    let lb = Leaderboard {
        task: slug,
        board: board.to_owned(),
        metric: spec.metric.name,
        higher_is_better: higher,
        closed,
        total,
        page,
        per_page,
        entries,
    };
    Ok(AppJson(lb).into_response())
}

/// Every row of one board (`private` or public), teams ranked and
/// baselines slotted in by score — for the API, its CSV and the web page.
pub(crate) async fn board_rows(
    state: &AppState,
    task: &tasks::TaskRow,
    spec: &TaskSpec,
    private: bool,
    closed: bool,
) -> AppResult<Vec<BoardEntry>> {
    let c = computed(state, task, spec).await?;
    let members = members_by_team(state, task.task_id).await?;
    let names: HashMap<i64, String> =
        teams::of_task(&state.db.pool, task.task_id).await?.into_iter().map(|t| (t.team_id, t.name)).collect();
    let mut entries = board_entries(&c, private, closed, &members, &names);
    for base in submissions::baselines(&state.db.pool, task.task_id).await? {
        entries.push(BoardEntry {
            rank: None,
            team: base.name,
            team_id: None,
            members: Vec::new(),
            score: if private { base.private_score } else { base.public_score },
            entries: 0,
            last_submission_at: None,
            baseline: true,
            fuel_used: None,
            public_rank: None,
            private_rank: None,
            movement: None,
        });
    }
    let higher = spec.metric.higher_is_better;
    // Baselines slot in by score; ranked rows keep their order.
    entries.sort_by(|a, b| match (a.rank, b.rank) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => crate::scoring::metrics::better_first(a.score, b.score, higher).then(a.baseline.cmp(&b.baseline)),
    });
    Ok(entries)
}

fn task_names(subs: &[submissions::SubmissionRow]) -> HashMap<i64, String> {
    subs.iter().map(|s| (s.team_id, s.team_name.clone())).collect()
}

async fn members_by_team(state: &AppState, task_id: i64) -> AppResult<HashMap<i64, Vec<String>>> {
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    for m in teams::members_of_task(&state.db.pool, task_id).await? {
        map.entry(m.team_id).or_default().push(m.username);
    }
    Ok(map)
}

fn board_entries(
    c: &Computed,
    private: bool,
    closed: bool,
    members: &HashMap<i64, Vec<String>>,
    names: &HashMap<i64, String>,
) -> Vec<BoardEntry> {
    let (b, counts, fuel) = (&c.boards, &c.counts, &c.fuel);
    let public_rank: HashMap<i64, u32> = b.public.iter().map(|s| (s.team_id, s.rank)).collect();
    let private_rank: HashMap<i64, u32> = b.private.iter().map(|s| (s.team_id, s.rank)).collect();
    let rows = if private { &b.private } else { &b.public };
    rows.iter()
        .map(|s| {
            let (pr, vr) = (public_rank.get(&s.team_id).copied(), private_rank.get(&s.team_id).copied());
            let (n, last) = counts.get(&s.team_id).copied().unwrap_or((0, 0));
            BoardEntry {
                rank: Some(s.rank),
                team: names.get(&s.team_id).cloned().unwrap_or_default(),
                team_id: Some(s.team_id),
                members: members.get(&s.team_id).cloned().unwrap_or_default(),
                score: s.score,
                entries: n,
                last_submission_at: Some(db::ms_to_rfc3339(last)),
                baseline: false,
                fuel_used: fuel.get(&s.submission_id).copied().map(crate::api::submissions::round3),
                public_rank: closed.then_some(pr).flatten(),
                private_rank: closed.then_some(vr).flatten(),
                movement: if closed { pr.zip(vr).map(|(p, v)| i64::from(p) - i64::from(v)) } else { None },
            }
        })
        .collect()
}

fn csv_response(slug: &str, board: &str, entries: &[BoardEntry], closed: bool) -> Response {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["rank", "team", "members", "score", "entries", "last_submission_at", "baseline", "fuel_used"];
    if closed {
        header.extend(["public_rank", "private_rank", "movement"]);
    }
    let _ = w.write_record(&header);
    let opt = |v: Option<String>| v.unwrap_or_default();
    for e in entries {
        let mut row = vec![
            opt(e.rank.map(|r| r.to_string())),
            e.team.clone(),
            e.members.join(" "),
            e.score.to_string(),
            e.entries.to_string(),
            opt(e.last_submission_at.clone()),
            e.baseline.to_string(),
            opt(e.fuel_used.map(|f| f.to_string())),
        ];
        if closed {
            row.extend([
                opt(e.public_rank.map(|r| r.to_string())),
                opt(e.private_rank.map(|r| r.to_string())),
                opt(e.movement.map(|r| r.to_string())),
            ]);
        }
        let _ = w.write_record(&row);
    }
    let body = w.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{slug}-{board}-leaderboard.csv\"")),
        ],
        body,
    )
        .into_response()
}

async fn organizer_task(state: &AppState, me: &CurrentUser, slug: &str) -> AppResult<tasks::TaskRow> {
    let task = visible_task(state, slug, Some(me)).await?;
    if !editable_by(&task, me) {
        return Err(AppError::Forbidden("only the task's organizer or an admin can do this".into()));
    }
    Ok(task)
}

/// Closes a task now: submissions after this are late (scored, never
/// ranked) and the private board is revealed.
#[utoipa::path(post, path = "/api/v1/tasks/{slug}/close", tag = "leaderboards", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, description = "closed"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close_task(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
) -> AppResult<AppJson<serde_json::Value>> {
    let task = organizer_task(&state, &me, &slug).await?;
    let now = db::now_ms();
    if task.closes_at <= now {
        return Err(AppError::Conflict(format!("the task already closed at {}", db::ms_to_rfc3339(task.closes_at))));
    }
    let mut spec = spec_of(&task)?;
    let closes = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    spec.schedule.closes = closes;
    if spec.schedule.opens > closes {
        spec.schedule.opens = closes;
    }
    spec.schedule.merger_deadline = spec.schedule.merger_deadline.map(|m| m.min(closes));
    let update = tasks::ScheduleUpdate {
        opens_at: task.opens_at.min(now),
        closes_at: now,
        merger_deadline_at: task.merger_deadline_at.map(|m| m.min(now)),
        published_at: task.published_at,
        spec: serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.into()))?,
    };
    tasks::update_schedule(&state.db.pool, task.task_id, &update, now).await?;
    tracing::info!(task = %slug, by = %me.username, "task closed");
    Ok(AppJson(serde_json::json!({ "task": slug, "closed_at": db::ms_to_rfc3339(now) })))
}

/// Reads the named fields of a multipart form.
/// The named fields of a request's multipart form; a request without a
/// multipart body (e.g. a bare `POST`) has none.
async fn optional_form(
    state: &AppState,
    req: axum::extract::Request,
    names: &[&str],
) -> AppResult<HashMap<String, Bytes>> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    if !multipart {
        return Ok(HashMap::new());
    }
    let form = <Multipart as axum::extract::FromRequest<AppState>>::from_request(req, state)
        .await
        .map_err(|e| AppError::BadRequest(format!("malformed multipart body: {}", e.body_text())))?;
    form_fields(form, names).await
}

async fn form_fields(mut form: Multipart, names: &[&str]) -> AppResult<HashMap<String, Bytes>> {
    let mut out = HashMap::new();
    while let Some(field) = form.next_field().await? {
        if let Some(name) = field.name().map(str::to_owned).filter(|n| names.contains(&n.as_str())) {
            out.insert(name, field.bytes().await?);
        }
    }
    Ok(out)
}

async fn current_solution(
    state: &AppState,
    task: &tasks::TaskRow,
    spec: &TaskSpec,
) -> AppResult<std::sync::Arc<TaskSolution>> {
    let hash = submissions::hidden_file(&state.db.pool, task.task_id, HIDDEN_LABELS)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("task {} has no labels", task.slug)))?;
    state.scorer.solution(&state.blobs, task.task_id, spec, &hash).await
}

/// A baseline as added.
#[derive(Debug, Serialize, ToSchema)]
pub struct BaselineView {
    /// Id, to delete it.
    pub id: i64,
    /// Name shown on the boards.
    pub name: String,
    /// Public score.
    pub public_score: f64,
    /// Private score (shown on the private board).
    pub private_score: f64,
}

/// Adds a named baseline (multipart: `name`, `file` — a predictions CSV scored
/// like any submission). Displayed on the boards, never ranked.
#[utoipa::path(post, path = "/api/v1/tasks/{slug}/baselines", tag = "leaderboards", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 201, body = BaselineView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn add_baseline(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    form: Multipart,
) -> AppResult<(StatusCode, AppJson<BaselineView>)> {
    organizer_task(&state, &me, &slug).await?;
    let fields = form_fields(form, &["name", "file"]).await?;
    let name = fields.get("name").map(|b| String::from_utf8_lossy(b).trim().to_owned()).unwrap_or_default();
    let file =
        fields.get("file").cloned().ok_or_else(|| AppError::BadRequest("the form has no `file` field".into()))?;
    Ok((StatusCode::CREATED, AppJson(baseline_from(&state, &me, &slug, name, file).await?)))
}

/// Scores a predictions CSV and stores it as a named baseline.
pub(crate) async fn baseline_from(
    state: &AppState,
    me: &CurrentUser,
    slug: &str,
    name: String,
    file: Bytes,
) -> AppResult<BaselineView> {
    let task = organizer_task(state, me, slug).await?;
    let spec = spec_of(&task)?;
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::Invalid {
            code: "invalid_baseline",
            message: "the baseline needs a name".into(),
            details: vec![Problem::new("name", "", "1-64 characters")],
        });
    }
    let sol = current_solution(state, &task, &spec).await?;
    let scores = tokio::task::spawn_blocking(move || sol.score(&file))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|details| AppError::Invalid {
            code: "invalid_submission",
            message: format!("the baseline file has {} problem(s)", details.len()),
            details,
        })?;
    let id =
        submissions::add_baseline(&state.db.pool, task.task_id, &name, scores.public, scores.private, db::now_ms())
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Conflict(format!("a baseline named {name:?} already exists")),
                other => other,
            })?;
    Ok(BaselineView { id, name, public_score: scores.public, private_score: scores.private })
}

/// Removes a baseline.
#[utoipa::path(delete, path = "/api/v1/tasks/{slug}/baselines/{id}", tag = "leaderboards", security(("bearer" = [])),
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_baseline(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((slug, id)): AppPath<(String, i64)>,
) -> AppResult<StatusCode> {
    let task = organizer_task(&state, &me, &slug).await?;
    if submissions::delete_baseline(&state.db.pool, task.task_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound("baseline"))
    }
}

/// How one team's standing changes under a rescore.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankChange {
    /// Team name.
    pub team: String,
    /// Team id.
    pub team_id: i64,
    /// Public rank before → after.
    pub public_rank: [Option<u32>; 2],
    /// Public score before → after.
    pub public_score: [Option<f64>; 2],
    /// Private rank before → after.
    pub private_rank: [Option<u32>; 2],
    /// Private score before → after.
    pub private_score: [Option<f64>; 2],
    /// Whether anything differs.
    pub changed: bool,
}

/// A rescore's preview (or result).
#[derive(Debug, Serialize, ToSchema)]
pub struct RescoreReport {
    /// Whether the new scores were written.
    pub applied: bool,
    /// Whether new labels came with the request.
    pub new_labels: bool,
    /// Submissions rescored.
    pub submissions: usize,
    /// Submissions that could not be scored under the new labels.
    pub failed: usize,
    /// Every ranked team, with its before/after standing.
    pub changes: Vec<RankChange>,
}

/// Rescores every scored submission of a task (models through the
/// predictions their outputs became), optionally with fixed
/// labels (multipart: `labels`, a CSV `id,<target>` with the same ids). It
/// previews the rank changes; with the field `apply` = `true` it writes them.
#[utoipa::path(post, path = "/api/v1/tasks/{slug}/rescore", tag = "leaderboards", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = RescoreReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rescore_task(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    req: axum::extract::Request,
) -> AppResult<AppJson<RescoreReport>> {
    // Refuse others before reading their upload.
    organizer_task(&state, &me, &slug).await?;
    let fields = optional_form(&state, req, &["labels", "apply"]).await?;
    let apply = fields.get("apply").is_some_and(|v| v.as_ref() == b"true" || v.as_ref() == b"1");
    Ok(AppJson(rescore(&state, &me, &slug, fields.get("labels").cloned(), apply).await?))
}

/// Rescores a task's submissions (with new labels if given): the preview,
/// written only when `apply`.
pub(crate) async fn rescore(
    state: &AppState,
    me: &CurrentUser,
    slug: &str,
    new_labels: Option<Bytes>,
    apply: bool,
) -> AppResult<RescoreReport> {
    let task = organizer_task(state, me, slug).await?;
    let spec = spec_of(&task)?;
    let current = current_solution(state, &task, &spec).await?;
    let solution = match &new_labels {
        Some(bytes) => {
            let (spec2, bytes2) = (spec.clone(), bytes.clone());
            let built = tokio::task::spawn_blocking(move || TaskSolution::build(&spec2, &bytes2))
                .await
                .map_err(|e| AppError::Internal(e.into()))?
                .map_err(invalid_labels)?;
            if !built.solution.same_ids(&current.solution) {
                return Err(invalid_labels("the new labels must have exactly the ids of the current test set".into()));
            }
            std::sync::Arc::new(built)
        }
        None => current.clone(),
    };
    let old_subs = submissions::scored_of_task(&state.db.pool, task.task_id).await?;
    let mut new_subs = old_subs.clone();
    let mut failed = 0;
    let mut errors: HashMap<i64, String> = HashMap::new();
    for s in new_subs.iter_mut().filter(|s| s.predictions_blob().is_some()) {
        let blob = s.predictions_blob().unwrap_or_default().to_owned();
        let bytes = state.blobs.get(&blob).await.map_err(AppError::Internal)?;
        let sol = solution.clone();
        let result =
            tokio::task::spawn_blocking(move || sol.score(&bytes)).await.map_err(|e| AppError::Internal(e.into()))?;
        match result {
            Ok(sc) => {
                s.public_score = Some(sc.public);
                s.private_score = Some(sc.private);
            }
            Err(problems) => {
                failed += 1;
                s.status = "failed".into();
                s.public_score = None;
                s.private_score = None;
                errors.insert(s.submission_id, problems.first().map(|p| p.message.clone()).unwrap_or_default());
            }
        }
    }
    let dq = disqualified(state, task.task_id).await?;
    let (before, after) = (boards(&old_subs, &spec, &dq), boards(&new_subs, &spec, &dq));
    let names = task_names(&old_subs);
    let changes = rank_changes(&before, &after, &names);
    if apply {
        let now = db::now_ms();
        let hash = match &new_labels {
            Some(bytes) => Some(state.blobs.put(bytes.clone()).await.map_err(AppError::Internal)?),
            None => None,
        };
        let mut tx = state.db.pool.begin().await?;
        for s in new_subs.iter().filter(|s| s.predictions_blob().is_some()) {
            let err = errors.get(&s.submission_id).map(|e| format!("rescoring failed: {e}"));
            submissions::set_scores(&mut *tx, s.submission_id, s.public_score, s.private_score, err.as_deref(), now)
                .await?;
        }
        if let (Some(hash), Some(bytes)) = (&hash, &new_labels) {
            submissions::replace_hidden_file(&mut *tx, task.task_id, HIDDEN_LABELS, hash, bytes.len() as i64).await?;
        }
        tx.commit().await?;
        tracing::info!(task = %slug, by = %me.username, submissions = new_subs.len(), new_labels = hash.is_some(), "task rescored");
    }
    Ok(RescoreReport {
        applied: apply,
        new_labels: new_labels.is_some(),
        submissions: new_subs.iter().filter(|s| s.predictions_blob().is_some()).count(),
        failed,
        changes,
    })
}

fn invalid_labels(message: String) -> AppError {
    AppError::Invalid {
        code: "invalid_labels",
        message: "the new labels cannot be used".into(),
        details: vec![Problem::new("labels", "", message)],
    }
}

fn rank_changes(before: &Boards, after: &Boards, names: &HashMap<i64, String>) -> Vec<RankChange> {
    let index = |v: &[Standing]| v.iter().map(|s| (s.team_id, (s.rank, s.score))).collect::<HashMap<_, _>>();
    let (bp, bv, ap, av) = (index(&before.public), index(&before.private), index(&after.public), index(&after.private));
    let mut ids: Vec<i64> = bp.keys().chain(ap.keys()).copied().collect::<HashSet<_>>().into_iter().collect();
    ids.sort_by_key(|id| (ap.get(id).map_or(u32::MAX, |x| x.0), *id));
    ids.into_iter()
        .map(|id| {
            let get = |m: &HashMap<i64, (u32, f64)>| m.get(&id).copied();
            let (a, b, c, d) = (get(&bp), get(&ap), get(&bv), get(&av));
            RankChange {
                team: names.get(&id).cloned().unwrap_or_default(),
                team_id: id,
                public_rank: [a.map(|x| x.0), b.map(|x| x.0)],
                public_score: [a.map(|x| x.1), b.map(|x| x.1)],
                private_rank: [c.map(|x| x.0), d.map(|x| x.0)],
                private_score: [c.map(|x| x.1), d.map(|x| x.1)],
                changed: a != b || c != d,
            }
        })
        .collect()
}
