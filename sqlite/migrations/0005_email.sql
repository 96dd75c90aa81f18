-- Email verification, password reset and email change by mail.

ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1));

-- Only the SHA-256 of a token is kept. A token is bound to its purpose, its
-- user and the address it was mailed to.
CREATE TABLE mail_tokens (
	hash       BLOB PRIMARY KEY,
	purpose    TEXT NOT NULL CHECK (purpose IN ('reset', 'verify', 'email_change')),
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email      TEXT NOT NULL,
	session_id TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX mail_tokens_user ON mail_tokens (user_id, purpose);
CREATE INDEX mail_tokens_expires ON mail_tokens (expires_at);

-- Mails waiting to be sent. A mail that carries a token goes with it: once
-- the token is used, replaced or pruned, nothing is left to send.
CREATE TABLE outbox (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	to_addr    TEXT NOT NULL,
	-- A JSON object of strings: what the template shows.
	data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
	token_hash BLOB REFERENCES mail_tokens (hash) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	next_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX outbox_next ON outbox (next_at);
CREATE INDEX outbox_token ON outbox (token_hash);
