package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const mailColumns = `id, kind, to_addr, data, token_hash, created_at, next_at, expires_at, attempts`

func scanMail(s scanner) (*jot.Mail, error) {
	var m jot.Mail
	var data string
	var created, next, expires int64
	if err := s.Scan(&m.ID, &m.Kind, &m.To, &data, &m.TokenHash, &created, &next, &expires, &m.Attempts); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(data), &m.Data); err != nil {
		return nil, fmt.Errorf("mail %s data: %w", m.ID, err)
	}
	m.CreatedAt, m.NextAt, m.ExpiresAt = fromNanos(created), fromNanos(next), fromNanos(expires)
	return &m, nil
}

func insertMail(ctx context.Context, tx *sql.Tx, m *jot.Mail) error {
	data, err := json.Marshal(m.Data)
	if err != nil {
		return fmt.Errorf("mail data: %w", err)
	}
	if m.Data == nil {
		data = []byte("{}")
	}
	var token any
	if len(m.TokenHash) > 0 {
		token = m.TokenHash
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (`+mailColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Kind, m.To, string(data), token, nanos(m.CreatedAt), nanos(m.NextAt), nanos(m.ExpiresAt), m.Attempts)
	if err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	return nil
}

func insertMailToken(ctx context.Context, tx *sql.Tx, t *jot.MailToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mail_tokens (`+sqlstore.MailTokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, sqlstore.MailTokenArgs[times](t)...)
	return sqlstore.TokenError(err, isForeignKey(err))
}

// CreateUserWithMail inserts u, then t and m, in one transaction.
func (db *DB) CreateUserWithMail(ctx context.Context, u *jot.User, t *jot.MailToken, m *jot.Mail, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		return writes.UserWithMail(ctx, tx, u, t, m, audit)
	})
}

// IssueMailToken stores t and queues mails; see jot.MailStore.
func (db *DB) IssueMailToken(ctx context.Context, t *jot.MailToken, mails ...*jot.Mail) error {
	return db.IssueMailTokenAudited(ctx, t, nil, mails...)
}

// IssueMailTokenAudited stores t, queues mails and stores audit in one
// transaction; see jot.MailStore.
func (db *DB) IssueMailTokenAudited(ctx context.Context, t *jot.MailToken, audit *jot.Audit, mails ...*jot.Mail) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		return writes.TokenWithMails(ctx, tx, t, audit, mails)
	})
}

// QueueMail queues mails without a token.
func (db *DB) QueueMail(ctx context.Context, mails ...*jot.Mail) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		return writes.Mails(ctx, tx, mails)
	})
}

// ConsumeMailToken uses a token; see jot.MailStore.
func (db *DB) ConsumeMailToken(ctx context.Context, hash []byte, purpose string, now time.Time,
	decide func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error), audit ...*jot.Audit) (*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.InTx(ctx, db.writeTx, func(tx *sql.Tx) (*jot.User, error) {
		t, err := sqlstore.ScanMailToken[times](tx.QueryRowContext(ctx, `SELECT `+sqlstore.MailTokenColumns+`
			FROM mail_tokens WHERE hash = ? AND purpose = ?`, hash, purpose))
		if t, err = sqlstore.One(t, err, sql.ErrNoRows, "token", "mail token"); err != nil {
			return nil, err
		}
		if !now.Before(t.ExpiresAt) {
			return nil, sqlstore.NotFound("token")
		}
		u, err := userByID(ctx, tx, t.UserID)
		if err != nil {
			return nil, err
		}
		upd, err := decide(u, t)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mail_tokens WHERE hash = ?`, hash); err != nil {
			return nil, fmt.Errorf("use mail token: %w", err)
		}
		return updateUser(ctx, tx, t.UserID, upd, now, audit)
	})
}

// ClaimMail hands out due mails; see jot.MailStore. The single writer
// connection makes the claim atomic: no two callers get one mail.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]*jot.Mail, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.InTx(ctx, db.writeTx, func(tx *sql.Tx) ([]*jot.Mail, error) {
		return queryAll(ctx, tx, "claim mail", scanMail,
			`UPDATE outbox SET next_at = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE next_at <= ? AND expires_at > ? ORDER BY next_at, id LIMIT ?)
			RETURNING `+mailColumns,
			nanos(now.Add(lease)), nanos(now), nanos(now), n)
	})
}

// MailSent removes a sent mail.
func (db *DB) MailSent(ctx context.Context, id string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.Op("mail sent").Err(db.write.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id))
}

// RetryMail makes a mail due again at next.
func (db *DB) RetryMail(ctx context.Context, id string, next time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.Op("retry mail").Err(db.write.ExecContext(ctx, `UPDATE outbox SET next_at = ? WHERE id = ?`, nanos(next), id))
}

// PruneMail deletes expired tokens (their mails with them) and mails.
func (db *DB) PruneMail(ctx context.Context, now time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mail_tokens WHERE expires_at <= ?`, nanos(now)); err != nil {
			return fmt.Errorf("prune mail tokens: %w", err)
		}
		return sqlstore.Op("prune outbox").Err(tx.ExecContext(ctx, `DELETE FROM outbox WHERE expires_at <= ?`, nanos(now)))
	})
}

// endResetTokens deletes the user's password reset tokens.
func endResetTokens(ctx context.Context, tx *sql.Tx, userID string) error {
	return sqlstore.Op("end reset tokens").Err(tx.ExecContext(ctx, `DELETE FROM mail_tokens WHERE user_id = ? AND purpose = ?`, userID, jot.PurposeReset))
}
