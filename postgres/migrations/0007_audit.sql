-- The audit trail: what happened to accounts, sessions and keys, by whom,
-- from where; one table for every instance. user_id is no foreign key: the
-- events of a deleted user stay until the retention prunes them. Absent
-- values are NULL. Ids are UUIDv7, so they sort by creation: newest first
-- is ORDER BY id DESC, and the filters below page along an index.
CREATE TABLE audit_events (
	id         TEXT PRIMARY KEY,
	time       TIMESTAMPTZ NOT NULL,
	event      TEXT NOT NULL,
	user_id    TEXT,
	session_id TEXT,
	actor_id   TEXT,
	ip         TEXT,
	user_agent TEXT,
	request_id TEXT,
	detail     JSONB
);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_event ON audit_events (event, id);
-- The retention prune deletes by time.
CREATE INDEX audit_events_time ON audit_events (time);
