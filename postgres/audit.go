package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const auditColumns = sqlstore.AuditColumns

// insertAudit stores events in tx, in one statement.
func insertAudit(ctx context.Context, tx pgx.Tx, events []*jot.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	q := `INSERT INTO audit_events (` + auditColumns + `) VALUES `
	args := make([]any, 0, 10*len(events))
	for i, e := range events {
		row, err := sqlstore.AuditArgs[times](e)
		if err != nil {
			return err
		}
		if i > 0 {
			q += ", "
		}
		q += "("
		for j := range 10 {
			if j > 0 {
				q += ", "
			}
			q += "$" + strconv.Itoa(10*i+j+1)
		}
		q += ")"
		args = append(args, row...)
	}
	return sqlstore.Op("insert audit events").Err(tx.Exec(ctx, q, args...))
}

// RecordAudit stores events in one statement; see jot.AuditStore.
func (db *DB) RecordAudit(ctx context.Context, events ...*jot.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error { return insertAudit(ctx, tx, events) })
}

// ListAudit lists events newest first; see jot.AuditStore.
func (db *DB) ListAudit(ctx context.Context, f jot.AuditFilter, p jot.Page) ([]*jot.AuditEvent, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE TRUE`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.UserID != "" {
		q += ` AND user_id = ` + arg(f.UserID)
	}
	if f.Event != "" {
		q += ` AND event = ` + arg(f.Event)
	}
	if p.After != "" {
		q += ` AND id < ` + arg(p.After)
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(limit(p))
	return queryAll(ctx, db.pool, "list audit events", sqlstore.ScanAudit[times], q, args...)
}

// PruneAudit deletes the events made before `before`.
func (db *DB) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tag, err := db.pool.Exec(ctx, `DELETE FROM audit_events WHERE time < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune audit events: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CreateSigningKeyAudited stores k and audit in one transaction; a KID
// already stored is ECONFLICT. Like CreateSigningKey it notifies
// the DB's keys channel, delivered at the commit.
func (db *DB) CreateSigningKeyAudited(ctx context.Context, k *jot.SigningKey, audit *jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `WITH k AS (
				INSERT INTO signing_keys (kid, alg, private, created_at, activates_at)
				VALUES ($1, $2, $3, $4, $5) RETURNING kid)
			SELECT pg_notify($6, '') FROM k`, append(sqlstore.NewSigningKeyArgs[times](k), db.ch.keys)...)
		if err := signingKeyError(err, k); err != nil {
			return err
		}
		return db.writes.StoreAudit(ctx, tx, []*jot.Audit{audit}, nil)
	})
}
