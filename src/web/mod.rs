//! Server-rendered pages (minijinja templates compiled into the binary,
//! auto-escaped), in English and Korean, sharing the API's queries and rules.
//!
//! Forms carry a CSRF token that must match the `gaic_csrf` cookie
//! (double-submit; the session cookie is also SameSite=Lax). Markdown task
//! statements are rendered with raw HTML turned into text, so a statement or
//! a name with `<script>` shows as text.

pub mod i18n;

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::{Environment, Value, context};
use serde::Deserialize;

use crate::auth::{self, CurrentUser, MaybeUser};
use crate::db::{self, tasks};
use crate::error::{AppError, AppPath};
use crate::state::AppState;
use crate::tasks::{TaskState, spec_of, visible_to};
use i18n::Lang;

/// Routes of the pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home_page))
        .route("/tasks/{slug}", get(task_page))
        .route(
            "/tasks/{slug}/submit",
            axum::routing::post(submit_form).layer(axum::extract::DefaultBodyLimit::max(256 << 20)),
        )
        .route("/login", get(login_page).post(login_submit))
        .route("/signup", get(signup_page).post(signup_submit))
        .route("/logout", axum::routing::post(logout_submit))
        .route("/submissions/{id}/final", axum::routing::post(final_submit))
        .route("/account/tokens", get(tokens_page).post(create_token_submit))
        .route("/account/tokens/{id}/revoke", axum::routing::post(revoke_token_submit))
        .route("/lang/{code}", get(set_language))
        .route("/static/site.css", get(stylesheet))
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("templates/base.html")),
            ("home.html", include_str!("templates/home.html")),
            ("task.html", include_str!("templates/task.html")),
            ("form.html", include_str!("templates/form.html")),
            ("message.html", include_str!("templates/message.html")),
            ("tokens.html", include_str!("templates/tokens.html")),
        ] {
            env.add_template(name, src).expect("templates parse");
        }
        env
    })
}

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("templates/site.css"))
}

/// What every page knows: language, messages, the user, the CSRF token.
struct PageCtx {
    lang: Lang,
    user: Option<String>,
    csrf: String,
    new_csrf: bool,
    path: String,
}

impl PageCtx {
    fn new(headers: &HeaderMap, user: Option<&CurrentUser>, uri: &Uri) -> Self {
        let existing = auth::cookie(headers, "gaic_csrf").filter(|v| v.len() >= 20);
        let new_csrf = existing.is_none();
        let csrf = existing.unwrap_or_else(|| auth::new_token().0);
        Self {
            lang: Lang::pick(headers),
            user: user.map(|u| u.username.clone()),
            csrf,
            new_csrf,
            path: uri.path_and_query().map_or("/".into(), |p| p.as_str().to_owned()),
        }
    }

    fn render(&self, status: StatusCode, name: &str, extra: Value) -> Response {
        let base = context! {
            lang => self.lang.code(),
            t => i18n::catalog(self.lang),
            user => self.user,
            csrf => self.csrf,
            path => self.path,
        };
        let html = match env().get_template(name).and_then(|t| t.render(context! { ..base, ..extra })) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, template = name, "template failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response();
            }
        };
        let mut res = (status, Html(html)).into_response();
        if self.new_csrf
            && let Ok(v) = HeaderValue::from_str(&format!("gaic_csrf={}; Path=/; HttpOnly; SameSite=Lax", self.csrf))
        {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        res
    }

    fn t(&self, key: &str) -> &'static str {
        i18n::catalog(self.lang).get(key).copied().unwrap_or("")
    }
}

/// Whether a form's CSRF token matches its cookie.
fn csrf_ok(headers: &HeaderMap, form_token: &str) -> bool {
    auth::cookie(headers, "gaic_csrf").is_some_and(|c| !form_token.is_empty() && c == form_token)
}

fn csrf_refused() -> Response {
    let msg = "the form expired or did not come from this site (CSRF check); reload the page and try again";
    (StatusCode::FORBIDDEN, msg).into_response()
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
}

async fn home_page(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    let now = db::now_ms();
    let mut groups = Vec::new();
    for (key, sort) in [
        ("open", "t.closes_at ASC, t.slug ASC"),
        ("upcoming", "t.opens_at ASC, t.slug ASC"),
        ("closed", "t.closes_at DESC, t.slug ASC"),
    ] {
        let filter = tasks::TaskFilter {
            state: key,
            viewer_id: viewer.0.as_ref().map_or(0, |u| u.user_id),
            viewer_is_admin: viewer.0.as_ref().is_some_and(CurrentUser::is_admin),
            now,
        };
        let rows = tasks::list(&state.db.pool, filter, sort, 50, 0).await?;
        let mut cards = Vec::new();
        for row in rows {
            let spec = spec_of(&row)?;
            let teams = crate::db::teams::of_task(&state.db.pool, row.task_id).await?.len();
            let at = if key == "upcoming" { row.opens_at } else { row.closes_at };
            cards.push(context! {
                slug => row.slug, title => row.title, summary => row.summary, metric => spec.metric.name.name(),
                when => when(at), when_iso => db::ms_to_rfc3339(at), teams => teams,
            });
        }
        groups.push(context! { key => key, title => page.t(key), tasks => cards });
    }
    Ok(page.render(StatusCode::OK, "home.html", context! { groups => groups }))
}

/// Markdown to HTML with raw HTML neutralised (shown as text). A leading
/// `# Title` line is dropped: the page shows the title already.
fn markdown(src: &str) -> String {
    let src = match src.trim_start().strip_prefix("# ") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => src,
    };
    use pulldown_cmark::{Event, Options, Parser, html};
    let parser = Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

#[derive(Debug, Deserialize)]
struct TabQuery {
    tab: Option<String>,
    board: Option<String>,
}

async fn task_page(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    AppPath(slug): AppPath<String>,
    Query(q): Query<TabQuery>,
) -> Result<Response, AppError> {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    task_view(&state, &page, viewer.0.as_ref(), &slug, q, SubmitOutcome::default()).await
}

/// What a failed web submission shows next to the form.
#[derive(Debug, Default)]
struct SubmitOutcome {
    status: Option<StatusCode>,
    summary: String,
    problems: Vec<crate::error::Problem>,
    message: String,
}

async fn task_view(
    state: &AppState,
    page: &PageCtx,
    viewer: Option<&CurrentUser>,
    slug: &str,
    q: TabQuery,
    outcome: SubmitOutcome,
) -> Result<Response, AppError> {
    let row = match tasks::by_slug(&state.db.pool, slug).await? {
        Some(r) if visible_to(&r, viewer) => r,
        _ => {
            return Ok(page.render(
                StatusCode::NOT_FOUND,
                "message.html",
                context! { heading => page.t("not_found"), message => slug },
            ));
        }
    };
    let spec = spec_of(&row)?;
    let current = match q.tab.as_deref() {
        Some(t @ ("data" | "rules" | "leaderboard" | "submit" | "submissions")) => t.to_owned(),
        _ => "overview".to_owned(),
    };
    let tabs: Vec<Value> = [
        ("overview", "tab_overview"),
        ("data", "tab_data"),
        ("rules", "tab_rules"),
        ("leaderboard", "tab_leaderboard"),
        ("submit", "tab_submit"),
        ("submissions", "tab_submissions"),
    ]
    .iter()
    .map(|(k, l)| context! { key => k, label => page.t(l) })
    .collect();
    let files: Vec<Value> = tasks::public_files(&state.db.pool, row.task_id)
        .await?
        .into_iter()
        .map(|(p, size)| context! { url => format!("/api/v1/tasks/{}/files/{p}", row.slug), path => p, size => size })
        .collect();
    let closed = TaskState::at(row.opens_at, row.closes_at, db::now_ms()) == TaskState::Closed;
    let private = q.board.as_deref() == Some("private") && closed;
    let mut board = Vec::new();
    if current == "leaderboard" {
        board = crate::api::leaderboard::board_rows(state, &row, &spec, private, closed)
            .await?
            .into_iter()
            .map(|e| {
                let score = format!("{:.5}", e.score);
                context! { rank => e.rank, team => e.team, score => score, entries => e.entries, baseline => e.baseline }
            })
            .collect();
    }
    let rules = context! {
        daily_cap => spec.submissions.daily_cap,
        final_selections => spec.submissions.final_selections,
        team_size_cap => spec.submissions.team_size_cap,
        public_share => format!("{:.0}%", spec.split.public_fraction * 100.0),
        merger_deadline => row.merger_deadline_at.map(when),
        budget => format!("{} fuel · {} MiB · {} ms", spec.budget.fuel, spec.budget.memory_mib, spec.budget.wall_ms),
    };
    let task = context! {
        slug => row.slug, title => row.title, summary => row.summary, metric => spec.metric.name.name(),
        higher_is_better => spec.metric.higher_is_better, closes => when(row.closes_at), closes_iso => db::ms_to_rfc3339(row.closes_at),
    };
    let board_title = page.t(if private { "private_board" } else { "public_board" });
    let team = match viewer {
        Some(u) => crate::db::teams::of_user(&state.db.pool, row.task_id, u.user_id).await?,
        None => None,
    };
    let cap = spec.submissions.daily_cap;
    let quota = match &team {
        Some(t) => crate::api::submissions::quota(state, t.team_id, cap, db::now_ms()).await?,
        None => crate::api::submissions::Quota {
            daily_cap: cap,
            used_today: 0,
            remaining_today: i64::from(cap),
            resets_at: db::ms_to_rfc3339(crate::competition::utc_day_start(db::now_ms()) + crate::competition::DAY_MS),
        },
    };
    let resets_ms = chrono::DateTime::parse_from_rfc3339(&quota.resets_at).map_or(0, |d| d.timestamp_millis());
    let quota = context! { remaining => quota.remaining_today, cap => quota.daily_cap, resets => when(resets_ms), resets_iso => quota.resets_at };
    let mut mine = Vec::new();
    if let (Some(t), "submissions") = (&team, current.as_str()) {
        for s in crate::db::submissions::of_team(&state.db.pool, t.team_id, 100, 0).await? {
            mine.push(context! {
                id => s.submission_id,
                created => when(s.created_at),
                live => matches!(s.status.as_str(), "queued" | "running"),
                status => s.status,
                score => s.public_score.map(|v| format!("{v:.5}")).unwrap_or_default(),
                verdict => s.verdict.unwrap_or_default(),
                fuel => s.fuel_used.map(|f| crate::api::submissions::round3(f).to_string()).unwrap_or_default(),
                selected => s.selected_at.is_some(),
                selectable => s.status == "scored" && s.late == 0 && !closed,
            });
        }
    }
    let problems: Vec<Value> =
        outcome.problems.iter().map(|p| context! { field => p.field, message => p.message }).collect();
    Ok(page.render(
        outcome.status.unwrap_or(StatusCode::OK),
        "task.html",
        context! {
            task => task, tabs => tabs, current => current, statement_html => markdown(&row.statement), files => files,
            rules => rules, board => board, board_title => board_title, quota => quota, mine => mine,
            problems => problems, problem_summary => outcome.summary, message => outcome.message,
        },
    ))
}

async fn submit_form(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    AppPath(slug): AppPath<String>,
    mut form: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let Some(me) = viewer.0 else { return Ok(Redirect::to("/login").into_response()) };
    let (mut csrf, mut file, mut file_name, mut message) =
        (String::new(), None, String::from("submission"), String::new());
    while let Some(field) = form.next_field().await? {
        match field.name() {
            Some("csrf") => csrf = field.text().await?,
            Some("file") => {
                file_name = field.file_name().unwrap_or("submission").chars().take(200).collect();
                file = Some(field.bytes().await?);
            }
            Some("message") => message = field.text().await?,
            _ => {}
        }
    }
    if !csrf_ok(&headers, &csrf) {
        return Ok(csrf_refused());
    }
    let page = PageCtx::new(&headers, Some(&me), &uri);
    let q = || TabQuery { tab: Some("submit".into()), board: None };
    let bytes = file.unwrap_or_default();
    match crate::api::submissions::submit(&state, &me, &slug, &file_name, bytes, &message).await {
        Ok(_) => Ok(Redirect::to(&format!("/tasks/{slug}?tab=submissions")).into_response()),
        Err(AppError::Invalid { message: summary, details, .. }) => {
            let details =
                if details.is_empty() { vec![crate::error::Problem::new("", "", summary.clone())] } else { details };
            let outcome =
                SubmitOutcome { status: Some(StatusCode::UNPROCESSABLE_ENTITY), summary, problems: details, message };
            task_view(&state, &page, Some(&me), &slug, q(), outcome).await
        }
        Err(e @ (AppError::TooManyRequests(_) | AppError::Forbidden(_) | AppError::Conflict(_))) => {
            let status = e.status();
            let problems = vec![crate::error::Problem::new("", "", e.to_string())];
            let outcome = SubmitOutcome { status: Some(status), summary: String::new(), problems, message };
            task_view(&state, &page, Some(&me), &slug, q(), outcome).await
        }
        Err(e) => Err(e),
    }
}

struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    error: Option<String>,
    autocomplete: &'static str,
}

fn form_page(
    page: &PageCtx,
    status: StatusCode,
    heading: &str,
    action: &str,
    submit: &str,
    fields: &[Field],
    form_error: Option<&str>,
) -> Response {
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| context! { name => f.name, label => page.t(f.label), kind => f.kind, value => f.value, error => f.error, autocomplete => f.autocomplete })
        .collect();
    page.render(
        status,
        "form.html",
        context! { heading => heading, action => action, submit => submit, fields => fields, form_error => form_error },
    )
}

fn login_fields(username: &str) -> Vec<Field> {
    vec![
        Field {
            name: "username",
            label: "username",
            kind: "text",
            value: username.to_owned(),
            error: None,
            autocomplete: "username",
        },
        Field {
            name: "password",
            label: "password",
            kind: "password",
            value: String::new(),
            error: None,
            autocomplete: "current-password",
        },
    ]
}

async fn login_page(viewer: MaybeUser, headers: HeaderMap, uri: Uri) -> Response {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    form_page(&page, StatusCode::OK, page.t("nav_login"), "/login", page.t("submit_login"), &login_fields(""), None)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<LoginForm>,
) -> Response {
    if !csrf_ok(&headers, &f.csrf) {
        return csrf_refused();
    }
    let page = PageCtx::new(&headers, None, &uri);
    let creds = crate::api::tokens::Credentials { username: f.username.clone(), password: f.password, name: None };
    match crate::api::tokens::check_credentials(&state, &creds).await {
        Ok(user) => {
            let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("browser");
            match crate::api::tokens::new_session(&state, user.user_id, agent).await {
                Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(AppError::TooManyRequests(m)) => form_page(
            &page,
            StatusCode::TOO_MANY_REQUESTS,
            page.t("nav_login"),
            "/login",
            page.t("submit_login"),
            &login_fields(&f.username),
            Some(&m),
        ),
        Err(_) => form_page(
            &page,
            StatusCode::UNAUTHORIZED,
            page.t("nav_login"),
            "/login",
            page.t("submit_login"),
            &login_fields(&f.username),
            Some(page.t("login_failed")),
        ),
    }
}

fn signup_fields(f: &SignupForm, errors: &HashMap<String, String>) -> Vec<Field> {
    let e = |n: &str| errors.get(n).cloned();
    vec![
        Field {
            name: "username",
            label: "username",
            kind: "text",
            value: f.username.clone(),
            error: e("username"),
            autocomplete: "username",
        },
        Field {
            name: "email",
            label: "email",
            kind: "email",
            value: f.email.clone(),
            error: e("email"),
            autocomplete: "email",
        },
        Field {
            name: "password",
            label: "password",
            kind: "password",
            value: String::new(),
            error: e("password"),
            autocomplete: "new-password",
        },
        Field {
            name: "country",
            label: "country",
            kind: "text",
            value: f.country.clone(),
            error: e("country"),
            autocomplete: "country",
        },
        Field {
            name: "display_name",
            label: "display_name",
            kind: "text",
            value: f.display_name.clone(),
            error: e("display_name"),
            autocomplete: "nickname",
        },
    ]
}

#[derive(Debug, Default, Deserialize)]
struct SignupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    display_name: String,
}

async fn signup_page(viewer: MaybeUser, headers: HeaderMap, uri: Uri) -> Response {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    let fields = signup_fields(&SignupForm::default(), &HashMap::new());
    form_page(&page, StatusCode::OK, page.t("nav_signup"), "/signup", page.t("submit_signup"), &fields, None)
}

async fn signup_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<SignupForm>,
) -> Response {
    if !csrf_ok(&headers, &f.csrf) {
        return csrf_refused();
    }
    let page = PageCtx::new(&headers, None, &uri);
    let req = crate::api::users::RegisterRequest {
        username: f.username.clone(),
        email: f.email.clone(),
        password: f.password.clone(),
        country: f.country.clone(),
        display_name: Some(f.display_name.clone()).filter(|d| !d.trim().is_empty()),
    };
    match crate::api::users::create_account(&state, req).await {
        Ok(user) => {
            let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("browser");
            match crate::api::tokens::new_session(&state, user.user_id, agent).await {
                Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(AppError::Invalid { details, .. }) => {
            let errors = details.into_iter().map(|d| (d.field, d.message)).collect();
            form_page(
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
                page.t("nav_signup"),
                "/signup",
                page.t("submit_signup"),
                &signup_fields(&f, &errors),
                None,
            )
        }
        Err(AppError::Conflict(m)) => form_page(
            &page,
            StatusCode::CONFLICT,
            page.t("nav_signup"),
            "/signup",
            page.t("submit_signup"),
            &signup_fields(&f, &HashMap::new()),
            Some(&m),
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout_submit(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    if !csrf_ok(&headers, &f.csrf) {
        return csrf_refused();
    }
    if let Some(token) = auth::presented_token(&headers) {
        let _ = crate::db::tokens::revoke_by_hash(&state.db.pool, &auth::token_hash(&token), db::now_ms()).await;
    }
    ([(header::SET_COOKIE, crate::api::tokens::session_cookie("", 0))], Redirect::to("/")).into_response()
}

#[derive(Debug, Deserialize)]
struct FinalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    select: String,
}

/// Selects or unselects a final submission from "My submissions".
async fn final_submit(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    AppPath(id): AppPath<i64>,
    Form(f): Form<FinalForm>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &f.csrf) {
        return Ok(csrf_refused());
    }
    let Some(me) = viewer.0 else { return Ok(Redirect::to("/login").into_response()) };
    match crate::api::submissions::set_selection(&state, &me, id, f.select == "1").await {
        Ok(view) => Ok(Redirect::to(&format!("/tasks/{}?tab=submissions", view.0.task)).into_response()),
        Err(e @ (AppError::Conflict(_) | AppError::Forbidden(_) | AppError::NotFound(_))) => {
            let page = PageCtx::new(&headers, Some(&me), &uri);
            let status = e.status();
            Ok(page.render(status, "message.html", context! { heading => page.t("final"), message => e.to_string() }))
        }
        Err(e) => Err(e),
    }
}

async fn render_tokens(
    state: &AppState,
    page: &PageCtx,
    me: &CurrentUser,
    new_token: Option<String>,
) -> Result<Response, AppError> {
    let rows = crate::db::tokens::list_for_user(&state.db.pool, me.user_id, "api").await?;
    let tokens: Vec<Value> = rows
        .into_iter()
        .map(|k| {
            context! {
                id => k.token_id, name => k.name, created => when(k.created_at),
                last_used => k.last_used_at.map(when).unwrap_or_default(), revoked => k.revoked_at.is_some(),
            }
        })
        .collect();
    Ok(page.render(StatusCode::OK, "tokens.html", context! { tokens => tokens, new_token => new_token }))
}

/// The caller's API tokens: create (shown once) and revoke.
async fn tokens_page(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let Some(me) = viewer.0 else { return Ok(Redirect::to("/login").into_response()) };
    let page = PageCtx::new(&headers, Some(&me), &uri);
    render_tokens(&state, &page, &me, None).await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn create_token_submit(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<TokenForm>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &f.csrf) {
        return Ok(csrf_refused());
    }
    let Some(me) = viewer.0 else { return Ok(Redirect::to("/login").into_response()) };
    let name: String = f.name.trim().chars().take(100).collect();
    let name = if name.is_empty() { "web".to_owned() } else { name };
    let (token, hash) = auth::new_token();
    crate::db::tokens::insert(&state.db.pool, me.user_id, "api", &name, &hash, None, db::now_ms()).await?;
    let page = PageCtx::new(&headers, Some(&me), &uri);
    render_tokens(&state, &page, &me, Some(token)).await
}

async fn revoke_token_submit(
    State(state): State<AppState>,
    viewer: MaybeUser,
    headers: HeaderMap,
    AppPath(id): AppPath<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &f.csrf) {
        return Ok(csrf_refused());
    }
    let Some(me) = viewer.0 else { return Ok(Redirect::to("/login").into_response()) };
    crate::db::tokens::revoke(&state.db.pool, me.user_id, id, db::now_ms()).await?;
    Ok(Redirect::to("/account/tokens").into_response())
}

#[derive(Debug, Deserialize)]
struct Back {
    back: Option<String>,
}

async fn set_language(AppPath(code): AppPath<String>, Query(b): Query<Back>) -> Response {
    let lang = Lang::from_code(&code).unwrap_or(Lang::En);
    // Only local paths: never an open redirect.
    let back = b.back.filter(|p| p.starts_with('/') && !p.starts_with("//")).unwrap_or_else(|| "/".into());
    let cookie = format!("gaic_lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn statements_drop_their_title_and_never_pass_raw_html() {
        let html = markdown("# Digits\n\nSome **text**.\n\n<script>alert(1)</script>\n");
        assert!(!html.contains("<h1>"), "{html}");
        assert!(html.contains("<strong>text</strong>"));
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
        assert!(markdown("No title here").contains("No title here"));
    }
}
