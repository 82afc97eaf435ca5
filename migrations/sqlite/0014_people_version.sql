-- A version of who recruiters can find, bumped by triggers in the same
-- transaction as every change to it (a consent given or withdrawn, a
-- profile saved or erased, a person renamed, moved or deleted). Each
-- replica keeps the findable people in memory under it, so a search costs
-- one query for the version while nothing changed.
CREATE TABLE people_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO people_version (id, version) VALUES (1, 0);

CREATE TRIGGER consents_people_insert AFTER INSERT ON consents
BEGIN UPDATE people_version SET version = version + 1; END;
CREATE TRIGGER consents_people_update AFTER UPDATE ON consents
BEGIN UPDATE people_version SET version = version + 1; END;
CREATE TRIGGER consents_people_delete AFTER DELETE ON consents
BEGIN UPDATE people_version SET version = version + 1; END;
CREATE TRIGGER profiles_people_insert AFTER INSERT ON profiles
BEGIN UPDATE people_version SET version = version + 1; END;
CREATE TRIGGER profiles_people_update AFTER UPDATE ON profiles
BEGIN UPDATE people_version SET version = version + 1; END;
CREATE TRIGGER profiles_people_delete AFTER DELETE ON profiles
BEGIN UPDATE people_version SET version = version + 1; END;
CREATE TRIGGER users_people_update AFTER UPDATE OF username, display_name, country ON users
BEGIN UPDATE people_version SET version = version + 1; END;
CREATE TRIGGER users_people_delete AFTER DELETE ON users
BEGIN UPDATE people_version SET version = version + 1; END;
