-- Profiles and consents. A person's details beyond the boards (country,
-- city, affiliation, skills, links, bio) are shown only under a consent they
-- gave: (1) public_profile, (2) recruiters (provision to recruiters on this
-- platform), (3) abroad (provision to recruiters outside their country).
-- `consents` holds what is in force; `consent_log` every grant and
-- withdrawal with the text version the person saw.
CREATE TABLE profiles (
    user_id           BIGINT  PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    city              TEXT    NOT NULL DEFAULT '',
    affiliation       TEXT    NOT NULL DEFAULT '',
    skills            TEXT    NOT NULL DEFAULT '',
    links             TEXT    NOT NULL DEFAULT '',
    bio               TEXT    NOT NULL DEFAULT '',
    open_to_work      BIGINT  NOT NULL DEFAULT 0,
    birth_year        BIGINT,
    updated_at        BIGINT  NOT NULL
);

CREATE TABLE consents (
    user_id           BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind              TEXT   NOT NULL,
    text_version      TEXT   NOT NULL,
    granted_at        BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
CREATE INDEX consents_kind ON consents (kind, user_id);

CREATE TABLE consent_log (
    log_id            INTEGER PRIMARY KEY,
    user_id           BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind              TEXT   NOT NULL,
    action            TEXT   NOT NULL,
    text_version      TEXT   NOT NULL,
    at                BIGINT NOT NULL
);
CREATE INDEX consent_log_user ON consent_log (user_id, log_id);
