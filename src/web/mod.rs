//! Server-rendered pages (minijinja templates compiled into the binary,
//! auto-escaped), in English and Korean, sharing the API's queries and rules.
//!
//! Forms carry a CSRF token that must match the `gaic_csrf` cookie
//! (double-submit; the session cookie is also SameSite=Lax). Markdown task
//! statements are rendered with raw HTML turned into text, so a statement or
//! a name with `<script>` shows as text.

mod account;
mod admin;
mod charts;
mod guide;
pub mod i18n;
mod organize;
mod people;
mod tasks;
mod teams;

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use minijinja::{Environment, Value, context};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::{self, CurrentUser};
use crate::error::AppError;
use crate::http::{self, ErrorStatus, MaybeUser};
use crate::state::AppState;
use i18n::Lang;

/// Routes of the pages.
pub fn router(upload_limit: usize) -> Router<AppState> {
    let uploads = axum::extract::DefaultBodyLimit::max(upload_limit);
    Router::new()
        .route("/", get(tasks::home_page))
        .route("/how-to-compete", get(guide::how_to_compete))
        .route("/build-a-model", get(guide::build_a_model))
        .route("/downloads/gaic-guest-sdk.tar.gz", get(guide::guest_sdk))
        .route("/tasks/{slug}", get(tasks::task_page))
        .route("/tasks/{slug}/submit", post(tasks::submit_form).layer(uploads))
        .route("/tasks/{slug}/join", post(teams::join_submit))
        .route("/tasks/{slug}/team/create", post(teams::create_submit))
        .route("/tasks/{slug}/team/rename", post(teams::rename_submit))
        .route("/tasks/{slug}/team/invite", post(teams::invite_submit))
        .route("/tasks/{slug}/team/leave", post(teams::leave_submit))
        .route("/invites/{id}/{answer}", post(teams::answer_submit))
        .route("/submissions/{id}/final", post(tasks::final_submit))
        .route("/users/{username}", get(people::profile_page))
        .route("/account/profile", get(people::account_profile_page).post(people::account_profile_submit))
        .route("/talent", get(people::talent_page))
        .route("/rankings", get(people::rankings_page))
        .route("/account/delete", post(people::delete_account_submit))
        .route("/talent/shortlists", get(people::shortlists_page).post(people::create_shortlist_submit))
        .route("/talent/people/{username}/shortlist", post(people::shortlist_add_submit))
        .route("/talent/people/{username}/contact", post(people::contact_submit))
        .route("/contact-requests/{id}/{answer}", post(people::contact_answer_submit))
        .route("/organize", get(organize::index_page))
        .route("/organize/new", post(organize::create_submit).layer(uploads))
        .route("/tasks/{slug}/manage", get(organize::manage_page))
        .route("/tasks/{slug}/manage/schedule", post(organize::schedule_submit))
        .route("/tasks/{slug}/manage/close", post(organize::close_submit))
        .route("/tasks/{slug}/manage/reopen", post(organize::reopen_submit))
        .route("/tasks/{slug}/manage/baseline", post(organize::baseline_submit).layer(uploads))
        .route("/tasks/{slug}/manage/rescore", post(organize::rescore_submit).layer(uploads))
        .route("/tasks/{slug}/manage/teams/{team_id}", post(organize::disqualify_submit))
        .route("/tasks/{slug}/manage/submissions/{id}", post(organize::hide_submit))
        .route("/admin", get(admin::users_page))
        .route("/admin/users/{username}/roles", post(admin::role_submit))
        .route("/admin/workers", get(admin::workers_page))
        .route("/admin/audit", get(admin::audit_page))
        .route("/login", get(account::login_page).post(account::login_submit))
        .route("/signup", get(account::signup_page).post(account::signup_submit))
        .route("/logout", post(account::logout_submit))
        .route("/account/tokens", get(account::tokens_page).post(account::create_token_submit))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token_submit))
        .route("/account/sessions/{id}/revoke", post(account::revoke_session_submit))
        .route("/account/sessions/revoke-all", post(account::log_out_everywhere_submit))
        .route("/account/password", post(account::change_password_submit))
        .route("/lang/{code}", get(account::set_language))
        .route("/static/site.css", get(stylesheet))
        .route("/static/site.js", get(script))
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
            ("guide.html", include_str!("templates/guide.html")),
            ("tokens.html", include_str!("templates/tokens.html")),
            ("profile.html", include_str!("templates/profile.html")),
            ("organize.html", include_str!("templates/organize.html")),
            ("manage.html", include_str!("templates/manage.html")),
            ("admin.html", include_str!("templates/admin.html")),
            ("macros.html", include_str!("templates/macros.html")),
            ("account_profile.html", include_str!("templates/account_profile.html")),
            ("talent.html", include_str!("templates/talent.html")),
            ("shortlists.html", include_str!("templates/shortlists.html")),
            ("rankings.html", include_str!("templates/rankings.html")),
        ] {
            env.add_template(name, src).expect("templates parse");
        }
        env
    })
}

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("templates/site.css"))
}

/// The pages' script: confirmations and the task page's live submission
/// status (no inline script: the CSP allows scripts from this site only).
async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("templates/site.js"))
}

/// What every page knows: language, messages, the user, the CSRF token.
struct PageCtx {
    lang: Lang,
    user: Option<String>,
    organizer: bool,
    recruiter: bool,
    admin: bool,
    csrf: String,
    new_csrf: bool,
    path: String,
}

impl PageCtx {
    fn new(headers: &HeaderMap, user: Option<&CurrentUser>, uri: &Uri) -> Self {
        let existing = http::cookie(headers, "gaic_csrf").filter(|v| v.len() >= 20);
        let new_csrf = existing.is_none();
        let csrf = existing.unwrap_or_else(|| auth::new_token().0);
        Self {
            lang: i18n::pick(headers),
            user: user.map(|u| u.username.clone()),
            organizer: user.is_some_and(|u| u.is_admin() || u.has_role("organizer")),
            recruiter: user.is_some_and(|u| u.is_admin() || u.has_role("recruiter")),
            admin: user.is_some_and(CurrentUser::is_admin),
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
            is_organizer => self.organizer,
            is_admin => self.admin,
            is_recruiter => self.recruiter,
            csrf => self.csrf,
            path => self.path,
        };
        let html = match env().get_template(name).and_then(|t| t.render(context! { ..base, ..extra })) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, template = name, "template failed");
                let page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Error</title></head>\
                            <body><h1>Something went wrong</h1><p>The page could not be shown. \
                            <a href=\"/\">Back to the challenges</a></p></body></html>";
                return (StatusCode::INTERNAL_SERVER_ERROR, Html(page)).into_response();
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
    http::cookie(headers, "gaic_csrf").is_some_and(|c| !form_token.is_empty() && c == form_token)
}

fn csrf_refused() -> Response {
    let msg = "the form expired or did not come from this site (CSRF check); reload the page and try again";
    (StatusCode::FORBIDDEN, msg).into_response()
}

/// A posted form (URL-encoded) from a signed-in user whose CSRF token
/// matched: the guard every state-changing page action shares. Without a
/// session it redirects to the login page; with a bad token it answers 403.
struct Posted<T> {
    me: CurrentUser,
    page: PageCtx,
    form: T,
}

#[derive(Debug, Default, Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// The signed-in user behind a form post, or the response that refuses it,
/// found before the body is read: without a session it redirects to the
/// login page.
async fn poster(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<CurrentUser, Response> {
    let viewer = MaybeUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
    viewer.0.ok_or_else(to_login)
}

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let me = poster(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "the form is larger than 1 MiB").into_response())?;
        let token: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        if !csrf_ok(&parts.headers, &token.csrf) {
            return Err(csrf_refused());
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("malformed form: {e}")).into_response())?;
        let page = PageCtx::new(&parts.headers, Some(&me), &parts.uri);
        Ok(Self { me, page, form })
    }
}

/// A posted multipart form (file uploads), guarded like [`Posted`] but
/// before any file is read: the session first (and the account's upload
/// quota), then the CSRF token, which must come before any other field (the
/// pages put it first); a field ahead of it is refused unread. A file part is
/// received into a spool file (the route's body limit bounds it); a text
/// field is read into memory up to [`MAX_TEXT_FIELD`].
struct PostedFiles {
    me: CurrentUser,
    page: PageCtx,
    fields: HashMap<String, Upload>,
}

/// The most bytes a text field of a file form may take.
const MAX_TEXT_FIELD: usize = 64 << 10;

/// One multipart field: a file part (it has a file name, maybe empty) or
/// a text field.
enum Upload {
    File { file_name: String, file: crate::blobs::Spooled },
    Text(String),
}

/// The trimmed text of field `name` of a form (empty if absent or a file).
fn field_text(fields: &HashMap<String, Upload>, name: &str) -> String {
    match fields.get(name) {
        Some(Upload::Text(text)) => text.trim().to_owned(),
        _ => String::new(),
    }
}

/// The text fields a form sent before its first file, for a gate that
/// refuses before the file is read.
struct FieldsSoFar<'a>(&'a HashMap<String, Upload>);

impl FieldsSoFar<'_> {
    fn text(&self, name: &str) -> String {
        field_text(self.0, name)
    }
}

impl PostedFiles {
    fn text(&self, name: &str) -> String {
        field_text(&self.fields, name)
    }

    /// A chosen file and its name: browsers send an empty, nameless part
    /// when none was chosen.
    fn file(&self, name: &str) -> Option<(&str, &crate::blobs::Spooled)> {
        match self.fields.get(name) {
            Some(Upload::File { file_name, file }) if !file_name.is_empty() || !file.is_empty() => {
                Some((file_name.as_str(), file))
            }
            _ => None,
        }
    }

    /// A chosen file's content, read into memory (organizers' forms).
    async fn file_bytes(&self, name: &str) -> Result<Option<Bytes>, AppError> {
        let Some((_, file)) = self.file(name) else { return Ok(None) };
        file.bytes().await.map(Some).map_err(|e| AppError::Internal(e.into()))
    }
}

impl FromRequest<AppState> for PostedFiles {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (posted, _) =
            Self::read(req, state, async |_: &CurrentUser, _: &PageCtx, _: FieldsSoFar<'_>| Ok(())).await?;
        Ok(posted)
    }
}

impl PostedFiles {
    /// Reads the form, with `before_file` run once at its first file part,
    /// before a byte of that part is read, given the fields sent before it:
    /// what it refuses (a [`Response`]) is answered with the rest of the
    /// body unread. Its value comes back with the form (`None`: the form had
    /// no file part).
    async fn read<T>(
        req: Request,
        state: &AppState,
        before_file: impl AsyncFnOnce(&CurrentUser, &PageCtx, FieldsSoFar<'_>) -> Result<T, Response>,
    ) -> Result<(Self, Option<T>), Response> {
        let (mut parts, body) = req.into_parts();
        let me = poster(&mut parts, state).await?;
        state.limits.account(crate::limits::Class::Upload, me.user_id).map_err(IntoResponse::into_response)?;
        let page = PageCtx::new(&parts.headers, Some(&me), &parts.uri);
        let req = Request::from_parts(parts.clone(), body);
        let mut form = axum::extract::Multipart::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let mut fields = HashMap::new();
        let mut checked = false;
        let (mut gate, mut passed) = (Some(before_file), None);
        // Refused while reading (a field too long, the spool full, a broken
        // body): the message page in the viewer's language, not JSON.
        let refused = |e: AppError| refused_before_handler(&parts.headers, &parts.uri, &e);
        let fail = |e: axum::extract::multipart::MultipartError| refused(AppError::from(e));
        while let Some(field) = form.next_field().await.map_err(fail)? {
            let Some(name) = field.name().map(str::to_owned) else { continue };
            if name == "csrf" && !checked {
                let token = field.text().await.map_err(fail)?;
                if !csrf_ok(&parts.headers, &token) {
                    return Err(csrf_refused());
                }
                checked = true;
                continue;
            }
            if !checked {
                return Err(csrf_refused());
            }
            let upload = match field.file_name() {
                Some(file_name) => {
                    if let Some(gate) = gate.take() {
                        passed = Some(gate(&me, &page, FieldsSoFar(&fields)).await?);
                    }
                    let file_name = file_name.chars().take(200).collect();
                    let file = crate::http::spool_field(field, &state.blobs).await.map_err(refused)?;
                    Upload::File { file_name, file }
                }
                None => {
                    let too_long = || AppError::BadRequest(format!("the form field {name:?} is too long").into());
                    let text = crate::http::text_field(field, MAX_TEXT_FIELD, too_long).await;
                    Upload::Text(text.map_err(refused)?)
                }
            };
            fields.insert(name, upload);
        }
        if !checked {
            return Err(csrf_refused());
        }
        Ok((Self { me, page, fields }, passed))
    }
}

/// The signed-in viewer of a page that needs one (anyone else is sent to
/// the login page), with the page context.
struct SignedIn {
    me: CurrentUser,
    page: PageCtx,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        let viewer = MaybeUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let me = viewer.0.ok_or_else(to_login)?;
        let page = PageCtx::new(&parts.headers, Some(&me), &parts.uri);
        Ok(Self { me, page })
    }
}

/// Where a page that needs a signed-in viewer sends anyone else.
fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

/// A refused action's page: the error's status and its message (with every
/// problem listed), for errors a user can act on; others stay errors.
fn refused(page: &PageCtx, heading: &str, back: &str, e: AppError) -> Result<Response, AppError> {
    let status = e.status();
    if !status.is_client_error() {
        return Err(e);
    }
    let problems: Vec<Value> = match &e {
        AppError::Invalid { details, .. } => details
            .iter()
            .map(|p| context! { file => p.file, field => p.field, message => p.message.render(page.lang) })
            .collect(),
        _ => Vec::new(),
    };
    Ok(page.render(
        status,
        "message.html",
        context! { heading => heading, message => e.render(page.lang), problems => problems, back => back },
    ))
}

/// A page route's refusal made before its handler ran (a rate limit, a
/// body declared too large): the message page in the viewer's language
/// with the error's status, and `Retry-After` for a rate limit, where the
/// API answers with the JSON body.
pub fn refused_before_handler(headers: &HeaderMap, uri: &Uri, e: &AppError) -> Response {
    let page = PageCtx::new(headers, None, uri);
    let back = if local_path(&page.path) { page.path.clone() } else { "/".to_owned() };
    let status = e.status();
    let (heading, message, retry) = match e {
        AppError::RateLimited { retry_after_s, .. } => {
            let wait = page.t("try_again_in").replace("{wait}", &retry_after_s.to_string());
            (page.t("too_many_requests"), wait, Some(*retry_after_s))
        }
        other => (page.t("request_refused"), other.render(page.lang), None),
    };
    let mut res =
        page.render(status, "message.html", context! { heading => heading, message => message, back => back });
    if let Some(s) = retry {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    res
}

/// A rating or a number of points as people read it: rounded to a whole
/// number, with thousands separators.
fn whole(x: f64) -> String {
    grouped(x.round() as i64)
}

/// An integer with thousands separators (the same in English and Korean).
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A moment for people reading `lang`: UTC on English pages (the browser
/// adds the viewer's local time beside it, see `site.js`); Korean
/// Standard Time first on Korean pages, with UTC beside it.
fn when(ms: i64, lang: Lang) -> String {
    let Some(d) = chrono::DateTime::from_timestamp_millis(ms) else { return String::new() };
    match lang {
        Lang::En => d.format("%Y-%m-%d %H:%M UTC").to_string(),
        Lang::Ko => {
            let kst = d.with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset"));
            format!("{} KST ({} UTC)", kst.format("%Y-%m-%d %H:%M"), d.format("%H:%M"))
        }
    }
}

/// [`when`] of an RFC 3339 time from a domain view (empty for none).
fn when_text(rfc3339: Option<&str>, lang: Lang) -> String {
    rfc3339
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(String::new, |d| when(d.timestamp_millis(), lang))
}

/// Markdown to HTML with raw HTML neutralised (shown as text). A leading
/// `# Title` line is dropped: the page shows the title already.
fn markdown(src: &str) -> String {
    let src = match src.trim_start().strip_prefix("# ") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => src,
    };
    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};
    let parser = Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        // Links only to the web, mail or this site; images from the web or
        // this site: never `javascript:` or `data:`.
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest_url = if safe_url(&dest_url, &["http", "https", "mailto"]) { dest_url } else { CowStr::from("#") };
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            let dest_url = if safe_url(&dest_url, &["http", "https"]) { dest_url } else { CowStr::from("#") };
            Event::Start(Tag::Image { link_type, dest_url, title, id })
        }
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// Whether `url` is relative or uses one of `schemes`. A browser drops
/// tabs and newlines and ignores case and leading spaces when it reads a
/// scheme, so this does too.
fn safe_url(url: &str, schemes: &[&str]) -> bool {
    let url: String =
        url.trim_start_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    match url.find([':', '/', '?', '#']) {
        Some(i) if url.as_bytes()[i] == b':' => schemes.iter().any(|s| url[..i].eq_ignore_ascii_case(s)),
        _ => true,
    }
}

/// Whether `back` is a path on this site, safe to redirect to: one leading
/// slash, not two, and no backslash or control character (browsers read
/// `/\\host` as `//host`).
pub(crate) fn local_path(back: &str) -> bool {
    back.starts_with('/') && !back.starts_with("//") && !back.chars().any(|c| c == '\\' || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn statement_links_and_images_keep_only_safe_schemes() {
        assert!(!super::safe_url(" java\tscript:alert(1)", &["http"]) && super::safe_url("a:b/c", &["a"]));
        for bad in ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "vbscript:x"] {
            let html = markdown(&format!("[Data]({bad}) ![img]({bad})"));
            assert!(!html.to_lowercase().contains("script:") && !html.contains("data:"), "{bad}: {html}");
            assert!(html.contains("href=\"#\"") && html.contains("src=\"#\""), "{html}");
        }
        let html =
            markdown("[a](https://example.org/x) [b](mailto:me@example.org) [c](/tasks/digits) [d](data.csv#cols)");
        for keep in ["https://example.org/x", "mailto:me@example.org", "/tasks/digits", "data.csv#cols"] {
            assert!(html.contains(&format!("href=\"{keep}\"")), "{keep}: {html}");
        }
        assert!(markdown("![x](data:image/png;base64,AAAA)").contains("src=\"#\""));
    }

    #[test]
    fn only_local_paths_are_redirect_targets() {
        for good in ["/", "/tasks/digits?tab=team", "/a/b#c"] {
            assert!(super::local_path(good), "{good}");
        }
        for bad in ["//evil.example", "/\\evil.example", "/%5Cok-but\\not", "https://evil.example", "evil", "/\tx", ""]
        {
            assert!(!super::local_path(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(super::grouped(2_850_000), "2,850,000");
        assert_eq!(super::grouped(-1234), "-1,234");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::whole(43_028.0), "43,028");
        assert_eq!(super::whole(1_572.6), "1,573");
    }

    #[test]
    fn statements_drop_their_title_and_never_pass_raw_html() {
        let html = markdown("# Digits\n\nSome **text**.\n\n<script>alert(1)</script>\n");
        assert!(!html.contains("<h1>"), "{html}");
        assert!(html.contains("<strong>text</strong>"));
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
        assert!(markdown("No title here").contains("No title here"));
    }
}
