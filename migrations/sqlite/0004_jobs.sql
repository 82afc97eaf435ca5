-- The evaluation queue: one job per model submission. A worker leases a job
-- (owner + expiry), heartbeats to extend the lease, and finishes it only
-- while it still holds the lease; an expired lease puts the job back in the
-- queue, and after `max attempts` platform failures the submission ends as
-- platform_error (refunded).
CREATE TABLE jobs (
    job_id           INTEGER PRIMARY KEY,
    submission_id    BIGINT NOT NULL UNIQUE REFERENCES submissions (submission_id) ON DELETE CASCADE,
    task_id          BIGINT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    team_id          BIGINT NOT NULL,
    state            TEXT   NOT NULL CHECK (state IN ('queued', 'running', 'done', 'cancelled')),
    attempts         BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    heartbeat_at     BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT
);
CREATE INDEX jobs_state ON jobs (state, job_id);
CREATE INDEX jobs_team ON jobs (team_id, state);
