package config

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// setting is one row of the settings table: its names and how its text
// form is read into a Config and shown as a flag default.
type setting struct {
	env, flag, usage string
	// get returns the value as text, for the flag's help.
	get func(*Config) string
	// set parses text into c. Its error is the problem only; Load adds the
	// setting's name and the source of the value.
	set func(c *Config, v string) error
}

// settings is the settings table of docs/api.md §4, in its order.
func settings() []setting {
	return []setting{
		text("JOT_ADDR", "addr", "listen `address`", func(c *Config) *string { return &c.Addr }),
		text("JOT_DATABASE_URL", "database-url", "database `URL`: sqlite://PATH or postgres://...", func(c *Config) *string { return &c.DatabaseURL }),
		text("JOT_ISSUER", "issuer", "`iss` claim of access tokens", func(c *Config) *string { return &c.Issuer }),
		text("JOT_AUDIENCE", "audience", "`aud` claim of access tokens", func(c *Config) *string { return &c.Audience }),
		text("JOT_JWT_ALG", "jwt-alg", "signing `algorithm`: HS256, ES256, EdDSA or RS256", func(c *Config) *string { return &c.JWTAlg }),
		{
			env: "JOT_JWT_SECRET", flag: "jwt-secret",
			usage: "HS256 `secret`, at least 32 bytes (prefer the environment: arguments are visible to other users of the machine)",
			get:   func(*Config) string { return "" },
			set:   func(c *Config, v string) error { c.JWTSecret = Secret(v); return nil },
		},
		text("JOT_JWT_KEY_FILE", "jwt-key-file", "PEM private key `file` for ES256, EdDSA or RS256 (default: a key generated and kept in the database)", func(c *Config) *string { return &c.JWTKeyFile }),
		duration("JOT_ACCESS_TTL", "access-ttl", "access token `lifetime`", func(c *Config) *time.Duration { return &c.AccessTTL }),
		duration("JOT_REFRESH_TTL", "refresh-ttl", "refresh token and session `lifetime`", func(c *Config) *time.Duration { return &c.RefreshTTL }),
		duration("JOT_JWKS_MAX_AGE", "jwks-max-age", "JWKS Cache-Control max-age, and the `delay` before a rotated key signs", func(c *Config) *time.Duration { return &c.JWKSMaxAge }),
		duration("JOT_REFRESH_GRACE", "refresh-grace", "`window` in which a just-used refresh token may be presented again (0: off)", func(c *Config) *time.Duration { return &c.RefreshGrace }),
		{
			env: "JOT_BCRYPT_COST", flag: "bcrypt-cost", usage: "bcrypt `cost` of new password hashes, 10 to 14",
			get: func(c *Config) string { return strconv.Itoa(c.BcryptCost) },
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("invalid number %q", v)
				}
				c.BcryptCost = n
				return nil
			},
		},
		list("JOT_TOKEN_SCHEMES", "token-schemes", "comma-separated Authorization `schemes` accepted besides Bearer, e.g. JWT", func(c *Config) *[]string { return &c.TokenSchemes }, nil),
		text("JOT_TOKEN_QUERY", "token-query", "query `parameter` to read tokens from (default: off)", func(c *Config) *string { return &c.TokenQuery }),
		text("JOT_TOKEN_COOKIE", "token-cookie", "`cookie` to read tokens from (default: off)", func(c *Config) *string { return &c.TokenCookie }),
		// Lowercased because browsers send Origin in lowercase and the
		// comparison is exact: https://App.example.com would never match.
		list("JOT_CORS_ORIGINS", "cors-origins", "comma-separated allowed `origins`, or * (only without cookies)", func(c *Config) *[]string { return &c.CORSOrigins }, strings.ToLower),
		{
			env: "JOT_LOGIN_RATE", flag: "login-rate", usage: "failed login attempts per account and client IP, and per client IP, a `rate`: N/s, N/m or N/h",
			get: func(c *Config) string { return c.LoginRate.String() },
			set: func(c *Config, v string) error {
				r, err := ParseRate(v)
				c.LoginRate = r
				return err
			},
		},
		{
			env: "JOT_TRUSTED_PROXIES", flag: "trusted-proxies", usage: "comma-separated `CIDRs` (or IPs) of reverse proxies whose X-Forwarded-For is believed",
			get: func(c *Config) string {
				s := make([]string, len(c.TrustedProxies))
				for i, p := range c.TrustedProxies {
					s[i] = p.String()
				}
				return strings.Join(s, ",")
			},
			set: func(c *Config, v string) error {
				ps, err := parsePrefixes(v)
				c.TrustedProxies = ps
				return err
			},
		},
		text("JOT_LOG_FORMAT", "log-format", "log `format`: text or json", func(c *Config) *string { return &c.LogFormat }),
		integer("JOT_MAX_SESSIONS", "max-sessions", "live sessions per user; a login past it ends the least recently used (`count`)", func(c *Config) *int { return &c.MaxSessions }),
		duration("JOT_SESSION_MAX_AGE", "session-max-age", "absolute session `lifetime`, however often it is refreshed", func(c *Config) *time.Duration { return &c.SessionMaxAge }),
		integer("JOT_MAX_RESOURCES", "max-resources", "tasks, and recipes, per user (`count`)", func(c *Config) *int { return &c.MaxResources }),
		{
			env: "JOT_WRITE_RATE", flag: "write-rate", usage: "resource writes per user, a `rate`: N/s, N/m or N/h",
			get: func(c *Config) string { return c.WriteRate.String() },
			set: func(c *Config, v string) error {
				r, err := ParseRate(v)
				c.WriteRate = r
				return err
			},
		},
		{
			env: "JOT_SIGNUP_RATE", flag: "signup-rate", usage: "signups per client IP, every outcome counted, a `rate`: N/s, N/m or N/h",
			get: func(c *Config) string { return c.SignupRate.String() },
			set: func(c *Config, v string) error {
				r, err := ParseRate(v)
				c.SignupRate = r
				return err
			},
		},
		duration("JOT_DB_TIMEOUT", "db-timeout", "bound on every database call, connecting included; past it a request gets 503 (a `duration`)", func(c *Config) *time.Duration { return &c.DBTimeout }),
		text("JOT_METRICS_ADDR", "metrics-addr", "separate listen `address` for /metrics, which then leaves the main one (default: on the main listener)", func(c *Config) *string { return &c.MetricsAddr }),
		text("JOT_PPROF_ADDR", "pprof-addr", "loopback listen `address` serving net/http/pprof (default: off)", func(c *Config) *string { return &c.PprofAddr }),
		text("JOT_PUBLIC_URL", "public-url", "`URL` links in mails point to (default: http:// + JOT_ADDR)", func(c *Config) *string { return &c.PublicURL }),
		{
			env: "JOT_SMTP_URL", flag: "smtp-url", usage: "mail server `URL`: smtp://[user:pass@]host:port[?starttls=off] or smtps://... (default: mails go to the log)",
			get: func(c *Config) string { return RedactURL(c.SMTPURL) },
			set: func(c *Config, v string) error { c.SMTPURL = v; return nil },
		},
		text("JOT_MAIL_FROM", "mail-from", "sender `address` of mails, e.g. \"jot <noreply@example.com>\"", func(c *Config) *string { return &c.MailFrom }),
		text("JOT_MAIL_TEMPLATES", "mail-templates", "`folder` of mail templates replacing the built-in ones", func(c *Config) *string { return &c.MailTemplates }),
		text("JOT_EMAIL_VERIFICATION", "email-verification", "`mode`: optional, required or off", func(c *Config) *string { return &c.EmailVerification }),
		duration("JOT_RESET_TTL", "reset-ttl", "password-reset link `lifetime`", func(c *Config) *time.Duration { return &c.ResetTTL }),
		duration("JOT_VERIFY_TTL", "verify-ttl", "verification and email-change link `lifetime`", func(c *Config) *time.Duration { return &c.VerifyTTL }),
		text("JOT_RESET_URL", "reset-url", "`template` with {token} for reset links to an app's own page", func(c *Config) *string { return &c.ResetURL }),
		text("JOT_VERIFY_URL", "verify-url", "`template` with {token} for verification links to an app's own page", func(c *Config) *string { return &c.VerifyURL }),
		duration("JOT_MAIL_RETRY_FOR", "mail-retry-for", "how long (a `duration`) a mail is retried", func(c *Config) *time.Duration { return &c.MailRetryFor }),
		{
			env: "JOT_REVOCATIONS_SECRET", flag: "revocations-secret",
			usage: "bearer `secret` the revocation feed requires, at least 32 characters of A-Z a-z 0-9 - . _ ~ + / (trailing = allowed), e.g. from openssl rand -base64 32 (default: the feed is open)",
			get:   func(*Config) string { return "" },
			set:   func(c *Config, v string) error { c.RevocationsSecret = Secret(v); return nil },
		},
		{
			env: "JOT_KEY_ENCRYPTION_KEY", flag: "key-encryption-key",
			usage: "32 random bytes in base64 (openssl rand -base64 32) that encrypt the stored signing keys (prefer the environment: arguments are visible to other users of the machine)",
			get:   func(*Config) string { return "" },
			set: func(c *Config, v string) error {
				k, err := decodeKey(v)
				c.KeyEncryptionKey = k
				return err
			},
		},
		duration("JOT_AUDIT_RETENTION", "audit-retention", "how long audit events are kept (a `duration`)", func(c *Config) *time.Duration { return &c.AuditRetention }),
	}
}

// keySize is the size of JOT_KEY_ENCRYPTION_KEY: an AES-256 key.
const keySize = 32

// decodeKey reads a 32-byte key written in base64, standard or URL
// alphabet, padded or not. Its errors never quote the value: it is a
// secret.
func decodeKey(v string) (Secret, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(v)
		if err != nil {
			continue
		}
		if len(b) != keySize {
			return nil, fmt.Errorf("must be %d bytes in base64, got %d bytes (make one with: openssl rand -base64 32)", keySize, len(b))
		}
		return Secret(b), nil
	}
	return nil, fmt.Errorf("is not base64 (make one with: openssl rand -base64 32)")
}

func integer(env, flag, usage string, field func(*Config) *int) setting {
	return setting{
		env: env, flag: flag, usage: usage,
		get: func(c *Config) string { return strconv.Itoa(*field(c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("invalid number %q", v)
			}
			*field(c) = n
			return nil
		},
	}
}

func text(env, flag, usage string, field func(*Config) *string) setting {
	return setting{
		env: env, flag: flag, usage: usage,
		get: func(c *Config) string { return *field(c) },
		set: func(c *Config, v string) error { *field(c) = v; return nil },
	}
}

func duration(env, flag, usage string, field func(*Config) *time.Duration) setting {
	return setting{
		env: env, flag: flag, usage: usage,
		get: func(c *Config) string { return fmtDuration(*field(c)) },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("invalid duration %q (want a number and a unit: 90s, 15m, 720h)", v)
			}
			*field(c) = d
			return nil
		},
	}
}

func list(env, flag, usage string, field func(*Config) *[]string, norm func(string) string) setting {
	return setting{
		env: env, flag: flag, usage: usage,
		get: func(c *Config) string { return strings.Join(*field(c), ",") },
		set: func(c *Config, v string) error { *field(c) = splitList(v, norm); return nil },
	}
}

// fmtDuration drops the zero units time.Duration.String adds: 15m, not 15m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// splitList splits a comma-separated list, dropping spaces around items and
// empty items (a trailing comma is not worth a failed start).
func splitList(v string, norm func(string) string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if norm != nil {
			item = norm(item)
		}
		out = append(out, item)
	}
	return out
}

// parsePrefixes reads CIDRs; a bare address is a prefix of that one host.
func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(v, nil) {
		var p netip.Prefix
		if strings.Contains(item, "/") {
			var err error
			if p, err = netip.ParsePrefix(item); err != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an IP address", item)
			}
		} else {
			a, err := netip.ParseAddr(item)
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an IP address", item)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p != p.Masked() {
			return nil, fmt.Errorf("%s has bits set after the prefix length; did you mean %s?", p, p.Masked())
		}
		out = append(out, p)
	}
	return out, nil
}
