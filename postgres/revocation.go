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
		return sqlstore.Op("prune revocations").Err(tx.Exec(ctx, `DELETE FROM revocations
			WHERE exp < $1 AND seq < (SELECT max(seq) FROM revocations)`, before))
	})
}
