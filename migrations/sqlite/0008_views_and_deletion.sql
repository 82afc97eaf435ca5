-- Every time a recruiter sees a person's details (profile page or API) or
-- exports them, who, when and what is logged; the person sees the list.
CREATE TABLE talent_views (
    view_id           INTEGER PRIMARY KEY,
    recruiter_id      BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    user_id           BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    what              TEXT   NOT NULL,
    at                BIGINT NOT NULL
);
CREATE INDEX talent_views_user ON talent_views (user_id, view_id);

-- A deleted account keeps its row (its results stay on the boards as
-- "deleted user") with every personal field replaced.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
