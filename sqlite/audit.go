package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

// insertAudit stores events in tx.
func insertAudit(ctx context.Context, tx *sql.Tx, events []*jot.AuditEvent) error {
	for _, e := range events {
		args, err := sqlstore.AuditArgs[times](e)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (`+sqlstore.AuditColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
	}
	return nil
}

// RecordAudit stores events in one transaction; see jot.AuditStore.
func (db *DB) RecordAudit(ctx context.Context, events ...*jot.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error { return insertAudit(ctx, tx, events) })
}

// ListAudit lists events newest first; see jot.AuditStore.
func (db *DB) ListAudit(ctx context.Context, f jot.AuditFilter, p jot.Page) ([]*jot.AuditEvent, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	q := `SELECT ` + sqlstore.AuditColumns + ` FROM audit_events WHERE 1 = 1`
	var args []any
	if f.UserID != "" {
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.Event != "" {
		q += ` AND event = ?`
		args = append(args, f.Event)
	}
	q, args = newestFirst(q, args, p)
	return queryAll(ctx, db.read, "list audit events", sqlstore.ScanAudit[times], q, args...)
}

// PruneAudit deletes the events made before `before`.
func (db *DB) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE time < ?`, nanos(before))
		if err != nil {
			return fmt.Errorf("prune audit events: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// CreateSigningKeyAudited stores k and audit in one transaction; a KID
// already stored is ECONFLICT.
func (db *DB) CreateSigningKeyAudited(ctx context.Context, k *jot.SigningKey, audit *jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := insertSigningKey(ctx, tx, k); err != nil {
			return err
		}
		return writes.StoreAudit(ctx, tx, []*jot.Audit{audit}, nil)
	})
}
