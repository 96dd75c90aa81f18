package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jotauth/jot"
)

var _ jot.RevocationScanner = (*DB)(nil)

// ScanRevocations is Revocations without a value per row: the session id
// is handed over in the driver's own buffer. See jot.RevocationScanner.
func (db *DB) ScanRevocations(ctx context.Context, after int64, notBefore time.Time, limit int,
	fn func(sessionID []byte, exp time.Time)) (int64, bool, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var cursor int64
	more := false
	fetch := -1
	if limit > 0 {
		fetch = limit + 1
	}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(
			(SELECT seq FROM sqlite_sequence WHERE name = 'revocations'), 0)`).Scan(&cursor)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, session_id, exp FROM revocations
			WHERE seq > ? AND seq <= ? AND exp > ? ORDER BY seq LIMIT ?`, after, cursor, nanos(notBefore), fetch)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			seq, exp int64
			id       sql.RawBytes
			n        int
			last     int64
		)
		for rows.Next() {
			if err := rows.Scan(&seq, &id, &exp); err != nil {
				return err
			}
			if limit > 0 && n == limit {
				// The row past the limit: another page follows.
				more, cursor = true, last
				break
			}
			fn(id, fromNanos(exp))
			n, last = n+1, seq
		}
		return rows.Err()
	})
	if err != nil {
		return 0, false, fmt.Errorf("revocations: %w", err)
	}
	return cursor, more, nil
}
