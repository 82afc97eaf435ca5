-- API tokens may be read-only: such a token authenticates GET requests only.
-- Sessions and existing tokens keep full access ('write').
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write'));
