-- Emails are no longer unique: sign-up must not tell anyone whether an email
-- is registered (nothing verifies an email, so uniqueness protected nothing
-- and let anyone squat another person's address). SQLite cannot drop a
-- column constraint: the table must be rebuilt with foreign keys off, which
-- a migration's transaction does not allow, so `db::connect` rebuilds it
-- right after the migrations (once: it looks for the unique index first).
CREATE INDEX IF NOT EXISTS users_email ON users (email);
