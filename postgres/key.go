package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
	"github.com/jotauth/jot/token"
)

// SigningKeys lists every stored signing key, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]*jot.SigningKey, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return signingKeys(ctx, db.pool, "")
}

// signingKeys reads every key; lock is "" or a locking clause.
func signingKeys(ctx context.Context, q querier, lock string) ([]*jot.SigningKey, error) {
	return queryAll(ctx, q, "signing keys", sqlstore.ScanSigningKey[times], `SELECT `+sqlstore.SigningKeyColumns+`
		FROM signing_keys ORDER BY created_at, kid `+lock)
}

// CreateSigningKey stores k; a KID already stored is ECONFLICT. The insert
// notifies the DB's keys channel in the same statement, so the notification goes out
// exactly when the key is committed.
func (db *DB) CreateSigningKey(ctx context.Context, k *jot.SigningKey) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `WITH k AS (
			INSERT INTO signing_keys (kid, alg, private, created_at, activates_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING kid)
		SELECT pg_notify($6, '') FROM k`, append(sqlstore.NewSigningKeyArgs[times](k), db.ch.keys)...)
	return signingKeyError(err, k)
}

// signingKeyError maps the error of an insert of k: a KID stored already
// is ECONFLICT.
func signingKeyError(err error, k *jot.SigningKey) error {
	if _, dup := isUnique(err); dup {
		return sqlstore.KeyExists(k.KID, err)
	} else if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// CreateFirstSigningKey stores k unless a key of k.Alg signs at now, or
// signs from its creation (as a first key does): a caller whose clock, or
// whose wait for the lock, puts its now before another's first key's
// activation must still see that key. The
// table lock (which readers do not wait for, but which conflicts with
// itself and with inserts) makes the check and the insert of concurrent
// callers, on every instance, happen one after the other.
func (db *DB) CreateFirstSigningKey(ctx context.Context, k *jot.SigningKey, now time.Time) (bool, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.InTx(ctx, db.tx, func(tx pgx.Tx) (bool, error) {
		if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return false, fmt.Errorf("lock signing keys: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys
			WHERE alg = $1 AND (activates_at IS NULL OR activates_at <= $2 OR activates_at <= created_at) AND revoked_at IS NULL)`, k.Alg, now).Scan(&exists); err != nil {
			return false, fmt.Errorf("signing keys: %w", err)
		}
		if exists {
			return false, nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, alg, private, created_at, activates_at)
			VALUES ($1, $2, $3, $4, $5)`, sqlstore.NewSigningKeyArgs[times](k)...); err != nil {
			return false, signingKeyError(err, k)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, db.ch.keys); err != nil {
			return false, fmt.Errorf("notify: %w", err)
		}
		return true, nil
	})
}

// DeleteSigningKey removes the key kid; an unknown kid is no error.
func (db *DB) DeleteSigningKey(ctx context.Context, kid string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.Op("delete signing key").Err(db.pool.Exec(ctx, `DELETE FROM signing_keys WHERE kid = $1`, kid))
}

// RevokeSigningKey marks the key kid revoked at `at`, keeping its row; a
// key revoked already keeps its first time. The update notifies the DB's keys channel
// in the same transaction, so every server listening reloads its keys, and
// drops this one, the moment it is committed.
func (db *DB) RevokeSigningKey(ctx context.Context, kid string, at time.Time, notes ...token.RevokeNote) (time.Time, bool, error) {
	audit, err := jot.AuditsOf(notes)
	if err != nil {
		return time.Time{}, false, err
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	r, err := sqlstore.InTx(ctx, db.tx, func(tx pgx.Tx) (sqlstore.Revoked, error) {
		return sqlstore.RevokeKey(kid, pgx.ErrNoRows, func() (*time.Time, error) {
			var prev pgtype.Timestamptz
			if err := tx.QueryRow(ctx, `SELECT revoked_at FROM signing_keys WHERE kid = $1 FOR UPDATE`, kid).Scan(&prev); err != nil || !prev.Valid {
				return nil, err
			}
			at := fromNull(prev)
			return &at, nil
		}, func() (time.Time, error) {
			var stored pgtype.Timestamptz
			if err := tx.QueryRow(ctx, `UPDATE signing_keys SET revoked_at = $2 WHERE kid = $1 RETURNING revoked_at`,
				kid, at).Scan(&stored); err != nil {
				return time.Time{}, fmt.Errorf("revoke signing key: %w", err)
			}
			if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, db.ch.keys); err != nil {
				return time.Time{}, fmt.Errorf("notify: %w", err)
			}
			return fromNull(stored), db.writes.StoreAudit(ctx, tx, audit, nil)
		})
	})
	return r.At, r.Already, err
}

// RewriteSigningKeys calls fn with every stored key in one transaction
// that holds their rows locked (FOR UPDATE), so two servers starting at
// once rewrite one after the other, the second seeing the first's result.
// New keys inserted meanwhile are not locked: they are written by a
// server or command that seals them already.
func (db *DB) RewriteSigningKeys(ctx context.Context, fn func(k *jot.SigningKey) ([]byte, bool, error)) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.InTx(ctx, db.tx, func(tx pgx.Tx) (int, error) {
		keys, err := signingKeys(ctx, tx, "FOR UPDATE")
		if err != nil {
			return 0, err
		}
		return sqlstore.RewriteKeys(keys, fn, func(kid string, private []byte) error {
			_, err := tx.Exec(ctx, `UPDATE signing_keys SET private = $2 WHERE kid = $1`, kid, private)
			return err
		})
	})
}

// RecordKeyServer stores or refreshes r and deletes expired records.
func (db *DB) RecordKeyServer(ctx context.Context, r jot.KeyServer, now time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO key_servers (id, jwks_max_age, access_ttl, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET jwks_max_age = excluded.jwks_max_age,
			access_ttl = excluded.access_ttl, expires_at = excluded.expires_at`,
		r.ID, int64(r.JWKSMaxAge), int64(r.AccessTTL), r.ExpiresAt)
	b.Queue(`DELETE FROM key_servers WHERE expires_at < $1`, now)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("record key server: %w", err)
	}
	return nil
}

// KeyServerLimits returns the largest settings of the live records.
func (db *DB) KeyServerLimits(ctx context.Context, now time.Time) (time.Duration, time.Duration, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var maxAge, ttl int64
	if err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(jwks_max_age), 0), COALESCE(MAX(access_ttl), 0)
		FROM key_servers WHERE expires_at >= $1`, now).Scan(&maxAge, &ttl); err != nil {
		return 0, 0, fmt.Errorf("key servers: %w", err)
	}
	return time.Duration(maxAge), time.Duration(ttl), nil
}

// Secret returns the secret stored under name, storing gen() first when
// there is none. gen runs outside any transaction. When callers race, the
// first insert wins: the others' ON CONFLICT DO NOTHING waits for it to
// commit, so the SELECT that follows, a statement of its own, reads it.
func (db *DB) Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	read := func() ([]byte, error) { return secret(ctx, db.pool, name) }
	return sqlstore.Secret(name, read, gen, func(b []byte) ([]byte, error) {
		if _, err := db.pool.Exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, name, b, time.Now()); err != nil {
			return nil, fmt.Errorf("store secret %s: %w", name, err)
		}
		return read()
	})
}

func secret(ctx context.Context, q querier, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	return sqlstore.One(v, err, pgx.ErrNoRows, "secret", "secret "+name)
}
