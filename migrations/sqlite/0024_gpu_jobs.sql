-- A job of a task whose models must run on a GPU (`[budget] device =
-- "cuda"`): only workers that registered a CUDA device lease it.
ALTER TABLE jobs ADD COLUMN needs_gpu INTEGER NOT NULL DEFAULT 0;
