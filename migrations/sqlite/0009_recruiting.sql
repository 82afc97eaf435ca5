-- Recruiters' shortlists with private notes, and contact requests that the
-- person accepts or declines (their email is revealed only on acceptance).
CREATE TABLE shortlists (
    shortlist_id      INTEGER PRIMARY KEY,
    recruiter_id      BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name              TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    UNIQUE (recruiter_id, name)
);

CREATE TABLE shortlist_entries (
    shortlist_id      BIGINT NOT NULL REFERENCES shortlists (shortlist_id) ON DELETE CASCADE,
    user_id           BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    note              TEXT   NOT NULL DEFAULT '',
    added_at          BIGINT NOT NULL,
    PRIMARY KEY (shortlist_id, user_id)
);

CREATE TABLE contact_requests (
    request_id        INTEGER PRIMARY KEY,
    recruiter_id      BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    user_id           BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    organisation      TEXT   NOT NULL,
    message           TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    answered_at       BIGINT,
    accepted          BIGINT
);
CREATE INDEX contact_requests_user ON contact_requests (user_id, request_id);
CREATE INDEX contact_requests_recruiter ON contact_requests (recruiter_id, request_id);
