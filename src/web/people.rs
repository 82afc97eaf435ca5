//! People: public profile pages with a person's results across tasks.
//!
//! A profile shows only what the leaderboards already show (username,
//! display name, teams, ranks and scores); personal details such as the
//! country stay private until the person consents to more.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};

use super::{PageCtx, SignedIn, tasks::score, when, whole};
use crate::db::{self, tasks, teams, users};
use crate::error::AppError;
use crate::http::{AppPath, ErrorStatus, MaybeUser};
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
        let rows = state.boards.board_rows(&task, &spec, closed, closed).await?;
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
    let visible = crate::talent::details_visible(&state.db, viewer.0.as_ref(), &user).await?;
    if let Some(v) = viewer.0.as_ref().filter(|v| visible && v.has_role("recruiter") && v.user_id != user.user_id) {
        let detail = serde_json::json!({ "via": "page" });
        crate::audit::log(&state, v, crate::audit::Action::TalentView, None, &[user.user_id], detail).await?;
    }
    let details = if visible {
        let p = crate::db::profiles::get(&state.db.pool, user.user_id).await?;
        let links: Vec<String> = crate::profiles::split_list(&p.links, '\n')
            .into_iter()
            .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
            .collect();
        Some(context! {
            country => user.country, city => p.city, affiliation => p.affiliation,
            skills => crate::profiles::split_list(&p.skills, ','), links => links, bio => p.bio,
            open => p.open_to_work == 1,
        })
    } else {
        None
    };
    let standing = state.talent.pool().await?.people.get(&user.username).cloned().unwrap_or_default();
    let profile = crate::db::profiles::get(&state.db.pool, user.user_id).await?;
    let (g, s, b) = standing.medal_counts();
    let history: Vec<Value> = {
        let mut rated: Vec<&crate::talent::FinalResult> =
            standing.results.iter().filter(|r| r.rating_after.is_some()).collect();
        rated.sort_by_key(|r| r.closed_at);
        rated
            .into_iter()
            .map(|r| {
                context! {
                    title => r.title, slug => r.slug, rank => r.rank, of => r.of, at => when(r.closed_at, page.lang),
                    rating => r.rating_after.map(whole),
                    medal => r.medal.map(|m| page.t(&format!("medal_{}", m.name()))),
                    points => whole(r.points),
                }
            })
            .collect()
    };
    let mut rating_points: Vec<(i64, f64)> =
        standing.results.iter().filter_map(|r| Some((r.closed_at, r.rating_after?))).collect();
    rating_points.sort_by_key(|p| p.0);
    let rating_chart = super::charts::rating_history(rating_points, &page);
    let standing_ctx = context! {
        chart => rating_chart,
        rating => standing.display().map(whole),
        mu => standing.rating.as_ref().map(|r| whole(r.mu)),
        sigma => standing.rating.as_ref().map(|r| whole(r.sigma)),
        tier => page.t(&format!("tier_{}", standing.tier(crate::talent::profile_complete(&profile)).name())),
        gold => g, silver => s, bronze => b, points => whole(standing.points), history => history,
    };
    let recruiting = match viewer.0.as_ref() {
        Some(v)
            if v.user_id != user.user_id
                && v.has_role("recruiter")
                && crate::talent::discoverable(&state.db, v, &user).await? =>
        {
            let lists: Vec<Value> = crate::recruiting::list_shortlists(&state, v)
                .await?
                .into_iter()
                .map(|l| context! { id => l.id, name => l.name })
                .collect();
            Some(context! { lists => lists })
        }
        _ => None,
    };
    let person = context! {
        username => user.username, display_name => user.display_name, since => when(user.created_at, page.lang),
        details => details, standing => standing_ctx, recruiting => recruiting,
    };
    Ok(page.render(StatusCode::OK, "profile.html", context! { person => person, results => results }))
}

/// The profile form as typed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(super) struct ProfileForm {
    #[serde(default)]
    city: String,
    #[serde(default)]
    affiliation: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    links: String,
    #[serde(default)]
    bio: String,
    #[serde(default)]
    open_to_work: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    age_14_or_older: String,
    #[serde(default)]
    consent_public_profile: String,
    #[serde(default)]
    consent_recruiters: String,
    #[serde(default)]
    consent_abroad: String,
}

impl ProfileForm {
    fn consent(&self, kind: &str) -> bool {
        match kind {
            "public_profile" => self.consent_public_profile == "yes",
            "recruiters" => self.consent_recruiters == "yes",
            _ => self.consent_abroad == "yes",
        }
    }
}

fn form_of(view: &crate::profiles::ProfileView) -> ProfileForm {
    let given = |k: &str| {
        if view.consents.iter().any(|c| c.kind == k && c.in_force) { "yes".into() } else { String::new() }
    };
    ProfileForm {
        city: view.city.clone(),
        affiliation: view.affiliation.clone(),
        skills: view.skills.join(", "),
        links: view.links.join("\n"),
        bio: view.bio.clone(),
        open_to_work: if view.open_to_work { "yes".into() } else { String::new() },
        birth_year: view.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        age_14_or_older: if view.age_confirmed { "yes".into() } else { String::new() },
        consent_public_profile: given("public_profile"),
        consent_recruiters: given("recruiters"),
        consent_abroad: given("abroad"),
    }
}

async fn render_profile_form(
    state: &AppState,
    page: &PageCtx,
    me: &crate::auth::CurrentUser,
    status: StatusCode,
    form: Option<ProfileForm>,
    errors: Vec<crate::error::Problem>,
    saved: bool,
) -> Result<Response, AppError> {
    let view = crate::profiles::profile_view(state, me.user_id).await?;
    let form = form.unwrap_or_else(|| form_of(&view));
    let consents: Vec<Value> = crate::consent::CONSENTS
        .iter()
        .map(|c| {
            let state = view.consents.iter().find(|g| g.kind == c.kind);
            let given = state.filter(|g| g.in_force).and_then(|g| g.granted_at.clone());
            context! {
                kind => c.kind, text => c.text(page.lang.code()), version => c.version, checked => form.consent(c.kind),
                renew => state.is_some_and(|g| g.needs_renewal),
                given => given.as_deref().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()).map(|d| when(d.timestamp_millis(), page.lang)),
                label => page.t(&format!("consent_{}", c.kind)),
            }
        })
        .collect();
    let history: Vec<Value> = view
        .history
        .iter()
        .map(|h| context! { kind => page.t(&format!("consent_{}", h.kind)), action => page.t(&format!("consent_{}", h.action)), version => h.text_version, at => h.at })
        .collect();
    let errors: std::collections::HashMap<String, String> =
        errors.into_iter().map(|p| (p.field.clone(), p.message.render(page.lang))).collect();
    let viewed: Vec<Value> = crate::profiles::views(state, me.user_id)
        .await?
        .into_iter()
        .take(50)
        .map(|v| {
            let what = page.t(&format!("access_{}", v.what));
            context! { recruiter => v.recruiter, name => v.recruiter_name, organisation => v.organisation, what => what, at => v.at }
        })
        .collect();
    let requests: Vec<Value> = crate::recruiting::contact_requests(state, me)
        .await?
        .into_iter()
        .filter(|r| r.username == me.username)
        .map(|r| context! { id => r.id, recruiter => r.recruiter, organisation => r.organisation, message => r.message, state => r.state, at => r.created_at })
        .collect();
    let form = context! {
        city => form.city, affiliation => form.affiliation, skills => form.skills, links => form.links, bio => form.bio,
        open_to_work => form.open_to_work == "yes", birth_year => form.birth_year,
        age_14_or_older => form.age_14_or_older == "yes", age_confirmed => view.age_confirmed,
    };
    Ok(page.render(
        status,
        "account_profile.html",
        context! { form => form, consents => consents, history => history, errors => errors, saved => saved, viewed => viewed, requests => requests },
    ))
}

/// The viewer's own profile and privacy choices.
pub(super) async fn account_profile_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
) -> Result<Response, AppError> {
    render_profile_form(&state, &page, &me, StatusCode::OK, None, Vec::new(), false).await
}

/// Saves the profile and the consents (each change logged).
pub(super) async fn account_profile_submit(
    State(state): State<AppState>,
    super::Posted { me, page, form }: super::Posted<ProfileForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let birth_year = match form.birth_year.trim() {
        "" => None,
        y => match y.parse::<i64>() {
            Ok(y) => Some(y),
            Err(_) => {
                errors.push(crate::error::Problem::new("", "birth_year", page.t("bad_year")));
                None
            }
        },
    };
    let update = crate::profiles::ProfileUpdate {
        city: form.city.clone(),
        affiliation: form.affiliation.clone(),
        skills: form.skills.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        links: form.links.lines().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        bio: form.bio.clone(),
        open_to_work: form.open_to_work == "yes",
        birth_year,
        age_14_or_older: form.age_14_or_older == "yes",
    };
    errors.extend(crate::profiles::validate(&update, db::now_ms()));
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render_profile_form(&state, &page, &me, status, Some(form), errors, false).await;
    }
    crate::profiles::save_profile(&state, &me, update).await?;
    for c in crate::consent::CONSENTS {
        if let Err(e) = crate::profiles::set_consent(&state, &me, c.kind, form.consent(c.kind)).await {
            let status = e.status();
            if !status.is_client_error() {
                return Err(e);
            }
            let errors = vec![crate::error::Problem::new("", format!("consent_{}", c.kind), e.render(page.lang))];
            return render_profile_form(&state, &page, &me, status, Some(form), errors, false).await;
        }
    }
    render_profile_form(&state, &page, &me, StatusCode::OK, None, Vec::new(), true).await
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct TalentForm {
    #[serde(default)]
    country: String,
    #[serde(default)]
    task: String,
    #[serde(default)]
    min_percentile: String,
    #[serde(default)]
    open: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    medal: String,
    #[serde(default)]
    active_months: String,
    #[serde(default)]
    min_rating: String,
    #[serde(default)]
    sort: String,
    page: Option<usize>,
}

/// Rows per page of the people search.
const TALENT_PAGE: usize = 25;

/// The recruiters' page: final leaderboards across tasks and the people
/// search over those who consented.
pub(super) async fn talent_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
    axum::extract::Query(q): axum::extract::Query<TalentForm>,
) -> Result<Response, AppError> {
    let min = q.min_percentile.trim();
    let min_percentile =
        if min.is_empty() { None } else { min.parse::<f64>().ok().filter(|v| (0.0..=100.0).contains(v)) };
    let bad_min = !min.is_empty() && min_percentile.is_none();
    let filter = crate::talent::TalentFilter {
        country: Some(q.country.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()),
        task: Some(q.task.trim().to_owned()).filter(|t| !t.is_empty()),
        min_percentile,
        open_only: q.open == "yes",
        min_tier: crate::talent::tier_named(q.tier.trim()),
        domain: Some(q.domain.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()),
        medal: crate::talent::medal_named(q.medal.trim()),
        active_months: q.active_months.trim().parse().ok(),
        min_rating: q.min_rating.trim().parse::<f64>().ok(),
        max_rating: None,
        sort: match q.sort.as_str() {
            "rating" => crate::talent::SortBy::Rating,
            "points" => crate::talent::SortBy::Points,
            _ => crate::talent::SortBy::Percentile,
        },
    };
    let found = match crate::talent::search(&state.talent, &me, &filter).await {
        Ok(f) => f,
        Err(e) => return super::refused(&page, page.t("nav_talent"), "/", e),
    };
    let total = found.len();
    let pages = total.div_ceil(TALENT_PAGE).max(1);
    let at = q.page.unwrap_or(1).clamp(1, pages);
    let shown: Vec<crate::talent::Candidate> =
        found.into_iter().skip((at - 1) * TALENT_PAGE).take(TALENT_PAGE).collect();
    let ids: Vec<i64> = shown.iter().map(|c| c.user_id).collect();
    let detail = serde_json::json!({ "filters": filter.describe(), "page": at, "total": total, "via": "page" });
    crate::audit::log(&state, &me, crate::audit::Action::TalentSearch, None, &ids, detail).await?;
    let people: Vec<Value> = shown
        .into_iter()
        .map(|c| {
            let results: Vec<Value> = c
                .results
                .iter()
                .map(|r| context! { slug => r.slug, title => r.title, rank => r.rank, of => r.of })
                .collect();
            let (g, s, b) = c.standing.medal_counts();
            context! {
                username => c.username, display_name => c.display_name, country => c.country,
                affiliation => c.profile.affiliation, skills => crate::profiles::split_list(&c.profile.skills, ','),
                open => c.profile.open_to_work == 1, best => c.best_percentile.map(|p| format!("{p:.1}")), results => results,
                rating => c.rating.map(whole), tier => page.t(&format!("tier_{}", c.tier.name())),
                medals => format!("{g} / {s} / {b}"),
                medals_label => format!("{g} {}, {s} {}, {b} {}", page.t("medal_gold"), page.t("medal_silver"), page.t("medal_bronze")),
            }
        })
        .collect();
    let now = db::now_ms();
    let closed_filter = tasks::TaskFilter { state: "closed", viewer_id: 0, viewer_is_admin: false, now };
    let closed: Vec<Value> = tasks::list(&state.db.pool, closed_filter, "t.closes_at DESC, t.slug ASC", 100, 0)
        .await?
        .into_iter()
        .map(|t| context! { slug => t.slug, title => t.title, closed => when(t.closes_at, page.lang) })
        .collect();
    let tiers: Vec<Value> = crate::rating::Tier::ALL
        .iter()
        .map(|t| context! { key => t.name(), label => page.t(&format!("tier_{}", t.name())) })
        .collect();
    let query = context! {
        country => q.country, task => q.task, min_percentile => q.min_percentile, open => q.open == "yes",
        tier => q.tier, min_rating => q.min_rating, sort => q.sort, domain => q.domain, medal => q.medal,
        active_months => q.active_months,
    };
    let base = format!(
        "/talent?country={}&task={}&min_percentile={}&open={}&tier={}&min_rating={}&sort={}&domain={}&medal={}&active_months={}",
        esc(&q.country),
        esc(&q.task),
        esc(&q.min_percentile),
        esc(&q.open),
        esc(&q.tier),
        esc(&q.min_rating),
        esc(&q.sort),
        esc(&q.domain),
        esc(&q.medal),
        esc(&q.active_months)
    );
    Ok(page.render(
        if bad_min { StatusCode::BAD_REQUEST } else { StatusCode::OK },
        "talent.html",
        context! {
            people => people, total => total, closed => closed, query => query, bad_min => bad_min, tiers => tiers,
            talent_page => at, talent_pages => pages, base => base,
        },
    ))
}

fn esc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct DeleteForm {
    #[serde(default)]
    password: String,
}

/// Deletes the viewer's account (password confirmed) and signs them out.
pub(super) async fn delete_account_submit(
    State(state): State<AppState>,
    client: crate::limits::Client,
    super::Posted { me, page, form }: super::Posted<DeleteForm>,
) -> Result<Response, AppError> {
    match crate::profiles::delete_account(&state, &me, &form.password, client).await {
        Ok(()) => {
            let cookie = crate::http::session_cookie("", 0);
            let body = page.render(
                StatusCode::OK,
                "message.html",
                context! { heading => page.t("account_deleted"), message => page.t("account_deleted_text"), back => "/" },
            );
            let mut res = body;
            res.headers_mut().append(axum::http::header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(e) if e.status().is_client_error() => {
            let errors = vec![crate::error::Problem::new("", "delete_password", e.render(page.lang))];
            let status = e.status();
            render_profile_form(&state, &page, &me, status, None, errors, false).await
        }
        Err(e) => Err(e),
    }
}

/// The recruiter's shortlists and sent contact requests.
pub(super) async fn shortlists_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
) -> Result<Response, AppError> {
    render_shortlists(&state, &page, &me, StatusCode::OK, None).await
}

async fn render_shortlists(
    state: &AppState,
    page: &PageCtx,
    me: &crate::auth::CurrentUser,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, AppError> {
    let lists = match crate::recruiting::list_shortlists(state, me).await {
        Ok(l) => l,
        Err(e) => return super::refused(page, page.t("shortlists"), "/talent", e),
    };
    let mut out = Vec::new();
    for l in lists {
        let full = crate::recruiting::shortlist(state, me, l.id).await?;
        let people: Vec<Value> = full
            .people
            .iter()
            .map(|p| context! { username => p.username, name => p.display_name, affiliation => p.affiliation, note => p.note, tier => p.tier, rating => p.rating.map(whole) })
            .collect();
        out.push(context! { id => l.id, name => l.name, people => people, withdrawn => full.withdrawn });
    }
    let requests: Vec<Value> = crate::recruiting::contact_requests(state, me)
        .await?
        .into_iter()
        .filter(|r| r.recruiter == me.username)
        .map(|r| context! { username => r.username, organisation => r.organisation, state => r.state, email => r.email, at => r.created_at })
        .collect();
    Ok(page.render(status, "shortlists.html", context! { lists => out, requests => requests, error => error }))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct NewShortlistForm {
    #[serde(default)]
    name: String,
}

pub(super) async fn create_shortlist_submit(
    State(state): State<AppState>,
    super::Posted { me, page, form }: super::Posted<NewShortlistForm>,
) -> Result<Response, AppError> {
    match crate::recruiting::new_shortlist(&state, &me, &form.name).await {
        Ok(_) => Ok(axum::response::Redirect::to("/talent/shortlists").into_response()),
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            render_shortlists(&state, &page, &me, status, Some(e.render(page.lang))).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct ShortlistAddForm {
    #[serde(default)]
    shortlist: i64,
    #[serde(default)]
    note: String,
}

/// Adds the person to a shortlist from their profile page.
pub(super) async fn shortlist_add_submit(
    State(state): State<AppState>,
    AppPath(username): AppPath<String>,
    super::Posted { me, page, form }: super::Posted<ShortlistAddForm>,
) -> Result<Response, AppError> {
    match crate::recruiting::shortlist_person(&state, &me, form.shortlist, &username, &form.note).await {
        Ok(()) => Ok(axum::response::Redirect::to("/talent/shortlists").into_response()),
        Err(e) => super::refused(&page, page.t("shortlists"), &format!("/users/{username}"), e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct ContactForm {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    message: String,
}

/// Sends a contact request from the person's profile page.
pub(super) async fn contact_submit(
    State(state): State<AppState>,
    AppPath(username): AppPath<String>,
    super::Posted { me, page, form }: super::Posted<ContactForm>,
) -> Result<Response, AppError> {
    let body = crate::recruiting::ContactRequest { organisation: form.organisation, message: form.message };
    match crate::recruiting::send_request(&state, &me, &username, &body).await {
        Ok(_) => Ok(axum::response::Redirect::to("/talent/shortlists").into_response()),
        Err(e) => super::refused(&page, page.t("request_contact"), &format!("/users/{username}"), e),
    }
}

/// Accepts or declines a contact request from the privacy page.
pub(super) async fn contact_answer_submit(
    State(state): State<AppState>,
    AppPath((id, answer)): AppPath<(i64, String)>,
    super::Posted { me, page, .. }: super::Posted<super::CsrfField>,
) -> Result<Response, AppError> {
    match crate::recruiting::answer_request(&state, &me, id, &answer).await {
        Ok(()) => Ok(axum::response::Redirect::to("/account/profile#requests").into_response()),
        Err(e) => super::refused(&page, page.t("contact_requests"), "/account/profile", e),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct RankingsForm {
    by: Option<String>,
    page: Option<u32>,
}

/// The global rankings: by rating, or the recent-form board by points.
pub(super) async fn rankings_page(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    axum::extract::Query(q): axum::extract::Query<RankingsForm>,
) -> Result<Response, AppError> {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    let by = if q.by.as_deref() == Some("points") { "points" } else { "rating" };
    let query = crate::profiles::RankingsQuery {
        by: Some(by.into()),
        page: Some(q.page.unwrap_or(1).max(1)),
        per_page: Some(50),
    };
    let r = crate::profiles::rankings(&state, &query).await?;
    let pages = r.total.div_ceil(50).max(1);
    let rows: Vec<Value> = r
        .people
        .iter()
        .map(|p| {
            context! {
                rank => p.rank, username => p.username, rating => p.rating.map(whole), points => whole(p.points),
                recent => whole(p.recent_points), gold => p.medals[0], silver => p.medals[1], bronze => p.medals[2], tasks => p.tasks,
            }
        })
        .collect();
    Ok(page.render(
        StatusCode::OK,
        "rankings.html",
        context! { rows => rows, by => by, total => r.total, rank_page => r.page, rank_pages => pages, base => format!("/rankings?by={by}") },
    ))
}
