-- The servers running on this database, with the settings that bound the
-- timeline of signing keys: a rotation waits for the longest JWKS max age
-- before its key signs, and a retired key is kept for the longest access
-- TTL. Each server refreshes its row; a row counts until expires_at.
CREATE TABLE key_servers (
	id           text PRIMARY KEY,
	jwks_max_age bigint NOT NULL, -- nanoseconds
	access_ttl   bigint NOT NULL, -- nanoseconds
	expires_at   timestamptz NOT NULL
);
