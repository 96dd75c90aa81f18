// Package jottest starts real jot applications for tests: a validated
// configuration, a migrated store and the App built from them, with its
// background work running until the test ends.
package jottest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/storage"
)

// Config returns the default configuration over a fresh SQLite database in
// a temporary folder, with the cheapest bcrypt cost the settings allow.
func Config(tb testing.TB) config.Config {
	tb.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite://" + filepath.Join(tb.TempDir(), "jot.db")
	cfg.BcryptCost = 10
	return cfg
}

// Start validates cfg, opens and migrates its database and builds the App,
// logging to log (nil: nowhere). The App's background work runs and the
// store stays open until tb ends.
func Start(tb testing.TB, cfg config.Config, log *slog.Logger) (*app.App, jot.Store) {
	tb.Helper()
	return StartWithClock(tb, cfg, log, nil)
}

// StartWithClock is Start with now as the App's clock (see
// app.BuildWithClock).
func StartWithClock(tb testing.TB, cfg config.Config, log *slog.Logger, now func() time.Time) (*app.App, jot.Store) {
	tb.Helper()
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := storage.OpenWith(ctx, cfg.DatabaseURL, storage.Options{Timeout: cfg.DBTimeout, Logger: log})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	a, err := app.BuildWithClock(ctx, &cfg, st, log, now)
	if err != nil {
		cancel()
		st.Close()
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return a, st
}
