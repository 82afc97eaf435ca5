//! The one error type of the rules, and the problems found in an input.
//!
//! Domain functions return [`AppError`]: what went wrong in the rules' own
//! terms (not found, not allowed, conflicts with the current state, invalid
//! input with every [`Problem`] listed, over a limit, try later), each with a
//! [`Msg`] that renders in English or Korean. The HTTP adapters (`http`) map
//! a kind to a status and a JSON body; the pages render the message in the
//! reader's language. Internal errors carry their cause for the log only:
//! nothing internal (paths, SQL, hidden data) reaches a reader.

use serde::Serialize;
use utoipa::ToSchema;

use crate::messages::{Lang, Msg};
use crate::msg;

/// One problem found in a piece of input, e.g. a field of `task.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// The file the problem is in, relative to the bundle root (may be empty).
    pub file: String,
    /// The field, column or row the problem is about (may be empty).
    pub field: String,
    /// What is wrong, in words (English in the API).
    #[schema(value_type = String)]
    pub message: Msg,
}

impl Problem {
    /// A problem in `file` about `field`.
    pub fn new(file: impl Into<String>, field: impl Into<String>, message: impl Into<Msg>) -> Self {
        Self { file: file.into(), field: field.into(), message: message.into() }
    }

    /// The problem in `lang`, with its place.
    pub fn render(&self, lang: Lang) -> String {
        let message = self.message.render(lang);
        match (self.file.is_empty(), self.field.is_empty()) {
            (true, true) => message,
            (false, true) => format!("{}: {message}", self.file),
            (true, false) => format!("{}: {message}", self.field),
            (false, false) => format!("{} [{}]: {message}", self.file, self.field),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// Every way a rule can refuse, or the platform can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed (bad JSON, bad query, bad multipart).
    #[error("{0}")]
    BadRequest(Msg),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(Msg),
    /// Authenticated but not allowed.
    #[error("{0}")]
    Forbidden(Msg),
    /// The named thing does not exist (or is not visible to the caller).
    #[error("{}", not_found(.0))]
    NotFound(&'static str),
    /// Conflicts with existing state (duplicate username, slug, ...).
    #[error("{0}")]
    Conflict(Msg),
    /// The input is over a size limit.
    #[error("{0}")]
    PayloadTooLarge(Msg),
    /// Well-formed but invalid; `details` lists every problem found.
    #[error("{message}")]
    Invalid {
        /// Stable machine-readable code, e.g. `invalid_bundle`.
        code: &'static str,
        /// A summary sentence.
        message: Msg,
        /// Each problem found.
        details: Vec<Problem>,
    },
    /// Too many attempts; the message says when to retry.
    #[error("{0}")]
    TooManyRequests(Msg),
    /// Over a rate limit; retry after `retry_after_s` seconds.
    #[error("{message}")]
    RateLimited {
        /// What was limited and when to retry, in words.
        message: Msg,
        /// Seconds until a retry can pass (the `Retry-After` header).
        retry_after_s: u64,
    },
    /// A dependency (the database) is unavailable.
    #[error("{0}")]
    Unavailable(Msg),
    /// Anything else. Logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn not_found(thing: &'static str) -> Msg {
    match crate::messages::catalog_key(&format!("thing.{thing}")) {
        Some(key) => Msg::Key("not_found", vec![("thing", Msg::Key(key, Vec::new()))]),
        None => Msg::Text(format!("{thing} not found")),
    }
}

impl AppError {
    /// An invalid input with a single message.
    pub fn invalid(code: &'static str, message: impl Into<Msg>) -> Self {
        Self::Invalid { code, message: message.into(), details: Vec::new() }
    }

    /// A failure of the blob store: the store not answering is a 503 (try
    /// again; nothing was stored), a blob missing from it is internal.
    pub fn store(err: anyhow::Error) -> Self {
        let missing = err
            .chain()
            .any(|e| matches!(e.downcast_ref::<object_store::Error>(), Some(object_store::Error::NotFound { .. })));
        if missing {
            return Self::Internal(err);
        }
        tracing::warn!(error = format!("{err:#}"), "the blob store failed");
        Self::Unavailable(msg!("store_unavailable"))
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Invalid { code, .. } => code,
            Self::TooManyRequests(_) => "too_many_requests",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The message in `lang` (a generic one for internal errors).
    pub fn render(&self, lang: Lang) -> String {
        match self {
            Self::BadRequest(m)
            | Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::Conflict(m)
            | Self::PayloadTooLarge(m)
            | Self::TooManyRequests(m)
            | Self::Unavailable(m) => m.render(lang),
            Self::Invalid { message, .. } | Self::RateLimited { message, .. } => message.render(lang),
            Self::NotFound(thing) => not_found(thing).render(lang),
            Self::Internal(_) => msg!("internal").render(lang),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Self::NotFound("record"),
            sqlx::Error::Database(e) if e.is_unique_violation() => Self::Conflict(msg!("already_exists")),
            sqlx::Error::PoolTimedOut => Self::Unavailable(msg!("db_busy")),
            other => Self::Internal(other.into()),
        }
    }
}

/// Shorthand for results of the rules.
pub type AppResult<T> = Result<T, AppError>;
