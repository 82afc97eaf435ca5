//! The HTTP edge shared by the JSON API and the pages: how an [`AppError`]
//! becomes a status and a JSON body, extractors whose rejections use that
//! body, and who is asking ([`CurrentUser`] from a bearer token or the
//! session cookie). Nothing below the adapters imports this module.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{self, CurrentUser, SESSION_COOKIE};
use crate::error::{AppError, Problem};
use crate::limits::{Class, Client};
use crate::messages::Lang;
use crate::msg;
use crate::state::AppState;

/// Largest JSON body accepted anywhere.
pub const JSON_LIMIT: usize = 1 << 20;

/// The HTTP status of an error.
pub trait ErrorStatus {
    /// The status this error answers with.
    fn status(&self) -> StatusCode;
}

impl ErrorStatus for AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) | Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// `code`, `message` and, for 422s, `details`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`not_found`, `invalid_bundle`, ...).
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Every problem found, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Problem>,
}

/// Builds an error response from parts; used by the fallbacks too.
pub fn error_response(status: StatusCode, code: &str, message: String, details: Vec<Problem>) -> Response {
    let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message, details } };
    (status, Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        match self {
            Self::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                error_response(status, code, msg!("internal").to_string(), Vec::new())
            }
            Self::Invalid { message, details, .. } => error_response(status, code, message.to_string(), details),
            Self::RateLimited { message, retry_after_s } => {
                let mut res = error_response(status, code, message.to_string(), Vec::new());
                res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_s));
                res
            }
            other => error_response(status, code, other.render(Lang::En), Vec::new()),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rej: JsonRejection) -> Self {
        match rej {
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge(msg!("json_too_large"))
            }
            JsonRejection::JsonDataError(e) => Self::invalid("invalid_json", e.body_text()),
            other => Self::BadRequest(other.body_text().into()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rej: QueryRejection) -> Self {
        Self::BadRequest(rej.body_text().into())
    }
}

impl From<PathRejection> for AppError {
    fn from(rej: PathRejection) -> Self {
        Self::BadRequest(rej.body_text().into())
    }
}

impl From<MultipartError> for AppError {
    fn from(err: MultipartError) -> Self {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge(msg!("upload_too_large", detail = err.body_text()))
        } else {
            Self::BadRequest(msg!("bad_multipart", detail = err.body_text()))
        }
    }
}

/// `Json` with our error format for rejections.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `Multipart` with our error format for rejections (a missing or invalid
/// boundary is a JSON 400, not axum's plain text).
pub struct AppMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> axum::extract::FromRequest<S> for AppMultipart {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Self)
            .map_err(|e| AppError::BadRequest(msg!("bad_multipart", detail = e.body_text())))
    }
}

/// Receives a multipart field into a spool file of `blobs`, a chunk at a
/// time: an upload's size costs disk, not memory. A body over the route's
/// limit stops the read with a 413; a spool whose budget the uploads in
/// flight already hold, or a failing disk, with a 503 (nothing is kept).
pub async fn spool_field(
    mut field: axum::extract::multipart::Field<'_>,
    blobs: &crate::blobs::Blobs,
) -> Result<crate::blobs::Spooled, AppError> {
    let spool_failed = |e: crate::blobs::SpoolError| match e {
        crate::blobs::SpoolError::Full => {
            metrics::counter!("gaic_uploads_refused_spool_full_total").increment(1);
            AppError::Unavailable(msg!("uploads_busy"))
        }
        crate::blobs::SpoolError::Io(e) => {
            tracing::warn!(error = %e, "could not spool an upload");
            AppError::Unavailable(msg!("store_unavailable"))
        }
    };
    let mut spool = blobs.spool().await.map_err(|e| spool_failed(e.into()))?;
    while let Some(chunk) = field.chunk().await? {
        spool.write(&chunk).await.map_err(spool_failed)?;
    }
    spool.finish().await.map_err(|e| spool_failed(e.into()))
}

/// Reads a text field of at most `max` bytes; a longer one is `too_long()`,
/// read no further.
pub async fn text_field(
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
    too_long: impl Fn() -> AppError,
) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if bytes.len() + chunk.len() > max {
            return Err(too_long());
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| AppError::BadRequest(msg!("bad_multipart", detail = "a text field is not UTF-8")))
}

/// `Query` with our error format for rejections.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

/// `Path` with our error format for rejections.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);

/// The bearer token or session cookie a request presents, if any.
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The caller, if a token or session is presented. A request that changes
/// something is refused (403) when it comes with a read-only token, or to
/// the API with the session cookie but without the `X-CSRF-Token` header
/// matching the `gaic_csrf` cookie (the pages' forms carry their own token).
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<CurrentUser>, AppError> {
    let Some(token) = presented_token(&parts.headers) else { return Ok(None) };
    let user = auth::authenticate(&state.db, &token).await?;
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && user.read_only {
        return Err(AppError::Forbidden(msg!("token_read_only")));
    }
    let by_cookie = !parts.headers.contains_key(header::AUTHORIZATION);
    // Inside the nested `/api/v1` router the URI has lost its prefix.
    let path = parts.extensions.get::<axum::extract::OriginalUri>().map_or(parts.uri.path(), |o| o.0.path());
    if !safe && by_cookie && path.starts_with("/api/") {
        let header = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if header.is_empty() || cookie(&parts.headers, "gaic_csrf").as_deref() != Some(header) {
            return Err(AppError::Forbidden(msg!("csrf_header_needed")));
        }
    }
    Ok(Some(user))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await?.ok_or_else(|| AppError::Unauthorized(msg!("log_in_first")))
    }
}

/// The caller if authenticated, `None` if anonymous. A bad token is still a 401.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(authenticate(parts, state).await?))
    }
}

/// Who is asking, by network address: the connection's peer or, behind a
/// trusted reverse proxy, the last `X-Forwarded-For` entry (the one the
/// proxy appended; earlier ones are the client's own say). Unknown when the
/// server was started without the peer address (some tests).
pub fn client_of(headers: &HeaderMap, extensions: &axum::http::Extensions, trust_forwarded_for: bool) -> Client {
    if trust_forwarded_for {
        let last = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|a| a.trim().parse::<std::net::IpAddr>().ok());
        if let Some(addr) = last {
            return Client::new(addr);
        }
    }
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(Client::unknown, |c| Client::new(c.0.ip()))
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(client_of(&parts.headers, &parts.extensions, state.settings.trust_forwarded_for))
    }
}

/// The rate-limited class of a request, by its method and route.
fn limited_class(method: &Method, route: &str) -> Option<Class> {
    if method == Method::GET {
        return route.ends_with("/events").then_some(Class::Events);
    }
    if method != Method::POST {
        return None;
    }
    match route {
        "/api/v1/users" | "/signup" => Some(Class::Signup),
        "/api/v1/session" | "/login" => Some(Class::Login),
        "/api/v1/tokens" | "/account/tokens" => Some(Class::Token),
        "/api/v1/tasks/{slug}/submissions" | "/tasks/{slug}/submit" | "/api/v1/tasks" | "/organize/new" => {
            Some(Class::Upload)
        }
        _ => None,
    }
}

/// Why a request is refused before its body is read, if it is: a
/// declared length over the largest body any route takes (413), or its
/// client address over the quota for what it starts (429 with
/// `Retry-After`). `server` answers it as JSON or as a page.
pub fn refused_early(state: &AppState, req: &axum::extract::Request) -> Option<AppError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let largest = state.settings.max_upload_bytes.max(JSON_LIMIT) as u64;
    if declared.is_some_and(|n| n > largest) {
        return Some(AppError::PayloadTooLarge(msg!("upload_too_large", detail = format!("over {largest} bytes"))));
    }
    let route = req.extensions().get::<axum::extract::MatchedPath>();
    let class = route.and_then(|r| limited_class(req.method(), r.as_str()))?;
    let client = client_of(req.headers(), req.extensions(), state.settings.trust_forwarded_for);
    let refused = state.limits.client(class, client).err()?;
    tracing::info!(%client, class = class.name(), "rate limited");
    Some(refused)
}

/// A `gaic_session` cookie (an empty value with max-age 0 clears it).
pub fn session_cookie(value: &str, max_age_secs: u64) -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}"
    ))
    .expect("cookie characters are valid")
}

/// The `Set-Cookie` value of a new session's token.
pub fn new_session_cookie(token: &str) -> axum::http::HeaderValue {
    session_cookie(token, crate::auth::SESSION_TTL.as_secs())
}

/// The Content-Security-Policy of every response: scripts, styles, images,
/// fetches and forms from this site only (inline styles allowed for the
/// charts; no inline script), never framed; browsers report what it
/// blocked to `/csp-reports`.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'; report-uri /csp-reports";

/// Adds the security headers to every page and API response (those a
/// handler set stay): the CSP, frame denial, no MIME sniffing, a
/// same-origin referrer; and behind an `https` public URL, HSTS and the
/// `Secure` flag on every cookie set.
pub async fn security_headers(
    axum::extract::State(https): axum::extract::State<bool>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::HeaderValue;
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    if https {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
        let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
        h.remove(header::SET_COOKIE);
        for c in cookies {
            let secure = c.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("; secure"));
            let c = if secure { Some(c) } else { HeaderValue::from_bytes(&[c.as_bytes(), b"; Secure"].concat()).ok() };
            h.extend(c.map(|c| (header::SET_COOKIE, c)));
        }
    }
    res
}

/// A free-text cell of a CSV export (a name, a note, skills) that a
/// spreadsheet will not run: a cell starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'` (OWASP's advice). Numbers are
/// written as they are, by their callers.
pub fn csv_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_text_cells_never_start_a_formula() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("ann", "ann"),
            ("김", "김"),
        ] {
            assert_eq!(super::csv_text(cell), want);
        }
    }
}
