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
use sqlx::{AnyPool, Connection, Executor};

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
    let pool = match options.clone().connect(url).await {
        Err(e) if backend == Backend::Postgres && is_missing_database(&e) => {
            create_postgres_database(url).await?;
            options.connect(url).await
        }
        other => other,
    };
    let pool = pool.with_context(|| format!("connecting to {}", redact_url(url)))?;
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.run(&pool).await.context("running database migrations")?;
    if backend == Backend::Sqlite {
        sqlite_rebuilds(&pool).await.context("rebuilding the users table without unique emails")?;
    }
    Ok(Db { pool, backend })
}

/// Whether PostgreSQL refused the connection because the database does
/// not exist (SQLSTATE 3D000).
fn is_missing_database(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "3D000")
}

/// Creates the database a PostgreSQL URL names, connecting to the server's
/// `postgres` database as the same role, so that a first start needs no
/// manual step. When the role may not create databases the error says what
/// to run instead. Another replica creating it first is fine.
async fn create_postgres_database(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut maintenance = url::Url::parse(url).context("parsing the database URL")?;
    let name = maintenance.path().trim_start_matches('/').to_owned();
    let name = percent_encoding::percent_decode_str(&name).decode_utf8_lossy().into_owned();
    if name.is_empty() || name.contains('"') || name.contains('\0') {
        anyhow::bail!("the database URL {} names no usable database", redact_url(url));
    }
    maintenance.set_path("/postgres");
    let role = maintenance.username().to_owned();
    let create = format!("CREATE DATABASE \"{name}\"");
    let how = format!(
        "database \"{name}\" does not exist and could not be created as role \"{role}\"; create it with \
         `createdb -h {host} -U <a role that may> {name}` or `{create};` in psql, then start again",
        host = maintenance.host_str().unwrap_or("localhost"),
    );
    let mut conn = sqlx::AnyConnection::connect(maintenance.as_str()).await.context(how.clone())?;
    match sqlx::query(&create).execute(&mut conn).await {
        Ok(_) => {
            tracing::info!(database = %name, "created the PostgreSQL database");
            Ok(())
        }
        // 42P04, or 23505 when both ran at once: created meanwhile (by
        // another replica).
        Err(e) if e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "42P04" || c == "23505") => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context(how)),
    }
}

/// The users table as migration 0022 makes it on SQLite: emails not unique.
const USERS_WITHOUT_UNIQUE_EMAIL: &str = "
    CREATE TABLE users_new (
        user_id          INTEGER PRIMARY KEY,
        username         TEXT    NOT NULL UNIQUE,
        email            TEXT    NOT NULL,
        password_hash    TEXT    NOT NULL,
        display_name     TEXT    NOT NULL,
        country          TEXT    NOT NULL,
        created_at       BIGINT  NOT NULL,
        deleted_at       BIGINT,
        age_confirmed_at BIGINT
    );
    INSERT INTO users_new (user_id, username, email, password_hash, display_name, country, created_at, deleted_at,
                           age_confirmed_at)
        SELECT user_id, username, email, password_hash, display_name, country, created_at, deleted_at, age_confirmed_at
        FROM users;
    DROP TABLE users;
    ALTER TABLE users_new RENAME TO users;
    CREATE INDEX users_email ON users (email);
    CREATE TRIGGER users_board_rename AFTER UPDATE OF username ON users
    BEGIN
        UPDATE tasks SET board_version = board_version + 1
        WHERE task_id IN (SELECT task_id FROM team_members WHERE user_id = NEW.user_id);
    END;
    CREATE TRIGGER users_people_update AFTER UPDATE OF username, display_name, country ON users
    BEGIN UPDATE people_version SET version = version + 1; END;
    CREATE TRIGGER users_people_delete AFTER DELETE ON users
    BEGIN UPDATE people_version SET version = version + 1; END;
    CREATE TRIGGER users_people_age AFTER UPDATE OF age_confirmed_at ON users
    BEGIN UPDATE people_version SET version = version + 1; END;
";

/// Whether the users table still has a unique index on `email`.
const UNIQUE_EMAIL: &str = "SELECT COUNT(*) FROM pragma_index_list('users') AS il, pragma_index_info(il.name) AS ii
    WHERE il.\"unique\" = 1 AND ii.name = 'email'";

/// The table rebuild SQLite needs for migration 0022, which a migration
/// cannot do (it needs foreign keys off, and a migration runs in a
/// transaction, where that pragma does nothing; with them on, dropping the
/// old table would cascade to every row that names a user). SQLite's
/// documented procedure, on a connection of its own, closed afterwards:
/// foreign keys off; in one immediate transaction, the new table, the rows
/// copied, the old table dropped, the new one renamed, its index and
/// triggers made again, the foreign keys checked; then the commit. Done
/// once: it first looks for the unique index.
async fn sqlite_rebuilds(pool: &AnyPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?.detach();
    let unique: i64 = sqlx::query_scalar(UNIQUE_EMAIL).fetch_one(&mut conn).await?;
    if unique == 0 {
        return Ok(());
    }
    conn.execute("PRAGMA foreign_keys = OFF").await?;
    let rebuilt = async {
        conn.execute("BEGIN IMMEDIATE").await?;
        let unique: i64 = sqlx::query_scalar(UNIQUE_EMAIL).fetch_one(&mut conn).await?;
        if unique > 0 {
            conn.execute(USERS_WITHOUT_UNIQUE_EMAIL).await?;
            let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut conn).await?;
            anyhow::ensure!(broken.is_empty(), "{} rows would lose their user", broken.len());
        }
        conn.execute("COMMIT").await?;
        Ok(())
    }
    .await;
    if rebuilt.is_err() {
        let _ = conn.execute("ROLLBACK").await;
    }
    let _ = conn.close().await;
    rebuilt
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

    #[tokio::test]
    async fn sqlite_users_lose_their_unique_email_keep_their_rows_and_foreign_keys_stay_on() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("t.db").display());
        let db = connect(&url).await.unwrap();
        let insert = |name: &'static str| {
            sqlx::query(
                "INSERT INTO users (username, email, password_hash, display_name, country, created_at)
                 VALUES ($1, 'same@example.org', 'x', 'x', 'KR', 0) RETURNING user_id",
            )
            .bind(name)
        };
        insert("ann").execute(&db.pool).await.unwrap();
        insert("bob").execute(&db.pool).await.unwrap();
        assert!(insert("ann").execute(&db.pool).await.is_err(), "usernames stay unique");
        let token = "INSERT INTO tokens (user_id, kind, name, token_hash, created_at) VALUES ($1, 'api', 'x', $2, 0)";
        sqlx::query(token).bind(1_i64).bind("h1").execute(&db.pool).await.unwrap();
        assert!(sqlx::query(token).bind(99_i64).bind("h2").execute(&db.pool).await.is_err(), "foreign keys are on");
        // Connecting again finds nothing to rebuild and loses nothing.
        drop(db);
        let db = connect(&url).await.unwrap();
        let unique: i64 = sqlx::query_scalar(UNIQUE_EMAIL).fetch_one(&db.pool).await.unwrap();
        assert_eq!(unique, 0);
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens").fetch_one(&db.pool).await.unwrap();
        assert_eq!(n, 1);
        let triggers: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(triggers, 4);
    }
}
