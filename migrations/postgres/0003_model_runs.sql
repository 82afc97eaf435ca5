-- Model submissions: what the sandbox reported for the run.
ALTER TABLE submissions ADD COLUMN verdict TEXT;               -- ok, out_of_fuel, trap, …
ALTER TABLE submissions ADD COLUMN fuel_used BIGINT;
ALTER TABLE submissions ADD COLUMN peak_memory_bytes BIGINT;
ALTER TABLE submissions ADD COLUMN wall_ms BIGINT;
ALTER TABLE submissions ADD COLUMN run_log TEXT;               -- the model's log: organizers only (it may echo hidden inputs)
ALTER TABLE submissions ADD COLUMN started_at BIGINT;
ALTER TABLE submissions ADD COLUMN predictions_hash TEXT;      -- the model's outputs as a predictions CSV (rescoring)
