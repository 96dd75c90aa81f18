-- The first schema. Times are timestamptz (microseconds); NULL stands for
-- the zero time. Ids sort by COLLATE "C", byte order, which is the order
-- of the UUIDv7 strings jot issues, whatever the database's collation.

CREATE TABLE users (
	id            text COLLATE "C" PRIMARY KEY,
	email         text NOT NULL,
	name          text NOT NULL DEFAULT '',
	role          text NOT NULL CHECK (role IN ('user', 'admin')),
	disabled      boolean NOT NULL DEFAULT false,
	password_hash text NOT NULL DEFAULT '',
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL
);

-- lower() rather than citext, which is an extension a managed database may
-- not offer: a caller that forgot to normalize still cannot register an
-- email twice, and lookups use the same expression.
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- Every demote, disable and delete of an admin locks the active admins.
CREATE INDEX users_active_admins ON users (id) WHERE role = 'admin' AND NOT disabled;

CREATE TABLE sessions (
	id           text COLLATE "C" PRIMARY KEY,
	user_id      text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	expires_at   timestamptz NOT NULL,
	user_agent   text NOT NULL DEFAULT '',
	ip           text NOT NULL DEFAULT '',
	access_exp   timestamptz,
	ended_at     timestamptz
);

CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- Used tokens stay, so that presenting one again is recognised as reuse.
CREATE TABLE refresh_tokens (
	hash       bytea PRIMARY KEY,
	session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL,
	used_at    timestamptz
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- A session never has more than one live refresh token.
CREATE UNIQUE INDEX refresh_tokens_live ON refresh_tokens (session_id) WHERE used_at IS NULL;

-- No foreign key: a revocation must outlive its session and user, since the
-- access tokens of a deleted user's sessions are still in circulation.
-- Writers serialize their inserts (see endSessions in session.go), so seq
-- values become visible in increasing order and serve as a cursor.
CREATE TABLE revocations (
	seq        bigserial PRIMARY KEY,
	session_id text COLLATE "C" NOT NULL,
	exp        timestamptz NOT NULL,
	ended_at   timestamptz NOT NULL
);

CREATE TABLE tasks (
	id         text COLLATE "C" PRIMARY KEY,
	owner_id   text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title      text NOT NULL,
	done       boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);

CREATE INDEX tasks_owner ON tasks (owner_id, id);

CREATE TABLE recipes (
	id           text COLLATE "C" PRIMARY KEY,
	owner_id     text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title        text NOT NULL,
	ingredients  text[] NOT NULL DEFAULT '{}',
	instructions text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL
);

CREATE INDEX recipes_owner ON recipes (owner_id);

CREATE TABLE signing_keys (
	kid          text COLLATE "C" PRIMARY KEY,
	alg          text NOT NULL,
	private      bytea NOT NULL,
	created_at   timestamptz NOT NULL,
	activates_at timestamptz
);

CREATE TABLE secrets (
	name       text PRIMARY KEY,
	value      bytea NOT NULL,
	created_at timestamptz NOT NULL
);
