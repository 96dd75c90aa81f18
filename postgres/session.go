package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jotauth/jot"
)

// revocationChannel is the NOTIFY channel of every transaction that records
// revocations. Channels are per database, so instances on other schemas of
// the same database hear it too: a spurious sync, nothing worse.
const revocationChannel = "jot_revocations"

const sessionColumns = `id, user_id, created_at, last_used_at, expires_at, user_agent, ip, access_exp, ended_at`

func scanSession(s scanner) (*jot.Session, error) {
	var ss jot.Session
	var lastUsed, accessExp, ended pgtype.Timestamptz
	if err := s.Scan(&ss.ID, &ss.UserID, &ss.CreatedAt, &lastUsed, &ss.ExpiresAt, &ss.UserAgent, &ss.IP, &accessExp, &ended); err != nil {
		return nil, err
	}
	ss.LastUsedAt = fromNull(lastUsed)
	ss.AccessExp = fromNull(accessExp)
	ss.EndedAt = fromNull(ended)
	return &ss, nil
}

// sessionBy runs a query for one session; no row is ENOTFOUND.
func sessionBy(ctx context.Context, q querier, what, sql string, args ...any) (*jot.Session, error) {
	s, err := scanSession(q.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("session")
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

// endSessions ends the sessions that match cond and are not ended and whose
// refresh or access tokens may still work at now, records a revocation for
// each and notifies revocationChannel; it returns how many it ended. In
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
func endSessions(ctx context.Context, tx pgx.Tx, now time.Time, cond string, args ...any) (int, error) {
	ids, err := endSessionIDs(ctx, tx, now, cond, args...)
	return len(ids), err
}

// endSessionIDs is endSessions returning the ids of the sessions it ended
// (oldest first), for the audit events that name them.
func endSessionIDs(ctx context.Context, tx pgx.Tx, now time.Time, cond string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, `UPDATE sessions SET ended_at = $1
		WHERE ended_at IS NULL AND (expires_at > $1 OR access_exp > $1) AND (`+cond+`)
		RETURNING id, created_at, COALESCE(access_exp, $1)`, append([]any{now}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("end sessions: %w", err)
	}
	type ended struct {
		id      string
		created time.Time
		exp     time.Time
	}
	list, err := collect(rows, func(s scanner) (ended, error) {
		var e ended
		err := s.Scan(&e.id, &e.created, &e.exp)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("end sessions: %w", err)
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
	b.Queue(`SELECT pg_notify($1, '')`, revocationChannel)
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
	var ended []string
	err := db.tx(ctx, func(tx pgx.Tx) error {
		lock := "FOR SHARE"
		if maxLive > 0 {
			lock = "FOR NO KEY UPDATE"
		}
		if pin != nil || maxLive > 0 {
			u, err := userBy(ctx, tx, "lock user", `SELECT `+userColumns+` FROM users WHERE id = $1 `+lock, s.UserID)
			if err != nil {
				return err
			}
			if pin != nil {
				if err := pin.Check(u); err != nil {
					return err
				}
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			s.ID, s.UserID, s.CreatedAt, nullTime(s.LastUsedAt), s.ExpiresAt,
			s.UserAgent, s.IP, nullTime(s.AccessExp), nullTime(s.EndedAt))
		if _, dup := isUnique(err); dup {
			return &jot.Error{Code: jot.ECONFLICT, Message: "session already exists", Err: err}
		} else if isForeignKey(err) {
			return &jot.Error{Code: jot.ENOTFOUND, Message: "user not found", Err: err}
		} else if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)`,
			refreshHash, s.ID, s.CreatedAt)
		if _, dup := isUnique(err); dup {
			return &jot.Error{Code: jot.ECONFLICT, Message: "refresh token already exists", Err: err}
		} else if err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		if maxLive <= 0 {
			return storeAudit(ctx, tx, audit, nil)
		}
		// Live as ListSessions counts them: not ended, not expired at the
		// new session's start.
		ended, err = endSessionIDs(ctx, tx, s.CreatedAt, `id IN (
			SELECT id FROM sessions WHERE user_id = $2 AND id <> $3 AND ended_at IS NULL AND expires_at > $1
			ORDER BY COALESCE(last_used_at, created_at) DESC, created_at DESC, id DESC
			OFFSET $4)`, s.UserID, s.ID, maxLive-1)
		if err != nil {
			return err
		}
		return storeAudit(ctx, tx, audit, ended)
	})
	return len(ended), err
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
	rows, err := db.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	sessions, err := collect(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return sessions, nil
}

// ListSessionsPage lists one page of the user's live sessions at now,
// newest first by id; see jot.SessionStore.
func (db *DB) ListSessionsPage(ctx context.Context, userID string, now time.Time, p jot.Page) ([]*jot.Session, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	// An empty After starts from the newest.
	rows, err := db.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, userID, now, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	sessions, err := collect(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return sessions, nil
}

// RotateRefresh consumes a refresh token; see jot.SessionStore. The
// session's row is locked first, so concurrent calls with tokens of one
// session take turns, and each sees what the one before it committed.
func (db *DB) RotateRefresh(ctx context.Context, req jot.RotateRequest) (*jot.RotateResult, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var res *jot.RotateResult
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var r error
		if res, r = rotate(ctx, tx, req); r != nil {
			return r
		}
		if e := req.AuditFor(res); e != nil {
			return insertAudit(ctx, tx, []*jot.AuditEvent{e})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	return res, nil
}

func rotate(ctx context.Context, tx pgx.Tx, req jot.RotateRequest) (*jot.RotateResult, error) {
	invalid := &jot.RotateResult{Outcome: jot.RotateInvalid}
	var sessionID string
	err := tx.QueryRow(ctx, `SELECT session_id FROM refresh_tokens WHERE hash = $1`, req.Hash).Scan(&sessionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return invalid, nil
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	// After a wait for the lock, FOR UPDATE returns the row as the previous
	// holder left it: ended, rotated or deleted.
	s, err := sessionBy(ctx, tx, "lock session", `SELECT `+sessionColumns+` FROM sessions WHERE id = $1 FOR UPDATE`, sessionID)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return invalid, nil
	} else if err != nil {
		return nil, err
	}
	if !s.Live(req.Now) {
		return invalid, nil
	}
	expires, ok := req.ExpiryFor(s)
	if !ok {
		return invalid, nil
	}
	// Read only now, under the lock: a rotation that held it before may
	// have used the token.
	var usedAt pgtype.Timestamptz
	err = tx.QueryRow(ctx, `SELECT used_at FROM refresh_tokens WHERE hash = $1`, req.Hash).Scan(&usedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return invalid, nil
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	u, err := userBy(ctx, tx, "user by id", `SELECT `+userColumns+` FROM users WHERE id = $1`, s.UserID)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return invalid, nil
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return invalid, nil
	}

	if !usedAt.Valid {
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2`, req.Now, req.Hash); err != nil {
			return nil, fmt.Errorf("mark token used: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)`,
			req.SuccessorHash, s.ID, req.Now); err != nil {
			return nil, fmt.Errorf("insert successor token: %w", err)
		}
		// GREATEST ignores NULL: a session without an access exp takes the
		// request's.
		s, err := sessionBy(ctx, tx, "update session", `UPDATE sessions
			SET expires_at = $1, last_used_at = $2, access_exp = GREATEST(access_exp, $3), user_agent = $4, ip = $5
			WHERE id = $6 RETURNING `+sessionColumns,
			expires, req.Now, nullTime(req.AccessExp), req.UserAgent, req.IP, s.ID)
		if err != nil {
			return nil, err
		}
		return &jot.RotateResult{Outcome: jot.RotateOK, Session: s, User: u}, nil
	}

	// Two tabs refreshing at once present the same token; the later one gets
	// the successor the earlier one got. A Now before used_at is such a race
	// too: the callers read their clocks before taking turns here.
	if req.Grace > 0 && req.Now.Sub(usedAt.Time) < req.Grace {
		var live bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refresh_tokens
			WHERE hash = $1 AND session_id = $2 AND used_at IS NULL)`, req.SuccessorHash, s.ID).Scan(&live)
		if err != nil {
			return nil, fmt.Errorf("find successor token: %w", err)
		}
		if live {
			s, err := sessionBy(ctx, tx, "update session", `UPDATE sessions
				SET last_used_at = $1, access_exp = GREATEST(access_exp, $2)
				WHERE id = $3 RETURNING `+sessionColumns,
				req.Now, nullTime(req.AccessExp), s.ID)
			if err != nil {
				return nil, err
			}
			return &jot.RotateResult{Outcome: jot.RotateGrace, Session: s, User: u}, nil
		}
	}

	if _, err := endSessions(ctx, tx, req.Now, `id = $2`, s.ID); err != nil {
		return nil, err
	}
	s, err = sessionBy(ctx, tx, "session by id", `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, s.ID)
	if err != nil {
		return nil, err
	}
	return &jot.RotateResult{Outcome: jot.RotateReused, Session: s}, nil
}

// ExtendAccess moves the session's AccessExp to exp if that is later; an
// unknown session is ENOTFOUND. One statement: the row lock of the UPDATE
// orders it with a concurrent rotation, and neither lowers the other's exp.
func (db *DB) ExtendAccess(ctx context.Context, sessionID string, exp time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tag, err := db.pool.Exec(ctx, `UPDATE sessions SET access_exp = GREATEST(access_exp, $1) WHERE id = $2`,
		nullTime(exp), sessionID)
	return affectedOne(tag.RowsAffected(), err, "session")
}

// EndSession ends a live session and records its revocation; an ended,
// expired or unknown session is ENOTFOUND.
func (db *DB) EndSession(ctx context.Context, id string, now time.Time, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		ended, err := endSessionIDs(ctx, tx, now, `id = $2`, id)
		if err != nil {
			return err
		}
		if len(ended) == 0 {
			return notFound("session")
		}
		return storeAudit(ctx, tx, audit, ended)
	})
}

// EndUserSessions ends every live session of the user but except (may be
// empty) and records their revocations.
func (db *DB) EndUserSessions(ctx context.Context, userID, except string, now time.Time, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		ended, err := endSessionIDs(ctx, tx, now, `user_id = $2 AND id <> $3`, userID, except)
		if err != nil {
			return err
		}
		return storeAudit(ctx, tx, audit, ended)
	})
}

// Revocations lists at most limit revocations after the cursor whose Exp
// is after notBefore, the cursor of what follows and whether more do; see
// jot.SessionStore. One statement reads the list and the greatest Seq
// visible in one snapshot, and endSessions makes seq values visible in
// increasing order, so a revocation that commits later always has a
// greater Seq than the cursor returned now. The page is read along the
// primary key from `after`, so it costs its own size, not the table's.
func (db *DB) Revocations(ctx context.Context, after int64, notBefore time.Time, limit int) ([]jot.Revocation, int64, bool, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	// One row past the limit tells whether another page follows; LIMIT
	// NULL is no limit.
	var fetch *int
	if limit > 0 {
		fetch = new(limit + 1)
	}
	// The LEFT JOIN yields one row, of NULLs but the cursor, when nothing
	// matches.
	rows, err := db.pool.Query(ctx, `SELECT c.cursor, r.seq, r.session_id, r.exp, r.ended_at
		FROM (SELECT COALESCE(max(seq), 0) AS cursor FROM revocations) c
		LEFT JOIN LATERAL (SELECT seq, session_id, exp, ended_at FROM revocations
			WHERE seq > $1 AND seq <= c.cursor AND exp > $2
			ORDER BY seq LIMIT $3) r ON true
		ORDER BY r.seq`, after, notBefore, fetch)
	if err != nil {
		return nil, 0, false, fmt.Errorf("revocations: %w", err)
	}
	defer rows.Close()
	revs := []jot.Revocation{}
	var cursor int64
	for rows.Next() {
		var seq pgtype.Int8
		var sessionID pgtype.Text
		var exp, ended pgtype.Timestamptz
		if err := rows.Scan(&cursor, &seq, &sessionID, &exp, &ended); err != nil {
			return nil, 0, false, fmt.Errorf("revocations: %w", err)
		}
		if !seq.Valid {
			continue
		}
		revs = append(revs, jot.Revocation{Seq: seq.Int64, SessionID: sessionID.String, Exp: fromNull(exp), EndedAt: fromNull(ended)})
	}
	if err := rows.Err(); err != nil {
		return nil, 0, false, fmt.Errorf("revocations: %w", err)
	}
	more := false
	if limit > 0 && len(revs) > limit {
		revs, more = revs[:limit], true
		cursor = revs[limit-1].Seq
	}
	return revs, cursor, more, nil
}

// affectedOne turns the outcome of an UPDATE or DELETE of one row by id
// into ENOTFOUND when there was no such row.
func affectedOne(n int64, err error, what string) error {
	if err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// Prune deletes expired revocations and dead sessions; see jot.SessionStore.
// The newest revocation stays, so max(seq), the feed's cursor, never goes
// back.
func (db *DB) Prune(ctx context.Context, before time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		// Sessions first, then revocations: the order in which endSessions
		// takes its locks, so the two never wait on each other in a circle.
		// A session whose access tokens may still be live stays, so ending
		// it still records a revocation.
		if _, err := tx.Exec(ctx, `DELETE FROM sessions
			WHERE (ended_at < $1 OR expires_at < $1) AND (access_exp IS NULL OR access_exp < $1)`, before); err != nil {
			return fmt.Errorf("prune sessions: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM revocations
			WHERE exp < $1 AND seq < (SELECT max(seq) FROM revocations)`, before); err != nil {
			return fmt.Errorf("prune revocations: %w", err)
		}
		return nil
	})
}
