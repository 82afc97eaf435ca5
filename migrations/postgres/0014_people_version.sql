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

CREATE FUNCTION bump_people_version() RETURNS trigger AS $$
BEGIN
    UPDATE people_version SET version = version + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consents_people AFTER INSERT OR UPDATE OR DELETE ON consents
FOR EACH STATEMENT EXECUTE FUNCTION bump_people_version();
CREATE TRIGGER profiles_people AFTER INSERT OR UPDATE OR DELETE ON profiles
FOR EACH STATEMENT EXECUTE FUNCTION bump_people_version();
CREATE TRIGGER users_people AFTER UPDATE OF username, display_name, country OR DELETE ON users
FOR EACH STATEMENT EXECUTE FUNCTION bump_people_version();
