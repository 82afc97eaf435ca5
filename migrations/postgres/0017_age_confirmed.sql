-- Whether a person confirmed being 14 or older (at sign-up, or later on
-- their profile): with no birth year and no confirmation the age is unknown,
-- and an unknown age never reaches recruiter search.
ALTER TABLE users ADD COLUMN age_confirmed_at BIGINT;
CREATE TRIGGER users_people_age AFTER UPDATE OF age_confirmed_at ON users
FOR EACH STATEMENT EXECUTE FUNCTION bump_people_version();
