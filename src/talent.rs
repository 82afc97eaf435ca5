//! The talent pool: who a recruiter may find, and their final results.
//!
//! Only people with the `recruiters` consent in force are found, only by
//! recruiters in their own country unless they also gave `abroad`, and never
//! anyone under the age limit. Every search reads the people version,
//! which triggers bump in the same transaction as a consent, profile or name
//! change, so a withdrawal takes effect at once on every replica; the
//! findable people themselves are kept in memory under that version.
//! Results come from the private boards of closed tasks (final standings);
//! the percentile is the share of ranked teams a person's team placed at or
//! above (100 = first).

use std::collections::{HashMap, HashSet};

use std::sync::Arc;

use crate::auth::CurrentUser;
use crate::boards::Boards;
use crate::bundle::spec_of;
use crate::competition::DAY_MS;
use crate::consent;
use crate::db::{self, Db, profiles, tasks, users};
use crate::error::{AppError, AppResult};
use crate::msg;
use crate::rating::{Medal, Rating, Tier};

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
    /// At least this tier.
    pub min_tier: Option<Tier>,
    /// Entered a closed task of this domain (tabular, vision, nlp, …).
    pub domain: Option<String>,
    /// At least one medal of this kind or better.
    pub medal: Option<Medal>,
    /// A final result within this many months.
    pub active_months: Option<u32>,
    /// A displayed rating at least this.
    pub min_rating: Option<f64>,
    /// A displayed rating at most this.
    pub max_rating: Option<f64>,
    /// The order.
    pub sort: SortBy,
}

impl TalentFilter {
    /// The filters that are set, as the audit log records them.
    pub fn describe(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: serde_json::Value| {
            if !v.is_null() {
                m.insert(k.to_owned(), v);
            }
        };
        put("country", self.country.clone().into());
        put("task", self.task.clone().into());
        put("min_percentile", self.min_percentile.into());
        put("open_only", if self.open_only { true.into() } else { serde_json::Value::Null });
        put("min_tier", self.min_tier.map(|t| t.name()).into());
        put("domain", self.domain.clone().into());
        put("medal", self.medal.map(|x| x.name()).into());
        put("active_months", self.active_months.into());
        put("min_rating", self.min_rating.into());
        put("max_rating", self.max_rating.into());
        let sort = match self.sort {
            SortBy::Percentile => "percentile",
            SortBy::Rating => "rating",
            SortBy::Points => "points",
        };
        put("sort", sort.into());
        serde_json::Value::Object(m)
    }
}

/// How search results are ordered (best first).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Best final percentile.
    #[default]
    Percentile,
    /// Displayed rating.
    Rating,
    /// Points of the last 365 days (recent form).
    Points,
}

/// A medal by name.
pub fn medal_named(name: &str) -> Option<Medal> {
    [Medal::Gold, Medal::Silver, Medal::Bronze].into_iter().find(|m| m.name() == name)
}

/// A tier by name.
pub fn tier_named(name: &str) -> Option<Tier> {
    Tier::ALL.into_iter().find(|t| t.name() == name)
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
    /// The medal, in rated tasks.
    pub medal: Option<Medal>,
    /// Ranking points, in rated tasks (decaying with time).
    pub points: f64,
    /// The displayed rating (μ − 2σ) after this task, in rated tasks.
    pub rating_after: Option<f64>,
    /// When the task closed (ms).
    pub closed_at: i64,
    /// The task's domain (tabular, vision, nlp, …).
    pub domain: String,
}

/// One person's standing in the pool.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// Final results, best percentile first.
    pub results: Vec<FinalResult>,
    /// The Elo-MMR state, once rated.
    pub rating: Option<Rating>,
    /// Medals with whether the team was solo.
    pub medals: Vec<(Medal, bool)>,
    /// Points summed over results.
    pub points: f64,
    /// Points from tasks closed in the last 365 days (recent form).
    pub recent_points: f64,
}

impl Standing {
    /// The displayed rating.
    pub fn display(&self) -> Option<f64> {
        self.rating.as_ref().map(Rating::display)
    }

    /// The tier, given whether the profile is complete.
    pub fn tier(&self, profile_complete: bool) -> Tier {
        crate::rating::tier(&self.medals, profile_complete, !self.results.is_empty())
    }

    /// (gold, silver, bronze) counts.
    pub fn medal_counts(&self) -> (usize, usize, usize) {
        let n = |m| self.medals.iter().filter(|x| x.0 == m).count();
        (n(Medal::Gold), n(Medal::Silver), n(Medal::Bronze))
    }
}

/// Everyone's final results, ratings, medals and points, by username,
/// computed from scratch from the private boards of closed tasks (rated
/// tasks only count toward ratings, medals and points).
#[derive(Debug, Default)]
pub struct Pool {
    /// By username.
    pub people: HashMap<String, Standing>,
}

/// The talent pool over the database and the boards, with the pool last
/// computed and the fingerprint of what it was computed from.
#[derive(Debug)]
pub struct Talent {
    db: Db,
    boards: Arc<Boards>,
    cache: std::sync::Mutex<Option<(String, Arc<Pool>)>>,
    /// Who recruiters of each home country can find, with the people
    /// version it was read at.
    findable: std::sync::Mutex<HashMap<String, Findable>>,
}

/// The people findable from one country, as read at one people version.
type Findable = (i64, Arc<Vec<profiles::DiscoverableRow>>);

impl Talent {
    /// A pool over `db` and `boards`, nothing computed yet.
    pub fn new(db: Db, boards: Arc<Boards>) -> Self {
        Self { db, boards, cache: Default::default(), findable: Default::default() }
    }

    /// Everyone a recruiter in `home` may find, with their profiles: from
    /// memory while the people version (bumped by triggers on consents,
    /// profiles and users) stands, on every replica.
    pub async fn findable(&self, home: &str) -> AppResult<Arc<Vec<profiles::DiscoverableRow>>> {
        let version = profiles::people_version(&self.db.pool).await?;
        let cached = self.findable.lock().unwrap_or_else(|e| e.into_inner()).get(home).cloned();
        if let Some((_, rows)) = cached.filter(|(v, _)| *v == version) {
            return Ok(rows);
        }
        let (recruiters, abroad) = (consent::current_version("recruiters"), consent::current_version("abroad"));
        let rows = Arc::new(profiles::discoverable(&self.db.pool, home, recruiters, abroad).await?);
        self.findable.lock().unwrap_or_else(|e| e.into_inner()).insert(home.to_owned(), (version, rows.clone()));
        Ok(rows)
    }

    /// Forgets the computed pool (a person left: their results must go now).
    pub fn forget(&self) {
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// What the pool was computed from: changes whenever a task closes, a
    /// closed task's scores change (rescoring), or a submission or team is
    /// hidden, disqualified or reinstated.
    async fn fingerprint(&self, now: i64) -> AppResult<String> {
        let row: (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(MAX(s.scored_at), 0),
                CAST(COALESCE(SUM(CASE WHEN s.hidden_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT),
                COALESCE(MAX(t.closes_at), 0)
         FROM tasks t LEFT JOIN submissions s ON s.task_id = t.task_id
         WHERE t.published_at IS NOT NULL AND t.closes_at <= $1",
        )
        .bind(now)
        .fetch_one(&self.db.pool)
        .await?;
        let dq: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM teams k JOIN tasks t ON t.task_id = k.task_id
         WHERE k.disqualified_at IS NOT NULL AND t.closes_at <= $1",
        )
        .bind(now)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(format!("{row:?}/{dq}"))
    }

    /// The current pool (recomputed when the final results changed, and
    /// every day: points decay with time and the recent window moves).
    pub async fn pool(&self) -> AppResult<Arc<Pool>> {
        self.pool_at(db::now_ms()).await
    }

    /// The pool as of `now`: results of the tasks closed by then, points
    /// decayed to the start of `now`'s day (UTC), so every replica computes
    /// the same numbers all day.
    pub async fn pool_at(&self, now: i64) -> AppResult<Arc<Pool>> {
        let key = format!("{}/day {}", self.fingerprint(now).await?, now.div_euclid(DAY_MS));
        if let Some((k, p)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *k == key
        {
            return Ok(p.clone());
        }
        let pool = Arc::new(self.compute(now).await?);
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, pool.clone()));
        Ok(pool)
    }

    async fn compute(&self, now: i64) -> AppResult<Pool> {
        let filter = tasks::TaskFilter { state: "closed", viewer_id: 0, viewer_is_admin: false, now };
        let mut people: HashMap<String, Standing> = HashMap::new();
        for task in tasks::list(&self.db.pool, filter, "t.closes_at ASC, t.slug ASC", 100_000, 0).await? {
            let spec = spec_of(&task)?;
            let rows = self.boards.board_rows(&task, &spec, true, true).await?;
            let ranked: Vec<_> = rows.iter().filter(|e| e.rank.is_some()).collect();
            let of = ranked.len();
            let today = now - now.rem_euclid(DAY_MS);
            let days = (today - task.closes_at).max(0) as f64 / DAY_MS as f64;
            // Everyone in a team gets the team's rank.
            let mut names = Vec::new();
            let mut ranks = Vec::new();
            for e in &ranked {
                let rank = e.rank.unwrap_or_default();
                for m in &e.members {
                    names.push(m.clone());
                    ranks.push(rank);
                    // Medals need somebody to beat.
                    let medal = if spec.rated && of >= 2 { crate::rating::medal(rank, of) } else { None };
                    let points = if spec.rated { crate::rating::points(rank, of, e.members.len(), days) } else { 0.0 };
                    let st = people.entry(m.clone()).or_default();
                    if let Some(md) = medal {
                        st.medals.push((md, e.members.len() == 1));
                    }
                    st.points += points;
                    if days <= 365.0 {
                        st.recent_points += points;
                    }
                    st.results.push(FinalResult {
                        slug: task.slug.clone(),
                        title: task.title.clone(),
                        rank,
                        of,
                        score: e.score,
                        percentile: 100.0 * (of as f64 - f64::from(rank) + 1.0) / of as f64,
                        medal,
                        points,
                        rating_after: None,
                        closed_at: task.closes_at,
                        domain: spec.domain.clone(),
                    });
                }
            }
            let mut players: Vec<Rating> =
                names.iter().map(|n| people.get(n).and_then(|s| s.rating.clone()).unwrap_or_default()).collect();
            // A contest with one entrant, or where everyone ties, rates nobody.
            if spec.rated && crate::rating::rate_contest(&mut players, &ranks, 1.0).is_some() {
                for (n, r) in names.iter().zip(players) {
                    let st = people.entry(n.clone()).or_default();
                    if let Some(last) = st.results.last_mut() {
                        last.rating_after = Some(r.display());
                    }
                    st.rating = Some(r);
                }
            }
        }
        for st in people.values_mut() {
            st.results.sort_by(|a, b| b.percentile.total_cmp(&a.percentile));
        }
        Ok(Pool { people })
    }
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
    /// The displayed rating (μ − 2σ), once rated.
    pub rating: Option<f64>,
    /// The tier.
    pub tier: Tier,
    /// Medals, points and the rating state.
    pub standing: Standing,
}

/// Whether a profile counts as complete (for the Contributor tier).
pub fn profile_complete(p: &profiles::ProfileRow) -> bool {
    !p.affiliation.is_empty() && !p.skills.is_empty() && !p.bio.is_empty()
}

/// Whether `viewer` may see the profile details of `user_id` (country,
/// city, affiliation, skills, links, bio): the person themself, an admin,
/// anyone under the public-profile consent, and recruiters the person may
/// be found by.
pub async fn details_visible(db: &Db, viewer: Option<&CurrentUser>, user: &users::UserRow) -> AppResult<bool> {
    if viewer.is_some_and(|v| v.user_id == user.user_id || v.is_admin()) {
        return Ok(true);
    }
    let given = in_force(db, user.user_id).await?;
    if given.contains("public_profile") {
        return Ok(true);
    }
    match viewer {
        Some(v) if v.has_role("recruiter") => discoverable_by(db, v, user, &given).await,
        _ => Ok(false),
    }
}

/// Whether `recruiter` may find `user` now (their consents, age and
/// country, read at this moment).
pub async fn discoverable(db: &Db, recruiter: &CurrentUser, user: &users::UserRow) -> AppResult<bool> {
    let given = in_force(db, user.user_id).await?;
    discoverable_by(db, recruiter, user, &given).await
}

/// The consents `user_id` has in force (given to the current texts).
async fn in_force(db: &Db, user_id: i64) -> AppResult<HashSet<String>> {
    let given = profiles::consents(&db.pool, user_id).await?;
    Ok(given.into_iter().filter(|c| consent::in_force(&c.kind, &c.text_version)).map(|c| c.kind).collect())
}

async fn discoverable_by(
    db: &Db,
    recruiter: &CurrentUser,
    user: &users::UserRow,
    given: &HashSet<String>,
) -> AppResult<bool> {
    if !given.contains("recruiters") {
        return Ok(false);
    }
    let p = profiles::get(&db.pool, user.user_id).await?;
    let age_known = p.birth_year.is_some() || users::age_confirmed(&db.pool, user.user_id).await?;
    if !age_known || consent::too_young(p.birth_year, db::now_ms()) {
        return Ok(false);
    }
    let home = users::by_id(&db.pool, recruiter.user_id).await?.map(|u| u.country).unwrap_or_default();
    Ok(home == user.country || given.contains("abroad"))
}

/// Everyone `recruiter` may find that matches `filter`, best percentile
/// first (people without final results last), then by username.
pub async fn search(talent: &Talent, recruiter: &CurrentUser, filter: &TalentFilter) -> AppResult<Vec<Candidate>> {
    if !(recruiter.has_role("recruiter") || recruiter.is_admin()) {
        return Err(AppError::Forbidden(msg!("recruiter_role_needed")));
    }
    let pool = &talent.db.pool;
    let home = users::by_id(pool, recruiter.user_id).await?.map(|u| u.country).unwrap_or_default();
    let everyone = talent.pool().await?;
    let now = db::now_ms();
    let mut out = Vec::new();
    for person in talent.findable(&home).await?.iter() {
        let (user, profile) = (&person.person, &person.profile);
        let id = profile.user_id;
        if filter.country.as_ref().is_some_and(|c| *c != user.country) {
            continue;
        }
        if consent::too_young(profile.birth_year, now) || (filter.open_only && profile.open_to_work != 1) {
            continue;
        }
        let standing = everyone.people.get(&user.username).cloned().unwrap_or_default();
        if filter.task.as_ref().is_some_and(|t| !standing.results.iter().any(|r| &r.slug == t)) {
            continue;
        }
        let best = standing.results.first().map(|r| r.percentile);
        if filter.min_percentile.is_some_and(|m| best.is_none_or(|b| b < m)) {
            continue;
        }
        if filter.domain.as_ref().is_some_and(|d| !standing.results.iter().any(|r| r.domain.eq_ignore_ascii_case(d))) {
            continue;
        }
        if filter.medal.is_some_and(|m| !standing.medals.iter().any(|x| x.0 <= m)) {
            continue;
        }
        let since = now - i64::from(filter.active_months.unwrap_or(0)) * 30 * DAY_MS;
        if filter.active_months.is_some() && !standing.results.iter().any(|r| r.closed_at >= since) {
            continue;
        }
        let tier = standing.tier(profile_complete(profile));
        if filter.min_tier.is_some_and(|t| tier < t) {
            continue;
        }
        let rating = standing.display();
        if filter.min_rating.is_some_and(|m| rating.is_none_or(|r| r < m))
            || filter.max_rating.is_some_and(|m| rating.is_none_or(|r| r > m))
        {
            continue;
        }
        out.push(Candidate {
            user_id: id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            country: user.country.clone(),
            profile: profile.clone(),
            results: standing.results.clone(),
            best_percentile: best,
            rating,
            tier,
            standing,
        });
    }
    let key = |c: &Candidate| match filter.sort {
        SortBy::Rating => c.rating.unwrap_or(f64::NEG_INFINITY),
        SortBy::Points => c.standing.recent_points,
        SortBy::Percentile => c.best_percentile.unwrap_or(-1.0),
    };
    out.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.username.cmp(&b.username)));
    Ok(out)
}
