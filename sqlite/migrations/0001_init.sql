-- The first schema. Every time is an INTEGER of Unix nanoseconds in UTC;
-- NULL stands for the zero time.

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	-- NOCASE makes both the unique index and lookups case-insensitive, so a
	-- caller that forgot to normalize still cannot register an email twice.
	email         TEXT NOT NULL COLLATE NOCASE,
	name          TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL CHECK (role IN ('user', 'admin')),
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_email ON users (email COLLATE NOCASE);

-- Every demote, disable and delete of an admin counts the active admins.
CREATE INDEX users_active_admins ON users (id) WHERE role = 'admin' AND disabled = 0;

CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	expires_at   INTEGER NOT NULL,
	user_agent   TEXT NOT NULL DEFAULT '',
	ip           TEXT NOT NULL DEFAULT '',
	access_exp   INTEGER,
	ended_at     INTEGER
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- Used tokens stay, so that presenting one again is recognised as reuse.
CREATE TABLE refresh_tokens (
	hash       BLOB PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	used_at    INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- A session never has more than one live refresh token.
CREATE UNIQUE INDEX refresh_tokens_live ON refresh_tokens (session_id) WHERE used_at IS NULL;

-- No foreign key: a revocation must outlive its session and user, since the
-- access tokens of a deleted user's sessions are still in circulation.
-- AUTOINCREMENT keeps seq from ever being reused, so it is a safe cursor.
CREATE TABLE revocations (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id TEXT NOT NULL,
	exp        INTEGER NOT NULL,
	ended_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE tasks (
	id         TEXT PRIMARY KEY,
	owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title      TEXT NOT NULL,
	done       INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX tasks_owner ON tasks (owner_id, id);

CREATE TABLE recipes (
	id           TEXT PRIMARY KEY,
	owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title        TEXT NOT NULL,
	-- A JSON array of strings.
	ingredients  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(ingredients)),
	instructions TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX recipes_owner ON recipes (owner_id);

CREATE TABLE signing_keys (
	kid          TEXT PRIMARY KEY,
	alg          TEXT NOT NULL,
	private      BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	activates_at INTEGER
) STRICT;

CREATE TABLE secrets (
	name       TEXT PRIMARY KEY,
	value      BLOB NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
