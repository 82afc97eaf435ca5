//! Submissions: upload and instant scoring of prediction CSVs, the daily
//! quota, a team's list, final selections, and an organizer's controls
//! (every submission of a task, hide with a reason).
//!
//! Invariants: the team's limits (schedule, disqualification, quota,
//! refusals) are checked before an upload's file is read ([`admit`]); the
//! file arrives in a spool file, never whole in memory, and comes into
//! memory only to be judged, under one of `Platform::checks`' slots. A
//! prediction CSV is validated and scored before anything is stored: an invalid one is refused with every problem listed (rows and ids
//! named, correct values never), stores nothing and does not count toward
//! the quota. A valid one is stored (blob, then row, in a transaction that
//! also re-checks the quota under the team's lock) and answered with its
//! public score; a model is stored with its job in one transaction. Private
//! scores are shown only after the close (or to the organizer).

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::blobs::Spooled;
use crate::boards::round3;
use crate::bundle::SubmissionKind;
use crate::competition::utc_day_start;
use crate::db::{self, submissions, tasks, teams};
use crate::error::{AppError, AppResult};
use crate::msg;
use crate::platform::Platform;
use crate::status::SubmissionStatus;
use crate::tasks::{TaskState, editable_by, spec_of, visible_task};
use crate::teams::{Quota, Reason, quota, valid_reason};

/// Longest submission message.
const MAX_MESSAGE: usize = 500;

/// A submission as its team (or the organizer) sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionView {
    /// Id.
    pub id: i64,
    /// Task slug.
    pub task: String,
    /// Team name.
    pub team: String,
    /// Who uploaded it.
    pub submitted_by: String,
    /// `predictions` or `model`.
    pub kind: String,
    /// The competitor's note.
    pub message: String,
    /// Uploaded file name.
    pub file_name: String,
    /// Bytes.
    pub size: i64,
    /// queued, running, scored, failed or platform_error.
    pub status: SubmissionStatus,
    /// Score on the public rows.
    pub public_score: Option<f64>,
    /// Score on the private rows: shown once the task has closed.
    pub private_score: Option<f64>,
    /// On a Ladder task (where `public_score` is the score the Ladder
    /// shows), the public score as scored: to organizers, and to the team
    /// once the task has closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_public_score: Option<f64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Made after the close: scored, never ranked.
    pub late: bool,
    /// Selected for the private board.
    pub selected: bool,
    /// Hidden by the organizer, with the reason.
    pub hidden_reason: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Models: the sandbox's verdict (ok, out_of_fuel, trap, …).
    pub verdict: Option<String>,
    /// Models: fuel used, to 3 significant digits (exact for organizers):
    /// the deterministic cost, shown as the efficiency column.
    pub fuel_used: Option<i64>,
    /// Models: peak memory in bytes.
    pub peak_memory_bytes: Option<i64>,
    /// Models: wall time of the run in milliseconds.
    pub wall_ms: Option<i64>,
    /// Models: the device that ran the host ops (`cpu`, or e.g.
    /// `cuda:0 (NVIDIA H200)`), as the run reported it.
    pub device: Option<String>,
    /// Models while queued: 1-based place in the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<i64>,
    /// Models while running: which worker, and since when (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<RunningOn>,
    /// Models, organizers only: what the model logged (it may echo hidden
    /// inputs, so competitors never see it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Models on tasks whose test inputs are hidden, organizers only: the
    /// run's real message and exact figures (competitors see a message fixed
    /// by the verdict, memory and time in coarse buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where a model is running.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunningOn {
    /// The worker that holds the job.
    pub worker: String,
    /// When it started (RFC 3339).
    pub since: String,
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Nothing new: the same idempotency key already stored it.
    Again,
    /// A prediction CSV, stored and scored.
    Scored,
    /// A model, stored and queued for evaluation.
    Queued,
}

/// The answer to an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSubmission {
    /// The stored submission.
    pub submission: SubmissionView,
    /// The quota after it.
    pub quota: Quota,
}

/// Whether private scores may be shown to `viewer` for this task.
fn private_visible(task: &tasks::TaskRow, viewer: &CurrentUser, now: i64) -> bool {
    task.closes_at <= now || editable_by(task, viewer)
}

/// Builds the view; `show_private` gates the private score.
pub fn view(s: submissions::SubmissionRow, slug: &str, show_private: bool) -> SubmissionView {
    let fuel_used = s.fuel_used.map(round3);
    SubmissionView {
        verdict: s.verdict.map(|v| v.as_str().to_owned()),
        fuel_used,
        peak_memory_bytes: s.peak_memory_bytes,
        wall_ms: s.wall_ms,
        device: s.device,
        log: None,
        detail: None,
        queue_position: None,
        running: None,
        id: s.submission_id,
        task: slug.to_owned(),
        team: s.team_name,
        submitted_by: s.username,
        kind: s.kind,
        message: s.message,
        file_name: s.file_name,
        size: s.size,
        status: s.status,
        public_score: s.public_score,
        private_score: if show_private { s.private_score } else { None },
        raw_public_score: if show_private { s.raw_public_score } else { None },
        error: s.error,
        late: s.late.get(),
        selected: s.selected_at.is_some(),
        hidden_reason: s.hidden_reason,
        created_at: db::ms_to_rfc3339(s.created_at),
    }
}

/// The first bytes of every WebAssembly module.
const WASM_MAGIC: &[u8] = b"\0asm";

/// The most bytes a submission's message may take (its characters are
/// counted after): a form's message is read no further.
pub const MAX_MESSAGE_BYTES: usize = 4 * MAX_MESSAGE;

/// A run's wall time as people read it. Times are kept in whole
/// milliseconds, so a run under one shows `< 1 ms`, not `0 ms`.
pub fn wall_time(ms: u64) -> String {
    if ms == 0 { "< 1 ms".to_owned() } else { format!("{ms} ms") }
}

/// The refusal of a message over [`MAX_MESSAGE`] characters.
pub fn message_too_long() -> AppError {
    AppError::invalid("invalid_message", msg!("message_too_long", max = MAX_MESSAGE))
}

/// A team cleared to upload to a task: everything that does not need the
/// file was checked before its first byte was read.
pub struct Admitted {
    task: tasks::TaskRow,
    spec: crate::bundle::TaskSpec,
    team: teams::TeamRow,
}

/// What [`admit`] decided.
pub enum Admission {
    /// The idempotency key already stored a submission: this is it, and
    /// the file need not be read.
    Again(Box<CreatedSubmission>),
    /// The file may be read and judged.
    Go(Box<Admitted>),
}

/// The checks before an upload's file is read: the task is visible and
/// open, the team exists and is not disqualified, and it has submissions
/// and refusals left today. A repeated idempotency key answers at once.
pub async fn admit(
    state: &Platform,
    me: &CurrentUser,
    slug: &str,
    idempotency_key: Option<&str>,
) -> AppResult<Admission> {
    let task = visible_task(state, slug, Some(me)).await?;
    let spec = spec_of(&task)?;
    let now = db::now_ms();
    if let Some(key) = idempotency_key
        && let Some(done) = already_stored(state, me, &task, &spec, key, now).await?
    {
        return Ok(Admission::Again(Box::new(done)));
    }
    if TaskState::at(task.opens_at, task.closes_at, now) == TaskState::Upcoming {
        return Err(AppError::Forbidden(msg!("task_opens_at", at = db::ms_to_rfc3339(task.opens_at))));
    }
    let team = crate::teams::ensure_team(state, task.task_id, me.user_id).await?;
    if let Some(reason) = &team.disqualified_reason {
        return Err(AppError::Forbidden(msg!("team_disqualified", reason = reason)));
    }
    let cap = spec.submissions.daily_cap;
    let q = quota(state, team.team_id, cap, now).await?;
    if q.remaining_today == 0 {
        return Err(too_many(cap, &q.resets_at));
    }
    if q.refused_today >= q.refused_cap {
        return Err(AppError::TooManyRequests(msg!("refusals_used", cap = q.refused_cap, at = &q.resets_at)));
    }
    Ok(Admission::Go(Box::new(Admitted { task, spec, team })))
}

/// Validates and stores an admitted team's file: a CSV is scored at once
/// (201), a model is queued (202). With an idempotency key already used by
/// this person, the stored submission is returned (200) and nothing is
/// counted again.
pub async fn submit_file(
    state: &Platform,
    me: &CurrentUser,
    admitted: Admitted,
    file_name: &str,
    file: Spooled,
    message: &str,
    idempotency_key: Option<&str>,
) -> AppResult<(Stored, CreatedSubmission)> {
    let Admitted { task, spec, team } = admitted;
    let slug = task.slug.as_str();
    let now = db::now_ms();
    if message.chars().count() > MAX_MESSAGE {
        return Err(message_too_long());
    }
    if file.is_empty() {
        return Err(AppError::invalid("invalid_submission", msg!("file_empty")));
    }
    let kinds = &spec.submissions.kinds;
    let model = file.starts_with(WASM_MAGIC);
    if model && !kinds.contains(&SubmissionKind::Model) {
        return Err(AppError::invalid("kind_not_accepted", msg!("models_not_accepted")));
    }
    if !model && !kinds.contains(&SubmissionKind::Predictions) {
        return Err(AppError::invalid("kind_not_accepted", msg!("models_only")));
    }
    let cap = spec.submissions.daily_cap;

    // Check a model, score a CSV, before storing anything: an invalid file
    // stores nothing and does not count toward the cap, but it counts
    // toward the team's refusals. Both happen under one of a few slots, so
    // many uploads at once queue for the slots. A model comes into memory
    // here; a large CSV is read from its spool file a chunk at a time.
    let checked = {
        let _slot = state.checks.acquire().await.map_err(|e| AppError::Internal(e.into()))?;
        if model {
            let bytes = file.bytes().await.map_err(|e| AppError::Internal(e.into()))?;
            check_model(state, &spec, &bytes).await.map(|()| None)
        } else {
            score_csv(state, &task, &spec, file.clone()).await.map(Some)
        }
    };
    let scored = match checked {
        Ok(scored) => scored,
        Err(e @ AppError::Invalid { .. }) => {
            submissions::record_refused(&state.db.pool, team.team_id, now, utc_day_start(now)).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    // On a Ladder task the competitor sees (and the board ranks) the score
    // the Ladder shows; the raw one is kept for organizers.
    let mut raw_public_score = None;
    let mut ladder = None;
    let scores = match scored {
        Some((mut s, preds)) if spec.public_board == crate::bundle::PublicBoard::Ladder => {
            let preds = std::sync::Arc::new(preds);
            let stamp = submissions::newest_scored(&state.db.pool, team.team_id).await?;
            raw_public_score = Some(s.public);
            s.public =
                crate::leaderboard::ladder_shown(state, &task, &spec, team.team_id, preds.clone(), s.public).await?;
            ladder = Some((preds, stamp));
            Some(s)
        }
        other => other.map(|(s, _)| s),
    };
    let blob_hash = state.blobs.put_spooled(&file).await.map_err(AppError::store)?;
    let late = now >= task.closes_at;
    let mut new = submissions::NewSubmission {
        task_id: task.task_id,
        team_id: team.team_id,
        user_id: me.user_id,
        kind: if model { "model" } else { "predictions" },
        message: message.trim(),
        file_name,
        blob_hash: &blob_hash,
        size: i64::try_from(file.len()).unwrap_or(i64::MAX),
        status: if model { SubmissionStatus::Queued } else { SubmissionStatus::Scored },
        public_score: scores.map(|s| s.public),
        raw_public_score,
        private_score: scores.map(|s| s.private),
        late,
        idempotency_key,
    };
    let mut tx = state.db.pool.begin().await?;
    teams::lock(&mut *tx, team.team_id, now).await?;
    // A Ladder step is judged against the team's best: if another of its
    // submissions was scored meanwhile, judge again against the new best
    // (outside the lock, which a step must not hold while it computes).
    for _ in 0..5 {
        let (Some((preds, stamp)), Some(raw)) = (&mut ladder, raw_public_score) else { break };
        let newest = submissions::newest_scored(&mut *tx, team.team_id).await?;
        if newest == *stamp {
            break;
        }
        drop(tx);
        *stamp = newest;
        let shown = crate::leaderboard::ladder_shown(state, &task, &spec, team.team_id, preds.clone(), raw).await?;
        new.public_score = Some(shown);
        tx = state.db.pool.begin().await?;
        teams::lock(&mut *tx, team.team_id, now).await?;
    }
    if submissions::counted_since(&mut *tx, team.team_id, utc_day_start(now)).await? >= i64::from(cap) {
        return Err(too_many(cap, &Quota::at(cap, 0, 0, now).resets_at));
    }
    let id = match submissions::insert(&mut *tx, &new, now).await {
        Ok(id) => id,
        // The same key raced in from a retry: answer with what it stored.
        Err(sqlx::Error::Database(e)) if idempotency_key.is_some() && e.is_unique_violation() => {
            drop(tx);
            let key = idempotency_key.unwrap_or_default();
            if let Some(done) = already_stored(state, me, &task, &spec, key, now).await? {
                return Ok((Stored::Again, done));
            }
            return Err(AppError::Conflict(msg!("idempotency_busy")));
        }
        Err(e) => return Err(e.into()),
    };
    if model {
        db::jobs::enqueue(&mut *tx, id, task.task_id, team.team_id, now, spec.budget.needs_gpu()).await?;
    }
    tx.commit().await?;
    let kind: &'static str = if model { "model" } else { "predictions" };
    metrics::counter!("gaic_submissions_total", "kind" => kind).increment(1);
    tracing::info!(submission = id, task = %slug, team = team.team_id, late, kind, "submission stored");
    if model {
        state.queue_wakeup.notify_one();
    }
    let row = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    let show_private = private_visible(&task, me, now);
    let quota = quota(state, team.team_id, cap, now).await?;
    let status = if model { Stored::Queued } else { Stored::Scored };
    Ok((status, CreatedSubmission { submission: view(row, slug, show_private), quota }))
}

/// The submission `me` already stored under `key`, as an upload answers it.
async fn already_stored(
    state: &Platform,
    me: &CurrentUser,
    task: &tasks::TaskRow,
    spec: &crate::bundle::TaskSpec,
    key: &str,
    now: i64,
) -> AppResult<Option<CreatedSubmission>> {
    let Some(row) = submissions::by_idempotency_key(&state.db.pool, me.user_id, key).await? else { return Ok(None) };
    if row.task_id != task.task_id {
        return Err(AppError::Conflict(msg!("idempotency_other_task")));
    }
    let quota = quota(state, row.team_id, spec.submissions.daily_cap, now).await?;
    let show_private = private_visible(task, me, now);
    Ok(Some(CreatedSubmission { submission: view(row, &task.slug, show_private), quota }))
}

/// Validates and scores a predictions CSV against the task's labels.
async fn score_csv(
    state: &Platform,
    task: &tasks::TaskRow,
    spec: &crate::bundle::TaskSpec,
    file: crate::blobs::Spooled,
) -> AppResult<(crate::scoring::scorer::Scores, crate::scoring::solution::Predictions)> {
    let solution = crate::leaderboard::current_solution(state, task, spec).await?;
    let scored = tokio::task::spawn_blocking(move || {
        let preds = match solution.solution.parse_submission_file(file.path())? {
            Ok(preds) => preds,
            Err(problems) => return Ok(Err(problems)),
        };
        Ok(solution.score_parsed(&preds).map(|scores| (scores, preds)))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e: std::io::Error| AppError::Internal(e.into()))?;
    scored.map_err(|details| AppError::Invalid {
        code: "invalid_submission",
        message: msg!("submission_problems", count = details.len()),
        details,
    })
}

/// Loads a model in the upload checker (no run): it must compile, export
/// the ABI and fit the task's memory.
async fn check_model(state: &Platform, spec: &crate::bundle::TaskSpec, bytes: &Bytes) -> AppResult<()> {
    crate::scoring::solution::out_cols(&spec.format()).map_err(|m| AppError::invalid("kind_not_accepted", m))?;
    let cap = u64::from(spec.budget.memory_mib) << 20;
    let checked = {
        let (sandbox, bytes) = (state.sandbox.clone(), bytes.clone());
        tokio::task::spawn_blocking(move || sandbox.check(&bytes, cap))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
    };
    checked.map_err(|(verdict, message)| AppError::Invalid {
        code: "invalid_model",
        message: msg!("model_refused", verdict = verdict, detail = &message),
        details: vec![crate::error::Problem::new("model", "", message)],
    })?;
    Ok(())
}

fn too_many(cap: u32, resets_at: &str) -> AppError {
    AppError::TooManyRequests(msg!("quota_used", cap = cap, at = resets_at))
}

/// The multipart form of a submission upload.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "documents the multipart form for OpenAPI only")]
pub struct SubmissionUpload {
    /// A predictions CSV (or a `.wasm` model where the task accepts models).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// An optional note, at most 500 characters.
    message: Option<String>,
}

/// One page of a task's submissions: `scope` `team` (the caller's team's)
/// or `all` (the task's organizer and admins), with how many there are.
pub async fn list_submissions(
    state: &Platform,
    me: &CurrentUser,
    slug: &str,
    scope: &str,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<SubmissionView>, i64)> {
    let task = visible_task(state, slug, Some(me)).await?;
    let show_private = private_visible(&task, me, db::now_ms());
    let (rows, total) = match scope {
        "all" => {
            if !editable_by(&task, me) {
                return Err(AppError::Forbidden(msg!("organizer_only_all_submissions")));
            }
            (
                submissions::of_task(&state.db.pool, task.task_id, limit, offset).await?,
                submissions::count_of_task(&state.db.pool, task.task_id).await?,
            )
        }
        "team" => match teams::of_user(&state.db.pool, task.task_id, me.user_id).await? {
            Some(team) => (
                submissions::of_team(&state.db.pool, team.team_id, limit, offset).await?,
                submissions::count_of_team(&state.db.pool, team.team_id).await?,
            ),
            None => (Vec::new(), 0),
        },
        other => return Err(AppError::BadRequest(msg!("bad_scope", got = format!("{other:?}")))),
    };
    let items = rows.into_iter().map(|r| view(r, slug, show_private)).collect();
    Ok((items, total))
}

/// `?scope=` and paging of the submissions list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmissionListQuery {
    /// `team` (default: your team's) or `all` (the task's organizer and admins).
    pub scope: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    pub per_page: Option<u32>,
}

/// A submission the caller may see: their team's, or any for the task's
/// organizer and admins. Returns it with its task.
pub async fn visible_submission(
    state: &Platform,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(submissions::SubmissionRow, tasks::TaskRow, bool)> {
    let sub = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    let task = tasks::by_id(&state.db.pool, sub.task_id).await?.ok_or(AppError::NotFound("submission"))?;
    let organizer = editable_by(&task, me);
    let own = teams::of_user(&state.db.pool, sub.task_id, me.user_id).await?.is_some_and(|t| t.team_id == sub.team_id);
    if !own && !organizer {
        return Err(AppError::NotFound("submission"));
    }
    Ok((sub, task, organizer))
}

/// One submission (your team's, or any for the organizer).
pub async fn get_submission(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<SubmissionView> {
    let (sub, task, organizer) = visible_submission(state, me, id).await?;
    let show = private_visible(&task, me, db::now_ms());
    let exact_fuel = sub.fuel_used;
    let mut v = view(sub, &task.slug, show);
    match v.status {
        SubmissionStatus::Queued => v.queue_position = crate::db::jobs::position(&state.db.pool, id).await?,
        SubmissionStatus::Running => {
            v.running = crate::db::jobs::running_info(&state.db.pool, id)
                .await?
                .map(|(worker, since)| RunningOn { worker, since: db::ms_to_rfc3339(since) });
        }
        _ => {}
    }
    if organizer {
        v.fuel_used = exact_fuel;
        let run = submissions::run_of(&state.db.pool, id).await?;
        v.log = run.run_log;
        v.detail = run.run_detail;
    }
    Ok(v)
}

/// Selects (or unselects) a submission as one of its team's finals, while the task is open.
pub async fn set_selection(state: &Platform, me: &CurrentUser, id: i64, select: bool) -> AppResult<SubmissionView> {
    let (sub, task, _) = visible_submission(state, me, id).await?;
    let own = teams::of_user(&state.db.pool, sub.task_id, me.user_id).await?.is_some_and(|t| t.team_id == sub.team_id);
    if !own {
        return Err(AppError::Forbidden(msg!("members_select")));
    }
    let now = db::now_ms();
    if now >= task.closes_at {
        return Err(AppError::Conflict(msg!("selections_fixed")));
    }
    if select && sub.selected_at.is_none() {
        if sub.status != SubmissionStatus::Scored || sub.hidden_at.is_some() {
            return Err(AppError::Conflict(msg!("select_scored_only")));
        }
        let cap = spec_of(&task)?.submissions.final_selections;
        let mut tx = state.db.pool.begin().await?;
        teams::lock(&mut *tx, sub.team_id, now).await?;
        if submissions::selected_count(&mut *tx, sub.team_id).await? >= i64::from(cap) {
            return Err(AppError::Conflict(msg!("selections_full", cap = cap)));
        }
        submissions::set_selected(&mut *tx, id, Some(now)).await?;
        tx.commit().await?;
    } else if !select {
        submissions::set_selected(&state.db.pool, id, None).await?;
    }
    let row = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    Ok(view(row, &task.slug, private_visible(&task, me, now)))
}

/// Selects a submission for the private board (before the close; at most
/// the task's `final_selections`).
pub async fn select_submission(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<SubmissionView> {
    set_selection(state, me, id, true).await
}

/// Unselects a submission.
pub async fn unselect_submission(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<SubmissionView> {
    set_selection(state, me, id, false).await
}

/// Hides a submission from the boards, with a reason shown to its team.
/// The task's organizer or an admin.
pub async fn hide_submission(state: &Platform, me: &CurrentUser, id: i64, body: Reason) -> AppResult<SubmissionView> {
    let (_, task, organizer) = visible_submission(state, me, id).await?;
    if !organizer {
        return Err(AppError::Forbidden(msg!("organizer_only_hide")));
    }
    let reason = valid_reason(&body)?;
    let mut tx = state.db.pool.begin().await?;
    submissions::set_hidden(&mut *tx, id, Some(db::now_ms()), Some(reason)).await?;
    let detail = serde_json::json!({ "submission": id, "reason": reason });
    crate::audit::record(&mut tx, me, crate::audit::Action::SubmissionHide, Some(task.task_id), &[], detail).await?;
    tx.commit().await?;
    tracing::info!(submission = id, by = %me.username, "submission hidden");
    let row = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    Ok(view(row, &task.slug, true))
}

/// Shows a hidden submission again.
pub async fn unhide_submission(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<SubmissionView> {
    let (_, task, organizer) = visible_submission(state, me, id).await?;
    if !organizer {
        return Err(AppError::Forbidden(msg!("organizer_only_unhide")));
    }
    let mut tx = state.db.pool.begin().await?;
    submissions::set_hidden(&mut *tx, id, None, None).await?;
    let detail = serde_json::json!({ "submission": id });
    crate::audit::record(&mut tx, me, crate::audit::Action::SubmissionUnhide, Some(task.task_id), &[], detail).await?;
    tx.commit().await?;
    let row = submissions::by_id(&state.db.pool, id).await?.ok_or(AppError::NotFound("submission"))?;
    Ok(view(row, &task.slug, true))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_run_under_a_millisecond_is_not_shown_as_taking_none() {
        assert_eq!(super::wall_time(0), "< 1 ms");
        assert_eq!(super::wall_time(1), "1 ms");
        assert_eq!(super::wall_time(1600), "1600 ms");
    }
}
