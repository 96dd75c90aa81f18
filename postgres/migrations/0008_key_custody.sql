-- A revoked signing key (a leaked one) keeps its row, so that it is never
-- trusted again, never re-added under its kid, and listed with when it was
-- revoked. NULL: not revoked.
ALTER TABLE signing_keys ADD COLUMN revoked_at timestamptz;
