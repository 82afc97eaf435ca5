-- A client may send an Idempotency-Key with an upload; a retried upload with
-- the same key returns the submission already stored instead of counting
-- twice. NULLs (no key) never collide.
ALTER TABLE submissions ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX submissions_idempotency ON submissions (user_id, idempotency_key);
