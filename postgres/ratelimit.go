package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jotauth/jot/internal/sqlstore"
)

// TakeAttempt refills the token bucket (kind, key), of n tokens per `per`,
// to now and takes one token when there is one, in one atomic upsert, so
// concurrent attempts on any instance never take the same token. It reports
// whether a token was taken and the tokens left. A bucket is created full;
// a clock behind the bucket's last refill adds nothing.
func (db *DB) TakeAttempt(ctx context.Context, kind string, key []byte, n float64, per time.Duration, now time.Time) (bool, float64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	const refilled = `LEAST($3::float8, b.tokens + $3::float8 * GREATEST($5::float8 - b.at, 0) / $4::float8)`
	var (
		ok     bool
		tokens float64
	)
	err := db.pool.QueryRow(ctx, `INSERT INTO rate_buckets AS b (kind, key, tokens, at, ok)
		VALUES ($1, $2, $3::float8 - 1, $5::float8, true)
		ON CONFLICT (kind, key) DO UPDATE SET
			tokens = `+refilled+` - CASE WHEN `+refilled+` >= 1 THEN 1 ELSE 0 END,
			at = GREATEST(b.at, $5::float8),
			ok = `+refilled+` >= 1
		RETURNING ok, tokens`,
		kind, key, n, per.Seconds(), unixSeconds(now)).Scan(&ok, &tokens)
	if err != nil {
		return false, 0, fmt.Errorf("take attempt: %w", err)
	}
	return ok, tokens, nil
}

// RefundAttempt gives one token back to the bucket (kind, key), up to n.
func (db *DB) RefundAttempt(ctx context.Context, kind string, key []byte, n float64) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `UPDATE rate_buckets SET tokens = LEAST($3::float8, tokens + 1)
		WHERE kind = $1 AND key = $2`, kind, key, n)
	if err != nil {
		return fmt.Errorf("refund attempt: %w", err)
	}
	return nil
}

// SweepAttempts deletes the buckets of kind last refilled before idle.
func (db *DB) SweepAttempts(ctx context.Context, kind string, idle time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return sqlstore.Op("sweep attempts").Err(db.pool.Exec(ctx, `DELETE FROM rate_buckets WHERE kind = $1 AND at < $2`, kind, unixSeconds(idle)))
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
