package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jotauth/jot"
)

// RotateRefresh consumes a refresh token; see jot.SessionStore. The
// session's row is locked first, so concurrent calls with tokens of one
// session take turns, and each sees what the one before it committed.
func (db *DB) RotateRefresh(ctx context.Context, req jot.RotateRequest) (*jot.RotateResult, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var res *jot.RotateResult
	err := db.tx(ctx, func(tx pgx.Tx) (err error) {
		res, err = db.writes.RotateAudited(ctx, tx, req)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	return res, nil
}

func (db *DB) rotate(ctx context.Context, tx pgx.Tx, req jot.RotateRequest) (*jot.RotateResult, error) {
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

	if _, err := db.endSessions(ctx, tx, req.Now, `id = $2`, s.ID); err != nil {
		return nil, err
	}
	s, err = sessionBy(ctx, tx, "session by id", `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, s.ID)
	if err != nil {
		return nil, err
	}
	return &jot.RotateResult{Outcome: jot.RotateReused, Session: s}, nil
}
