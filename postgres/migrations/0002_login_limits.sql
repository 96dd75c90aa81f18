-- The bcrypt cost of each stored hash ($2a$12$... -> '12'), indexed so the
-- highest is one index lookup: a failed login is padded to what the dearest
-- stored hash costs, whoever stored it.
CREATE INDEX users_bcrypt_cost ON users (substr(password_hash, 5, 2))
	WHERE substr(password_hash, 1, 2) = '$2';

-- Attempt budgets (token buckets) shared by every instance over this
-- database: failed logins per client network, per account and network and
-- per account, and signups per client network. One row per bucket that is
-- not full; a row is taken from and refunded with single atomic statements.
-- UNLOGGED: no WAL to write and flush on every attempt (a take measured
-- 0.6 to 1.2 ms instead of about 1.9 on a busy test machine); a crash or a
-- failover to a standby starts the budgets afresh, which is all an attacker
-- gains from causing one.
CREATE UNLOGGED TABLE rate_buckets (
	kind   text NOT NULL,
	key    bytea NOT NULL,
	tokens double precision NOT NULL,
	-- Unix seconds of the last refill, by the clock of the instance that
	-- wrote it.
	at     double precision NOT NULL,
	-- Whether the last take found a token, returned by the upsert.
	ok     boolean NOT NULL,
	PRIMARY KEY (kind, key)
);
CREATE INDEX rate_buckets_at ON rate_buckets (at);
