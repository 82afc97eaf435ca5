//! Leaderboards (public, and private after the close, with shake-up and CSV
//! export) and the organizer's board controls: closing a task, baselines, and
//! rescoring after a label fix with a preview of every rank change.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::boards::BoardEntry;
use crate::error::{AppError, AppResult};
use crate::http::{AppJson, AppMultipart, AppPath, AppQuery, ErrorBody, MaybeUser};
use crate::leaderboard::{BaselineView, RescoreReport, baseline_from, organizer_task, rescore};
use crate::scoring::MetricKind;
use crate::state::AppState;

/// Routes of this module; `upload_limit` bounds label and baseline files.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/tasks/{slug}/leaderboard", get(get_leaderboard))
        .route("/tasks/{slug}/close", post(close_task))
        .route("/tasks/{slug}/reopen", post(reopen_task))
        .route("/tasks/{slug}/integrity", get(integrity_review))
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
    /// `true`: statistical ties on the public board too (the private board
    /// always has them): each score's 95 % bootstrap `interval` and
    /// `tied_with`, for metrics that are a mean over rows.
    pub ties: Option<bool>,
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
    let board = q.board.as_deref().unwrap_or("public");
    let (per_page, page) = (q.per_page.unwrap_or(50), q.page.unwrap_or(1));
    if !(1..=500).contains(&per_page) || page == 0 {
        return Err(AppError::BadRequest("page starts at 1 and per_page is 1-500".into()));
    }
    let rows = crate::leaderboard::board(&state, viewer.0.as_ref(), &slug, board, q.ties == Some(true)).await?;
    if q.format.as_deref() == Some("csv") {
        return Ok(csv_response(&slug, board, &rows.entries, rows.closed));
    }
    if let Some(f) = q.format.as_deref().filter(|f| *f != "json") {
        return Err(AppError::BadRequest(format!("format must be json or csv, got {f:?}").into()));
    }
    let total = rows.entries.len();
    let start = ((page - 1) as usize * per_page as usize).min(total);
    let page_rows = &rows.entries[start..(start + per_page as usize).min(total)];
    let entries = match &rows.ties {
        Some(ties) => crate::leaderboard::with_ties(page_rows, ties),
        None => page_rows.to_vec(),
    };
    let lb = Leaderboard {
        task: slug,
        board: board.to_owned(),
        metric: rows.metric,
        higher_is_better: rows.higher_is_better,
        closed: rows.closed,
        total,
        page,
        per_page,
        entries,
    };
    Ok(AppJson(lb).into_response())
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
    crate::leaderboard::close_task(&state, &me, slug).await.map(AppJson)
}

/// Re-opens a closed task (admins only): a new close in the future, every
/// final selection voided, the private board hidden again; logged with the
/// reason. A schedule edit cannot re-open a closed task.
#[utoipa::path(post, path = "/api/v1/tasks/{slug}/reopen", tag = "leaderboards", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = crate::leaderboard::Reopen,
    responses((status = 200, description = "re-opened"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn reopen_task(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    AppJson(body): AppJson<crate::leaderboard::Reopen>,
) -> AppResult<AppJson<serde_json::Value>> {
    crate::leaderboard::reopen_task(&state, &me, slug, body).await.map(AppJson)
}

/// The review query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrityQuery {
    /// The excess agreement at or above which a pair is listed, in (0, 1]
    /// (default 0.8).
    pub threshold: Option<f64>,
}

/// Near-duplicate predictions for review (organizer or admin): pairs of
/// teams whose best submissions agree on far more rows than their scores
/// explain, with both teams' members, and model files shared across teams.
/// Nothing is done automatically.
#[utoipa::path(get, path = "/api/v1/tasks/{slug}/integrity", tag = "leaderboards", security(("bearer" = [])),
    params(("slug" = String, Path), IntegrityQuery),
    responses((status = 200, body = crate::integrity::Review), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn integrity_review(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<IntegrityQuery>,
) -> AppResult<AppJson<crate::integrity::Review>> {
    crate::integrity::review(&state, &me, &slug, q.threshold).await.map(AppJson)
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
    AppMultipart(form): AppMultipart,
) -> AppResult<(StatusCode, AppJson<BaselineView>)> {
    organizer_task(&state, &me, &slug).await?;
    let fields = form_fields(form, &["name", "file"]).await?;
    let name = fields.get("name").map(|b| String::from_utf8_lossy(b).trim().to_owned()).unwrap_or_default();
    let file =
        fields.get("file").cloned().ok_or_else(|| AppError::BadRequest("the form has no `file` field".into()))?;
    Ok((StatusCode::CREATED, AppJson(baseline_from(&state, &me, &slug, name, file).await?)))
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
    crate::leaderboard::delete_baseline(&state, &me, (slug, id)).await.map(|()| StatusCode::NO_CONTENT)
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
            crate::http::csv_text(&e.team),
            crate::http::csv_text(&e.members.join(" ")),
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
