//! The one error type at the HTTP boundary.
//!
//! Handlers return `Result<_, AppError>`; every variant becomes a JSON body
//! `{"error":{"code":"…","message":"…"}}` with the matching status, plus an
//! optional `details` list (bundle problems, CSV rows). Internal errors are
//! logged once with their chain and reach the client only as a generic
//! message, so nothing internal (paths, SQL, hidden data) leaks.

use axum::Json;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One problem found in a piece of input, e.g. a field of `task.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// The file the problem is in, relative to the bundle root (may be empty).
    pub file: String,
    /// The field, column or row the problem is about (may be empty).
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl Problem {
    /// A problem in `file` about `field`.
    pub fn new(file: impl Into<String>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { file: file.into(), field: field.into(), message: message.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.file.is_empty(), self.field.is_empty()) {
            (true, true) => write!(f, "{}", self.message),
            (false, true) => write!(f, "{}: {}", self.file, self.message),
            (true, false) => write!(f, "{}: {}", self.field, self.message),
            (false, false) => write!(f, "{} [{}]: {}", self.file, self.field, self.message),
        }
    }
}

/// Every error a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed (bad JSON, bad query, bad multipart).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the named thing does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: conflicts with existing state (duplicate username, slug, ...).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is over a limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422: well-formed but invalid; `details` lists every problem found.
    #[error("{message}")]
    Invalid {
        /// Stable machine-readable code, e.g. `invalid_bundle`.
        code: &'static str,
        /// A summary sentence.
        message: String,
        /// Each problem found.
        details: Vec<Problem>,
    },
    /// 429: too many requests; the message says when to retry.
    #[error("{0}")]
    TooManyRequests(String),
    /// 503: a dependency (the database) is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else. Logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A 422 with a single problem.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { code, message: message.into(), details: Vec::new() }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Invalid { code, .. } => code,
            Self::TooManyRequests(_) => "too_many_requests",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
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
                error_response(status, code, "internal server error".into(), Vec::new())
            }
            Self::Invalid { message, details, .. } => error_response(status, code, message, details),
            other => error_response(status, code, other.to_string(), Vec::new()),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Self::NotFound("record"),
            sqlx::Error::Database(e) if e.is_unique_violation() => Self::Conflict("already exists".into()),
            sqlx::Error::PoolTimedOut => Self::Unavailable("the database is busy; try again".into()),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rej: JsonRejection) -> Self {
        match rej {
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge("the JSON body is over the 1 MiB limit".into())
            }
            JsonRejection::JsonDataError(e) => Self::invalid("invalid_json", e.body_text()),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rej: QueryRejection) -> Self {
        Self::BadRequest(rej.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rej: PathRejection) -> Self {
        Self::BadRequest(rej.body_text())
    }
}

impl From<MultipartError> for AppError {
    fn from(err: MultipartError) -> Self {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge(format!("the upload is over the size limit: {}", err.body_text()))
        } else {
            Self::BadRequest(format!("malformed multipart body: {}", err.body_text()))
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

/// `Query` with our error format for rejections.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

/// `Path` with our error format for rejections.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;
