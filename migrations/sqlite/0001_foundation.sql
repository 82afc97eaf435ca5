-- Foundation: accounts, roles, tokens, tasks and their files.
-- Times are BIGINT milliseconds since the Unix epoch (UTC) on both backends,
-- so the same queries and comparisons work on SQLite and PostgreSQL.

CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,   -- lower-case, [a-z0-9_-]{3,32}
    email         TEXT    NOT NULL UNIQUE,   -- lower-case
    password_hash TEXT    NOT NULL,          -- argon2id PHC string
    display_name  TEXT    NOT NULL,
    country       TEXT    NOT NULL,          -- ISO 3166-1 alpha-2
    created_at    BIGINT  NOT NULL
);

-- Every user is a competitor; these rows add admin, organizer, recruiter.
CREATE TABLE user_roles (
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    role       TEXT   NOT NULL CHECK (role IN ('admin', 'organizer', 'recruiter')),
    granted_at BIGINT NOT NULL,
    granted_by BIGINT REFERENCES users (user_id) ON DELETE SET NULL,
    PRIMARY KEY (user_id, role)
);

-- API tokens (CLI) and web sessions (cookie). Only a SHA-256 of the secret is
-- kept; the secret itself is shown once.
CREATE TABLE tokens (
    token_id     INTEGER PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind         TEXT   NOT NULL CHECK (kind IN ('api', 'session')),
    name         TEXT   NOT NULL,
    token_hash   TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id, kind);

CREATE TABLE tasks (
    task_id            INTEGER PRIMARY KEY,
    slug               TEXT   NOT NULL UNIQUE,
    title              TEXT   NOT NULL,
    summary            TEXT   NOT NULL,
    statement          TEXT   NOT NULL,      -- README.md of the bundle (Markdown)
    spec               TEXT   NOT NULL,      -- the validated task.toml, as JSON
    organizer_id       BIGINT NOT NULL REFERENCES users (user_id),
    opens_at           BIGINT NOT NULL,
    closes_at          BIGINT NOT NULL,
    merger_deadline_at BIGINT,
    published_at       BIGINT,               -- NULL: only its organizer and admins see it
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX tasks_schedule ON tasks (published_at, closes_at);

-- The files of a bundle. Content lives in the blob store under its SHA-256;
-- hidden files are never served: downloads look rows up by exact path AND
-- visibility = 'public', so no request path can reach a hidden one.
CREATE TABLE task_files (
    task_id    BIGINT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    path       TEXT   NOT NULL,              -- public: relative to public/; hidden: hidden/...
    visibility TEXT   NOT NULL CHECK (visibility IN ('public', 'hidden')),
    blob_hash  TEXT   NOT NULL,
    size       BIGINT NOT NULL,
    PRIMARY KEY (task_id, visibility, path)
);
