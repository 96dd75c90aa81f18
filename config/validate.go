package config

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jotauth/jot/password"
)

// SettingError is a setting with a bad value. Its message is the one line
// the program stops with: the env name of the setting, where the value came
// from when that was a flag or the .env file, and what is wrong.
type SettingError struct {
	// Setting is the env name, e.g. JOT_BCRYPT_COST.
	Setting string
	// Source is where the value came from when it was not the environment:
	// "--bcrypt-cost" or ".env line 3"; "" for the environment, a default
	// or a Config built in code.
	Source string
	// Problem says what is wrong, e.g. "must be 10 to 14, got 9".
	Problem string
}

// Error returns the one-line message, e.g.
// "JOT_BCRYPT_COST (--bcrypt-cost): must be 10 to 14, got 9".
func (e *SettingError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("%s (%s): %s", e.Setting, e.Source, e.Problem)
	}
	return e.Setting + ": " + e.Problem
}

func bad(setting, format string, args ...any) *SettingError {
	return &SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)}
}

// algorithms are the signing algorithms JOT_JWT_ALG accepts.
var algorithms = []string{"HS256", "ES256", "EdDSA", "RS256"}

// minSecret is RFC 7518 §3.2's minimum for an HS256 key: as long as the
// hash output.
const minSecret = 32

// Validate checks every setting and the rules between them, and returns
// the first problem as a *SettingError, in the order of the settings table.
// One problem at a time keeps the start-up failure to one clear line.
func (c *Config) Validate() error {
	for _, check := range []func() *SettingError{
		c.checkAddr, c.checkDatabaseURL, c.checkClaims, c.checkAlg,
		c.checkDurations, c.checkBcryptCost, c.checkTokenSources,
		c.checkCORS, c.checkLoginRate, c.checkTrustedProxies, c.checkLogFormat,
		c.checkSessionBounds, c.checkResourceBounds,
		c.checkDBTimeout,
		c.checkSignupRate,
		c.checkMail,
		c.checkMetricsAddr, c.checkPprofAddr,
		c.checkRevocationsSecret,
		c.checkAuditRetention,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkDatabaseURL never quotes the URL: a postgres URL may hold a
// password, and this message goes to a terminal or a log.
func (c *Config) checkDatabaseURL() *SettingError {
	const name = "JOT_DATABASE_URL"
	u := c.DatabaseURL
	switch {
	case hasScheme(u, "sqlite"):
		path := u[len("sqlite://"):]
		if path == "" {
			return bad(name, "sqlite:// needs a path, e.g. sqlite://./jot-data/jot.db")
		}
		if strings.ContainsAny(path, "?#") {
			return bad(name, "sqlite:// takes a file path only, without ? or #")
		}
	case hasScheme(u, "postgres"), hasScheme(u, "postgresql"):
		if _, err := url.Parse(u); err != nil {
			return bad(name, "not a valid postgres:// URL (special characters in the password must be percent-encoded)")
		}
	case u == "":
		return bad(name, "must not be empty")
	default:
		if scheme, _, ok := strings.Cut(u, "://"); ok && isWord(scheme) {
			return bad(name, "unsupported scheme %q (want sqlite:// or postgres://)", scheme)
		}
		return bad(name, "must start with sqlite:// or postgres://")
	}
	return nil
}

func isWord(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func (c *Config) checkClaims() *SettingError {
	if strings.TrimSpace(c.Issuer) == "" {
		return bad("JOT_ISSUER", "must not be empty")
	}
	if strings.TrimSpace(c.Audience) == "" {
		return bad("JOT_AUDIENCE", "must not be empty")
	}
	return nil
}

// checkAlg refuses a secret next to an asymmetric algorithm rather than
// ignoring it: an operator who set one believes it is in use.
func (c *Config) checkAlg() *SettingError {
	known := false
	for _, a := range algorithms {
		known = known || c.JWTAlg == a
	}
	if !known {
		return bad("JOT_JWT_ALG", "must be one of %s, got %q", strings.Join(algorithms, ", "), c.JWTAlg)
	}
	if c.JWTAlg == "HS256" {
		if len(c.JWTSecret) == 0 {
			return bad("JOT_JWT_SECRET", "required when JOT_JWT_ALG=HS256 (at least %d bytes of random data)", minSecret)
		}
		if len(c.JWTSecret) < minSecret {
			return bad("JOT_JWT_SECRET", "must be at least %d bytes when JOT_JWT_ALG=HS256, got %d", minSecret, len(c.JWTSecret))
		}
		if c.JWTKeyFile != "" {
			return bad("JOT_JWT_KEY_FILE", "is for ES256, EdDSA or RS256 keys, not with JOT_JWT_ALG=HS256")
		}
		return nil
	}
	if len(c.JWTSecret) != 0 {
		return bad("JOT_JWT_SECRET", "is set, but JOT_JWT_ALG=%s does not use a shared secret; unset it, or set JOT_JWT_ALG=HS256", c.JWTAlg)
	}
	return nil
}

func (c *Config) checkDurations() *SettingError {
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"JOT_ACCESS_TTL", c.AccessTTL},
		{"JOT_REFRESH_TTL", c.RefreshTTL},
		{"JOT_JWKS_MAX_AGE", c.JWKSMaxAge},
	} {
		if d.value <= 0 {
			return bad(d.name, "must be positive, got %s", fmtDuration(d.value))
		}
	}
	if c.RefreshGrace < 0 {
		return bad("JOT_REFRESH_GRACE", "must not be negative (0 turns the grace off), got %s", fmtDuration(c.RefreshGrace))
	}
	if c.RefreshTTL <= c.AccessTTL {
		return bad("JOT_REFRESH_TTL", "must be longer than JOT_ACCESS_TTL (%s), got %s", fmtDuration(c.AccessTTL), fmtDuration(c.RefreshTTL))
	}
	return nil
}

func (c *Config) checkBcryptCost() *SettingError {
	if c.BcryptCost < password.MinCost || c.BcryptCost > password.MaxCost {
		return bad("JOT_BCRYPT_COST", "must be %d to %d, got %d", password.MinCost, password.MaxCost, c.BcryptCost)
	}
	return nil
}

func (c *Config) checkTokenSources() *SettingError {
	seen := map[string]bool{"bearer": true}
	for _, s := range c.TokenSchemes {
		if !isToken(s) {
			return bad("JOT_TOKEN_SCHEMES", "%q is not a valid scheme name (letters, digits and !#$%%&'*+-.^_`|~ only)", s)
		}
		switch k := strings.ToLower(s); {
		case k == "bearer":
			return bad("JOT_TOKEN_SCHEMES", "Bearer is always accepted; list only the extra schemes")
		case seen[k]:
			return bad("JOT_TOKEN_SCHEMES", "%q is listed twice (schemes are matched case-insensitively)", s)
		default:
			seen[k] = true
		}
	}
	if c.TokenQuery != "" && !isUnreserved(c.TokenQuery) {
		return bad("JOT_TOKEN_QUERY", "%q is not a plain query parameter name (letters, digits, -, ., _ and ~ only)", c.TokenQuery)
	}
	if c.TokenCookie != "" && !isToken(c.TokenCookie) {
		return bad("JOT_TOKEN_COOKIE", "%q is not a valid cookie name (letters, digits and !#$%%&'*+-.^_`|~ only)", c.TokenCookie)
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token (RFC 7230 tchar), the
// grammar of both an auth scheme and a cookie name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0) {
			return false
		}
	}
	return true
}

// isUnreserved reports whether s has only RFC 3986 unreserved characters,
// so the name reads the same escaped or not.
func isUnreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("-._~", b) >= 0) {
			return false
		}
	}
	return s != ""
}

func (c *Config) checkLoginRate() *SettingError {
	if c.LoginRate.N < 1 || c.LoginRate.Per <= 0 {
		return bad("JOT_LOGIN_RATE", "must allow at least 1 attempt per positive period, got %s", c.LoginRate)
	}
	return nil
}

func (c *Config) checkSignupRate() *SettingError {
	if c.SignupRate.N < 1 || c.SignupRate.Per <= 0 {
		return bad("JOT_SIGNUP_RATE", "must allow at least 1 signup per positive period, got %s", c.SignupRate)
	}
	return nil
}

func (c *Config) checkLogFormat() *SettingError {
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("JOT_LOG_FORMAT", "must be text or json, got %q", c.LogFormat)
	}
	return nil
}

// maxCount bounds the count settings: far above any sane value, and low
// enough that arithmetic on it never overflows.
const maxCount = 1_000_000

func (c *Config) checkSessionBounds() *SettingError {
	if c.MaxSessions < 1 || c.MaxSessions > maxCount {
		return bad("JOT_MAX_SESSIONS", "must be 1 to %d, got %d", maxCount, c.MaxSessions)
	}
	if c.SessionMaxAge <= 0 {
		return bad("JOT_SESSION_MAX_AGE", "must be positive, got %s", fmtDuration(c.SessionMaxAge))
	}
	if c.SessionMaxAge <= c.AccessTTL {
		return bad("JOT_SESSION_MAX_AGE", "must be longer than JOT_ACCESS_TTL (%s), got %s", fmtDuration(c.AccessTTL), fmtDuration(c.SessionMaxAge))
	}
	return nil
}

func (c *Config) checkResourceBounds() *SettingError {
	if c.MaxResources < 1 || c.MaxResources > maxCount {
		return bad("JOT_MAX_RESOURCES", "must be 1 to %d, got %d", maxCount, c.MaxResources)
	}
	if c.WriteRate.N < 1 || c.WriteRate.Per <= 0 {
		return bad("JOT_WRITE_RATE", "must allow at least 1 write per positive period, got %s", c.WriteRate)
	}
	return nil
}

func (c *Config) checkDBTimeout() *SettingError {
	if c.DBTimeout <= 0 {
		return bad("JOT_DB_TIMEOUT", "must be positive, got %s", fmtDuration(c.DBTimeout))
	}
	return nil
}

// checkRevocationsSecret holds the feed's secret to what a bearer token can
// carry (RFC 6750 §2.1 b64token), so every HTTP client sends it unchanged,
// and to the length of an HS256 key, so it cannot be guessed.
func (c *Config) checkRevocationsSecret() *SettingError {
	const name = "JOT_REVOCATIONS_SECRET"
	s := c.RevocationsSecret
	if len(s) == 0 {
		return nil
	}
	body := bytes.TrimRight(s, "=")
	for _, b := range body {
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("-._~+/", b) >= 0) {
			return bad(name, "may hold only A-Z a-z 0-9 - . _ ~ + / and trailing =, as a bearer token does (e.g. openssl rand -base64 32)")
		}
	}
	if len(body) < minSecret {
		return bad(name, "must be at least %d characters (trailing = not counted), got %d", minSecret, len(body))
	}
	return nil
}

func (c *Config) checkAuditRetention() *SettingError {
	if c.AuditRetention <= 0 {
		return bad("JOT_AUDIT_RETENTION", "must be positive, got %s", fmtDuration(c.AuditRetention))
	}
	return nil
}
