package config

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	secret := Secret(strings.Repeat("k", 32))
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"addr without port", func(c *Config) { c.Addr = "localhost" }, `JOT_ADDR: must be HOST:PORT or :PORT, got "localhost"`},
		{"addr with named port", func(c *Config) { c.Addr = "localhost:http" }, `JOT_ADDR: port must be a number from 0 to 65535, got "http"`},
		{"addr port out of range", func(c *Config) { c.Addr = ":70000" }, `JOT_ADDR: port must be a number from 0 to 65535, got "70000"`},
		{"addr port only", func(c *Config) { c.Addr = ":8080" }, ""},
		{"addr ipv6", func(c *Config) { c.Addr = "[::1]:8080" }, ""},

		{"database empty", func(c *Config) { c.DatabaseURL = "" }, "JOT_DATABASE_URL: must not be empty"},
		{"database mysql", func(c *Config) { c.DatabaseURL = "mysql://root:hunter2@db/jot" }, `JOT_DATABASE_URL: unsupported scheme "mysql" (want sqlite:// or postgres://)`},
		{"database bare path", func(c *Config) { c.DatabaseURL = "./jot.db" }, "JOT_DATABASE_URL: must start with sqlite:// or postgres://"},
		{"database sqlite no path", func(c *Config) { c.DatabaseURL = "sqlite://" }, "JOT_DATABASE_URL: sqlite:// needs a path, e.g. sqlite://./jot-data/jot.db"},
		{"database sqlite query", func(c *Config) { c.DatabaseURL = "sqlite://jot.db?mode=ro" }, "JOT_DATABASE_URL: sqlite:// takes a file path only, without ? or #"},
		{"database postgres bad escape", func(c *Config) { c.DatabaseURL = "postgres://jot:hunter%2@db/jot" }, "JOT_DATABASE_URL: not a valid postgres:// URL (special characters in the password must be percent-encoded)"},
		{"database sqlite absolute", func(c *Config) { c.DatabaseURL = "sqlite:///var/lib/jot/jot.db" }, ""},
		{"database sqlite memory", func(c *Config) { c.DatabaseURL = "sqlite://:memory:" }, ""},
		{"database postgres", func(c *Config) { c.DatabaseURL = "postgres://jot:pw@db:5432/jot?sslmode=disable" }, ""},
		{"database postgresql", func(c *Config) { c.DatabaseURL = "postgresql://db/jot" }, ""},

		{"issuer empty", func(c *Config) { c.Issuer = "" }, "JOT_ISSUER: must not be empty"},
		{"audience blank", func(c *Config) { c.Audience = " " }, "JOT_AUDIENCE: must not be empty"},

		{"alg none", func(c *Config) { c.JWTAlg = "none" }, `JOT_JWT_ALG: must be one of HS256, ES256, EdDSA, RS256, got "none"`},
		{"alg lowercase", func(c *Config) { c.JWTAlg = "es256" }, `JOT_JWT_ALG: must be one of HS256, ES256, EdDSA, RS256, got "es256"`},
		{"alg HS384", func(c *Config) { c.JWTAlg = "HS384" }, `JOT_JWT_ALG: must be one of HS256, ES256, EdDSA, RS256, got "HS384"`},
		{"HS256 without secret", func(c *Config) { c.JWTAlg = "HS256" }, "JOT_JWT_SECRET: required when JOT_JWT_ALG=HS256 (at least 32 bytes of random data)"},
		{"HS256 short secret", func(c *Config) { c.JWTAlg, c.JWTSecret = "HS256", secret[:31] }, "JOT_JWT_SECRET: must be at least 32 bytes when JOT_JWT_ALG=HS256, got 31"},
		{"HS256 with secret", func(c *Config) { c.JWTAlg, c.JWTSecret = "HS256", secret }, ""},
		{"HS256 with key file", func(c *Config) { c.JWTAlg, c.JWTSecret, c.JWTKeyFile = "HS256", secret, "key.pem" }, "JOT_JWT_KEY_FILE: is for ES256, EdDSA or RS256 keys, not with JOT_JWT_ALG=HS256"},
		{"ES256 with secret", func(c *Config) { c.JWTSecret = secret }, "JOT_JWT_SECRET: is set, but JOT_JWT_ALG=ES256 does not use a shared secret; unset it, or set JOT_JWT_ALG=HS256"},
		{"RS256 with secret", func(c *Config) { c.JWTAlg, c.JWTSecret = "RS256", secret }, "JOT_JWT_SECRET: is set, but JOT_JWT_ALG=RS256 does not use a shared secret; unset it, or set JOT_JWT_ALG=HS256"},
		{"ES256 with key file", func(c *Config) { c.JWTKeyFile = "key.pem" }, ""},
		{"EdDSA", func(c *Config) { c.JWTAlg = "EdDSA" }, ""},
		{"RS256 with key file", func(c *Config) { c.JWTAlg, c.JWTKeyFile = "RS256", "key.pem" }, ""},

		{"access ttl zero", func(c *Config) { c.AccessTTL = 0 }, "JOT_ACCESS_TTL: must be positive, got 0s"},
		{"access ttl negative", func(c *Config) { c.AccessTTL = -time.Minute }, "JOT_ACCESS_TTL: must be positive, got -1m"},
		{"refresh ttl zero", func(c *Config) { c.RefreshTTL = 0 }, "JOT_REFRESH_TTL: must be positive, got 0s"},
		{"jwks max age zero", func(c *Config) { c.JWKSMaxAge = 0 }, "JOT_JWKS_MAX_AGE: must be positive, got 0s"},
		{"grace negative", func(c *Config) { c.RefreshGrace = -time.Second }, "JOT_REFRESH_GRACE: must not be negative (0 turns the grace off), got -1s"},
		{"grace zero", func(c *Config) { c.RefreshGrace = 0 }, ""},
		{"refresh ttl equal to access ttl", func(c *Config) { c.RefreshTTL = c.AccessTTL }, "JOT_REFRESH_TTL: must be longer than JOT_ACCESS_TTL (15m), got 15m"},
		{"refresh ttl shorter", func(c *Config) { c.AccessTTL, c.RefreshTTL = time.Hour, time.Minute }, "JOT_REFRESH_TTL: must be longer than JOT_ACCESS_TTL (1h), got 1m"},

		{"bcrypt 9", func(c *Config) { c.BcryptCost = 9 }, "JOT_BCRYPT_COST: must be 10 to 14, got 9"},
		{"bcrypt 15", func(c *Config) { c.BcryptCost = 15 }, "JOT_BCRYPT_COST: must be 10 to 14, got 15"},
		{"bcrypt 10", func(c *Config) { c.BcryptCost = 10 }, ""},
		{"bcrypt 14", func(c *Config) { c.BcryptCost = 14 }, ""},

		{"scheme Bearer", func(c *Config) { c.TokenSchemes = []string{"JWT", "Bearer"} }, "JOT_TOKEN_SCHEMES: Bearer is always accepted; list only the extra schemes"},
		{"scheme bearer", func(c *Config) { c.TokenSchemes = []string{"bearer"} }, "JOT_TOKEN_SCHEMES: Bearer is always accepted; list only the extra schemes"},
		{"scheme twice", func(c *Config) { c.TokenSchemes = []string{"JWT", "jwt"} }, `JOT_TOKEN_SCHEMES: "jwt" is listed twice (schemes are matched case-insensitively)`},
		{"scheme with space", func(c *Config) { c.TokenSchemes = []string{"My Token"} }, "JOT_TOKEN_SCHEMES: \"My Token\" is not a valid scheme name (letters, digits and !#$%&'*+-.^_`|~ only)"},
		{"scheme empty", func(c *Config) { c.TokenSchemes = []string{""} }, "JOT_TOKEN_SCHEMES: \"\" is not a valid scheme name (letters, digits and !#$%&'*+-.^_`|~ only)"},
		{"schemes", func(c *Config) { c.TokenSchemes = []string{"JWT", "Token", "x-api.v2"} }, ""},
		{"query with &", func(c *Config) { c.TokenQuery = "a&b" }, `JOT_TOKEN_QUERY: "a&b" is not a plain query parameter name (letters, digits, -, ., _ and ~ only)`},
		{"query with space", func(c *Config) { c.TokenQuery = "access token" }, `JOT_TOKEN_QUERY: "access token" is not a plain query parameter name (letters, digits, -, ., _ and ~ only)`},
		{"query", func(c *Config) { c.TokenQuery = "access_token" }, ""},
		{"cookie with ;", func(c *Config) { c.TokenCookie = "a;b" }, "JOT_TOKEN_COOKIE: \"a;b\" is not a valid cookie name (letters, digits and !#$%&'*+-.^_`|~ only)"},
		{"cookie with =", func(c *Config) { c.TokenCookie = "a=b" }, "JOT_TOKEN_COOKIE: \"a=b\" is not a valid cookie name (letters, digits and !#$%&'*+-.^_`|~ only)"},
		{"cookie non-ASCII", func(c *Config) { c.TokenCookie = "jöt" }, "JOT_TOKEN_COOKIE: \"jöt\" is not a valid cookie name (letters, digits and !#$%&'*+-.^_`|~ only)"},
		{"cookie", func(c *Config) { c.TokenCookie = "__Host-jot" }, ""},
		{"metrics addr", func(c *Config) { c.MetricsAddr = "127.0.0.1:9090" }, ""},
		{"metrics addr no port", func(c *Config) { c.MetricsAddr = "127.0.0.1" }, "JOT_METRICS_ADDR: must be HOST:PORT, got \"127.0.0.1\""},
		{"metrics addr is the main one", func(c *Config) { c.MetricsAddr = c.Addr }, "JOT_METRICS_ADDR: must differ from JOT_ADDR (127.0.0.1:8080)"},
		{"pprof loopback", func(c *Config) { c.PprofAddr = "127.0.0.1:6060" }, ""},
		{"pprof localhost", func(c *Config) { c.PprofAddr = "localhost:6060" }, ""},
		{"pprof ::1", func(c *Config) { c.PprofAddr = "[::1]:6060" }, ""},
		{"pprof all interfaces", func(c *Config) { c.PprofAddr = ":6060" }, "JOT_PPROF_ADDR: must be a loopback address such as 127.0.0.1:6060 (pprof exposes the process's memory), got \":6060\""},
		{"pprof public", func(c *Config) { c.PprofAddr = "0.0.0.0:6060" }, "JOT_PPROF_ADDR: must be a loopback address such as 127.0.0.1:6060 (pprof exposes the process's memory), got \"0.0.0.0:6060\""},

		{"cors * with cookie", func(c *Config) { c.CORSOrigins, c.TokenCookie = []string{"*"}, "jot" }, "JOT_CORS_ORIGINS: * is allowed only without cookies, and JOT_TOKEN_COOKIE is set; list the origins instead"},
		{"cors * with others", func(c *Config) { c.CORSOrigins = []string{"https://a.example", "*"} }, "JOT_CORS_ORIGINS: * must be the only origin when it is used"},
		{"cors *", func(c *Config) { c.CORSOrigins = []string{"*"} }, ""},
		{"cors trailing slash", func(c *Config) { c.CORSOrigins = []string{"https://a.example/"} }, `JOT_CORS_ORIGINS: "https://a.example/" must be scheme://host[:port] only, without a path (not even a trailing /)`},
		{"cors path", func(c *Config) { c.CORSOrigins = []string{"https://a.example/app"} }, `JOT_CORS_ORIGINS: "https://a.example/app" must be scheme://host[:port] only, without a path (not even a trailing /)`},
		{"cors query", func(c *Config) { c.CORSOrigins = []string{"https://a.example?x=1"} }, `JOT_CORS_ORIGINS: "https://a.example?x=1" must be scheme://host[:port] only, without a path (not even a trailing /)`},
		{"cors no scheme", func(c *Config) { c.CORSOrigins = []string{"a.example"} }, `JOT_CORS_ORIGINS: "a.example" is not an origin (want scheme://host[:port], e.g. https://app.example.com)`},
		{"cors host:port without scheme", func(c *Config) { c.CORSOrigins = []string{"localhost:3000"} }, `JOT_CORS_ORIGINS: "localhost:3000" is not an origin (want scheme://host[:port], e.g. https://app.example.com)`},
		{"cors ftp", func(c *Config) { c.CORSOrigins = []string{"ftp://a.example"} }, `JOT_CORS_ORIGINS: "ftp://a.example" must start with http:// or https://`},
		{"cors null", func(c *Config) { c.CORSOrigins = []string{"null"} }, `JOT_CORS_ORIGINS: "null" is not an origin (want scheme://host[:port], e.g. https://app.example.com)`},
		{"cors user info", func(c *Config) { c.CORSOrigins = []string{"https://u@a.example"} }, `JOT_CORS_ORIGINS: "https://u@a.example" must not contain user info`},
		{"cors uppercase", func(c *Config) { c.CORSOrigins = []string{"https://A.example"} }, `JOT_CORS_ORIGINS: "https://A.example" must be lowercase, as browsers send it`},
		{"cors default port", func(c *Config) { c.CORSOrigins = []string{"https://a.example:443"} }, `JOT_CORS_ORIGINS: "https://a.example:443" must not name the default port, as browsers leave it out`},
		{"cors bad port", func(c *Config) { c.CORSOrigins = []string{"http://a.example:0"} }, `JOT_CORS_ORIGINS: "http://a.example:0" has an invalid port`},
		{"cors empty port", func(c *Config) { c.CORSOrigins = []string{"http://a.example:"} }, `JOT_CORS_ORIGINS: "http://a.example:" has an empty port`},
		{"cors origins", func(c *Config) {
			c.CORSOrigins = []string{"https://app.example.com", "http://localhost:3000", "http://[::1]:8080", "http://a.example:80443"}
		}, `JOT_CORS_ORIGINS: "http://a.example:80443" has an invalid port`},
		{"cors origins with cookie", func(c *Config) {
			c.CORSOrigins, c.TokenCookie = []string{"https://app.example.com", "http://localhost:3000", "http://[::1]:8080"}, "jot"
		}, ""},

		{"login rate zero", func(c *Config) { c.LoginRate = Rate{N: 0, Per: time.Minute} }, "JOT_LOGIN_RATE: must allow at least 1 attempt per positive period, got 0/m"},
		{"signup rate zero", func(c *Config) { c.SignupRate = Rate{N: 0, Per: time.Hour} }, "JOT_SIGNUP_RATE: must allow at least 1 signup per positive period, got 0/h"},
		{"audit retention zero", func(c *Config) { c.AuditRetention = 0 }, "JOT_AUDIT_RETENTION: must be positive, got 0s"},
		{"login rate no period", func(c *Config) { c.LoginRate = Rate{N: 1} }, "JOT_LOGIN_RATE: must allow at least 1 attempt per positive period, got 1/0s"},

		{"proxy zero prefix", func(c *Config) { c.TrustedProxies = []netip.Prefix{{}} }, "JOT_TRUSTED_PROXIES: contains an invalid prefix"},
		{"proxy host bits", func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")} }, "JOT_TRUSTED_PROXIES: 10.1.2.3/8 has bits set after the prefix length; did you mean 10.0.0.0/8?"},
		{"proxies", func(c *Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
		}, ""},

		{"log format xml", func(c *Config) { c.LogFormat = "xml" }, `JOT_LOG_FORMAT: must be text or json, got "xml"`},
		{"log format JSON", func(c *Config) { c.LogFormat = "JSON" }, `JOT_LOG_FORMAT: must be text or json, got "JSON"`},
		{"db timeout zero", func(c *Config) { c.DBTimeout = 0 }, `JOT_DB_TIMEOUT: must be positive, got 0s`},
		{"db timeout negative", func(c *Config) { c.DBTimeout = -time.Second }, `JOT_DB_TIMEOUT: must be positive, got -1s`},
		{"log format json", func(c *Config) { c.LogFormat = "json" }, ""},

		{"max sessions zero", func(c *Config) { c.MaxSessions = 0 }, "JOT_MAX_SESSIONS: must be 1 to 1000000, got 0"},
		{"max sessions huge", func(c *Config) { c.MaxSessions = 2_000_000 }, "JOT_MAX_SESSIONS: must be 1 to 1000000, got 2000000"},
		{"max sessions one", func(c *Config) { c.MaxSessions = 1 }, ""},
		{"session max age zero", func(c *Config) { c.SessionMaxAge = 0 }, "JOT_SESSION_MAX_AGE: must be positive, got 0s"},
		{"session max age negative", func(c *Config) { c.SessionMaxAge = -time.Hour }, "JOT_SESSION_MAX_AGE: must be positive, got -1h"},
		{"session max age within access ttl", func(c *Config) { c.SessionMaxAge = 10 * time.Minute }, "JOT_SESSION_MAX_AGE: must be longer than JOT_ACCESS_TTL (15m), got 10m"},
		{"session max age below refresh ttl", func(c *Config) { c.SessionMaxAge = 24 * time.Hour }, ""},
		{"max resources zero", func(c *Config) { c.MaxResources = 0 }, "JOT_MAX_RESOURCES: must be 1 to 1000000, got 0"},
		{"max resources negative", func(c *Config) { c.MaxResources = -5 }, "JOT_MAX_RESOURCES: must be 1 to 1000000, got -5"},
		{"write rate zero", func(c *Config) { c.WriteRate = Rate{N: 0, Per: time.Minute} }, "JOT_WRITE_RATE: must allow at least 1 write per positive period, got 0/m"},
		{"write rate", func(c *Config) { c.WriteRate = Rate{N: 5, Per: time.Second} }, ""},
		{"revocations secret short", func(c *Config) { c.RevocationsSecret = Secret("0123456789abcdef0123456789abcde") }, "JOT_REVOCATIONS_SECRET: must be at least 32 characters (trailing = not counted), got 31"},
		{"revocations secret padding only", func(c *Config) { c.RevocationsSecret = Secret("0123456789abcdef0123456789abcd==") }, "JOT_REVOCATIONS_SECRET: must be at least 32 characters (trailing = not counted), got 30"},
		{"revocations secret space", func(c *Config) { c.RevocationsSecret = Secret("0123456789abcdef 0123456789abcdef") }, "JOT_REVOCATIONS_SECRET: may hold only A-Z a-z 0-9 - . _ ~ + / and trailing =, as a bearer token does (e.g. openssl rand -base64 32)"},
		{"revocations secret inner =", func(c *Config) { c.RevocationsSecret = Secret("0123456789abcdef=0123456789abcdef") }, "JOT_REVOCATIONS_SECRET: may hold only A-Z a-z 0-9 - . _ ~ + / and trailing =, as a bearer token does (e.g. openssl rand -base64 32)"},
		{"revocations secret base64", func(c *Config) { c.RevocationsSecret = Secret("q2Yc0S+Vv/1mJ6xk4Wq3Zt8bN0pL5rE7uH9aD2fG4sI=") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			wantError(t, err, tt.want)
			var se *SettingError
			if !errors.As(err, &se) || !strings.HasPrefix(tt.want, se.Setting+": ") {
				t.Errorf("error %v is not a *SettingError for the setting it names", err)
			}
			if strings.Contains(err.Error(), "hunter") {
				t.Errorf("error quotes the database password: %v", err)
			}
		})
	}
}
