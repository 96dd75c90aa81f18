package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

// RotateRefresh consumes a refresh token; see jot.SessionStore. The
// session's row is locked first, so concurrent calls with tokens of one
// session take turns, and each sees what the one before it committed.
func (db *DB) RotateRefresh(ctx context.Context, req jot.RotateRequest) (*jot.RotateResult, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := sqlstore.InTx(ctx, db.tx, func(tx pgx.Tx) (*jot.RotateResult, error) {
		return db.writes.RotateAudited(ctx, tx, req)
	})
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	return res, nil
}

func (db *DB) rotate(ctx context.Context, tx pgx.Tx, req jot.RotateRequest) (*jot.RotateResult, error) {
	return sqlstore.Rotation{
		NoRows: pgx.ErrNoRows,
		Token: func() (sessionID string, err error) {
			err = tx.QueryRow(ctx, `SELECT session_id FROM refresh_tokens WHERE hash = $1`, req.Hash).Scan(&sessionID)
			return sessionID, err
		},
		// After a wait for the lock, FOR UPDATE returns the row as the
		// previous holder left it: ended, rotated or deleted.
		Session: func(id string) (*jot.Session, error) {
			return sessionBy(ctx, tx, "lock session", `SELECT `+sessionColumns+` FROM sessions WHERE id = $1 FOR UPDATE`, id)
		},
		// Read only now, under the lock: a rotation that held it before may
		// have used the token.
		Used: func() (*time.Time, error) {
			var usedAt pgtype.Timestamptz
			if err := tx.QueryRow(ctx, `SELECT used_at FROM refresh_tokens WHERE hash = $1`, req.Hash).Scan(&usedAt); err != nil || !usedAt.Valid {
				return nil, err
			}
			return &usedAt.Time, nil
		},
		User: func(id string) (*jot.User, error) {
			return userBy(ctx, tx, "user by id", `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
		},
		Use: func(s *jot.Session, expires time.Time) (*jot.Session, error) {
			if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2`, req.Now, req.Hash); err != nil {
				return nil, fmt.Errorf("mark token used: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)`,
				req.SuccessorHash, s.ID, req.Now); err != nil {
				return nil, fmt.Errorf("insert successor token: %w", err)
			}
			// GREATEST ignores NULL: a session without an access exp takes
			// the request's.
			return sessionBy(ctx, tx, "update session", `UPDATE sessions
				SET expires_at = $1, last_used_at = $2, access_exp = GREATEST(access_exp, $3), user_agent = $4, ip = $5
				WHERE id = $6 RETURNING `+sessionColumns,
				expires, req.Now, nullTime(req.AccessExp), req.UserAgent, req.IP, s.ID)
		},
		SuccessorLive: func(s *jot.Session) (live bool, err error) {
			err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refresh_tokens
				WHERE hash = $1 AND session_id = $2 AND used_at IS NULL)`, req.SuccessorHash, s.ID).Scan(&live)
			return live, err
		},
		Grace: func(s *jot.Session) (*jot.Session, error) {
			return sessionBy(ctx, tx, "update session", `UPDATE sessions
				SET last_used_at = $1, access_exp = GREATEST(access_exp, $2)
				WHERE id = $3 RETURNING `+sessionColumns,
				req.Now, nullTime(req.AccessExp), s.ID)
		},
		End: func(s *jot.Session) (*jot.Session, error) {
			if _, err := db.endSessions(ctx, tx, req.Now, `id = $2`, s.ID); err != nil {
				return nil, err
			}
			return sessionBy(ctx, tx, "session by id", `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, s.ID)
		},
	}.Run(req)
}
