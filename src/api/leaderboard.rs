//! Leaderboards (public, and private after the close, with shake-up and CSV
//! export) and the organizer's board controls: closing a task, baselines, and
//! rescoring after a label fix with a preview of every rank change.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::boards::{BoardEntry, TaskBoards, boards, disqualified, task_names};
use crate::bundle::{HIDDEN_LABELS, TaskSpec};
use crate::competition::Standing;
use crate::db::{self, submissions, tasks};
use crate::error::{AppError, AppResult, Problem};
use crate::http::MaybeUser;
use crate::http::{AppJson, AppPath, AppQuery, ErrorBody};
use crate::scoring::MetricKind;
use crate::scoring::scorer::TaskSolution;
use crate::state::AppState;
use crate::tasks::visible_task;
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
        other => return Err(AppError::BadRequest(format!("board must be public or private, got {other:?}").into())),
    };
    if private && !closed && !viewer.0.as_ref().is_some_and(|u| editable_by(&task, u)) {
        return Err(AppError::Forbidden(
            format!(
                "the private leaderboard is revealed when the task closes at {}",
                db::ms_to_rfc3339(task.closes_at)
            )
            .into(),
        ));
    }
    let (per_page, page) = (q.per_page.unwrap_or(50), q.page.unwrap_or(1));
    if !(1..=500).contains(&per_page) || page == 0 {
        return Err(AppError::BadRequest("page starts at 1 and per_page is 1-500".into()));
    }
    let entries = state.boards.board_rows(&task, &spec, private, closed).await?;
    let higher = spec.metric.higher_is_better;
    if q.format.as_deref() == Some("csv") {
        return Ok(csv_response(&slug, board, &entries, closed));
    }
    if let Some(f) = q.format.as_deref().filter(|f| *f != "json") {
        return Err(AppError::BadRequest(format!("format must be json or csv, got {f:?}").into()));
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
        return Err(AppError::Conflict(
            format!("the task already closed at {}", db::ms_to_rfc3339(task.closes_at)).into(),
        ));
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
        .map_err(|e| AppError::BadRequest(format!("malformed multipart body: {}", e.body_text()).into()))?;
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
    state.scorer.solution(&state.blobs, task.task_id, spec.format(), &spec.split, &hash).await
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
            message: format!("the baseline file has {} problem(s)", details.len()).into(),
            details,
        })?;
    let id =
        submissions::add_baseline(&state.db.pool, task.task_id, &name, scores.public, scores.private, db::now_ms())
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Conflict(format!("a baseline named {name:?} already exists").into()),
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
            let built = tokio::task::spawn_blocking(move || TaskSolution::build(spec2.format(), &spec2.split, &bytes2))
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
                s.status = crate::status::SubmissionStatus::Failed;
                s.public_score = None;
                s.private_score = None;
                errors.insert(s.submission_id, problems.first().map(|p| p.message.to_string()).unwrap_or_default());
            }
        }
    }
    let dq = disqualified(&state.db, task.task_id).await?;
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

fn rank_changes(before: &TaskBoards, after: &TaskBoards, names: &HashMap<i64, String>) -> Vec<RankChange> {
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
