package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const mailColumns = `id, kind, to_addr, data, token_hash, created_at, next_at, expires_at, attempts`

func scanMail(s scanner) (*jot.Mail, error) {
	var m jot.Mail
	if err := s.Scan(&m.ID, &m.Kind, &m.To, &m.Data, &m.TokenHash, &m.CreatedAt, &m.NextAt, &m.ExpiresAt, &m.Attempts); err != nil {
		return nil, err
	}
	return &m, nil
}

func insertMail(ctx context.Context, tx pgx.Tx, m *jot.Mail) error {
	data := m.Data
	if data == nil {
		data = map[string]string{}
	}
	var token any
	if len(m.TokenHash) > 0 {
		token = m.TokenHash
	}
	_, err := tx.Exec(ctx, `INSERT INTO outbox (`+mailColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.ID, m.Kind, m.To, data, token, m.CreatedAt, m.NextAt, m.ExpiresAt, m.Attempts)
	if err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	return nil
}

func insertMailToken(ctx context.Context, tx pgx.Tx, t *jot.MailToken) error {
	_, err := tx.Exec(ctx, `INSERT INTO mail_tokens (`+sqlstore.MailTokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, sqlstore.MailTokenArgs[times](t)...)
	return sqlstore.TokenError(err, isForeignKey(err))
}

// CreateUserWithMail inserts u, then t and m, in one transaction.
func (db *DB) CreateUserWithMail(ctx context.Context, u *jot.User, t *jot.MailToken, m *jot.Mail, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		return db.writes.UserWithMail(ctx, tx, u, t, m, audit)
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
	return db.tx(ctx, func(tx pgx.Tx) error {
		if t.Purpose == jot.PurposeReset {
			// Two resets of one user at once take turns, so exactly one
			// token (the later) is left.
			if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, t.UserID); err != nil {
				return fmt.Errorf("lock user: %w", err)
			}
		}
		return db.writes.TokenWithMails(ctx, tx, t, audit, mails)
	})
}

// QueueMail queues mails without a token.
func (db *DB) QueueMail(ctx context.Context, mails ...*jot.Mail) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		return db.writes.Mails(ctx, tx, mails)
	})
}

// ConsumeMailToken uses a token; see jot.MailStore. The user is locked
// before the token, the order every change of a user takes, and the token
// is deleted under that lock: of two requests with one token only one
// finds it.
func (db *DB) ConsumeMailToken(ctx context.Context, hash []byte, purpose string, now time.Time,
	decide func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error), audit ...*jot.Audit) (*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.InTx(ctx, db.tx, func(tx pgx.Tx) (*jot.User, error) {
		var userID string
		err := tx.QueryRow(ctx, `SELECT user_id FROM mail_tokens WHERE hash = $1 AND purpose = $2`, hash, purpose).Scan(&userID)
		if _, err := sqlstore.One(userID, err, pgx.ErrNoRows, "token", "mail token"); err != nil {
			return nil, err
		}
		u, err := userBy(ctx, tx, "user by id", `SELECT `+userColumns+` FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID)
		if err != nil {
			return nil, err
		}
		t, err := sqlstore.ScanMailToken[times](tx.QueryRow(ctx, `DELETE FROM mail_tokens WHERE hash = $1 AND purpose = $2
			RETURNING `+sqlstore.MailTokenColumns, hash, purpose))
		if t, err = sqlstore.One(t, err, pgx.ErrNoRows, "token", "use mail token"); err != nil {
			return nil, err
		}
		if !now.Before(t.ExpiresAt) {
			return nil, sqlstore.NotFound("token")
		}
		upd, err := decide(u, t)
		if err != nil {
			return nil, err
		}
		return db.updateUser(ctx, tx, t.UserID, upd, now, audit)
	})
}

// ClaimMail hands out due mails; see jot.MailStore. FOR UPDATE SKIP
// LOCKED lets instances claim at once without waiting on each other or
// ever taking the same row.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]*jot.Mail, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.pool, "claim mail", scanMail, `UPDATE outbox o SET next_at = $1, attempts = o.attempts + 1
		FROM (SELECT id FROM outbox WHERE next_at <= $2 AND expires_at > $2
			ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due
		WHERE o.id = due.id
		RETURNING o.id, o.kind, o.to_addr, o.data, o.token_hash, o.created_at, o.next_at, o.expires_at, o.attempts`,
		now.Add(lease), now, n)
}

// MailSent removes a sent mail.
func (db *DB) MailSent(ctx context.Context, id string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.Op("mail sent").Err(db.pool.Exec(ctx, `DELETE FROM outbox WHERE id = $1`, id))
}

// RetryMail makes a mail due again at next.
func (db *DB) RetryMail(ctx context.Context, id string, next time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.Op("retry mail").Err(db.pool.Exec(ctx, `UPDATE outbox SET next_at = $1 WHERE id = $2`, next, id))
}

// PruneMail deletes expired tokens (their mails with them) and mails.
func (db *DB) PruneMail(ctx context.Context, now time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM mail_tokens WHERE expires_at <= $1`, now); err != nil {
			return fmt.Errorf("prune mail tokens: %w", err)
		}
		return sqlstore.Op("prune outbox").Err(tx.Exec(ctx, `DELETE FROM outbox WHERE expires_at <= $1`, now))
	})
}

// endResetTokens deletes the user's password reset tokens.
func endResetTokens(ctx context.Context, tx pgx.Tx, userID string) error {
	return sqlstore.Op("end reset tokens").Err(tx.Exec(ctx, `DELETE FROM mail_tokens WHERE user_id = $1 AND purpose = $2`, userID, jot.PurposeReset))
}
