-- The judge's integrity: what a competitor may see of a model run is kept
-- apart from what only organizers see, and crashes of the evaluation
-- process are counted per job.
--
-- submissions.run_detail: for tasks whose test inputs are hidden, the run's
--   real message and exact figures (organizers only); the competitor-facing
--   `error`, `peak_memory_bytes` and `wall_ms` then hold a fixed message and
--   coarse buckets.
-- jobs.crashes: how many evaluation processes died running this job; the
--   second ends it as `crashed` (counted against the team's cap).
ALTER TABLE submissions ADD COLUMN run_detail TEXT;
ALTER TABLE jobs ADD COLUMN crashes BIGINT NOT NULL DEFAULT 0;
