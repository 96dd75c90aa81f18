package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// env is a fake environment for getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// writeDotenv writes a .env file and returns its path.
func writeDotenv(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("jot serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// load runs Load with a fresh FlagSet.
func load(t *testing.T, args []string, e env, dotenv string) (*Config, []string, error) {
	t.Helper()
	return Load(newFlagSet(), args, e.get, dotenv)
}

func mustLoad(t *testing.T, args []string, e env, dotenv string) *Config {
	t.Helper()
	c, _, err := load(t, args, e, dotenv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if err.Error() != want {
		t.Errorf("error:\n got  %s\n want %s", err, want)
	}
}
