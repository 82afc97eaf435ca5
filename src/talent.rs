//! The talent pool: who a recruiter may find, and their final results.
//!
//! Only people with the `recruiters` consent in force are found, only by
//! recruiters in their own country unless they also gave `abroad`, and never
//! anyone under the age limit. Consents are read on every search, so a
//! withdrawal takes effect at once. Results come from the private boards of
//! closed tasks (final standings); the percentile is the share of ranked
//! teams a person's team placed at or above (100 = first).

use std::collections::{HashMap, HashSet};

use crate::api::profile::TalentQuery;
use crate::auth::CurrentUser;
use crate::consent;
use crate::db::{self, profiles, tasks, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tasks::spec_of;

/// What a search asks for.
#[derive(Debug, Default, Clone)]
pub struct TalentFilter {
    /// ISO country code (upper case).
    pub country: Option<String>,
    /// Entered this closed task.
    pub task: Option<String>,
    /// Best percentile at least this.
    pub min_percentile: Option<f64>,
    /// Open to opportunities only.
    pub open_only: bool,
}

impl From<&TalentQuery> for TalentFilter {
    fn from(q: &TalentQuery) -> Self {
        Self {
            country: q.country.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_ascii_uppercase),
            task: q.task.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
            min_percentile: q.min_percentile,
            open_only: q.open.unwrap_or(false),
        }
    }
}

/// A final result.
#[derive(Debug, Clone)]
pub struct FinalResult {
    /// Task slug.
    pub slug: String,
    /// Task title.
    pub title: String,
    /// Private-board rank.
    pub rank: u32,
    /// Ranked teams.
    pub of: usize,
    /// Private score.
    pub score: f64,
    /// 100 × (of − rank + 1) / of.
    pub percentile: f64,
}

/// A person found.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Account id.
    pub user_id: i64,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Country.
    pub country: String,
    /// Their profile.
    pub profile: profiles::ProfileRow,
    /// Final results, best first.
    pub results: Vec<FinalResult>,
    /// The best percentile, if any result.
    pub best_percentile: Option<f64>,
}

/// Final results of everyone in closed, published tasks, by username.
pub async fn final_results(state: &AppState) -> AppResult<HashMap<String, Vec<FinalResult>>> {
    let now = db::now_ms();
    let filter = tasks::TaskFilter { state: "closed", viewer_id: 0, viewer_is_admin: false, now };
    let mut out: HashMap<String, Vec<FinalResult>> = HashMap::new();
    for task in tasks::list(&state.db.pool, filter, "t.closes_at DESC, t.slug ASC", 10_000, 0).await? {
        let spec = spec_of(&task)?;
        let rows = crate::api::leaderboard::board_rows(state, &task, &spec, true, true).await?;
        let of = rows.iter().filter(|e| e.rank.is_some()).count();
        for e in rows {
            let Some(rank) = e.rank else { continue };
            for member in e.members {
                out.entry(member).or_default().push(FinalResult {
                    slug: task.slug.clone(),
                    title: task.title.clone(),
                    rank,
                    of,
                    score: e.score,
                    percentile: 100.0 * (of as f64 - f64::from(rank) + 1.0) / of as f64,
                });
            }
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| b.percentile.total_cmp(&a.percentile));
    }
    Ok(out)
}

/// Whether `viewer` may see the profile details of `user_id` (country,
/// city, affiliation, skills, links, bio): the person themself, an admin,
/// anyone under the public-profile consent, and recruiters the person may
/// be found by.
pub async fn details_visible(state: &AppState, viewer: Option<&CurrentUser>, user: &users::UserRow) -> AppResult<bool> {
    if viewer.is_some_and(|v| v.user_id == user.user_id || v.is_admin()) {
        return Ok(true);
    }
    let given: HashSet<String> =
        profiles::consents(&state.db.pool, user.user_id).await?.into_iter().map(|c| c.kind).collect();
    if given.contains("public_profile") {
        return Ok(true);
    }
    match viewer {
        Some(v) if v.has_role("recruiter") => discoverable_by(state, v, user, &given).await,
        _ => Ok(false),
    }
}

async fn discoverable_by(
    state: &AppState,
    recruiter: &CurrentUser,
    user: &users::UserRow,
    given: &HashSet<String>,
) -> AppResult<bool> {
    if !given.contains("recruiters") {
        return Ok(false);
    }
    let p = profiles::get(&state.db.pool, user.user_id).await?;
    if consent::too_young(p.birth_year, db::now_ms()) {
        return Ok(false);
    }
    let home = users::by_id(&state.db.pool, recruiter.user_id).await?.map(|u| u.country).unwrap_or_default();
    Ok(home == user.country || given.contains("abroad"))
}

/// Everyone `recruiter` may find that matches `filter`, best percentile
/// first (people without final results last), then by username.
pub async fn search(state: &AppState, recruiter: &CurrentUser, filter: &TalentFilter) -> AppResult<Vec<Candidate>> {
    if !(recruiter.has_role("recruiter") || recruiter.is_admin()) {
        return Err(AppError::Forbidden("searching people needs the recruiter role; an admin can grant it".into()));
    }
    let pool = &state.db.pool;
    let home = users::by_id(pool, recruiter.user_id).await?.map(|u| u.country).unwrap_or_default();
    let abroad: HashSet<i64> = profiles::consenting(pool, "abroad").await?.into_iter().collect();
    let results = final_results(state).await?;
    let now = db::now_ms();
    let mut out = Vec::new();
    for id in profiles::consenting(pool, "recruiters").await? {
        let Some(user) = users::by_id(pool, id).await? else { continue };
        if user.country != home && !abroad.contains(&id) {
            continue;
        }
        if filter.country.as_ref().is_some_and(|c| *c != user.country) {
            continue;
        }
        let profile = profiles::get(pool, id).await?;
        if consent::too_young(profile.birth_year, now) || (filter.open_only && profile.open_to_work != 1) {
            continue;
        }
        let mine = results.get(&user.username).cloned().unwrap_or_default();
        if filter.task.as_ref().is_some_and(|t| !mine.iter().any(|r| &r.slug == t)) {
            continue;
        }
        let best = mine.first().map(|r| r.percentile);
        if filter.min_percentile.is_some_and(|m| best.is_none_or(|b| b < m)) {
            continue;
        }
        out.push(Candidate {
            user_id: id,
            username: user.username,
            display_name: user.display_name,
            country: user.country,
            profile,
            results: mine,
            best_percentile: best,
        });
    }
    out.sort_by(|a, b| {
        b.best_percentile
            .unwrap_or(-1.0)
            .total_cmp(&a.best_percentile.unwrap_or(-1.0))
            .then(a.username.cmp(&b.username))
    });
    Ok(out)
}
