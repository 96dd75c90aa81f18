-- A user's sessions are listed a page at a time, newest first by id (ids
-- are UUIDv7, so they sort by creation time).
CREATE INDEX sessions_user_id ON sessions (user_id, id);
