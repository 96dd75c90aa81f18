package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jotauth/jot"
)

// SigningKeys lists every stored signing key, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]*jot.SigningKey, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT kid, alg, private, created_at, activates_at
		FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	keys, err := collect(rows, func(s scanner) (*jot.SigningKey, error) {
		var k jot.SigningKey
		var activates pgtype.Timestamptz
		if err := s.Scan(&k.KID, &k.Alg, &k.Private, &k.CreatedAt, &activates); err != nil {
			return nil, err
		}
		k.ActivatesAt = fromNull(activates)
		return &k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return keys, nil
}

// CreateSigningKey stores k; a KID already stored is ECONFLICT.
func (db *DB) CreateSigningKey(ctx context.Context, k *jot.SigningKey) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO signing_keys (kid, alg, private, created_at, activates_at)
		VALUES ($1, $2, $3, $4, $5)`, k.KID, k.Alg, k.Private, k.CreatedAt, nullTime(k.ActivatesAt))
	if _, dup := isUnique(err); dup {
		return &jot.Error{Code: jot.ECONFLICT, Message: fmt.Sprintf("signing key %s already exists", k.KID), Err: err}
	} else if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// Secret returns the secret stored under name, storing gen() first when
// there is none. gen runs outside any transaction. When callers race, the
// first insert wins: the others' ON CONFLICT DO NOTHING waits for it to
// commit, so the SELECT that follows, a statement of its own, reads it.
func (db *DB) Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	v, err := secret(ctx, db.pool, name)
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
	if _, err := db.pool.Exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`, name, b, time.Now()); err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	return secret(ctx, db.pool, name)
}

func secret(ctx context.Context, q querier, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("secret")
	} else if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}
