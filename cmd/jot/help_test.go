package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/internal/jottest"
)

// TestHelpAtEveryLevel: help is asked for the same way at every level and
// answered on stdout with exit 0; each command lists only its own flags;
// an unknown command stays an error.
func TestHelpAtEveryLevel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args    []string
		want    []string // in stdout
		notWant []string // flags of other commands
	}{
		{[]string{"help"}, []string{"jot keys rotate"}, nil},
		{[]string{"-h"}, []string{"jot keys rotate"}, nil},
		{[]string{"--help"}, []string{"jot keys rotate"}, nil},
		{[]string{"keys", "-h"}, []string{"jot keys list", "jot keys rotate"}, []string{"jot users"}},
		{[]string{"keys", "help"}, []string{"jot keys list", "jot keys rotate"}, []string{"jot users"}},
		{[]string{"keys", "--help"}, []string{"jot keys rotate"}, nil},
		{[]string{"users", "-h"}, []string{"jot users create", "jot users import"}, []string{"jot keys"}},
		{[]string{"users", "help"}, []string{"jot users create"}, nil},
		{[]string{"keys", "rotate", "-h"}, []string{"-now", "-database-url"}, []string{"-addr", "-access-ttl", "-jwks-max-age", "-bcrypt-cost", "-cors-origins"}},
		{[]string{"keys", "list", "-h"}, []string{"-json", "-database-url", "-jwt-alg"}, []string{"-addr", "-now", "-cors-origins"}},
		{[]string{"users", "create", "-h"}, []string{"-email", "-password-stdin", "-bcrypt-cost"}, []string{"-addr", "-jwt-alg", "-cors-origins"}},
		{[]string{"users", "import", "-h"}, []string{"-skip-existing", "-database-url"}, []string{"-addr", "-bcrypt-cost"}},
		{[]string{"migrate", "-h"}, []string{"-database-url"}, []string{"-addr", "-jwt-alg"}},
		{[]string{"serve", "-h"}, []string{"-addr", "-jwks-max-age", "-cors-origins"}, []string{"-now"}},
	}
	for _, c := range cases {
		code, out, errOut := binRun(t, "", nil, "", c.args...)
		name := strings.Join(c.args, " ")
		if code != 0 || errOut != "" {
			t.Errorf("jot %s: exit %d, stderr %q; want 0 and nothing", name, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("jot %s: stdout lacks %q:\n%s", name, w, out)
			}
		}
		for _, w := range c.notWant {
			if regexp.MustCompile(`(?m)(^|\s)` + regexp.QuoteMeta(w) + `\b`).MatchString(out) {
				t.Errorf("jot %s: stdout lists %q, another command's:\n%s", name, w, out)
			}
		}
	}
	for _, args := range [][]string{{"bogus"}, {"keys", "bogus"}, {"users", "bogus"}, {"keys", "rotate", "--addr=x"}} {
		if code, out, errOut := binRun(t, "", nil, "", args...); code != 2 || out != "" || errOut == "" {
			t.Errorf("jot %s: exit %d, stdout %q, stderr %q; want 2 and an error on stderr", strings.Join(args, " "), code, out, errOut)
		}
	}
}

// TestRotateDelayIsTheServers: `jot keys rotate` makes its key sign after
// the running server's JWKS max age, not after its own setting.
func TestRotateDelayIsTheServers(t *testing.T) {
	t.Parallel()
	cfg := jottest.Config(t)
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "jot.db")
	cfg.JWKSMaxAge = 2 * time.Hour
	jottest.Start(t, cfg, nil)

	before := time.Now()
	code, out, errOut := binRun(t, "", []string{"JOT_DATABASE_URL=" + cfg.DatabaseURL, "JOT_JWKS_MAX_AGE=1m"}, "", "keys", "rotate")
	if code != 0 {
		t.Fatalf("keys rotate: exit %d: %s", code, errOut)
	}
	m := regexp.MustCompile(`signs from (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("keys rotate said %q", out)
	}
	at, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(before.Add(2*time.Hour-time.Second)) || at.After(time.Now().Add(2*time.Hour)) {
		t.Fatalf("new key signs from %v; want two hours (the server's max age) after %v", at, before)
	}
}
