package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/postgres"
	"github.com/jotauth/jot/sqlite"
)

// loadConfig registers the settings on fs, parses args and validates.
func loadConfig(fs *flag.FlagSet, args []string) (*config.Config, []string, error) {
	fs.SetOutput(os.Stderr)
	cfg, rest, err := config.Load(fs, args, os.Getenv, ".env")
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	return cfg, rest, nil
}

// openStore opens the database the URL names and applies the migrations.
func openStore(ctx context.Context, url string) (jot.Store, error) {
	var (
		st  jot.Store
		err error
	)
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		st, err = sqlite.OpenURL(ctx, url)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		st, err = postgres.Open(ctx, url)
	default:
		return nil, fmt.Errorf("JOT_DATABASE_URL: unsupported database URL; use sqlite://PATH or postgres://HOST/DATABASE")
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return st, nil
}

// newLogger returns the logger JOT_LOG_FORMAT asks for.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot migrate", flag.ContinueOnError)
	cfg, rest, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: jot migrate takes no arguments", errUsage)
	}
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
