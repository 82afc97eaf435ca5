//! People: public profile pages with a person's results across tasks.
//!
//! A profile shows only what the leaderboards already show (username,
//! display name, teams, ranks and scores); personal details such as the
//! country stay private until the person consents to more.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use minijinja::{Value, context};

use super::{PageCtx, tasks::score, when};
use crate::auth::MaybeUser;
use crate::db::{self, tasks, teams, users};
use crate::error::{AppError, AppPath};
use crate::state::AppState;
use crate::tasks::{spec_of, visible_to};

/// One result line of a profile.
pub(super) struct ResultLine {
    pub slug: String,
    pub title: String,
    pub team: String,
    pub board: &'static str,
    pub rank: Option<u32>,
    pub of: usize,
    pub score: Option<f64>,
}

/// A person's standing in every task the viewer may see, newest first.
pub(super) async fn results_of(
    state: &AppState,
    user_id: i64,
    viewer: Option<&crate::auth::CurrentUser>,
) -> Result<Vec<ResultLine>, AppError> {
    let mut out = Vec::new();
    let now = db::now_ms();
    for (task_id, team_id) in teams::memberships(&state.db.pool, user_id).await? {
        let Some(task) = tasks::by_id(&state.db.pool, task_id).await? else { continue };
        if !visible_to(&task, viewer) {
            continue;
        }
        let spec = spec_of(&task)?;
        let closed = now >= task.closes_at;
        let rows = crate::api::leaderboard::board_rows(state, &task, &spec, closed, closed).await?;
        let ranked = rows.iter().filter(|e| e.rank.is_some()).count();
        let mine = rows.iter().find(|e| e.team_id == Some(team_id));
        let team = teams::by_id(&state.db.pool, team_id).await?.map(|t| t.name).unwrap_or_default();
        out.push(ResultLine {
            slug: task.slug,
            title: task.title,
            team,
            board: if closed { "private_board" } else { "public_board" },
            rank: mine.and_then(|e| e.rank),
            of: ranked,
            score: mine.map(|e| e.score),
        });
    }
    Ok(out)
}

pub(super) async fn profile_page(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    AppPath(username): AppPath<String>,
) -> Result<Response, AppError> {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    let Some(user) = users::by_username(&state.db.pool, &username.to_ascii_lowercase()).await? else {
        return Ok(page.render(
            StatusCode::NOT_FOUND,
            "message.html",
            context! { heading => page.t("not_found"), message => username },
        ));
    };
    let results: Vec<Value> = results_of(&state, user.user_id, viewer.0.as_ref())
        .await?
        .into_iter()
        .map(|r| {
            context! {
                slug => r.slug, title => r.title, team => r.team, board => page.t(r.board), rank => r.rank, of => r.of,
                score => r.score.map(score),
            }
        })
        .collect();
    let person = context! {
        username => user.username, display_name => user.display_name, since => when(user.created_at),
    };
    Ok(page.render(StatusCode::OK, "profile.html", context! { person => person, results => results }))
}
