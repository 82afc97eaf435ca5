-- The device that ran a model submission's host ops, as its run reported
-- it (`cpu`, `cuda:0 (NVIDIA H200)`); NULL for a prediction CSV or a run
-- not finished yet.
ALTER TABLE submissions ADD COLUMN device TEXT;
