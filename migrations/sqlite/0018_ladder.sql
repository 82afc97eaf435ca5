-- On a task whose public board is the Ladder, `public_score` holds the score
-- shown (what the competitor sees and the board ranks) and this column the
-- public score as scored, for organizers only. NULL on plain tasks.
ALTER TABLE submissions ADD COLUMN raw_public_score DOUBLE PRECISION;
