-- Email verification, password reset and email change by mail.

ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

-- Only the SHA-256 of a token is kept. A token is bound to its purpose, its
-- user and the address it was mailed to.
CREATE TABLE mail_tokens (
	hash       bytea PRIMARY KEY,
	purpose    text NOT NULL CHECK (purpose IN ('reset', 'verify', 'email_change')),
	user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email      text NOT NULL,
	session_id text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX mail_tokens_user ON mail_tokens (user_id, purpose);
CREATE INDEX mail_tokens_expires ON mail_tokens (expires_at);

-- Mails waiting to be sent. A mail that carries a token goes with it: once
-- the token is used, replaced or pruned, nothing is left to send. Senders
-- claim due rows with FOR UPDATE SKIP LOCKED, so instances never send one
-- mail twice.
CREATE TABLE outbox (
	id         text COLLATE "C" PRIMARY KEY,
	kind       text NOT NULL,
	to_addr    text NOT NULL,
	data       jsonb NOT NULL DEFAULT '{}',
	token_hash bytea REFERENCES mail_tokens (hash) ON DELETE CASCADE,
	created_at timestamptz NOT NULL,
	next_at    timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	attempts   integer NOT NULL DEFAULT 0
);

CREATE INDEX outbox_next ON outbox (next_at);
CREATE INDEX outbox_token ON outbox (token_hash);
