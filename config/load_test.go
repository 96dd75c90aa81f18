package config

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	c := Default()
	want := Config{
		Addr:         "127.0.0.1:8080",
		DatabaseURL:  "sqlite://./jot-data/jot.db",
		Issuer:       "jot",
		Audience:     "jot",
		JWTAlg:       "ES256",
		AccessTTL:    15 * time.Minute,
		RefreshTTL:   720 * time.Hour,
		JWKSMaxAge:   5 * time.Minute,
		RefreshGrace: 5 * time.Second,
		BcryptCost:   12,
		LoginRate:    Rate{N: 10, Per: time.Minute},
		LogFormat:    "text",

		MaxSessions:    50,
		SessionMaxAge:  2160 * time.Hour,
		MaxResources:   1000,
		WriteRate:      Rate{N: 120, Per: time.Minute},
		DBTimeout:      5 * time.Second,
		SignupRate:     Rate{N: 30, Per: time.Hour},
		AuditRetention: 2160 * time.Hour,
	}
	mailDefaults(&want)
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Default() =\n%#v\nwant\n%#v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestLoadNothingSet(t *testing.T) {
	c, rest, err := load(t, []string{"extra", "--not-a-flag-after-args"}, env{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(*c, want) {
		t.Errorf("Load with nothing set =\n%#v\nwant Default()", *c)
	}
	if want := []string{"extra", "--not-a-flag-after-args"}; !reflect.DeepEqual(rest, want) {
		t.Errorf("remaining args = %q, want %q", rest, want)
	}
	// A missing .env is fine.
	if _, _, err := load(t, nil, env{}, "/nonexistent/dir/.env"); err != nil {
		t.Errorf("Load with a missing .env: %v", err)
	}
}

func TestNames(t *testing.T) {
	names := map[string]string{
		"addr": "JOT_ADDR", "database-url": "JOT_DATABASE_URL", "issuer": "JOT_ISSUER",
		"audience": "JOT_AUDIENCE", "jwt-alg": "JOT_JWT_ALG", "jwt-secret": "JOT_JWT_SECRET",
		"jwt-key-file": "JOT_JWT_KEY_FILE", "access-ttl": "JOT_ACCESS_TTL", "refresh-ttl": "JOT_REFRESH_TTL",
		"jwks-max-age": "JOT_JWKS_MAX_AGE", "refresh-grace": "JOT_REFRESH_GRACE", "bcrypt-cost": "JOT_BCRYPT_COST",
		"token-schemes": "JOT_TOKEN_SCHEMES", "token-query": "JOT_TOKEN_QUERY", "token-cookie": "JOT_TOKEN_COOKIE",
		"cors-origins": "JOT_CORS_ORIGINS", "login-rate": "JOT_LOGIN_RATE", "trusted-proxies": "JOT_TRUSTED_PROXIES",
		"log-format":   "JOT_LOG_FORMAT",
		"max-sessions": "JOT_MAX_SESSIONS", "session-max-age": "JOT_SESSION_MAX_AGE",
		"max-resources": "JOT_MAX_RESOURCES", "write-rate": "JOT_WRITE_RATE",
		"db-timeout":   "JOT_DB_TIMEOUT",
		"signup-rate":  "JOT_SIGNUP_RATE",
		"metrics-addr": "JOT_METRICS_ADDR", "pprof-addr": "JOT_PPROF_ADDR",
		"revocations-secret": "JOT_REVOCATIONS_SECRET",
		"key-encryption-key": "JOT_KEY_ENCRYPTION_KEY",
		"audit-retention":    "JOT_AUDIT_RETENTION",
	}
	for f, e := range mailNames {
		names[f] = e
	}
	rows := settings()
	if len(rows) != len(names) {
		t.Errorf("%d settings, want %d", len(rows), len(names))
	}
	for _, s := range rows {
		if names[s.flag] != s.env {
			t.Errorf("setting --%s has env %s, want %s", s.flag, s.env, names[s.flag])
		}
	}
	fs := newFlagSet()
	if _, _, err := Load(fs, nil, env{}.get, ""); err != nil {
		t.Fatal(err)
	}
	for f, e := range names {
		fl := fs.Lookup(f)
		if fl == nil {
			t.Errorf("flag --%s not registered", f)
			continue
		}
		if !strings.Contains(fl.Usage, e) {
			t.Errorf("usage of --%s = %q, does not name %s", f, fl.Usage, e)
		}
	}
	if got := fs.Lookup("access-ttl").DefValue; got != "15m" {
		t.Errorf("--access-ttl default shown as %q, want 15m", got)
	}
	if got := fs.Lookup("refresh-ttl").DefValue; got != "720h" {
		t.Errorf("--refresh-ttl default shown as %q, want 720h", got)
	}
}

// TestEverySetting sets every setting from the environment and checks the
// field it lands in.
func TestEverySetting(t *testing.T) {
	e := env{
		"JOT_ADDR":            ":9000",
		"JOT_DATABASE_URL":    "postgres://jot:pw@db:5432/jot?sslmode=disable",
		"JOT_ISSUER":          "https://auth.example.com",
		"JOT_AUDIENCE":        "api",
		"JOT_JWT_ALG":         "EdDSA",
		"JOT_JWT_KEY_FILE":    "/etc/jot/key.pem",
		"JOT_ACCESS_TTL":      "5m",
		"JOT_REFRESH_TTL":     "24h",
		"JOT_JWKS_MAX_AGE":    "1m",
		"JOT_REFRESH_GRACE":   "0",
		"JOT_BCRYPT_COST":     "11",
		"JOT_TOKEN_SCHEMES":   "JWT, Token",
		"JOT_TOKEN_QUERY":     "access_token",
		"JOT_TOKEN_COOKIE":    "jot_token",
		"JOT_CORS_ORIGINS":    "https://App.example.com, http://localhost:3000,",
		"JOT_LOGIN_RATE":      "5/s",
		"JOT_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7, ::1",
		"JOT_LOG_FORMAT":      "json",
		"JOT_AUDIT_RETENTION": "720h",
		// Spaces around it are dropped: a bearer token cannot carry them.
		"JOT_REVOCATIONS_SECRET": " feed-secret-0123456789abcdef0123456789= ",
		"JOT_MAX_SESSIONS":       "5",
		"JOT_SESSION_MAX_AGE":    "48h",
		"JOT_MAX_RESOURCES":      "20",
		"JOT_WRITE_RATE":         "30/m",
		"JOT_DB_TIMEOUT":         "1500ms",
		"JOT_SIGNUP_RATE":        "100/m",
	}
	for k, v := range mailEnv {
		e[k] = v
	}
	got := mustLoad(t, nil, e, "")
	want := &Config{
		Addr:              ":9000",
		DatabaseURL:       "postgres://jot:pw@db:5432/jot?sslmode=disable",
		Issuer:            "https://auth.example.com",
		Audience:          "api",
		JWTAlg:            "EdDSA",
		JWTKeyFile:        "/etc/jot/key.pem",
		AccessTTL:         5 * time.Minute,
		RefreshTTL:        24 * time.Hour,
		JWKSMaxAge:        time.Minute,
		RefreshGrace:      0,
		BcryptCost:        11,
		TokenSchemes:      []string{"JWT", "Token"},
		TokenQuery:        "access_token",
		TokenCookie:       "jot_token",
		CORSOrigins:       []string{"https://app.example.com", "http://localhost:3000"},
		LoginRate:         Rate{N: 5, Per: time.Second},
		TrustedProxies:    []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("::1/128")},
		LogFormat:         "json",
		AuditRetention:    720 * time.Hour,
		RevocationsSecret: Secret("feed-secret-0123456789abcdef0123456789="),
		MaxSessions:       5,
		SessionMaxAge:     48 * time.Hour,
		MaxResources:      20,
		WriteRate:         Rate{N: 30, Per: time.Minute},
		DBTimeout:         1500 * time.Millisecond,
		SignupRate:        Rate{N: 100, Per: time.Minute},
	}
	mailWant(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load =\n%#v\nwant\n%#v", got, want)
	}

	hs := mustLoad(t, nil, env{"JOT_JWT_ALG": "HS256", "JOT_JWT_SECRET": " 0123456789abcdef0123456789abcdef"}, "")
	if string(hs.JWTSecret) != " 0123456789abcdef0123456789abcdef" {
		t.Error("JOT_JWT_SECRET not taken as is (spaces included)")
	}
}

func TestPrecedence(t *testing.T) {
	dotenv := writeDotenv(t, strings.Join([]string{
		"# settings for development",
		"JOT_ADDR=:1000",
		"JOT_ACCESS_TTL=1m",
		`JOT_LOGIN_RATE="1/s"`,
		"export JOT_ISSUER=from-dotenv",
		"JOT_AUDIENCE=from-dotenv # a comment",
		"OTHER_PROGRAM=ignored",
	}, "\n"))
	e := env{
		"JOT_ADDR":       ":2000",
		"JOT_ACCESS_TTL": "2m",
		"JOT_AUDIENCE":   "",
	}
	args := []string{"--addr", ":3000", "--log-format=json", "rest"}

	c, rest, err := load(t, args, e, dotenv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		setting   string
		got, want any
	}{
		{"addr: flag over env and .env", c.Addr, ":3000"},
		{"access ttl: env over .env", c.AccessTTL, 2 * time.Minute},
		{"login rate: .env over default", c.LoginRate, Rate{N: 1, Per: time.Second}},
		{"issuer: .env with export", c.Issuer, "from-dotenv"},
		{"audience: empty env is unset, .env wins", c.Audience, "from-dotenv"},
		{"log format: flag over default", c.LogFormat, "json"},
		{"refresh ttl: default", c.RefreshTTL, 720 * time.Hour},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.setting, tt.got, tt.want)
		}
	}
	if !reflect.DeepEqual(rest, []string{"rest"}) {
		t.Errorf("remaining args = %q", rest)
	}
	// An empty flag is a value, not unset: it turns an optional source off.
	c = mustLoad(t, []string{"--token-cookie="}, env{"JOT_TOKEN_COOKIE": "jot"}, "")
	if c.TokenCookie != "" {
		t.Errorf("--token-cookie= left TokenCookie %q", c.TokenCookie)
	}
	// The .env file never reaches the process environment.
	if v, ok := os.LookupEnv("JOT_ISSUER"); ok {
		t.Errorf("JOT_ISSUER=%q in the process environment after Load", v)
	}
}

func TestLoadErrorsNameTheSource(t *testing.T) {
	dotenv := writeDotenv(t, "JOT_ADDR=:1\n\nJOT_ACCESS_TTL=abc\nJOT_BCRYPT_COST=9\n")
	_, _, err := load(t, nil, env{}, dotenv)
	wantError(t, err, `JOT_ACCESS_TTL (`+dotenv+` line 3): invalid duration "abc" (want a number and a unit: 90s, 15m, 720h)`)

	_, _, err = load(t, nil, env{"JOT_ACCESS_TTL": "abc"}, "")
	wantError(t, err, `JOT_ACCESS_TTL: invalid duration "abc" (want a number and a unit: 90s, 15m, 720h)`)

	_, _, err = load(t, []string{"--access-ttl", "900"}, env{}, "")
	wantError(t, err, `JOT_ACCESS_TTL (--access-ttl): invalid duration "900" (want a number and a unit: 90s, 15m, 720h)`)

	// Validation errors get the source too.
	_, _, err = load(t, nil, env{"JOT_ACCESS_TTL": "1m", "JOT_BCRYPT_COST": "9"}, "")
	wantError(t, err, "JOT_BCRYPT_COST: must be 10 to 14, got 9")
	_, _, err = load(t, []string{"--bcrypt-cost=15"}, env{"JOT_BCRYPT_COST": "9"}, "")
	wantError(t, err, "JOT_BCRYPT_COST (--bcrypt-cost): must be 10 to 14, got 15")
	_, _, err = load(t, nil, env{"JOT_ACCESS_TTL": "1m"}, dotenv)
	wantError(t, err, "JOT_BCRYPT_COST ("+dotenv+" line 4): must be 10 to 14, got 9")
	var se *SettingError
	if !errors.As(err, &se) || se.Setting != "JOT_BCRYPT_COST" || se.Problem != "must be 10 to 14, got 9" {
		t.Errorf("error %#v is not the *SettingError expected", err)
	}

	for _, tt := range []struct {
		env, value, want string
	}{
		{"JOT_BCRYPT_COST", "twelve", `JOT_BCRYPT_COST: invalid number "twelve"`},
		{"JOT_MAX_SESSIONS", "fifty", `JOT_MAX_SESSIONS: invalid number "fifty"`},
		{"JOT_MAX_RESOURCES", "0", `JOT_MAX_RESOURCES: must be 1 to 1000000, got 0`},
		{"JOT_SESSION_MAX_AGE", "90", `JOT_SESSION_MAX_AGE: invalid duration "90" (want a number and a unit: 90s, 15m, 720h)`},
		{"JOT_WRITE_RATE", "120", `JOT_WRITE_RATE: invalid rate "120" (want N/s, N/m or N/h, e.g. 10/m)`},
		{"JOT_LOGIN_RATE", "10", `JOT_LOGIN_RATE: invalid rate "10" (want N/s, N/m or N/h, e.g. 10/m)`},
		{"JOT_SIGNUP_RATE", "30/d", `JOT_SIGNUP_RATE: invalid rate "30/d": the period must be s, m, h or a positive duration such as 30s`},
		{"JOT_SIGNUP_RATE", "0/h", `JOT_SIGNUP_RATE: invalid rate "0/h": the count must be a whole number of at least 1`},
		{"JOT_REFRESH_GRACE", "5", `JOT_REFRESH_GRACE: invalid duration "5" (want a number and a unit: 90s, 15m, 720h)`},
		{"JOT_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local", `JOT_TRUSTED_PROXIES: "proxy.local" is not a CIDR such as 10.0.0.0/8 or an IP address`},
		{"JOT_TRUSTED_PROXIES", "10.0.0.0/33", `JOT_TRUSTED_PROXIES: "10.0.0.0/33" is not a CIDR such as 10.0.0.0/8 or an IP address`},
		{"JOT_TRUSTED_PROXIES", "fe80::1%eth0", `JOT_TRUSTED_PROXIES: "fe80::1%eth0" is not a CIDR such as 10.0.0.0/8 or an IP address`},
		{"JOT_TRUSTED_PROXIES", "10.1.2.3/8", `JOT_TRUSTED_PROXIES: 10.1.2.3/8 has bits set after the prefix length; did you mean 10.0.0.0/8?`},
		{"JOT_JWT_ALG", "HS256", "JOT_JWT_SECRET: required when JOT_JWT_ALG=HS256 (at least 32 bytes of random data)"},
	} {
		_, _, err := load(t, nil, env{tt.env: tt.value}, "")
		wantError(t, err, tt.want)
	}
}

func TestLoadHelp(t *testing.T) {
	if _, _, err := load(t, []string{"-h"}, env{}, ""); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("Load(-h) = %v, want flag.ErrHelp", err)
	}
	if _, _, err := load(t, []string{"--no-such-flag"}, env{}, ""); err == nil {
		t.Error("Load(--no-such-flag): no error")
	}
}

func TestDotenvMalformed(t *testing.T) {
	const secret = "s3cr3t-that-must-not-leak"
	tests := []struct {
		name, content, want string
	}{
		{"no equals sign", "JOT_ADDR=:1\nJOT_ISSUER\nJOT_AUDIENCE=x\n", "line 2: malformed line (want NAME=value)"},
		{"no equals sign, last line", "JOT_ADDR=:1\n\n" + secret, "line 3: malformed line (want NAME=value)"},
		{"bad character in name", "# c\nJOT_ADDR=:1\nJOT-ISSUER=" + secret + "\n", "line 3: malformed line (want NAME=value)"},
		{"space in name", "JOT_ADDR=:1\nJOT ISSUER=x\n", "line 2: malformed line (want NAME=value)"},
		{"no name", "JOT_ADDR=:1\n=" + secret + "\n", "line 2: malformed line (want NAME=value)"},
		{"unterminated quote", "JOT_ADDR=:1\nJOT_JWT_SECRET=\"" + secret + "\nJOT_ISSUER=x\n", "line 2: unterminated quoted value"},
		{"after a multi-line value", "A='one\ntwo\nthree'\nJOT_ADDR=:1\nJOT_ISSUER x\n", "line 5: malformed line (want NAME=value)"},
		{"crlf", "JOT_ADDR=:1\r\nJOT_ISSUER=x\r\nbad line\r\n", "line 3: malformed line (want NAME=value)"},
		{"unknown JOT_ setting", "JOT_ADDR=:1\nJOT_ACESS_TTL=1m\n", "line 2: unknown setting JOT_ACESS_TTL (JOT_ names are reserved for jot's settings)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeDotenv(t, tt.content)
			_, _, err := load(t, nil, env{}, path)
			wantError(t, err, path+" "+tt.want)
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error quotes the file: %v", err)
			}
		})
	}
}

func TestDotenvForms(t *testing.T) {
	path := writeDotenv(t, strings.Join([]string{
		"  # indented comment",
		"JOT_ISSUER = spaced ",
		"JOT_AUDIENCE: yaml-style",
		`JOT_JWT_ALG='HS256'`,
		`JOT_JWT_SECRET="0123456789abcdef0123456789abcdef#not a comment"`,
		"JOT_ADDR=:1",
		"JOT_ADDR=:2",
		"",
	}, "\n"))
	c := mustLoad(t, nil, env{}, path)
	if c.Issuer != "spaced" || c.Audience != "yaml-style" || c.JWTAlg != "HS256" || c.Addr != ":2" {
		t.Errorf("got issuer %q audience %q alg %q addr %q", c.Issuer, c.Audience, c.JWTAlg, c.Addr)
	}
	if string(c.JWTSecret) != "0123456789abcdef0123456789abcdef#not a comment" {
		t.Errorf("quoted secret read as %d bytes", len(c.JWTSecret))
	}
	// The source of a repeated name is its last line, the one that wins.
	path = writeDotenv(t, "JOT_ADDR=:1\nJOT_ADDR=bad\n")
	_, _, err := load(t, nil, env{}, path)
	wantError(t, err, `JOT_ADDR (`+path+` line 2): must be HOST:PORT or :PORT, got "bad"`)
}
