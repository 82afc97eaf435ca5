//! The store: one `sqlx::AnyPool` over SQLite (the embedded default) or
//! PostgreSQL (for many replicas).
//!
//! Queries are runtime-checked, portable SQL with `$1`-style parameters, which
//! both drivers accept. Times are `BIGINT` milliseconds since the epoch, ids are
//! `BIGINT`, flags are nullable timestamps; that keeps every column type the
//! same on both backends. Each submodule holds the queries of one table as free
//! functions taking an executor, so callers pass the pool or a transaction.

pub mod audit;
pub mod credentials;
pub mod jobs;
pub mod privacy;
pub mod profiles;
pub mod submissions;
pub mod tasks;
pub mod teams;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod workers;

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

/// The backend driver: run-time checks pick backend-specific SQL only where
/// semantics differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (WAL mode).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl FromStr for Backend {
    type Err = anyhow::Error;

    fn from_str(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            bail!("unsupported database URL {url:?}: use sqlite:PATH or postgres://…")
        }
    }
}

/// A connected, migrated store.
#[derive(Debug, Clone)]
pub struct Db {
    /// The connection pool.
    pub pool: AnyPool,
    /// Which backend it talks to.
    pub backend: Backend,
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Connects to `url` and runs the pending migrations.
///
/// SQLite connections get WAL mode, foreign keys and a busy timeout, so
/// several writers wait for each other instead of failing at once.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let backend: Backend = url.parse()?;
    let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
    options = match backend {
        Backend::Sqlite => options.max_connections(8).after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                )
                .await?;
                Ok(())
            })
        }),
        Backend::Postgres => options.max_connections(16),
    };
    let pool = options.connect(url).await.with_context(|| format!("connecting to {}", redact_url(url)))?;
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.run(&pool).await.context("running database migrations")?;
    Ok(Db { pool, backend })
}

/// `url` with any password replaced by `***`, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A millisecond timestamp as an RFC 3339 UTC string.
pub fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Checks that the database answers; used by `/readyz`.
pub async fn ping(db: &Db) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(&db.pool).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_url_scheme() {
        assert_eq!("sqlite:gaic.db".parse::<Backend>().unwrap(), Backend::Sqlite);
        assert_eq!("postgres://u@h/db".parse::<Backend>().unwrap(), Backend::Postgres);
        assert!("mysql://u@h/db".parse::<Backend>().is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite:x.db"), "sqlite:x.db");
    }

    #[tokio::test]
    async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("t.db").display());
        let db = connect(&url).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&db.pool).await.unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&db.pool).await.unwrap();
        assert_eq!(fk, 1);
        let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&db.pool).await.unwrap();
        assert_eq!(timeout, 5000);
        // Migrations are idempotent: connecting again applies nothing new.
        connect(&url).await.unwrap();
    }

    #[test]
    fn timestamps_format_as_utc() {
        assert_eq!(ms_to_rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
