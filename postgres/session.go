package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const sessionColumns = sqlstore.SessionColumns

// sessionBy runs a query for one session; no row is ENOTFOUND.
func sessionBy(ctx context.Context, q querier, what, sql string, args ...any) (*jot.Session, error) {
	s, err := sqlstore.ScanSession[times](q.QueryRow(ctx, sql, args...))
	return sqlstore.One(s, err, pgx.ErrNoRows, "session", what)
}

// endSessions ends the sessions that match cond and are not ended and whose
// refresh or access tokens may still work at now, records a revocation for
// each and notifies the DB's revocations channel; it returns how many it ended. In
// cond, $1 is now and args are $2 onwards.
//
// The UPDATE comes first and its RETURNING supplies the revocations: it
// locks the rows and reads their latest committed version, so a rotation
// that committed meanwhile cannot leave the revocation with a stale exp, and
// a session ended meanwhile is skipped rather than revoked twice.
//
// Why the table lock: seq values come from a sequence, handed out when rows
// are inserted, not when they commit. Were inserts free to interleave, a
// transaction holding seq 5 could commit after one holding seq 6, and a
// reader in between would take 6 as its cursor and never see 5: a logout
// lost for every instance. SHARE ROW EXCLUSIVE conflicts with itself (and
// with plain inserts), so inserters take turns from the insert until their
// commit, while readers (ACCESS SHARE) never wait. PostgreSQL makes a
// commit visible before it releases the transaction's locks, so whoever
// inserts next draws a greater seq after the previous rows are visible:
// seq order is visibility order, and max(seq) in any snapshot is a safe
// cursor. The cost is that transactions that end sessions serialize
// during their last statements, which is cheap next to how rarely
// sessions end. Every transaction takes the lock last, after its row
// locks, and waits for nothing once it holds it: it cannot close a
// deadlock cycle.
func (db *DB) endSessions(ctx context.Context, tx pgx.Tx, now time.Time, cond string, args ...any) (int, error) {
	ids, err := db.endSessionIDs(ctx, tx, now, cond, args...)
	return len(ids), err
}

// endSessionIDs is endSessions returning the ids of the sessions it ended
// (oldest first), for the audit events that name them.
func (db *DB) endSessionIDs(ctx context.Context, tx pgx.Tx, now time.Time, cond string, args ...any) ([]string, error) {
	type ended struct {
		id      string
		created time.Time
		exp     time.Time
	}
	list, err := queryAll(ctx, tx, "end sessions", func(s scanner) (ended, error) {
		var e ended
		err := s.Scan(&e.id, &e.created, &e.exp)
		return e, err
	}, `UPDATE sessions SET ended_at = $1
		WHERE ended_at IS NULL AND (expires_at > $1 OR access_exp > $1) AND (`+cond+`)
		RETURNING id, created_at, COALESCE(access_exp, $1)`, append([]any{now}, args...)...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	// Oldest session first, as the SQLite store records them.
	slices.SortFunc(list, func(a, b ended) int {
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.id, b.id))
	})
	ids := make([]string, len(list))
	exps := make([]time.Time, len(list))
	for i, e := range list {
		ids[i], exps[i] = e.id, e.exp
	}

	// The lock is a statement of its own, before the batch: pgx prepares
	// every statement of a batch that its connection has not cached before
	// it runs any, and preparing the INSERT takes ROW EXCLUSIVE on the
	// table. Taken that way first, the lock would be an upgrade, and two
	// transactions upgrading at once deadlock.
	if _, err := tx.Exec(ctx, `LOCK TABLE revocations IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return nil, fmt.Errorf("lock revocations: %w", err)
	}
	// Then one round trip for the rest, and the commit.
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO revocations (session_id, exp, ended_at)
		SELECT id, exp, $3 FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS r (id, exp, n)
		ORDER BY n`, ids, exps, now)
	// Delivered when the transaction commits, and only then.
	b.Queue(`SELECT pg_notify($1, '')`, db.ch.revocations)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("record revocations: %w", err)
	}
	return ids, nil
}

// CreateSession inserts s with its first refresh token's hash, only while
// the user matches pin (when set); see jot.SessionStore. A user that does
// not exist is ENOTFOUND.
//
// With a pin the user's row is read FOR SHARE: that waits for an UpdateUser
// (FOR NO KEY UPDATE) or DeleteUser (FOR UPDATE) in progress and then reads
// the row as it committed, and it makes any later one wait until this
// transaction ends, so its endSessions sees the new session. Logins of one
// user share the lock and do not wait for each other.
func (db *DB) CreateSession(ctx context.Context, s *jot.Session, refreshHash []byte, pin *jot.UserPin, audit ...*jot.Audit) error {
	_, err := db.CreateSessionWithin(ctx, s, refreshHash, pin, 0, audit...)
	return err
}

// CreateSessionWithin is CreateSession that then ends the user's least
// recently used other sessions past maxLive live ones; see
// jot.SessionStore.
//
// With a bound, the user's row is locked FOR NO KEY UPDATE instead of FOR
// SHARE: the user's session starts then take turns, and each one's count
// (a statement after the lock, so a fresh snapshot under READ COMMITTED)
// sees the sessions that the one before it committed. The lock is the
// first one taken, as UpdateUser takes it, so the two cannot deadlock.
func (db *DB) CreateSessionWithin(ctx context.Context, s *jot.Session, refreshHash []byte, pin *jot.UserPin, maxLive int, audit ...*jot.Audit) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	ended, err := sqlstore.InTx(ctx, db.tx, func(tx pgx.Tx) ([]string, error) {
		return db.writes.SessionCreated(ctx, tx, s, refreshHash, pin, maxLive, audit)
	})
	return len(ended), err
}

// lockSessionUser reads and locks a new session's user when it is pinned
// or bounded; see CreateSession and CreateSessionWithin for the locks.
func lockSessionUser(ctx context.Context, tx pgx.Tx, userID string, pinned bool, maxLive int) (*jot.User, error) {
	lock := "FOR SHARE"
	if maxLive > 0 {
		lock = "FOR NO KEY UPDATE"
	} else if !pinned {
		return nil, nil
	}
	return userBy(ctx, tx, "lock user", `SELECT `+userColumns+` FROM users WHERE id = $1 `+lock, userID)
}

func insertSession(ctx context.Context, tx pgx.Tx, s *jot.Session) error {
	_, err := tx.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		sqlstore.SessionArgs[times](s)...)
	return err
}

func insertRefresh(ctx context.Context, tx pgx.Tx, s *jot.Session, hash []byte) error {
	_, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)`,
		hash, s.ID, s.CreatedAt)
	return err
}

// endLeastUsed ends the user's sessions past keep live ones; live as
// ListSessions counts them: not ended, not expired at s's start.
func (db *DB) endLeastUsed(ctx context.Context, tx pgx.Tx, s *jot.Session, keep int) ([]string, error) {
	return db.endSessionIDs(ctx, tx, s.CreatedAt, `id IN (
		SELECT id FROM sessions WHERE user_id = $2 AND id <> $3 AND ended_at IS NULL AND expires_at > $1
		ORDER BY COALESCE(last_used_at, created_at) DESC, created_at DESC, id DESC
		OFFSET $4)`, s.UserID, s.ID, keep-1)
}

// SessionByID returns the session, live or not, or ENOTFOUND.
func (db *DB) SessionByID(ctx context.Context, id string) (*jot.Session, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sessionBy(ctx, db.pool, "session by id", `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id)
}

// ListSessions lists the user's live sessions at now, newest first.
func (db *DB) ListSessions(ctx context.Context, userID string, now time.Time) ([]*jot.Session, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.pool, "list sessions", sqlstore.ScanSession[times], `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC`, userID, now)
}

// ListSessionsPage lists one page of the user's live sessions at now,
// newest first by id; see jot.SessionStore.
func (db *DB) ListSessionsPage(ctx context.Context, userID string, now time.Time, p jot.Page) ([]*jot.Session, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	// An empty After starts from the newest.
	return queryAll(ctx, db.pool, "list sessions", sqlstore.ScanSession[times], `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, userID, now, p.After, limit(p))
}

// ExtendAccess moves the session's AccessExp to exp if that is later; an
// unknown session is ENOTFOUND. One statement: the row lock of the UPDATE
// orders it with a concurrent rotation, and neither lowers the other's exp.
func (db *DB) ExtendAccess(ctx context.Context, sessionID string, exp time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tag, err := db.pool.Exec(ctx, `UPDATE sessions SET access_exp = GREATEST(access_exp, $1) WHERE id = $2`,
		nullTime(exp), sessionID)
	return sqlstore.AffectedOne(tag.RowsAffected(), err, "session")
}

// EndSession ends a live session and records its revocation; an ended,
// expired or unknown session is ENOTFOUND.
func (db *DB) EndSession(ctx context.Context, id string, now time.Time, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		ended, err := db.endSessionIDs(ctx, tx, now, `id = $2`, id)
		if err != nil {
			return err
		}
		if len(ended) == 0 {
			return sqlstore.NotFound("session")
		}
		return db.writes.StoreAudit(ctx, tx, audit, ended)
	})
}

// EndUserSessions ends every live session of the user but except (may be
// empty) and records their revocations.
func (db *DB) EndUserSessions(ctx context.Context, userID, except string, now time.Time, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		return db.writes.UserSessionsEnded(ctx, tx, now, userID, except, audit)
	})
}

// endUserSessions ends every live session of the user but except (may be
// empty), recording their revocations, and returns their ids.
func (db *DB) endUserSessions(ctx context.Context, tx pgx.Tx, now time.Time, userID, except string) ([]string, error) {
	return db.endSessionIDs(ctx, tx, now, `user_id = $2 AND id <> $3`, userID, except)
}
