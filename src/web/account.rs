//! Accounts in the browser: sign up, log in and out, API tokens, language.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{CsrfField, PageCtx, Posted, SignedIn, csrf_ok, csrf_refused, when_text};
use crate::auth::{self, CurrentUser};
use crate::db;
use crate::error::AppError;
use crate::http::{self, AppPath, MaybeUser};
use crate::limits::Client;
use crate::state::AppState;
use crate::web::i18n::Lang;

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

pub(super) async fn login_page(viewer: MaybeUser, headers: HeaderMap, uri: Uri) -> Response {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    form_page(&page, StatusCode::OK, page.t("nav_login"), "/login", page.t("submit_login"), &login_fields(""), None)
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

pub(super) async fn login_submit(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<LoginForm>,
) -> Response {
    if !csrf_ok(&headers, &f.csrf) {
        return csrf_refused();
    }
    let page = PageCtx::new(&headers, None, &uri);
    let creds =
        crate::accounts::Credentials { username: f.username.clone(), password: f.password, ..Default::default() };
    match crate::accounts::check_credentials(&state, &creds, client).await {
        Ok(user) => {
            let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("browser");
            match crate::accounts::new_session(&state, user.user_id, agent)
                .await
                .map(|t| crate::http::new_session_cookie(&t))
            {
                Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(AppError::RateLimited { message: m, .. }) => form_page(
            &page,
            StatusCode::TOO_MANY_REQUESTS,
            page.t("nav_login"),
            "/login",
            page.t("submit_login"),
            &login_fields(&f.username),
            Some(&m.render(page.lang)),
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
        Field {
            name: "age_14_or_older",
            label: "age_14_or_older",
            kind: "checkbox",
            value: f.age_14_or_older.clone(),
            error: e("age_14_or_older"),
            autocomplete: "off",
        },
        Field {
            name: "birth_year",
            label: "birth_year_instead",
            kind: "text",
            value: f.birth_year.clone(),
            error: e("birth_year"),
            autocomplete: "bday-year",
        },
    ]
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SignupForm {
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
    #[serde(default)]
    age_14_or_older: String,
    #[serde(default)]
    birth_year: String,
}

pub(super) async fn signup_page(viewer: MaybeUser, headers: HeaderMap, uri: Uri) -> Response {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    let fields = signup_fields(&SignupForm::default(), &HashMap::new());
    form_page(&page, StatusCode::OK, page.t("nav_signup"), "/signup", page.t("submit_signup"), &fields, None)
}

pub(super) async fn signup_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<SignupForm>,
) -> Response {
    if !csrf_ok(&headers, &f.csrf) {
        return csrf_refused();
    }
    let page = PageCtx::new(&headers, None, &uri);
    let req = crate::accounts::RegisterRequest {
        username: f.username.clone(),
        email: f.email.clone(),
        password: f.password.clone(),
        country: f.country.clone(),
        display_name: Some(f.display_name.clone()).filter(|d| !d.trim().is_empty()),
        age_14_or_older: f.age_14_or_older == "yes",
        // A year that is not a number is out of range: the same message.
        birth_year: match f.birth_year.trim() {
            "" => None,
            y => Some(y.parse().unwrap_or(0)),
        },
    };
    match crate::accounts::create_account(&state, req).await {
        Ok(user) => {
            let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("browser");
            match crate::accounts::new_session(&state, user.user_id, agent)
                .await
                .map(|t| crate::http::new_session_cookie(&t))
            {
                Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(AppError::Invalid { details, .. }) => {
            let errors = details.into_iter().map(|d| (d.field, d.message.render(page.lang))).collect();
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
            Some(&m.render(page.lang)),
        ),
        Err(e) => e.into_response(),
    }
}

pub(super) async fn logout_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CsrfField>,
) -> Response {
    if !csrf_ok(&headers, &f.csrf) {
        return csrf_refused();
    }
    if let Some(token) = http::presented_token(&headers) {
        let _ = crate::db::tokens::revoke_by_hash(&state.db.pool, &auth::token_hash(&token), db::now_ms()).await;
    }
    ([(header::SET_COOKIE, crate::http::session_cookie("", 0))], Redirect::to("/")).into_response()
}

async fn render_tokens(
    state: &AppState,
    page: &PageCtx,
    me: &CurrentUser,
    new_token: Option<String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let rows = crate::accounts::list_tokens(state, me).await?;
    let tokens: Vec<Value> = rows
        .into_iter()
        .map(|k| {
            context! {
                id => k.id, name => k.name, created => when_text(Some(&k.created_at), page.lang),
                last_used => when_text(k.last_used_at.as_deref(), page.lang), expires => when_text(k.expires_at.as_deref(), page.lang),
                read_only => k.scope == crate::accounts::TokenScope::Read, revoked => k.revoked_at.is_some(),
            }
        })
        .collect();
    let sessions: Vec<Value> = crate::accounts::list_sessions(state, me)
        .await?
        .into_iter()
        .map(|s| {
            context! {
                id => s.id, agent => s.agent, current => s.current,
                created => when_text(Some(&s.created_at), page.lang), last_used => when_text(s.last_used_at.as_deref(), page.lang),
            }
        })
        .collect();
    let ctx = context! { tokens => tokens, sessions => sessions, new_token => new_token, notice => notice };
    Ok(page.render(StatusCode::OK, "tokens.html", ctx))
}

/// The caller's sign-in security: API tokens (create, shown once; revoke),
/// web sessions (end one, or all), and the password change.
pub(super) async fn tokens_page(
    State(state): State<AppState>,
    SignedIn { me, page }: SignedIn,
) -> Result<Response, AppError> {
    render_tokens(&state, &page, &me, None, None).await
}

#[derive(Debug, Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires_in_days: String,
}

pub(super) async fn create_token_submit(
    State(state): State<AppState>,
    Posted { me, page, form: f }: Posted<TokenForm>,
) -> Result<Response, AppError> {
    let name: String = f.name.trim().chars().take(100).collect();
    let expires_in_days = match f.expires_in_days.trim() {
        "" => None,
        d => Some(d.parse().map_err(|_| AppError::invalid("invalid_token_expiry", crate::msg!("token_expiry_range")))?),
    };
    let scope = if f.scope == "read" { crate::accounts::TokenScope::Read } else { crate::accounts::TokenScope::Write };
    let req = crate::accounts::TokenRequest { name: &name, fallback: "web", scope, expires_in_days };
    let (_, _, token, _) = crate::accounts::issue_token(&state, me.user_id, &req).await?;
    render_tokens(&state, &page, &me, Some(token), None).await
}

pub(super) async fn revoke_token_submit(
    State(state): State<AppState>,
    AppPath(id): AppPath<i64>,
    Posted { me, .. }: Posted<CsrfField>,
) -> Result<Response, AppError> {
    match crate::accounts::revoke_token(&state, &me, id).await {
        Ok(()) | Err(AppError::NotFound(_)) => Ok(Redirect::to("/account/tokens").into_response()),
        Err(e) => Err(e),
    }
}

pub(super) async fn revoke_session_submit(
    State(state): State<AppState>,
    AppPath(id): AppPath<i64>,
    Posted { me, .. }: Posted<CsrfField>,
) -> Result<Response, AppError> {
    match crate::accounts::revoke_session(&state, &me, id).await {
        Ok(()) | Err(AppError::NotFound(_)) => Ok(Redirect::to("/account/tokens").into_response()),
        Err(e) => Err(e),
    }
}

pub(super) async fn log_out_everywhere_submit(
    State(state): State<AppState>,
    Posted { me, .. }: Posted<CsrfField>,
) -> Result<Response, AppError> {
    crate::accounts::log_out_everywhere(&state, &me).await?;
    Ok(([(header::SET_COOKIE, crate::http::session_cookie("", 0))], Redirect::to("/")).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub(super) async fn change_password_submit(
    State(state): State<AppState>,
    client: Client,
    Posted { me, page, form }: Posted<PasswordForm>,
) -> Result<Response, AppError> {
    let change =
        crate::accounts::PasswordChange { current_password: form.current_password, new_password: form.new_password };
    let notice = match crate::accounts::change_password(&state, &me, &change, client).await {
        Ok(ended) => page.t("password_changed").replace("{n}", &ended.to_string()),
        Err(e @ (AppError::Forbidden(_) | AppError::Invalid { .. } | AppError::RateLimited { .. })) => {
            e.render(page.lang)
        }
        Err(e) => return Err(e),
    };
    render_tokens(&state, &page, &me, None, Some(notice)).await
}

#[derive(Debug, Deserialize)]
pub(super) struct Back {
    back: Option<String>,
}

pub(super) async fn set_language(AppPath(code): AppPath<String>, Query(b): Query<Back>) -> Response {
    let lang = Lang::from_code(&code).unwrap_or(Lang::En);
    // Only local paths: never an open redirect.
    let back = b.back.filter(|p| super::local_path(p)).unwrap_or_else(|| "/".into());
    let cookie = format!("gaic_lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}
