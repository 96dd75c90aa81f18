// Package storage opens the store a database URL names: SQLite for
// sqlite://PATH, PostgreSQL for postgres:// and postgresql:// URLs.
package storage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/postgres"
	"github.com/jotauth/jot/sqlite"
)

// Options tune the store Open returns.
type Options struct {
	// Timeout bounds every call of the store, connecting included
	// (JOT_DB_TIMEOUT); zero leaves calls unbounded.
	Timeout time.Duration
	// Logger is told of the PostgreSQL listener's drops and returns.
	Logger *slog.Logger
}

// Open opens the database url names and applies the schema migrations.
func Open(ctx context.Context, url string) (jot.Store, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, opts Options) (jot.Store, error) {
	var (
		st  jot.Store
		err error
	)
	switch lower := strings.ToLower(url); {
	case strings.HasPrefix(lower, "sqlite://"):
		st, err = sqlite.OpenURLWith(ctx, url, sqlite.Options{Timeout: opts.Timeout})
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		// The scheme is case-insensitive (RFC 3986 §3.1); the driver is not.
		scheme := strings.Index(url, "://")
		st, err = postgres.OpenWith(ctx, lower[:scheme]+url[scheme:], postgres.Options{Timeout: opts.Timeout, Logger: opts.Logger})
	default:
		return nil, fmt.Errorf("JOT_DATABASE_URL: unsupported database URL; use sqlite://PATH or postgres://HOST/DATABASE")
	}
	if err != nil {
		return nil, fmt.Errorf("JOT_DATABASE_URL: cannot open the database: %s", oneLine(err))
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("JOT_DATABASE_URL: cannot migrate the database: %s", oneLine(err))
	}
	return st, nil
}

// oneLine folds a driver's multi-line message (pgx lists every address it
// tried) into one line: a bad setting is reported in exactly one.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
