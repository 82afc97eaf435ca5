-- Uploads refused as invalid (a CSV that does not score, a model that does
-- not load), per team: they store nothing and do not count toward the daily
-- cap, but a team may have only so many refused a day, so refusals cannot be
-- used to probe the hidden data for free.
CREATE TABLE refused_uploads (
    team_id    BIGINT NOT NULL,
    refused_at BIGINT NOT NULL
);
CREATE INDEX refused_uploads_team ON refused_uploads (team_id, refused_at);
