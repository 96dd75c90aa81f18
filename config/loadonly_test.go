package config_test

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/config"
)

// LoadOnly offers flags for the named settings only, and still reads every
// setting from the environment.
func TestLoadOnly(t *testing.T) {
	fs := flag.NewFlagSet("jot keys rotate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	env := map[string]string{"JOT_JWKS_MAX_AGE": "1h"}
	cfg, rest, err := config.LoadOnly(fs, []string{"--database-url", "sqlite://x.db", "arg"}, func(k string) string { return env[k] }, "", "JOT_DATABASE_URL")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "sqlite://x.db" || cfg.JWKSMaxAge != time.Hour || len(rest) != 1 {
		t.Fatalf("got %q, %v, %v", cfg.DatabaseURL, cfg.JWKSMaxAge, rest)
	}
	if fs.Lookup("addr") != nil || fs.Lookup("database-url") == nil {
		t.Fatal("flags of settings not asked for are registered, or the one asked for is not")
	}
	fs = flag.NewFlagSet("jot migrate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, _, err := config.LoadOnly(fs, []string{"--addr", "x"}, nil, "", "JOT_DATABASE_URL"); err == nil || !strings.Contains(err.Error(), "addr") {
		t.Fatalf("another command's flag: %v; want an unknown flag", err)
	}
}
