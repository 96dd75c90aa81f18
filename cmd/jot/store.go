package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/storage"
)

// loadConfig registers the settings on fs, parses args and validates.
// With only (env names), just those settings get a flag: a command's help
// lists the settings it uses, not every one of the server's; the others
// are still read from the environment and .env. -h prints the command's
// flags on stdout, as asked for; a flag it does not know is a usage error
// of one line, not a page of help.
func loadConfig(fs *flag.FlagSet, args []string, only ...string) (*config.Config, []string, error) {
	var help bytes.Buffer
	fs.SetOutput(&help)
	var cfg *config.Config
	var rest []string
	var err error
	if only == nil {
		cfg, rest, err = config.Load(fs, args, os.Getenv, ".env")
	} else {
		cfg, rest, err = config.LoadOnly(fs, args, os.Getenv, ".env", only...)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Stdout.Write(help.Bytes())
		return nil, nil, err
	case err != nil && help.Len() > 0:
		return nil, nil, fmt.Errorf("%w: %v (see \"%s -h\")", errUsage, err, fs.Name())
	case err != nil:
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	return cfg, rest, nil
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
	cfg, rest, err := loadConfig(fs, args, "JOT_DATABASE_URL")
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: jot migrate takes no arguments", errUsage)
	}
	st, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
