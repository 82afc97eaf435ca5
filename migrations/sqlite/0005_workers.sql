-- Remote workers: each holds a token an admin issued (only its SHA-256 is
-- kept), reports its device, version and concurrency, and heartbeats.
CREATE TABLE workers (
    worker_id         INTEGER PRIMARY KEY,
    name              TEXT   NOT NULL,
    token_hash        TEXT   NOT NULL UNIQUE,
    created_at        BIGINT NOT NULL,
    revoked_at        BIGINT,
    device            TEXT,
    version           TEXT,
    concurrency       BIGINT,
    last_seen_at      BIGINT
);
