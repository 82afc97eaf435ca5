-- Competition: teams, submissions, baselines.

-- Every participant of a task is in exactly one of its teams (a solo
-- competitor is a team of one).
CREATE TABLE teams (
    team_id             INTEGER PRIMARY KEY,
    task_id             BIGINT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    name                TEXT   NOT NULL,
    created_at          BIGINT NOT NULL,
    last_submission_at  BIGINT,           -- also the row a submission locks to keep the daily cap exact
    disqualified_at     BIGINT,
    disqualified_reason TEXT,
    UNIQUE (task_id, name)
);

CREATE TABLE team_members (
    task_id   BIGINT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    team_id   BIGINT NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
    user_id   BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, user_id)        -- one team per person per task
);
CREATE INDEX team_members_team ON team_members (team_id);

CREATE TABLE team_invites (
    invite_id   INTEGER PRIMARY KEY,
    team_id     BIGINT NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,   -- the invitee
    invited_by  BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    answered_at BIGINT,
    accepted    BIGINT                    -- 1 accepted, 0 declined, NULL pending
);
CREATE INDEX team_invites_user ON team_invites (user_id, answered_at);

CREATE TABLE submissions (
    submission_id INTEGER PRIMARY KEY,
    task_id       BIGINT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    team_id       BIGINT NOT NULL REFERENCES teams (team_id),
    user_id       BIGINT NOT NULL REFERENCES users (user_id),
    kind          TEXT   NOT NULL CHECK (kind IN ('predictions', 'model')),
    message       TEXT   NOT NULL,
    file_name     TEXT   NOT NULL,
    blob_hash     TEXT   NOT NULL,
    size          BIGINT NOT NULL,
    status        TEXT   NOT NULL CHECK (status IN ('queued', 'running', 'scored', 'failed', 'platform_error')),
    public_score  DOUBLE PRECISION,
    private_score DOUBLE PRECISION,        -- shown only after the close
    error         TEXT,                    -- for the submitter; never holds a label
    late          BIGINT NOT NULL,         -- 1: made after the close; scored, never ranked
    counted       BIGINT NOT NULL,         -- 1: counts toward the daily cap (0 after a platform failure)
    selected_at   BIGINT,                  -- a final selection
    hidden_at     BIGINT,                  -- hidden by the organizer: not ranked
    hidden_reason TEXT,
    created_at    BIGINT NOT NULL,
    scored_at     BIGINT
);
CREATE INDEX submissions_team ON submissions (team_id, created_at);
CREATE INDEX submissions_task ON submissions (task_id, status, created_at);

-- Named reference rows an organizer adds: displayed, never ranked.
CREATE TABLE baselines (
    baseline_id   INTEGER PRIMARY KEY,
    task_id       BIGINT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    public_score  DOUBLE PRECISION NOT NULL,
    private_score DOUBLE PRECISION NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (task_id, name)
);
