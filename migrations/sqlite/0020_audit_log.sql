-- The audit log: every recruiter search, view, export and contact, and every
-- organizer or admin action, with who did it. Kept when the actor's account
-- is deleted (the row then names "deleted user"); `people` lists, as JSON,
-- the ids of the people an entry is about.
CREATE TABLE audit_log (
    audit_id   INTEGER PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_id   BIGINT REFERENCES users (user_id),
    actor_role TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    task_id    BIGINT,
    people     TEXT   NOT NULL DEFAULT '[]',
    detail     TEXT   NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_action ON audit_log (action, audit_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, audit_id);
