package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jotauth/jot"
)

// SigningKeys lists every stored signing key, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]*jot.SigningKey, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.read, "signing keys", scanSigningKey, `SELECT kid, alg, private, created_at, activates_at
		FROM signing_keys ORDER BY created_at, kid`)
}

func scanSigningKey(s scanner) (*jot.SigningKey, error) {
	var k jot.SigningKey
	var created int64
	var activates sql.NullInt64
	if err := s.Scan(&k.KID, &k.Alg, &k.Private, &created, &activates); err != nil {
		return nil, err
	}
	k.CreatedAt = fromNanos(created)
	k.ActivatesAt = fromNullNanos(activates)
	return &k, nil
}

// CreateSigningKey stores k; a KID already stored is ECONFLICT.
func (db *DB) CreateSigningKey(ctx context.Context, k *jot.SigningKey) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.write.ExecContext(ctx, `INSERT INTO signing_keys (kid, alg, private, created_at, activates_at)
		VALUES (?, ?, ?, ?, ?)`, k.KID, k.Alg, k.Private, nanos(k.CreatedAt), nullNanos(k.ActivatesAt))
	if isUnique(err) {
		return &jot.Error{Code: jot.ECONFLICT, Message: fmt.Sprintf("signing key %s already exists", k.KID), Err: err}
	} else if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// Secret returns the secret stored under name, storing gen() first when
// there is none. gen runs outside any transaction; when callers race, the
// first insert wins and every caller reads that one back.
func (db *DB) Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	v, err := secret(ctx, db.read, name)
	if err == nil || jot.ErrorCode(err) != jot.ENOTFOUND {
		return v, err
	}
	b, err := gen()
	if err != nil {
		return nil, fmt.Errorf("generate secret %s: %w", name, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("generate secret %s: no bytes", name)
	}
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, b, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("store secret %s: %w", name, err)
		}
		v, err = secret(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func secret(ctx context.Context, q querier, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("secret")
	} else if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}
