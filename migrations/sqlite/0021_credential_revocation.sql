-- A credential can be revoked outright, whatever the board says: when its
-- holder deletes their account (it names them), with why.
ALTER TABLE credentials_issued ADD COLUMN revoked_reason TEXT;
