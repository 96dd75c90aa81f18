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
	return db.revocationPage(ctx, after, notBefore, limit, func(_ int64, id []byte, exp, _ int64) {
		fn(id, fromNanos(exp))
	})
}

// revocationPage hands fn, in seq order, at most limit (no bound when
// limit <= 0) of the revocations after the cursor whose exp is after
// notBefore, and returns the cursor of what follows and whether more do.
// The list and the greatest seq come from one snapshot, so the cursor
// never skips a revocation that the list did not show; the rows are read
// along the primary key (seq is the rowid) from after, so a page costs
// its own size, not the table's. id is the driver's buffer, valid only
// during the call; exp and ended are nanoseconds.
func (db *DB) revocationPage(ctx context.Context, after int64, notBefore time.Time, limit int,
	fn func(seq int64, id []byte, exp, ended int64)) (int64, bool, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var cursor int64
	more := false
	// One row past the limit tells whether another page follows.
	fetch := -1
	if limit > 0 {
		fetch = limit + 1
	}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		// sqlite_sequence keeps the greatest seq even if old rows are pruned.
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(
			(SELECT seq FROM sqlite_sequence WHERE name = 'revocations'), 0)`).Scan(&cursor)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, session_id, exp, ended_at FROM revocations
			WHERE seq > ? AND seq <= ? AND exp > ? ORDER BY seq LIMIT ?`, after, cursor, nanos(notBefore), fetch)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			seq, exp, ended int64
			id              sql.RawBytes
			n               int
			last            int64
		)
		for rows.Next() {
			if err := rows.Scan(&seq, &id, &exp, &ended); err != nil {
				return err
			}
			if limit > 0 && n == limit {
				// The row past the limit: another page follows.
				more, cursor = true, last
				break
			}
			fn(seq, id, exp, ended)
			n, last = n+1, seq
		}
		return rows.Err()
	})
	if err != nil {
		return 0, false, fmt.Errorf("revocations: %w", err)
	}
	return cursor, more, nil
}
