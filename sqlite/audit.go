package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jotauth/jot"
)

const auditColumns = `id, time, event, user_id, session_id, actor_id, ip, user_agent, request_id, detail`

// nullString stores an absent (empty) value as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insertAudit stores events in tx.
func insertAudit(ctx context.Context, tx *sql.Tx, events []*jot.AuditEvent) error {
	for _, e := range events {
		var detail any
		if len(e.Detail) > 0 {
			b, err := json.Marshal(e.Detail)
			if err != nil {
				return fmt.Errorf("audit detail: %w", err)
			}
			detail = string(b)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, nanos(e.Time), e.Event, nullString(e.UserID), nullString(e.SessionID), nullString(e.ActorID),
			nullString(e.IP), nullString(e.UserAgent), nullString(e.RequestID), detail); err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
	}
	return nil
}

// storeAudit adds audits' per-session events for the sessions ended and
// stores all of them in tx.
func storeAudit(ctx context.Context, tx *sql.Tx, audits []*jot.Audit, ended []string) error {
	jot.AddEnded(audits, ended)
	return insertAudit(ctx, tx, jot.AuditRows(audits))
}

func scanAudit(s scanner) (*jot.AuditEvent, error) {
	var e jot.AuditEvent
	var t int64
	var user, session, actor, ip, ua, req, detail sql.NullString
	if err := s.Scan(&e.ID, &t, &e.Event, &user, &session, &actor, &ip, &ua, &req, &detail); err != nil {
		return nil, err
	}
	e.Time = fromNanos(t)
	e.UserID, e.SessionID, e.ActorID = user.String, session.String, actor.String
	e.IP, e.UserAgent, e.RequestID = ip.String, ua.String, req.String
	if detail.Valid {
		if err := json.Unmarshal([]byte(detail.String), &e.Detail); err != nil {
			return nil, fmt.Errorf("audit detail: %w", err)
		}
	}
	return &e, nil
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
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE 1 = 1`
	var args []any
	if f.UserID != "" {
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.Event != "" {
		q += ` AND event = ?`
		args = append(args, f.Event)
	}
	if p.After != "" {
		q += ` AND id < ?`
		args = append(args, p.After)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit(p))
	return queryAll(ctx, db.read, "list audit events", scanAudit, q, args...)
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
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, alg, private, created_at, activates_at)
			VALUES (?, ?, ?, ?, ?)`, k.KID, k.Alg, k.Private, nanos(k.CreatedAt), nullNanos(k.ActivatesAt))
		if isUnique(err) {
			return &jot.Error{Code: jot.ECONFLICT, Message: fmt.Sprintf("signing key %s already exists", k.KID), Err: err}
		} else if err != nil {
			return fmt.Errorf("create signing key: %w", err)
		}
		return storeAudit(ctx, tx, []*jot.Audit{audit}, nil)
	})
}
