-- A task's statement in other languages than English (README.<code>.md of
-- its bundle): a JSON object from language code to Markdown. The
-- translated titles and summaries live in the spec (`i18n`).
ALTER TABLE tasks ADD COLUMN statements TEXT NOT NULL DEFAULT '{}';
