package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const sessionColumns = sqlstore.SessionColumns

func sessionByID(ctx context.Context, q querier, id string) (*jot.Session, error) {
	s, err := sqlstore.ScanSession[times](q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	return sqlstore.One(s, err, sql.ErrNoRows, "session", "session by id")
}

// endSessions ends the sessions matching where (a condition with args) that
// are not ended and whose refresh or access tokens may still work at now,
// recording a revocation for each, and returns how many it ended.
func endSessions(ctx context.Context, tx *sql.Tx, now time.Time, where string, args ...any) (int64, error) {
	ids, err := endSessionIDs(ctx, tx, now, where, args...)
	return int64(len(ids)), err
}

// endSessionIDs is endSessions returning the ids of the sessions it ended,
// for the audit events that name them.
func endSessionIDs(ctx context.Context, tx *sql.Tx, now time.Time, where string, args ...any) ([]string, error) {
	n := nanos(now)
	cond := `ended_at IS NULL AND (expires_at > ? OR access_exp > ?) AND (` + where + `)`
	condArgs := append([]any{n, n}, args...)
	// A session that never had an access token has nothing to revoke until
	// later than now; recording it keeps one revocation per ended session.
	_, err := tx.ExecContext(ctx, `INSERT INTO revocations (session_id, exp, ended_at)
		SELECT id, COALESCE(access_exp, ?), ? FROM sessions WHERE `+cond+` ORDER BY created_at, id`,
		append([]any{n, n}, condArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("record revocations: %w", err)
	}
	ids, err := queryAll(ctx, tx, "end sessions", sqlstore.ScanString, `UPDATE sessions SET ended_at = ? WHERE `+cond+` RETURNING id`, append([]any{n}, condArgs...)...)
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// CreateSession inserts s with its first refresh token's hash, only while
// the user matches pin (when set); see jot.SessionStore. A user that does
// not exist is ENOTFOUND. The write transaction is IMMEDIATE, so the check
// and the insert take their turn with every UpdateUser and DeleteUser: a
// change either committed before (and the check sees it) or comes after
// (and sees, and ends, the new session).
func (db *DB) CreateSession(ctx context.Context, s *jot.Session, refreshHash []byte, pin *jot.UserPin, audit ...*jot.Audit) error {
	_, err := db.CreateSessionWithin(ctx, s, refreshHash, pin, 0, audit...)
	return err
}

// CreateSessionWithin is CreateSession that then ends the user's least
// recently used other sessions past maxLive live ones; see
// jot.SessionStore. The IMMEDIATE transaction serializes it with every
// other write, so two logins never both count the same sessions.
func (db *DB) CreateSessionWithin(ctx context.Context, s *jot.Session, refreshHash []byte, pin *jot.UserPin, maxLive int, audit ...*jot.Audit) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	ended, err := sqlstore.InTx(ctx, db.writeTx, func(tx *sql.Tx) ([]string, error) {
		return writes.SessionCreated(ctx, tx, s, refreshHash, pin, maxLive, audit)
	})
	return len(ended), err
}

// sessionUser reads a pinned session's user; the IMMEDIATE transaction is
// lock enough.
func sessionUser(ctx context.Context, tx *sql.Tx, userID string, pinned bool, _ int) (*jot.User, error) {
	if !pinned {
		return nil, nil
	}
	return userByID(ctx, tx, userID)
}

func insertSession(ctx context.Context, tx *sql.Tx, s *jot.Session) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sqlstore.SessionArgs[times](s)...)
	return err
}

func insertRefresh(ctx context.Context, tx *sql.Tx, s *jot.Session, hash []byte) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?, ?, ?)`,
		hash, s.ID, nanos(s.CreatedAt))
	return err
}

// endLeastUsed ends the user's sessions past keep live ones; live as
// ListSessions counts them: not ended, not expired at s's start.
func endLeastUsed(ctx context.Context, tx *sql.Tx, s *jot.Session, keep int) ([]string, error) {
	return endSessionIDs(ctx, tx, s.CreatedAt, `id IN (
		SELECT id FROM sessions WHERE user_id = ? AND id <> ? AND ended_at IS NULL AND expires_at > ?
		ORDER BY COALESCE(last_used_at, created_at) DESC, created_at DESC, id DESC
		LIMIT -1 OFFSET ?)`, s.UserID, s.ID, nanos(s.CreatedAt), keep-1)
}

// SessionByID returns the session, live or not, or ENOTFOUND.
func (db *DB) SessionByID(ctx context.Context, id string) (*jot.Session, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sessionByID(ctx, db.read, id)
}

// ListSessions lists the user's live sessions at now, newest first.
func (db *DB) ListSessions(ctx context.Context, userID string, now time.Time) ([]*jot.Session, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.read, "list sessions", sqlstore.ScanSession[times], `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, userID, nanos(now))
}

// ListSessionsPage lists one page of the user's live sessions at now,
// newest first by id; see jot.SessionStore.
func (db *DB) ListSessionsPage(ctx context.Context, userID string, now time.Time, p jot.Page) ([]*jot.Session, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	q := `SELECT ` + sessionColumns + ` FROM sessions
		WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?`
	args := []any{userID, nanos(now)}
	q, args = newestFirst(q, args, p)
	return queryAll(ctx, db.read, "list sessions", sqlstore.ScanSession[times], q, args...)
}

// RotateRefresh consumes a refresh token; see jot.SessionStore. The write
// transaction begins IMMEDIATE, so concurrent calls with one token take turns
// and each sees what the one before it did.
func (db *DB) RotateRefresh(ctx context.Context, req jot.RotateRequest) (*jot.RotateResult, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := sqlstore.InTx(ctx, db.writeTx, func(tx *sql.Tx) (*jot.RotateResult, error) {
		return writes.RotateAudited(ctx, tx, req)
	})
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	return res, nil
}

func rotate(ctx context.Context, tx *sql.Tx, req jot.RotateRequest) (*jot.RotateResult, error) {
	var usedAt *time.Time
	now := nanos(req.Now)
	// The session's access exp, raised to the request's.
	accessExp := func(s *jot.Session) any {
		if req.AccessExp.After(s.AccessExp) {
			return nullNanos(req.AccessExp)
		}
		return nullNanos(s.AccessExp)
	}
	return sqlstore.Rotation{
		NoRows: sql.ErrNoRows,
		Token: func() (string, error) {
			var sessionID string
			var used sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT session_id, used_at FROM refresh_tokens WHERE hash = ?`, req.Hash).
				Scan(&sessionID, &used)
			if used.Valid {
				t := fromNanos(used.Int64)
				usedAt = &t
			}
			return sessionID, err
		},
		Session: func(id string) (*jot.Session, error) { return sessionByID(ctx, tx, id) },
		Used:    func() (*time.Time, error) { return usedAt, nil },
		User:    func(id string) (*jot.User, error) { return userByID(ctx, tx, id) },
		Use: func(s *jot.Session, expires time.Time) (*jot.Session, error) {
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, now, req.Hash); err != nil {
				return nil, fmt.Errorf("mark token used: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?, ?, ?)`,
				req.SuccessorHash, s.ID, now); err != nil {
				return nil, fmt.Errorf("insert successor token: %w", err)
			}
			return sessionUpdated(ctx, tx, s.ID, `expires_at = ?, last_used_at = ?, access_exp = ?, user_agent = ?, ip = ?`,
				nanos(expires), now, accessExp(s), req.UserAgent, req.IP)
		},
		SuccessorLive: func(s *jot.Session) (bool, error) {
			var live int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM refresh_tokens
				WHERE hash = ? AND session_id = ? AND used_at IS NULL`, req.SuccessorHash, s.ID).Scan(&live)
			return live > 0, err
		},
		Grace: func(s *jot.Session) (*jot.Session, error) {
			return sessionUpdated(ctx, tx, s.ID, `last_used_at = ?, access_exp = ?`, now, accessExp(s))
		},
		End: func(s *jot.Session) (*jot.Session, error) {
			if _, err := endSessions(ctx, tx, req.Now, `id = ?`, s.ID); err != nil {
				return nil, err
			}
			return sessionByID(ctx, tx, s.ID)
		},
	}.Run(req)
}

// sessionUpdated sets the columns of set (with args) of the session id and
// returns it as stored now.
func sessionUpdated(ctx context.Context, tx *sql.Tx, id, set string, args ...any) (*jot.Session, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET `+set+` WHERE id = ?`, append(args, id)...); err != nil {
		return nil, fmt.Errorf("update session: %w", err)
	}
	return sessionByID(ctx, tx, id)
}

// ExtendAccess moves the session's AccessExp to exp if that is later; an
// unknown session is ENOTFOUND.
func (db *DB) ExtendAccess(ctx context.Context, sessionID string, exp time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		s, err := sessionByID(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if !exp.After(s.AccessExp) {
			return nil
		}
		return sqlstore.Op("extend access").Err(tx.ExecContext(ctx, `UPDATE sessions SET access_exp = ? WHERE id = ?`,
			nullNanos(exp), sessionID))
	})
}

// EndSession ends a live session and records its revocation; an ended,
// expired or unknown session is ENOTFOUND.
func (db *DB) EndSession(ctx context.Context, id string, now time.Time, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ended, err := endSessionIDs(ctx, tx, now, `id = ?`, id)
		if err != nil {
			return err
		}
		if len(ended) == 0 {
			return sqlstore.NotFound("session")
		}
		return writes.StoreAudit(ctx, tx, audit, ended)
	})
}

// EndUserSessions ends every live session of the user but except (may be
// empty) and records their revocations.
func (db *DB) EndUserSessions(ctx context.Context, userID, except string, now time.Time, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		return writes.UserSessionsEnded(ctx, tx, now, userID, except, audit)
	})
}

// endUserSessions ends every live session of the user but except (may be
// empty), recording their revocations, and returns their ids.
func endUserSessions(ctx context.Context, tx *sql.Tx, now time.Time, userID, except string) ([]string, error) {
	return endSessionIDs(ctx, tx, now, `user_id = ? AND id <> ?`, userID, except)
}

// Revocations lists at most limit revocations after the cursor whose Exp
// is after notBefore, the cursor of what follows and whether more do; see
// jot.SessionStore and revocationPage.
func (db *DB) Revocations(ctx context.Context, after int64, notBefore time.Time, limit int) ([]jot.Revocation, int64, bool, error) {
	revs := []jot.Revocation{}
	cursor, more, err := db.revocationPage(ctx, after, notBefore, limit, func(seq int64, id []byte, exp, ended int64) {
		revs = append(revs, jot.Revocation{Seq: seq, SessionID: string(id), Exp: fromNanos(exp), EndedAt: fromNanos(ended)})
	})
	if err != nil {
		return nil, 0, false, err
	}
	return revs, cursor, more, nil
}

// Prune deletes expired revocations and dead sessions; see jot.SessionStore.
func (db *DB) Prune(ctx context.Context, before time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		cut := nanos(before)
		if _, err := tx.ExecContext(ctx, `DELETE FROM revocations
			WHERE exp < ? AND seq < (SELECT max(seq) FROM revocations)`, cut); err != nil {
			return fmt.Errorf("prune revocations: %w", err)
		}
		// A session whose access tokens may still be live stays, so ending
		// it still records a revocation.
		return sqlstore.Op("prune sessions").Err(tx.ExecContext(ctx, `DELETE FROM sessions
			WHERE (ended_at < ? OR expires_at < ?) AND (access_exp IS NULL OR access_exp < ?)`, cut, cut, cut))
	})
}
