package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrinted(t *testing.T) {
	const secret = "0123456789abcdef-very-secret-0123456789"
	c := Default()
	c.JWTAlg = "HS256"
	c.JWTSecret = Secret(secret)
	c.DatabaseURL = "postgres://jot:hunter2@db:5432/jot?sslmode=disable"
	const feedSecret = "feed-secret-0123456789abcdef0123456789"
	c.RevocationsSecret = Secret(feedSecret)
	hexSecret := fmt.Sprintf("%x", secret)

	var out bytes.Buffer
	text := slog.New(slog.NewTextHandler(&out, nil))
	text.Info("config", "cfg", c)
	text.Info("config", "cfg", &c)
	js := slog.New(slog.NewJSONHandler(&out, nil))
	js.Info("config", "cfg", c)
	js.Info("config", "cfg", &c)
	js.Info("secret alone", "secret", c.JWTSecret)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		fmt.Fprintf(&out, verb+"\n", c)
		fmt.Fprintf(&out, verb+"\n", &c)
		fmt.Fprintf(&out, verb+"\n", c.JWTSecret)
	}

	s := out.String()
	for _, leak := range []string{secret, hexSecret, "hunter2", "MDEyMzQ1", feedSecret} {
		if strings.Contains(s, leak) {
			t.Errorf("output contains %q:\n%s", leak, s)
		}
	}
	for _, want := range []string{"jwt_secret=[redacted]", `"jwt_secret":"[redacted]"`, "jwt_alg=HS256", `database_url="postgres://jot:xxxxx@db:5432/jot`, "access_ttl=15m ", "refresh_ttl=720h ", "login_rate=10/m", "revocations_secret=[redacted]"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// encoding/json does not go through LogValue; the secret is still safe.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"JWTSecret":"[redacted]"`) || strings.Contains(string(b), secret) || strings.Contains(string(b), feedSecret) {
		t.Errorf("json.Marshal = %s", b)
	}
	if Secret(nil).String() != "" {
		t.Error("an empty Secret does not print as empty")
	}
	// Secret stays a []byte to its users.
	var raw []byte = c.JWTSecret
	if string(raw) != secret {
		t.Error("Secret does not convert back to its bytes")
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite://./jot-data/jot.db":                  "sqlite://./jot-data/jot.db",
		"sqlite:///var/lib/jot %20/jot.db":            "sqlite:///var/lib/jot %20/jot.db",
		"postgres://jot:hunter2@db/jot":               "postgres://jot:xxxxx@db/jot",
		"postgres://db/jot?user=jot&password=hunter2": "postgres://db/jot?password=xxxxx&user=jot",
		"postgresql://jot@db/jot":                     "postgresql://jot@db/jot",
		"postgres://jot:hunter%2@db/jot":              "[redacted]",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
