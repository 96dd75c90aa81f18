package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
	"github.com/jotauth/jot/token"
)

// SigningKeys lists every stored signing key, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]*jot.SigningKey, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.read, "signing keys", sqlstore.ScanSigningKey[times], signingKeysQuery)
}

const signingKeysQuery = `SELECT ` + sqlstore.SigningKeyColumns + ` FROM signing_keys ORDER BY created_at, kid`

// insertSigningKey stores k; a KID already stored is ECONFLICT.
func insertSigningKey(ctx context.Context, q execer, k *jot.SigningKey) error {
	_, err := q.ExecContext(ctx, `INSERT INTO signing_keys (kid, alg, private, created_at, activates_at)
		VALUES (?, ?, ?, ?, ?)`, sqlstore.NewSigningKeyArgs[times](k)...)
	if isUnique(err) {
		return sqlstore.KeyExists(k.KID, err)
	} else if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// CreateSigningKey stores k; a KID already stored is ECONFLICT.
func (db *DB) CreateSigningKey(ctx context.Context, k *jot.SigningKey) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return insertSigningKey(ctx, db.write, k)
}

// CreateFirstSigningKey stores k unless a key of k.Alg signs at now. The
// write transaction is immediate, so the check and the insert of
// concurrent callers (other processes on the file included) never
// interleave.
func (db *DB) CreateFirstSigningKey(ctx context.Context, k *jot.SigningKey, now time.Time) (bool, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.InTx(ctx, db.writeTx, func(tx *sql.Tx) (bool, error) {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys
			WHERE alg = ? AND (activates_at IS NULL OR activates_at <= ? OR activates_at <= created_at) AND revoked_at IS NULL)`, k.Alg, nanos(now)).Scan(&exists); err != nil {
			return false, fmt.Errorf("signing keys: %w", err)
		}
		if exists {
			return false, nil
		}
		if err := insertSigningKey(ctx, tx, k); err != nil {
			return false, err
		}
		return true, nil
	})
}

// DeleteSigningKey removes the key kid; an unknown kid is no error.
func (db *DB) DeleteSigningKey(ctx context.Context, kid string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.Op("delete signing key").Err(db.write.ExecContext(ctx, `DELETE FROM signing_keys WHERE kid = ?`, kid))
}

// RevokeSigningKey marks the key kid revoked at `at`, keeping its row; a
// key revoked already keeps its first time. Servers on the file see it at
// their next reload (every 2 s), there being no notifications in SQLite.
func (db *DB) RevokeSigningKey(ctx context.Context, kid string, at time.Time, notes ...token.RevokeNote) (time.Time, bool, error) {
	audit, err := jot.AuditsOf(notes)
	if err != nil {
		return time.Time{}, false, err
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	r, err := sqlstore.InTx(ctx, db.writeTx, func(tx *sql.Tx) (sqlstore.Revoked, error) {
		return sqlstore.RevokeKey(kid, sql.ErrNoRows, func() (*time.Time, error) {
			var prev sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM signing_keys WHERE kid = ?`, kid).Scan(&prev); err != nil || !prev.Valid {
				return nil, err
			}
			at := fromNanos(prev.Int64)
			return &at, nil
		}, func() (time.Time, error) {
			if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET revoked_at = ? WHERE kid = ?`, nanos(at), kid); err != nil {
				return time.Time{}, fmt.Errorf("revoke signing key: %w", err)
			}
			return fromNanos(nanos(at)), writes.StoreAudit(ctx, tx, audit, nil)
		})
	})
	return r.At, r.Already, err
}

// RewriteSigningKeys calls fn with every stored key in one immediate write
// transaction, so no other process writes keys meanwhile, and stores the
// private keys fn changes.
func (db *DB) RewriteSigningKeys(ctx context.Context, fn func(k *jot.SigningKey) ([]byte, bool, error)) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.InTx(ctx, db.writeTx, func(tx *sql.Tx) (int, error) {
		keys, err := queryAll(ctx, tx, "signing keys", sqlstore.ScanSigningKey[times], signingKeysQuery)
		if err != nil {
			return 0, err
		}
		return sqlstore.RewriteKeys(keys, fn, func(kid string, private []byte) error {
			_, err := tx.ExecContext(ctx, `UPDATE signing_keys SET private = ? WHERE kid = ?`, private, kid)
			return err
		})
	})
}

// RecordKeyServer stores or refreshes r and deletes expired records.
func (db *DB) RecordKeyServer(ctx context.Context, r jot.KeyServer, now time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO key_servers (id, jwks_max_age, access_ttl, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET jwks_max_age = excluded.jwks_max_age,
				access_ttl = excluded.access_ttl, expires_at = excluded.expires_at`,
			r.ID, int64(r.JWKSMaxAge), int64(r.AccessTTL), nanos(r.ExpiresAt)); err != nil {
			return fmt.Errorf("record key server: %w", err)
		}
		return sqlstore.Op("record key server").Err(tx.ExecContext(ctx, `DELETE FROM key_servers WHERE expires_at < ?`, nanos(now)))
	})
}

// KeyServerLimits returns the largest settings of the live records.
func (db *DB) KeyServerLimits(ctx context.Context, now time.Time) (time.Duration, time.Duration, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var maxAge, ttl int64
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(jwks_max_age), 0), COALESCE(MAX(access_ttl), 0)
		FROM key_servers WHERE expires_at >= ?`, nanos(now)).Scan(&maxAge, &ttl); err != nil {
		return 0, 0, fmt.Errorf("key servers: %w", err)
	}
	return time.Duration(maxAge), time.Duration(ttl), nil
}

// Secret returns the secret stored under name, storing gen() first when
// there is none. gen runs outside any transaction; when callers race, the
// first insert wins and every caller reads that one back.
func (db *DB) Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	read := func() ([]byte, error) { return secret(ctx, db.read, name) }
	return sqlstore.Secret(name, read, gen, func(b []byte) ([]byte, error) {
		var v []byte
		err := db.writeTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
				ON CONFLICT (name) DO NOTHING`, name, b, time.Now().UnixNano()); err != nil {
				return fmt.Errorf("store secret %s: %w", name, err)
			}
			var err error
			v, err = secret(ctx, tx, name)
			return err
		})
		if err != nil {
			return nil, err
		}
		return v, nil
	})
}

func secret(ctx context.Context, q querier, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
	return sqlstore.One(v, err, sql.ErrNoRows, "secret", "secret "+name)
}
