-- Emails are no longer unique: sign-up must not tell anyone whether an email
-- is registered (nothing verifies an email, so uniqueness protected nothing
-- and let anyone squat another person's address).
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key;
CREATE INDEX users_email ON users (email);
