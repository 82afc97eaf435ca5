-- Failed logins, shared by every replica: the throttle counts the rows of a
-- username (stored as its SHA-256, so a huge or odd name costs a fixed 64
-- characters) inside its window, and rows older than the window are pruned
-- as new failures arrive.
CREATE TABLE login_failures (
    username_hash TEXT   NOT NULL,
    failed_at     BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username_hash, failed_at);
CREATE INDEX login_failures_time ON login_failures (failed_at);
