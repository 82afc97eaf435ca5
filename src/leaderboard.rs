//! Leaderboards (public, and private after the close, with shake-up and CSV
//! export) and the organizer's board controls: closing a task, baselines, and
//! rescoring after a label fix with a preview of every rank change.
//!
//! Invariants: the private board is shown before the close only to the
//! task's organizer and admins; only they close a task, add or remove
//! baselines, or rescore; a rescore changes nothing unless `apply` is asked,
//! and new labels must have exactly the ids of the current test set.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::boards::{BoardEntry, TaskBoards, boards, disqualified, task_names};
use crate::bundle::{HIDDEN_LABELS, TaskSpec};
use crate::competition::Standing;
use crate::db::{self, submissions, tasks};
use crate::error::{AppError, AppResult, Problem};
use crate::msg;
use crate::platform::Platform;
use crate::scoring::scorer::TaskSolution;
use crate::scoring::solution::Predictions;
use crate::tasks::{editable_by, managed_task, spec_of};
use crate::ties::Ties;

/// The task `slug` if `me` may manage its results (its organizer or an admin).
pub async fn organizer_task(state: &Platform, me: &CurrentUser, slug: &str) -> AppResult<tasks::TaskRow> {
    managed_task(state, me, slug, msg!("organizer_only")).await
}

/// Closes a task now: submissions after this are late (scored, never
/// ranked) and the private board is revealed.
pub async fn close_task(state: &Platform, me: &CurrentUser, slug: String) -> AppResult<serde_json::Value> {
    let task = organizer_task(state, me, &slug).await?;
    let now = db::now_ms();
    if task.closes_at <= now {
        return Err(AppError::Conflict(msg!("already_closed", at = db::ms_to_rfc3339(task.closes_at))));
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
    let mut tx = state.db.pool.begin().await?;
    tasks::update_schedule(&mut *tx, task.task_id, &update, now).await?;
    crate::audit::record(&mut tx, me, crate::audit::Action::TaskClose, Some(task.task_id), &[], serde_json::json!({}))
        .await?;
    tx.commit().await?;
    tracing::info!(task = %slug, by = %me.username, "task closed");
    Ok(serde_json::json!({ "task": slug, "closed_at": db::ms_to_rfc3339(now) }))
}

/// What re-opening a closed task needs: the new close and why.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reopen {
    /// The new close (RFC 3339, in the future).
    pub closes_at: chrono::DateTime<chrono::Utc>,
    /// Why (kept in the log; at most 500 characters).
    pub reason: String,
}

/// Re-opens a closed task (admins only): the close moves to `closes_at`,
/// every final selection is voided (teams choose again), the private board
/// is hidden again, and the action is logged with its reason. Credentials
/// of its results are revoked (the task is no longer closed).
pub async fn reopen_task(
    state: &Platform,
    me: &CurrentUser,
    slug: String,
    body: Reopen,
) -> AppResult<serde_json::Value> {
    let task = organizer_task(state, me, &slug).await?;
    if !me.is_admin() {
        return Err(AppError::Forbidden(msg!("admin_only_reopen")));
    }
    let now = db::now_ms();
    if now < task.closes_at {
        return Err(AppError::Conflict(msg!("not_closed")));
    }
    let reason = crate::teams::valid_reason_text(&body.reason)?;
    let closes_at = body.closes_at.timestamp_millis();
    if closes_at <= now {
        return Err(AppError::invalid("invalid_schedule", msg!("reopen_in_future")));
    }
    let mut spec = spec_of(&task)?;
    spec.schedule.closes = body.closes_at;
    let update = tasks::ScheduleUpdate {
        opens_at: task.opens_at,
        closes_at,
        merger_deadline_at: task.merger_deadline_at,
        published_at: task.published_at,
        spec: serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.into()))?,
    };
    let mut tx = state.db.pool.begin().await?;
    let voided = submissions::clear_task_selections(&mut *tx, task.task_id).await?;
    tasks::update_schedule(&mut *tx, task.task_id, &update, now).await?;
    let detail = serde_json::json!({
        "reason": reason, "closes_at": db::ms_to_rfc3339(closes_at), "selections_voided": voided,
    });
    crate::audit::record(&mut tx, me, crate::audit::Action::TaskReopen, Some(task.task_id), &[], detail).await?;
    tx.commit().await?;
    tracing::warn!(task = %slug, by = %me.username, reason, closes_at = %db::ms_to_rfc3339(closes_at), voided, "task re-opened");
    Ok(serde_json::json!({ "task": slug, "closes_at": db::ms_to_rfc3339(closes_at), "selections_voided": voided }))
}

pub(crate) async fn current_solution(
    state: &Platform,
    task: &tasks::TaskRow,
    spec: &TaskSpec,
) -> AppResult<std::sync::Arc<TaskSolution>> {
    let hash = submissions::hidden_file(&state.db.pool, task.task_id, HIDDEN_LABELS)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("task {} has no labels", task.slug)))?;
    state.scorer.solution(&state.blobs, task.task_id, spec.format(), &spec.split, &hash).await
}

/// On a Ladder task, the public score a new submission of `team_id` shows
/// (see `ladder`): its predictions `new` scored `public` on the public rows,
/// against the team's shown best on the public board.
pub async fn ladder_shown(
    state: &Platform,
    task: &tasks::TaskRow,
    spec: &TaskSpec,
    team_id: i64,
    new: std::sync::Arc<Predictions>,
    public: f64,
) -> AppResult<f64> {
    // The board as it stands now, not as it stood when the caller read the
    // task row: a submission of the team scored since then is the prior.
    let fresh = tasks::by_id(&state.db.pool, task.task_id).await?;
    let computed = state.boards.computed(fresh.as_ref().unwrap_or(task), spec).await?;
    let best = computed.public().iter().find(|s| s.team_id == team_id).cloned();
    let best_bytes = match &best {
        Some(b) => {
            let row = submissions::by_id(&state.db.pool, b.submission_id).await?;
            match row.as_ref().and_then(submissions::SubmissionRow::predictions_blob) {
                Some(hash) => Some(state.blobs.get(hash).await.map_err(AppError::store)?),
                None => None,
            }
        }
        None => None,
    };
    let solution = current_solution(state, task, spec).await?;
    let seed = crate::ladder::seed(spec.split.seed, best.as_ref().map_or(0, |b| b.submission_id));
    tokio::task::spawn_blocking(move || {
        let sol = &solution.solution;
        let best_preds = best_bytes.and_then(|b| sol.parse_submission(&b).ok());
        let prior = best.zip(best_preds.as_ref()).map(|(b, p)| crate::ladder::Best { shown: b.score, predictions: p });
        crate::ladder::step(sol, &solution.public_rows, prior, &new, public, seed).shown
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}

/// The statistical ties of a board (see `ties`): every ranked team's
/// ranking submission read back and scored row by row on the board's rows,
/// then bootstrapped. Computed once per board version and kept; requests
/// arriving while it is computed wait for that one computation.
pub async fn ties(state: &Platform, task: &tasks::TaskRow, spec: &TaskSpec, private: bool) -> AppResult<Option<Ties>> {
    let key = (task.task_id, private);
    state.ties.get_or_compute(&key, task.board_version, || compute_ties(state, task, spec, private)).await
}

async fn compute_ties(
    state: &Platform,
    task: &tasks::TaskRow,
    spec: &TaskSpec,
    private: bool,
) -> AppResult<Option<Ties>> {
    let computed = state.boards.computed(task, spec).await?;
    let standings: Vec<Standing> = if private { computed.private() } else { computed.public() }.to_vec();
    let solution = current_solution(state, task, spec).await?;
    let rows: HashMap<i64, submissions::SubmissionRow> = submissions::scored_of_task(&state.db.pool, task.task_id)
        .await?
        .into_iter()
        .map(|s| (s.submission_id, s))
        .collect();
    let mut files = Vec::with_capacity(standings.len());
    for s in &standings {
        // Every ranked submission is scored and has its predictions; one
        // missing would shift the pairs, so then no ties are given at all.
        let Some(hash) = rows.get(&s.submission_id).and_then(submissions::SubmissionRow::predictions_blob) else {
            return Ok(None);
        };
        files.push((s.team_id, state.blobs.get(hash).await.map_err(AppError::store)?));
    }
    let seed = spec.split.seed ^ u64::from(private);
    let higher = spec.metric.higher_is_better;
    tokio::task::spawn_blocking(move || {
        let rows = if private { &solution.private_rows } else { &solution.public_rows };
        let mut teams = Vec::with_capacity(files.len());
        let mut preds = Vec::with_capacity(files.len());
        for (team, bytes) in files {
            preds.push(solution.solution.parse_submission(&bytes).ok()?);
            teams.push(team);
        }
        let input = solution.solution.tie_input(&preds, rows)?;
        drop(preds);
        let stats = input.bootstrap(higher, crate::ties::RESAMPLES, seed);
        Some(std::sync::Arc::new(teams.into_iter().zip(stats).collect::<std::collections::HashMap<_, _>>()))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}

/// `entries` with their intervals and groups filled in from `ties`.
pub fn with_ties(entries: &[BoardEntry], ties: &Ties) -> Vec<BoardEntry> {
    entries
        .iter()
        .map(|e| {
            let mut e = e.clone();
            if let Some(t) = e.team_id.and_then(|id| ties.get(&id)) {
                e.interval = (t.lo.is_finite() && t.hi.is_finite()).then_some([t.lo, t.hi]);
                e.tied_with = t.tied_with;
            }
            e
        })
        .collect()
}

/// One board of a task as `viewer` may see it, every row.
#[derive(Debug)]
pub struct BoardRows {
    /// The task's metric.
    pub metric: crate::scoring::MetricKind,
    /// Whether higher scores rank first.
    pub higher_is_better: bool,
    /// Whether the task has closed.
    pub closed: bool,
    /// Teams ranked, baselines slotted in (shared with the board cache).
    pub entries: std::sync::Arc<Vec<BoardEntry>>,
    /// Statistical ties, when asked for (always on the private board) and
    /// the metric is a mean over rows.
    pub ties: Option<Ties>,
}

/// The `board` (`public` or `private`) of task `slug` for `viewer`: the
/// private board only after the close, or to the organizer.
pub async fn board(
    state: &Platform,
    viewer: Option<&CurrentUser>,
    slug: &str,
    board: &str,
    want_ties: bool,
) -> AppResult<BoardRows> {
    let (task, spec) = crate::tasks::visible_task_and_spec(state, slug, viewer).await?;
    let closed = db::now_ms() >= task.closes_at;
    let private = match board {
        "public" => false,
        "private" => true,
        other => return Err(AppError::BadRequest(msg!("bad_board", got = format!("{other:?}")))),
    };
    if private && !closed && !viewer.is_some_and(|u| editable_by(&task, u)) {
        return Err(AppError::Forbidden(msg!("private_board_later", at = db::ms_to_rfc3339(task.closes_at))));
    }
    let entries = state.boards.board_rows(&task, &spec, private, closed).await?;
    let ties = if private || want_ties { ties(state, &task, &spec, private).await? } else { None };
    Ok(BoardRows { metric: spec.metric.name, higher_is_better: spec.metric.higher_is_better, closed, entries, ties })
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

/// Scores a predictions CSV and stores it as a named baseline.
pub async fn baseline_from(
    state: &Platform,
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
            message: msg!("baseline_name_needed"),
            details: vec![Problem::new("name", "", msg!("one_to_64_chars"))],
        });
    }
    let sol = current_solution(state, &task, &spec).await?;
    let scores = tokio::task::spawn_blocking(move || sol.score(&file))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|details| AppError::Invalid {
            code: "invalid_submission",
            message: msg!("baseline_problems", count = details.len()),
            details,
        })?;
    let id =
        submissions::add_baseline(&state.db.pool, task.task_id, &name, scores.public, scores.private, db::now_ms())
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Conflict(msg!("baseline_taken", name = format!("{name:?}"))),
                other => other,
            })?;
    let detail = serde_json::json!({ "baseline": name });
    crate::audit::log(state, me, crate::audit::Action::BaselineAdd, Some(task.task_id), &[], detail).await?;
    Ok(BaselineView { id, name, public_score: scores.public, private_score: scores.private })
}

/// Removes a baseline.
pub async fn delete_baseline(state: &Platform, me: &CurrentUser, (slug, id): (String, i64)) -> AppResult<()> {
    let task = organizer_task(state, me, &slug).await?;
    if submissions::delete_baseline(&state.db.pool, task.task_id, id).await? {
        let detail = serde_json::json!({ "baseline_id": id });
        crate::audit::log(state, me, crate::audit::Action::BaselineDelete, Some(task.task_id), &[], detail).await
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

/// Rescores a task's submissions (with new labels if given): the preview,
/// written only when `apply`.
pub async fn rescore(
    state: &Platform,
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
                return Err(invalid_labels(msg!("labels_ids_differ")));
            }
            std::sync::Arc::new(built)
        }
        None => current.clone(),
    };
    let old_subs = submissions::scored_of_task(&state.db.pool, task.task_id).await?;
    let mut new_subs = old_subs.clone();
    let mut failed = 0;
    let mut errors: HashMap<i64, String> = HashMap::new();
    let ladder = spec.public_board == crate::bundle::PublicBoard::Ladder;
    let dq = disqualified(&state.db, task.task_id).await?;
    // On a Ladder task the shown scores are replayed in submission order:
    // each team's shown best and the file behind it. Per team: (shown
    // score, the submission that set it, its predictions file). The file
    // is read again when the team's next submission needs it, so memory
    // holds two files at most, whatever the number of teams.
    let mut shown_best: HashMap<i64, (f64, i64, String)> = HashMap::new();
    let mut raw: HashMap<i64, f64> = HashMap::new();
    for s in new_subs.iter_mut().filter(|s| s.predictions_blob().is_some()) {
        let blob = s.predictions_blob().unwrap_or_default().to_owned();
        let bytes = state.blobs.get(&blob).await.map_err(AppError::store)?;
        let sol = solution.clone();
        let prior = if ladder { shown_best.get(&s.team_id).cloned() } else { None };
        let prior_bytes = match &prior {
            Some((_, _, hash)) => Some(state.blobs.get(hash).await.map_err(AppError::store)?),
            None => None,
        };
        let seed = crate::ladder::seed(spec.split.seed, prior.as_ref().map_or(0, |p| p.1));
        let result = tokio::task::spawn_blocking(move || -> Result<(_, Option<crate::ladder::Step>), Vec<Problem>> {
            let preds = sol.solution.parse_submission(&bytes)?;
            let sc = sol.score_parsed(&preds)?;
            if !ladder {
                return Ok((sc, None));
            }
            // The best was read without a problem earlier in this replay,
            // against the same solution: it reads the same now.
            let best_preds = prior_bytes.map(|b| sol.solution.parse_submission(&b)).transpose()?;
            let best = prior
                .as_ref()
                .zip(best_preds.as_ref())
                .map(|((shown, _, _), p)| crate::ladder::Best { shown: *shown, predictions: p });
            let step = crate::ladder::step(&sol.solution, &sol.public_rows, best, &preds, sc.public, seed);
            Ok((sc, Some(step)))
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
        match result {
            Ok((sc, stepped)) => {
                s.public_score = Some(sc.public);
                s.private_score = Some(sc.private);
                if let Some(step) = stepped {
                    raw.insert(s.submission_id, sc.public);
                    s.public_score = Some(step.shown);
                    let counts = !s.late.get() && s.hidden_at.is_none() && !dq.contains(&s.team_id);
                    if step.accepted && counts {
                        shown_best.insert(s.team_id, (step.shown, s.submission_id, blob));
                    }
                }
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
    let (before, after) = (boards(&old_subs, &spec, &dq), boards(&new_subs, &spec, &dq));
    let names = task_names(&old_subs);
    let changes = rank_changes(&before, &after, &names);
    if apply {
        let now = db::now_ms();
        let hash = match &new_labels {
            Some(bytes) => Some(state.blobs.put(bytes.clone()).await.map_err(AppError::store)?),
            None => None,
        };
        let mut tx = state.db.pool.begin().await?;
        for s in new_subs.iter().filter(|s| s.predictions_blob().is_some()) {
            let err = errors.get(&s.submission_id).map(|e| format!("rescoring failed: {e}"));
            let scores = (s.public_score, raw.get(&s.submission_id).copied(), s.private_score);
            submissions::set_scores(&mut *tx, s.submission_id, scores, err.as_deref(), now).await?;
        }
        if let (Some(hash), Some(bytes)) = (&hash, &new_labels) {
            submissions::replace_hidden_file(&mut *tx, task.task_id, HIDDEN_LABELS, hash, bytes.len() as i64).await?;
        }
        let detail =
            serde_json::json!({ "submissions": new_subs.len(), "new_labels": hash.is_some(), "failed": failed });
        crate::audit::record(&mut tx, me, crate::audit::Action::TaskRescore, Some(task.task_id), &[], detail).await?;
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

fn invalid_labels(message: impl Into<crate::messages::Msg>) -> AppError {
    AppError::Invalid {
        code: "invalid_labels",
        message: msg!("labels_unusable"),
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
