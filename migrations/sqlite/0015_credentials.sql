-- The key result credentials are signed with, shared by every replica (a
-- replica's data folder is not). The row whose `slot` is 'current' signs;
-- a retired key keeps its row (slot NULL) so what it signed still verifies.
-- The seed is 32 bytes, base64.
CREATE TABLE credential_keys (
    key_id     TEXT PRIMARY KEY,
    seed       TEXT   NOT NULL,
    slot       TEXT   UNIQUE,
    created_at BIGINT NOT NULL
);

-- Every credential handed out, with the result it states, so a result later
-- disqualified, hidden or rescored is listed as revoked.
CREATE TABLE credentials_issued (
    credential_id TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL,
    task_id       BIGINT NOT NULL,
    team_id       BIGINT NOT NULL,
    submission_id BIGINT NOT NULL,
    place         BIGINT NOT NULL,
    ranked        BIGINT NOT NULL,
    score         DOUBLE PRECISION NOT NULL,
    issued_at     BIGINT NOT NULL
);
CREATE INDEX credentials_issued_task ON credentials_issued (task_id);
