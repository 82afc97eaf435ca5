//! Privacy and consent: a person's own profile and consents, who may see
//! it, what they have been seen by, their data export and deletion, their
//! signed result credentials, the public rankings, and the recruiters'
//! people search over the talent pool.
//!
//! Invariants: a consent is given or withdrawn only by the person, each
//! change recorded with the text version they saw; someone under 14 can
//! give none; a withdrawn consent takes effect on the next read (nothing is
//! cached past it); deleting an account needs the password and drops the
//! person from the talent pool at once.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::consent::{self, CONSENTS};
use crate::db::{self, profiles};
use crate::error::{AppError, AppResult, Problem};
use crate::limits::Client;
use crate::msg;
use crate::platform::Platform;
use crate::talent::{self, TalentFilter};

/// One consent and whether it is given.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentState {
    /// `public_profile`, `recruiters` or `abroad`.
    pub kind: String,
    /// The text agreed to (in English; the pages show Korean too).
    pub text: String,
    /// The current version of the text.
    pub version: String,
    /// When it was given (RFC 3339), if it was.
    pub granted_at: Option<String>,
    /// The version given, if it was.
    pub granted_version: Option<String>,
    /// Given to the current text: it counts.
    pub in_force: bool,
    /// Given to an older text: it no longer counts until given again.
    pub needs_renewal: bool,
}

/// A logged change of consent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentChange {
    /// Which consent.
    pub kind: String,
    /// `granted` or `withdrawn`.
    pub action: String,
    /// The text version.
    pub text_version: String,
    /// RFC 3339.
    pub at: String,
}

/// Your profile, consents and their history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// City (optional).
    pub city: String,
    /// School, company or lab.
    pub affiliation: String,
    /// Skills and domain tags.
    pub skills: Vec<String>,
    /// Links (http or https).
    pub links: Vec<String>,
    /// Free text.
    pub bio: String,
    /// Open to opportunities.
    pub open_to_work: bool,
    /// Year of birth, if given.
    pub birth_year: Option<i64>,
    /// Whether the person confirmed being 14 or older (with no birth year
    /// and no confirmation, nobody can find them).
    pub age_confirmed: bool,
    /// Every consent, given or not.
    pub consents: Vec<ConsentState>,
    /// Every grant and withdrawal, newest first.
    pub history: Vec<ConsentChange>,
}

/// A profile as sent (every field; absent ones become empty).
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileUpdate {
    /// At most 100 characters.
    pub city: String,
    /// At most 200 characters.
    pub affiliation: String,
    /// At most 20 tags of at most 40 characters.
    pub skills: Vec<String>,
    /// At most 5 http(s) URLs.
    pub links: Vec<String>,
    /// At most 2,000 characters.
    pub bio: String,
    /// Open to opportunities.
    pub open_to_work: bool,
    /// 1900 to this year.
    pub birth_year: Option<i64>,
    /// "I am 14 or older" (kept once given).
    pub age_14_or_older: bool,
}

/// The stored profile and consents of `user_id`.
pub async fn profile_view(state: &Platform, user_id: i64) -> AppResult<ProfileView> {
    let p = profiles::get(&state.db.pool, user_id).await?;
    let given = profiles::consents(&state.db.pool, user_id).await?;
    let consents = CONSENTS
        .iter()
        .map(|c| {
            let g = given.iter().find(|g| g.kind == c.kind);
            ConsentState {
                kind: c.kind.into(),
                text: c.en.into(),
                version: c.version.into(),
                granted_at: g.map(|g| db::ms_to_rfc3339(g.granted_at)),
                granted_version: g.map(|g| g.text_version.clone()),
                in_force: g.is_some_and(|g| consent::in_force(&g.kind, &g.text_version)),
                needs_renewal: g.is_some_and(|g| !consent::in_force(&g.kind, &g.text_version)),
            }
        })
        .collect();
    let history = profiles::consent_log(&state.db.pool, user_id)
        .await?
        .into_iter()
        .map(|e| ConsentChange {
            kind: e.kind,
            action: e.action,
            text_version: e.text_version,
            at: db::ms_to_rfc3339(e.at),
        })
        .collect();
    Ok(ProfileView {
        city: p.city,
        affiliation: p.affiliation,
        skills: split_list(&p.skills, ','),
        links: split_list(&p.links, '\n'),
        bio: p.bio,
        open_to_work: p.open_to_work == 1,
        birth_year: p.birth_year,
        age_confirmed: crate::db::users::age_confirmed(&state.db.pool, user_id).await?,
        consents,
        history,
    })
}

/// The non-empty, trimmed items of a stored list.
pub fn split_list(s: &str, sep: char) -> Vec<String> {
    s.split(sep).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

/// Every problem with a profile, by field.
pub fn validate(p: &ProfileUpdate, now_ms: i64) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut limit = |field: &str, value: &str, max: usize| {
        if value.chars().count() > max {
            out.push(Problem::new("", field, msg!("at_most_chars", max = max)));
        }
    };
    limit("city", &p.city, 100);
    limit("affiliation", &p.affiliation, 200);
    limit("bio", &p.bio, 2000);
    if p.skills.len() > 20 || p.skills.iter().any(|s| s.chars().count() > 40 || s.contains(',')) {
        out.push(Problem::new("", "skills", msg!("skills_invalid")));
    }
    if p.links.len() > 5 {
        out.push(Problem::new("", "links", msg!("links_too_many")));
    }
    for l in &p.links {
        let ok = url::Url::parse(l.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) && l.len() <= 300;
        if !ok {
            out.push(Problem::new("", "links", msg!("link_invalid", link = format!("{l:?}"))));
        }
    }
    out.extend(consent::birth_year_problem(p.birth_year, now_ms));
    out
}

/// Saves a profile; a person who becomes too young for discoverability by
/// the birth year given loses the recruiter consents at once.
pub async fn save_profile(state: &Platform, me: &CurrentUser, p: ProfileUpdate) -> AppResult<ProfileView> {
    let now = db::now_ms();
    let problems = validate(&p, now);
    if !problems.is_empty() {
        return Err(AppError::Invalid {
            code: "invalid_profile",
            message: msg!("profile_problems", count = problems.len()),
            details: problems,
        });
    }
    let row = profiles::ProfileRow {
        user_id: me.user_id,
        city: p.city.trim().to_owned(),
        affiliation: p.affiliation.trim().to_owned(),
        skills: p.skills.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(","),
        links: p.links.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n"),
        bio: p.bio.trim().to_owned(),
        open_to_work: i64::from(p.open_to_work),
        birth_year: p.birth_year,
        updated_at: now,
    };
    let mut tx = state.db.pool.begin().await?;
    profiles::put(&mut *tx, &row, now).await?;
    if p.age_14_or_older {
        crate::db::users::confirm_age(&mut *tx, me.user_id, now).await?;
    }
    if consent::too_young(p.birth_year, now) {
        for kind in ["recruiters", "abroad"] {
            profiles::set_consent(&mut tx, me.user_id, kind, None, now).await?;
        }
    }
    tx.commit().await?;
    profile_view(state, me.user_id).await
}

/// Gives (`grant`) or withdraws one consent; logged either way.
pub async fn set_consent(state: &Platform, me: &CurrentUser, kind: &str, grant: bool) -> AppResult<()> {
    let c = consent::by_kind(kind).ok_or(AppError::NotFound("consent"))?;
    let now = db::now_ms();
    if grant && kind != "public_profile" {
        let p = profiles::get(&state.db.pool, me.user_id).await?;
        if consent::too_young(p.birth_year, now) {
            return Err(AppError::invalid("too_young", msg!("too_young", age = consent::MIN_DISCOVERABLE_AGE)));
        }
        if p.birth_year.is_none() && !crate::db::users::age_confirmed(&state.db.pool, me.user_id).await? {
            return Err(AppError::invalid("age_unknown", msg!("age_unknown", age = consent::MIN_DISCOVERABLE_AGE)));
        }
    }
    let mut conn = state.db.pool.acquire().await?;
    let changed = profiles::set_consent(&mut conn, me.user_id, kind, grant.then_some(c.version), now).await?;
    if changed {
        tracing::info!(user = %me.username, consent = kind, granted = grant, "consent changed");
    }
    Ok(())
}

/// Your profile, consents and consent history.
pub async fn get_profile(state: &Platform, me: &CurrentUser) -> AppResult<ProfileView> {
    profile_view(state, me.user_id).await
}

/// Replaces your profile (every field; every problem is listed).
pub async fn put_profile(state: &Platform, me: &CurrentUser, body: ProfileUpdate) -> AppResult<ProfileView> {
    save_profile(state, me, body).await
}

/// Gives a consent (the current version of its text).
pub async fn grant_consent(state: &Platform, me: &CurrentUser, kind: String) -> AppResult<ProfileView> {
    set_consent(state, me, &kind, true).await?;
    profile_view(state, me.user_id).await
}

/// Withdraws a consent, effective at once.
pub async fn withdraw_consent(state: &Platform, me: &CurrentUser, kind: String) -> AppResult<ProfileView> {
    set_consent(state, me, &kind, false).await?;
    profile_view(state, me.user_id).await
}

/// People search filters.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[serde(default)]
pub struct TalentQuery {
    /// ISO country code.
    pub country: Option<String>,
    /// Entered this (closed) task.
    pub task: Option<String>,
    /// Best final percentile at least this (100 = first place).
    pub min_percentile: Option<f64>,
    /// Only people open to opportunities.
    pub open: Option<bool>,
    /// At least this tier: novice, contributor, expert, master, grandmaster.
    pub tier: Option<String>,
    /// Entered a closed task of this domain (tabular, vision, nlp, …).
    pub domain: Option<String>,
    /// At least one medal of this kind or better: gold, silver or bronze.
    pub medal: Option<String>,
    /// A final result within this many months.
    pub active_months: Option<u32>,
    /// A displayed rating (μ − 2σ) at least this.
    pub min_rating: Option<f64>,
    /// A displayed rating at most this.
    pub max_rating: Option<f64>,
    /// percentile (default), rating or points (recent form).
    pub sort: Option<String>,
    /// 1-based page.
    pub page: Option<u32>,
    /// Rows per page (1-200, default 50).
    pub per_page: Option<u32>,
}

/// The query string, read as the talent pool's filter.
impl From<&TalentQuery> for crate::talent::TalentFilter {
    fn from(q: &TalentQuery) -> Self {
        Self {
            country: q.country.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_ascii_uppercase),
            task: q.task.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
            min_percentile: q.min_percentile,
            open_only: q.open.unwrap_or(false),
            min_tier: q.tier.as_deref().and_then(crate::talent::tier_named),
            domain: q.domain.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_ascii_lowercase),
            medal: q.medal.as_deref().and_then(crate::talent::medal_named),
            active_months: q.active_months,
            min_rating: q.min_rating,
            max_rating: q.max_rating,
            sort: match q.sort.as_deref() {
                Some("rating") => crate::talent::SortBy::Rating,
                Some("points") => crate::talent::SortBy::Points,
                _ => crate::talent::SortBy::Percentile,
            },
        }
    }
}

/// One person found.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalentRow {
    /// Username (their profile is /users/{username}).
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Country.
    pub country: String,
    /// City.
    pub city: String,
    /// Affiliation.
    pub affiliation: String,
    /// Skills.
    pub skills: Vec<String>,
    /// Open to opportunities.
    pub open_to_work: bool,
    /// Best final percentile over closed tasks (100 = first).
    pub best_percentile: Option<f64>,
    /// Closed tasks entered, with rank of N.
    pub results: Vec<String>,
    /// Displayed rating μ − 2σ (Elo-MMR), once rated.
    pub rating: Option<f64>,
    /// novice, contributor, expert, master or grandmaster.
    pub tier: String,
    /// Gold, silver and bronze medals.
    pub medals: [usize; 3],
    /// Ranking points, all time.
    pub points: f64,
    /// Ranking points from the last 365 days.
    pub recent_points: f64,
}

impl TalentRow {
    fn of(c: talent::Candidate) -> Self {
        let (g, s, b) = c.standing.medal_counts();
        Self {
            username: c.username,
            display_name: c.display_name,
            country: c.country,
            city: c.profile.city,
            affiliation: c.profile.affiliation,
            skills: split_list(&c.profile.skills, ','),
            open_to_work: c.profile.open_to_work == 1,
            best_percentile: c.best_percentile,
            results: c.results.iter().map(|r| format!("{} {}/{}", r.slug, r.rank, r.of)).collect(),
            rating: c.rating.map(f64::round),
            tier: c.tier.name().into(),
            medals: [g, s, b],
            points: c.standing.points.round(),
            recent_points: c.standing.recent_points.round(),
        }
    }
}

/// A page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalentPage {
    /// Everyone matching.
    pub total: usize,
    /// This page.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// The people, best percentile first.
    pub people: Vec<TalentRow>,
}

/// Searches people who consented to be found by recruiters (and, across
/// borders, to be found from abroad). Recruiters and admins. Ratings inform;
/// people decide.
pub async fn search_talent(state: &Platform, me: &CurrentUser, q: TalentQuery) -> AppResult<TalentPage> {
    let (page, per_page) = (q.page.unwrap_or(1), q.per_page.unwrap_or(50));
    if page == 0 || !(1..=200).contains(&per_page) {
        return Err(AppError::BadRequest(msg!("bad_page_200")));
    }
    if let Some(t) = q.tier.as_deref().filter(|t| talent::tier_named(t).is_none()) {
        return Err(AppError::BadRequest(msg!("bad_tier", got = format!("{t:?}"))));
    }
    if let Some(m) = q.medal.as_deref().filter(|m| talent::medal_named(m).is_none()) {
        return Err(AppError::BadRequest(msg!("bad_medal", got = format!("{m:?}"))));
    }
    if let Some(s) = q.sort.as_deref().filter(|s| !matches!(*s, "percentile" | "rating" | "points")) {
        return Err(AppError::BadRequest(msg!("bad_talent_sort", got = format!("{s:?}"))));
    }
    let filter = TalentFilter::from(&q);
    let found = talent::search(&state.talent, me, &filter).await?;
    let total = found.len();
    let shown: Vec<talent::Candidate> =
        found.into_iter().skip((page as usize - 1) * per_page as usize).take(per_page as usize).collect();
    let ids: Vec<i64> = shown.iter().map(|c| c.user_id).collect();
    let detail = serde_json::json!({ "filters": filter.describe(), "page": page, "total": total, "via": "api" });
    crate::audit::log(state, me, crate::audit::Action::TalentSearch, None, &ids, detail).await?;
    Ok(TalentPage { total, page, per_page, people: shown.into_iter().map(TalentRow::of).collect() })
}

/// One person a recruiter may see: profile details and final results.
/// Recruiters and admins; people who have not agreed to be found are "not
/// found".
pub async fn show_talent(state: &Platform, me: &CurrentUser, username: String) -> AppResult<TalentRow> {
    if !(me.has_role("recruiter") || me.is_admin()) {
        return Err(AppError::Forbidden(msg!("recruiter_role_to_view")));
    }
    let hidden = AppError::NotFound("person_unfindable");
    let Some(user) = crate::db::users::by_username(&state.db.pool, &username.to_ascii_lowercase()).await? else {
        return Err(hidden);
    };
    if !talent::details_visible(&state.db, Some(me), &user).await? {
        return Err(hidden);
    }
    if me.user_id != user.user_id {
        let detail = serde_json::json!({ "via": "api" });
        crate::audit::log(state, me, crate::audit::Action::TalentView, None, &[user.user_id], detail).await?;
    }
    let standing = state.talent.pool().await?.people.get(&user.username).cloned().unwrap_or_default();
    let profile = profiles::get(&state.db.pool, user.user_id).await?;
    let tier = standing.tier(talent::profile_complete(&profile));
    Ok(TalentRow::of(talent::Candidate {
        user_id: user.user_id,
        username: user.username,
        display_name: user.display_name,
        country: user.country,
        profile,
        results: standing.results.clone(),
        best_percentile: standing.results.first().map(|r| r.percentile),
        rating: standing.display(),
        tier,
        standing,
    }))
}

/// Someone who saw your details.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewEntry {
    /// The recruiter's username.
    pub recruiter: String,
    /// Their display name.
    pub recruiter_name: String,
    /// Their organisation, as they give it.
    pub organisation: Option<String>,
    /// `profile` (seen), `export` (exported), `search` (found in a search)
    /// or `contact` (asked to contact).
    pub what: String,
    /// RFC 3339.
    pub at: String,
}

/// The recruiters who saw or exported your details, newest first (the last 500).
pub async fn my_views(state: &Platform, me: &CurrentUser) -> AppResult<Vec<ViewEntry>> {
    views(state, me.user_id).await
}

/// Who (which recruiters) viewed `user_id`'s profile, newest first.
pub async fn views(state: &Platform, user_id: i64) -> AppResult<Vec<ViewEntry>> {
    Ok(crate::db::privacy::views_of(&state.db.pool, user_id, 500)
        .await?
        .into_iter()
        .map(|v| ViewEntry {
            recruiter: if v.recruiter_deleted_at.is_some() { "deleted recruiter".into() } else { v.recruiter },
            recruiter_name: if v.recruiter_deleted_at.is_some() {
                "deleted recruiter".into()
            } else {
                v.recruiter_name
            },
            organisation: v.organisation.filter(|o| !o.is_empty()),
            what: v.what,
            at: db::ms_to_rfc3339(v.at),
        })
        .collect())
}

/// Everything stored about `me`, as one JSON document.
pub async fn export(state: &Platform, me: &CurrentUser) -> AppResult<serde_json::Value> {
    let pool = &state.db.pool;
    let user = crate::db::users::by_id(pool, me.user_id).await?.ok_or(AppError::NotFound("user"))?;
    let now = db::now_ms();
    let mut teams = Vec::new();
    let mut subs = Vec::new();
    for (task_id, team_id) in crate::db::teams::memberships(pool, me.user_id).await? {
        let Some(task) = crate::db::tasks::by_id(pool, task_id).await? else { continue };
        let team = crate::db::teams::by_id(pool, team_id).await?.map(|t| t.name).unwrap_or_default();
        teams.push(serde_json::json!({"task": task.slug, "team": team}));
        let closed = now >= task.closes_at;
        for s in crate::db::submissions::of_team(pool, team_id, 100_000, 0).await? {
            if s.user_id == me.user_id {
                subs.push(crate::submissions::view(s, &task.slug, closed));
            }
        }
    }
    let mut tokens = Vec::new();
    for kind in ["api", "session"] {
        for t in crate::db::tokens::list_for_user(pool, me.user_id, kind).await? {
            tokens.push(serde_json::json!({
                "kind": kind, "name": t.name, "scope": t.scope, "created_at": db::ms_to_rfc3339(t.created_at),
                "last_used_at": t.last_used_at.map(db::ms_to_rfc3339), "expires_at": t.expires_at.map(db::ms_to_rfc3339),
                "revoked_at": t.revoked_at.map(db::ms_to_rfc3339),
            }));
        }
    }
    let rows = crate::db::privacy::export_rows(pool, me.user_id).await?;
    let mine = crate::db::audit::Filter { actor_id: Some(me.user_id), ..Default::default() };
    let actions: Vec<serde_json::Value> = crate::db::audit::list(pool, &mine, 100_000, 0)
        .await?
        .into_iter()
        .map(|a| {
            serde_json::json!({
                "at": db::ms_to_rfc3339(a.at), "action": a.action, "as": a.actor_role, "task": a.task,
                "detail": serde_json::from_str::<serde_json::Value>(&a.detail).unwrap_or_default(),
            })
        })
        .collect();
    Ok(serde_json::json!({
        "exported_at": db::ms_to_rfc3339(now),
        "account": {
            "username": user.username, "email": user.email, "display_name": user.display_name,
            "country": user.country, "created_at": db::ms_to_rfc3339(user.created_at), "roles": me.roles,
        },
        "profile": profile_view(state, me.user_id).await?,
        "teams": teams,
        "submissions": subs,
        "tokens_and_sessions": tokens,
        "invites": rows.invites,
        "contact_requests_received": rows.contact_requests_received,
        "contact_requests_sent": rows.contact_requests_sent,
        "shortlists": rows.shortlists,
        "credentials": rows.credentials,
        "my_audited_actions": actions,
        "viewed_by": views(state, me.user_id).await?,
    }))
}

/// The password that confirms deleting your account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteAccount {
    /// Your current password.
    pub password: String,
}

/// Checks the password and erases the account.
pub async fn delete_account(state: &Platform, me: &CurrentUser, password: &str, client: Client) -> AppResult<()> {
    let creds = crate::accounts::Credentials {
        username: me.username.clone(),
        password: password.to_owned(),
        ..Default::default()
    };
    crate::accounts::check_credentials(state, &creds, client)
        .await
        .map_err(|_| AppError::Unauthorized(msg!("delete_wrong_password")))?;
    let mut tx = state.db.pool.begin().await?;
    if me.is_admin() && crate::db::users::count_with_role(&mut *tx, "admin").await? <= 1 {
        return Err(AppError::Conflict(msg!("last_admin_delete")));
    }
    let models = crate::db::privacy::erase(&mut tx, me.user_id, &me.username, db::now_ms()).await?;
    tx.commit().await?;
    // Their models' files go (the boards keep the predictions they made);
    // a file another submission shares stays.
    for hash in models {
        if crate::db::privacy::blob_still_used(&state.db.pool, &hash, me.user_id).await? {
            continue;
        }
        if let Err(e) = state.blobs.delete(&hash).await {
            tracing::warn!(error = format!("{e:#}"), "a deleted account's model file stays in the store");
        }
    }
    state.talent.forget();
    tracing::info!(user = me.user_id, "account deleted");
    Ok(())
}

/// Signed credentials for each of your final results (closed tasks where
/// your team is ranked), each recorded so it can be revoked if the result
/// changes. Verify one with `gaic verify FILE` and the key at
/// `/.well-known/gaic-credential-key`.
pub async fn my_credentials(state: &Platform, me: &CurrentUser) -> AppResult<Vec<crate::credentials::Signed>> {
    let pool = &state.db.pool;
    let issuer = &state.issuer;
    let user = crate::db::users::by_id(pool, me.user_id).await?.ok_or(AppError::NotFound("user"))?;
    let now = db::now_ms();
    let mut out = Vec::new();
    for (task_id, team_id) in crate::db::teams::memberships(pool, me.user_id).await? {
        let Some(task) = crate::db::tasks::by_id(pool, task_id).await? else { continue };
        if task.published_at.is_none() || now < task.closes_at {
            continue;
        }
        let spec = crate::tasks::spec_of(&task)?;
        let computed = state.boards.computed(&task, &spec).await?;
        let board = computed.private();
        let Some(mine) = board.iter().find(|s| s.team_id == team_id) else { continue };
        let Some(sub) = crate::db::submissions::by_id(pool, mine.submission_id).await? else { continue };
        let credential = crate::credentials::Credential {
            kind: "gaic-result/2".into(),
            issuer: issuer.url.clone(),
            key_id: issuer.key_id.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            task: task.slug.clone(),
            task_title: task.title.clone(),
            rank: mine.rank,
            of: board.len(),
            private_score: mine.score,
            metric: spec.metric.name.name().into(),
            submission_sha256: sub.blob_hash,
            scorer_version: env!("CARGO_PKG_VERSION").into(),
            date: db::ms_to_rfc3339(task.closes_at),
        };
        let signed = crate::credentials::sign(&issuer.key, credential);
        let issued = crate::db::credentials::IssuedRow {
            credential_id: signed.credential_id.clone(),
            user_id: me.user_id,
            task_id,
            team_id,
            submission_id: mine.submission_id,
            place: i64::from(mine.rank),
            ranked: board.len() as i64,
            score: mine.score,
            issued_at: now,
            revoked_reason: None,
        };
        crate::db::credentials::record_issued(pool, &issued).await?;
        out.push(signed);
    }
    Ok(out)
}

/// A task's final results as issued credentials are checked against them.
enum FinalBoard {
    /// The task no longer exists.
    Gone,
    /// The task exists but is not closed (re-opened, or unpublished).
    Open(String),
    /// The task's slug and its private board.
    Closed(String, Vec<crate::competition::Standing>),
}

async fn final_board(state: &Platform, task_id: i64, now: i64) -> AppResult<FinalBoard> {
    let Some(task) = crate::db::tasks::by_id(&state.db.pool, task_id).await? else { return Ok(FinalBoard::Gone) };
    if task.published_at.is_none() || now < task.closes_at {
        return Ok(FinalBoard::Open(task.slug));
    }
    let spec = crate::tasks::spec_of(&task)?;
    let computed = state.boards.computed(&task, &spec).await?;
    Ok(FinalBoard::Closed(task.slug, computed.private().to_vec()))
}

/// Whether an issued credential still states the result as it stands: the
/// task closed, the team on the private board with the same submission,
/// rank, score and number of ranked teams.
fn credential_status(row: &crate::db::credentials::IssuedRow, board: &FinalBoard) -> crate::credentials::Status {
    let status = |task: Option<&str>, reason: Option<String>| crate::credentials::Status {
        credential_id: row.credential_id.clone(),
        status: if reason.is_some() { "revoked" } else { "valid" }.into(),
        reason,
        task: task.map(str::to_owned),
    };
    if let Some(why) = &row.revoked_reason {
        let slug = match board {
            FinalBoard::Gone => None,
            FinalBoard::Open(slug) | FinalBoard::Closed(slug, _) => Some(slug.as_str()),
        };
        return status(slug, Some(why.clone()));
    }
    let (slug, board) = match board {
        FinalBoard::Gone => return status(None, Some("the task was removed".into())),
        FinalBoard::Open(slug) => return status(Some(slug), Some("the task is no longer closed".into())),
        FinalBoard::Closed(slug, board) => (slug.as_str(), board),
    };
    let Some(entry) = board.iter().find(|s| s.team_id == row.team_id) else {
        let why = "the team is no longer ranked (disqualified, hidden or merged)";
        return status(Some(slug), Some(why.into()));
    };
    if entry.submission_id != row.submission_id
        || i64::from(entry.rank) != row.place
        || board.len() as i64 != row.ranked
        || entry.score.to_bits() != row.score.to_bits()
    {
        let why = format!("the result changed: now rank {} of {} with {}", entry.rank, board.len(), entry.score);
        return status(Some(slug), Some(why));
    }
    status(Some(slug), None)
}

/// The status of one credential (`unknown` if this server never issued it).
pub async fn credential(state: &Platform, credential_id: &str) -> AppResult<crate::credentials::Status> {
    match crate::db::credentials::issued(&state.db.pool, credential_id).await? {
        Some(row) => Ok(credential_status(&row, &final_board(state, row.task_id, db::now_ms()).await?)),
        None => Ok(crate::credentials::Status {
            credential_id: credential_id.to_owned(),
            status: "unknown".into(),
            reason: Some("this server issued no credential with this id".into()),
            task: None,
        }),
    }
}

/// Every issued credential that no longer holds, with why (each task's
/// board read once).
pub async fn revoked_credentials(state: &Platform) -> AppResult<Vec<crate::credentials::Status>> {
    let now = db::now_ms();
    let mut out = Vec::new();
    let mut current: Option<(i64, FinalBoard)> = None;
    for row in crate::db::credentials::all_issued(&state.db.pool).await? {
        if current.as_ref().is_none_or(|(id, _)| *id != row.task_id) {
            current = Some((row.task_id, final_board(state, row.task_id, now).await?));
        }
        if let Some((_, board)) = &current {
            let status = credential_status(&row, board);
            if status.status == "revoked" {
                out.push(status);
            }
        }
    }
    Ok(out)
}

/// One key credentials are verified with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKey {
    /// Its id (credentials name it).
    pub key_id: String,
    /// The 32-byte public key, base64.
    pub public_key: String,
    /// Whether it signs new credentials.
    pub current: bool,
}

/// The keys result credentials are signed with.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialKey {
    /// Always `Ed25519`.
    pub alg: String,
    /// The issuer credentials name (this server's public URL).
    pub issuer: String,
    /// The current key's id.
    pub key_id: String,
    /// The current key, base64.
    pub public_key: String,
    /// Every key, current first: credentials signed by a retired key still
    /// verify against it.
    pub keys: Vec<PublicKey>,
}

/// The keys to verify this server's result credentials with.
pub async fn credential_key(state: &Platform) -> AppResult<CredentialKey> {
    let mut keys = Vec::new();
    for row in crate::db::credentials::keys(&state.db.pool).await? {
        let Some(key) = crate::credentials::from_seed_b64(&row.seed) else { continue };
        keys.push(PublicKey {
            key_id: row.key_id,
            public_key: crate::credentials::public_b64(&key.verifying_key()),
            current: row.slot.as_deref() == Some("current"),
        });
    }
    Ok(CredentialKey {
        alg: "Ed25519".into(),
        issuer: state.issuer.url.clone(),
        key_id: state.issuer.key_id.clone(),
        public_key: crate::credentials::public_b64(&state.issuer.key.verifying_key()),
        keys,
    })
}

/// Rankings query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct RankingsQuery {
    /// `rating` (default: Elo-MMR, μ − 2σ) or `points` (the recent-form board:
    /// points from the last 365 days).
    pub by: Option<String>,
    /// 1-based page.
    pub page: Option<u32>,
    /// Rows per page (1-200, default 50).
    pub per_page: Option<u32>,
}

/// One row of the global rankings.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankingRow {
    /// 1-based place.
    pub rank: usize,
    /// Username.
    pub username: String,
    /// Displayed rating μ − 2σ.
    pub rating: Option<f64>,
    /// Points, all time.
    pub points: f64,
    /// Points from the last 365 days.
    pub recent_points: f64,
    /// Gold, silver, bronze.
    pub medals: [usize; 3],
    /// Rated tasks entered.
    pub tasks: usize,
}

/// A page of the global rankings.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rankings {
    /// `rating` or `points`.
    pub by: String,
    /// Everyone ranked.
    pub total: usize,
    /// This page.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// The rows.
    pub people: Vec<RankingRow>,
}

/// Everyone with final results in rated tasks, by rating or by recent
/// points. Built from the public boards only (usernames and results), so it
/// needs no consent; profile details stay behind the consents.
pub async fn get_rankings(state: &Platform, q: RankingsQuery) -> AppResult<Rankings> {
    rankings(state, &q).await
}

/// The public rankings by rating or points.
pub async fn rankings(state: &Platform, q: &RankingsQuery) -> AppResult<Rankings> {
    let by = q.by.clone().unwrap_or_else(|| "rating".into());
    if by != "rating" && by != "points" {
        return Err(AppError::BadRequest(msg!("bad_rankings_by", got = format!("{by:?}"))));
    }
    let (page, per_page) = (q.page.unwrap_or(1), q.per_page.unwrap_or(50));
    if page == 0 || !(1..=200).contains(&per_page) {
        return Err(AppError::BadRequest(msg!("bad_page_200")));
    }
    let pool = state.talent.pool().await?;
    let mut rows: Vec<(&String, &talent::Standing)> = pool
        .people
        .iter()
        .filter(|(name, s)| {
            !name.starts_with("deleted-") && if by == "rating" { s.rating.is_some() } else { s.recent_points > 0.0 }
        })
        .collect();
    let key = |s: &talent::Standing| if by == "rating" { s.display().unwrap_or(f64::MIN) } else { s.recent_points };
    rows.sort_by(|a, b| key(b.1).total_cmp(&key(a.1)).then(a.0.cmp(b.0)));
    let total = rows.len();
    let people = rows
        .into_iter()
        .enumerate()
        .skip((page as usize - 1) * per_page as usize)
        .take(per_page as usize)
        .map(|(i, (name, s))| {
            let (g, sv, b) = s.medal_counts();
            RankingRow {
                rank: i + 1,
                username: name.clone(),
                rating: s.display().map(f64::round),
                points: s.points.round(),
                recent_points: s.recent_points.round(),
                medals: [g, sv, b],
                tasks: s.results.iter().filter(|r| r.rating_after.is_some()).count(),
            }
        })
        .collect();
    Ok(Rankings { by, total, page, per_page, people })
}
