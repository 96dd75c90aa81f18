// Package config holds the settings of the jot program: their defaults,
// how they are read (flags, environment, a .env file) and the rules a
// setting must follow for the program to start.
package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jotauth/jot/password"
)

// Config is every setting of the program; see the table in docs/api.md §4.
// Get one from Default or Load, and check it with Validate.
type Config struct {
	// Addr is the listen address (JOT_ADDR).
	Addr string
	// DatabaseURL is sqlite://PATH or postgres://... (JOT_DATABASE_URL).
	DatabaseURL string
	// Issuer and Audience are the iss and aud claims (JOT_ISSUER, JOT_AUDIENCE).
	Issuer, Audience string
	// JWTAlg is the signing algorithm: HS256, ES256, EdDSA or RS256 (JOT_JWT_ALG).
	JWTAlg string
	// JWTSecret is the HS256 shared secret (JOT_JWT_SECRET).
	JWTSecret Secret
	// JWTKeyFile is an optional PEM private key for an asymmetric algorithm,
	// used instead of a key generated and kept in the database
	// (JOT_JWT_KEY_FILE).
	JWTKeyFile string
	// AccessTTL is the access token lifetime (JOT_ACCESS_TTL).
	AccessTTL time.Duration
	// RefreshTTL is the refresh token and session lifetime (JOT_REFRESH_TTL).
	RefreshTTL time.Duration
	// JWKSMaxAge is the JWKS max-age and the delay before a rotated key
	// signs (JOT_JWKS_MAX_AGE).
	JWKSMaxAge time.Duration
	// RefreshGrace is how long a just-used refresh token may be presented
	// again; 0 turns it off (JOT_REFRESH_GRACE).
	RefreshGrace time.Duration
	// BcryptCost is the bcrypt cost of new password hashes (JOT_BCRYPT_COST).
	BcryptCost int
	// TokenSchemes are Authorization schemes accepted besides Bearer
	// (JOT_TOKEN_SCHEMES).
	TokenSchemes []string
	// TokenQuery is the query parameter to read tokens from; "" is off
	// (JOT_TOKEN_QUERY).
	TokenQuery string
	// TokenCookie is the cookie to read tokens from; "" is off
	// (JOT_TOKEN_COOKIE).
	TokenCookie string
	// CORSOrigins are the allowed origins, or just "*" (JOT_CORS_ORIGINS).
	CORSOrigins []string
	// LoginRate is the failed login attempts allowed per account and client
	// IP, and per client IP; ten times as many per account across all IPs
	// (JOT_LOGIN_RATE).
	LoginRate Rate
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (JOT_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// LogFormat is text or json (JOT_LOG_FORMAT).
	LogFormat string
	// MaxSessions is the most live sessions a user has; a session start
	// past it ends the least recently used (JOT_MAX_SESSIONS).
	MaxSessions int
	// SessionMaxAge is a session's absolute lifetime, however often it is
	// refreshed (JOT_SESSION_MAX_AGE).
	SessionMaxAge time.Duration
	// MaxResources is the most tasks, and the most recipes, a user may
	// own (JOT_MAX_RESOURCES).
	MaxResources int
	// WriteRate is the resource writes allowed per user (JOT_WRITE_RATE).
	WriteRate Rate
	// DBTimeout bounds every database call, connecting included
	// (JOT_DB_TIMEOUT).
	DBTimeout time.Duration
	// SignupRate is the signups allowed per client network, every outcome
	// counted (JOT_SIGNUP_RATE).
	SignupRate Rate

	// PublicURL is where links in mails point; "" means http:// + Addr
	// (JOT_PUBLIC_URL).
	PublicURL string
	// SMTPURL is the mail server, smtp://[user:pass@]host:port or
	// smtps://...; "" writes mails to the log instead (JOT_SMTP_URL).
	SMTPURL string
	// MailFrom is the sender of mails (JOT_MAIL_FROM).
	MailFrom string
	// MailTemplates is a folder of templates replacing the built-in ones
	// (JOT_MAIL_TEMPLATES).
	MailTemplates string
	// EmailVerification is optional, required or off (JOT_EMAIL_VERIFICATION).
	EmailVerification string
	// ResetTTL and VerifyTTL are the lifetimes of mail tokens
	// (JOT_RESET_TTL, JOT_VERIFY_TTL).
	ResetTTL, VerifyTTL time.Duration
	// ResetURL and VerifyURL are templates with {token} for links to an
	// app's own pages (JOT_RESET_URL, JOT_VERIFY_URL).
	ResetURL, VerifyURL string
	// MailRetryFor is how long a mail is retried (JOT_MAIL_RETRY_FOR).
	MailRetryFor time.Duration
	// MetricsAddr is a separate listen address for /metrics, which then
	// leaves the main listener; "" serves it on the main one
	// (JOT_METRICS_ADDR).
	MetricsAddr string
	// PprofAddr is a loopback listen address serving net/http/pprof; ""
	// is off (JOT_PPROF_ADDR).
	PprofAddr string
	// RevocationsSecret, when set, is the bearer token the revocation feed
	// requires (JOT_REVOCATIONS_SECRET).
	RevocationsSecret Secret
	// KeyEncryptionKey is the 32-byte AES-256 key that encrypts the stored
	// signing keys, decoded from base64; empty for none
	// (JOT_KEY_ENCRYPTION_KEY).
	KeyEncryptionKey Secret
	// AuditRetention is how long audit events are kept
	// (JOT_AUDIT_RETENTION).
	AuditRetention time.Duration
}

// Default returns the configuration with every setting at its default, the
// one that lets a fresh checkout run `jot serve` with no setup.
func Default() Config {
	return Config{
		Addr:         "127.0.0.1:8080",
		DatabaseURL:  "sqlite://./jot-data/jot.db",
		Issuer:       "jot",
		Audience:     "jot",
		JWTAlg:       "ES256",
		AccessTTL:    15 * time.Minute,
		RefreshTTL:   720 * time.Hour,
		JWKSMaxAge:   5 * time.Minute,
		RefreshGrace: 5 * time.Second,
		BcryptCost:   password.DefaultCost,
		LoginRate:    Rate{N: 10, Per: time.Minute},
		LogFormat:    "text",

		MaxSessions:       50,
		SessionMaxAge:     2160 * time.Hour,
		MaxResources:      1000,
		WriteRate:         Rate{N: 120, Per: time.Minute},
		DBTimeout:         5 * time.Second,
		SignupRate:        Rate{N: 30, Per: time.Hour},
		EmailVerification: "optional",
		ResetTTL:          time.Hour,
		VerifyTTL:         24 * time.Hour,
		MailRetryFor:      24 * time.Hour,
		AuditRetention:    2160 * time.Hour,
	}
}

// Secret is a byte string that never prints: fmt, slog and encoding/json
// all show "[redacted]" (or "" when it is empty), so a config dumped into a
// log or an error by mistake does not leak it. It converts to and from
// []byte implicitly.
type Secret []byte

const redacted = "[redacted]"

// String returns "[redacted]", or "" for an empty secret so that whether
// one is set still shows.
func (s Secret) String() string {
	if len(s) == 0 {
		return ""
	}
	return redacted
}

// Format implements fmt.Formatter, so that no verb (%x, %v, %#v) prints the
// bytes.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler, which encoding/json uses.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue implements slog.LogValuer: every setting, for a start-up log
// line, with the JWT secret and any database password hidden. It has a value
// receiver so that logging a Config and a *Config both go through it.
func (c Config) LogValue() slog.Value {
	prefixes := make([]string, len(c.TrustedProxies))
	for i, p := range c.TrustedProxies {
		prefixes[i] = p.String()
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("database_url", RedactURL(c.DatabaseURL)),
		slog.String("issuer", c.Issuer),
		slog.String("audience", c.Audience),
		slog.String("jwt_alg", c.JWTAlg),
		slog.String("jwt_secret", c.JWTSecret.String()),
		slog.String("jwt_key_file", c.JWTKeyFile),
		slog.String("access_ttl", fmtDuration(c.AccessTTL)),
		slog.String("refresh_ttl", fmtDuration(c.RefreshTTL)),
		slog.String("jwks_max_age", fmtDuration(c.JWKSMaxAge)),
		slog.String("refresh_grace", fmtDuration(c.RefreshGrace)),
		slog.Int("bcrypt_cost", c.BcryptCost),
		slog.String("token_schemes", strings.Join(c.TokenSchemes, ",")),
		slog.String("token_query", c.TokenQuery),
		slog.String("token_cookie", c.TokenCookie),
		slog.String("cors_origins", strings.Join(c.CORSOrigins, ",")),
		slog.String("login_rate", c.LoginRate.String()),
		slog.String("signup_rate", c.SignupRate.String()),
		slog.String("trusted_proxies", strings.Join(prefixes, ",")),
		slog.String("log_format", c.LogFormat),
		slog.Int("max_sessions", c.MaxSessions),
		slog.String("session_max_age", fmtDuration(c.SessionMaxAge)),
		slog.Int("max_resources", c.MaxResources),
		slog.String("write_rate", c.WriteRate.String()),
		slog.String("db_timeout", fmtDuration(c.DBTimeout)),
		slog.String("public_url", c.PublicURL),
		slog.String("smtp_url", RedactURL(c.SMTPURL)),
		slog.String("mail_from", c.MailFrom),
		slog.String("mail_templates", c.MailTemplates),
		slog.String("email_verification", c.EmailVerification),
		slog.String("reset_ttl", fmtDuration(c.ResetTTL)),
		slog.String("verify_ttl", fmtDuration(c.VerifyTTL)),
		slog.String("reset_url", c.ResetURL),
		slog.String("verify_url", c.VerifyURL),
		slog.String("mail_retry_for", fmtDuration(c.MailRetryFor)),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.String("pprof_addr", c.PprofAddr),
		slog.String("revocations_secret", c.RevocationsSecret.String()),
		slog.String("key_encryption_key", c.KeyEncryptionKey.String()),
		slog.String("audit_retention", fmtDuration(c.AuditRetention)),
	)
}

// Format implements fmt.Formatter: a Config printed with any verb shows
// what LogValue shows, so neither the JWT secret nor a database password
// reaches an error message or a debug print.
func (c Config) Format(f fmt.State, _ rune) {
	fmt.Fprint(f, "{")
	for i, a := range c.LogValue().Group() {
		if i > 0 {
			fmt.Fprint(f, " ")
		}
		fmt.Fprintf(f, "%s=%s", a.Key, a.Value)
	}
	fmt.Fprint(f, "}")
}

// RedactURL returns a database URL fit for a log line: a password in the
// user info or in a password= query parameter (both of which libpq reads)
// is replaced, and a URL that does not parse is hidden whole, since where
// its password is cannot be told.
func RedactURL(s string) string {
	if hasScheme(s, "sqlite") {
		return s // a file path; nothing secret in it
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// hasScheme reports whether s starts with scheme:// in any case.
func hasScheme(s, scheme string) bool {
	p := scheme + "://"
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}
