package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/token"
)

// These benchmarks call the App as an http.Handler, with no network in
// between, so they measure the server's own cost per request: middleware,
// routing, guard, handler and store. The numbers and how they were taken
// are in bench/README.md.

// benchApp is an App over a fresh SQLite database with the default
// configuration (bcrypt cost 12 included), as `jot serve` runs it. newEnv
// cannot serve here: it needs a *testing.T, and it puts a network listener
// in front of the App.
type benchApp struct {
	b   *testing.B
	app *app.App
	cfg config.Config
}

func newBenchApp(b *testing.B) *benchApp {
	b.Helper()
	cfg := jottest.Config(b)
	cfg.BcryptCost = config.Default().BcryptCost
	// The background sync runs as in the real server, since it shares the
	// revocation set and the store with the requests being measured.
	app, _ := jottest.Start(b, cfg, nil)
	return &benchApp{b: b, app: app, cfg: cfg}
}

// serve runs one request through the App and fails the benchmark on an
// unexpected status.
func (a *benchApp) serve(r *http.Request, want int) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	a.app.ServeHTTP(w, r)
	if w.Code != want {
		a.b.Fatalf("%s %s: status %d, want %d: %s", r.Method, r.URL.Path, w.Code, want, w.Body)
	}
	return w
}

func jsonRequest(method, path, bearer, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	return r
}

func formRequest(path string, v url.Values) *http.Request {
	r := httptest.NewRequest("POST", path, strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func bearerGet(path, raw string) *http.Request {
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("Authorization", "Bearer "+raw)
	return r
}

const benchPassword = "correct horse battery staple"

// signup creates a user and returns its token response.
func (a *benchApp) signup(email string) tokens {
	a.b.Helper()
	body := fmt.Sprintf(`{"email": %q, "password": %q, "name": "Bench"}`, email, benchPassword)
	return decodeTokens(a.b, a.serve(jsonRequest("POST", "/v1/auth/signup", "", body), http.StatusCreated))
}

func decodeTokens(b *testing.B, w *httptest.ResponseRecorder) tokens {
	var tk tokens
	if err := json.Unmarshal(w.Body.Bytes(), &tk); err != nil {
		b.Fatal(err)
	}
	if tk.Access == "" || tk.Refresh == "" {
		b.Fatalf("no tokens in %s", w.Body)
	}
	return tk
}

// verifier is a token.Verifier configured as the App's own.
func (a *benchApp) verifier() *token.Verifier {
	return &token.Verifier{Keys: a.app.Keyring, Issuer: a.cfg.Issuer, Audience: a.cfg.Audience, Leeway: 30 * time.Second}
}

// expiredCopy re-signs the claims of raw with the App's current key as if
// issued an hour ago: a token that differs from a live one only in having
// aged out.
func (a *benchApp) expiredCopy(raw string) string {
	a.b.Helper()
	c, err := a.verifier().Verify(raw)
	if err != nil {
		a.b.Fatal(err)
	}
	iss := &token.Issuer{
		Keys: a.app.Keyring, Issuer: a.cfg.Issuer, Audience: a.cfg.Audience, TTL: a.cfg.AccessTTL,
		Now: func() time.Time { return time.Now().Add(-time.Hour) },
	}
	expired, _, err := iss.Issue(token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: c.Subject},
		SessionID:        c.SessionID, Role: c.Role, Email: c.Email,
	})
	if err != nil {
		a.b.Fatal(err)
	}
	return expired
}

// BenchmarkProtectedRequest measures protected routes through the whole
// App: the guard and one indexed read (me), the guard's refusals, which
// touch no database (revoked, expired), and the guard alone over the App's
// keys (guard-only).
func BenchmarkProtectedRequest(b *testing.B) {
	a := newBenchApp(b)
	live := a.signup("bench-me@example.com")
	ended := a.signup("bench-ended@example.com")
	a.serve(jsonRequest("POST", "/v1/auth/logout", ended.Access, `{}`), http.StatusNoContent)
	expired := a.expiredCopy(live.Access)

	b.Run("me", func(b *testing.B) {
		r := bearerGet("/v1/users/me", live.Access)
		b.ReportAllocs()
		for b.Loop() {
			a.serve(r, http.StatusOK)
		}
	})
	b.Run("me-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := bearerGet("/v1/users/me", live.Access)
			for pb.Next() {
				w := httptest.NewRecorder()
				a.app.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					// Fatal must not be called from a RunParallel goroutine.
					b.Errorf("status %d: %s", w.Code, w.Body)
					return
				}
			}
		})
	})
	for _, c := range []struct{ name, raw, reason string }{
		{"revoked", ended.Access, `"reason":"revoked"`},
		{"expired", expired, `"reason":"expired"`},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := bearerGet("/v1/users/me", c.raw)
			if w := a.serve(r, http.StatusUnauthorized); !strings.Contains(w.Body.String(), c.reason) {
				b.Fatalf("want %s: %s", c.reason, w.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				a.serve(r, http.StatusUnauthorized)
			}
		})
	}

	// The server's own guard is not exported; this one is built the same
	// way, over the App's Keyring, with a revocation set as big as a busy
	// server's.
	revoked := guard.NewRevocationSet()
	for i := range 1000 {
		revoked.Add(fmt.Sprintf("01900000-0000-7000-8000-%012d", i), time.Now().Add(time.Hour))
	}
	protected := guard.Require(guard.JWT(a.verifier(), guard.JWTOptions{
		Extractor:   guard.FromAuthHeader("Bearer"),
		Revocations: revoked,
	}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Run("guard-only", func(b *testing.B) {
		r := bearerGet("/v1/things", live.Access)
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			protected.ServeHTTP(w, r)
			if w.Code != http.StatusNoContent {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkLogin measures one successful login per op at the default
// bcrypt cost: the hash check dominates, by design. Use -benchtime Nx; one
// op takes a good fraction of a second.
func BenchmarkLogin(b *testing.B) {
	a := newBenchApp(b)
	a.signup("bench-login@example.com")
	body := fmt.Sprintf(`{"email": "bench-login@example.com", "password": %q}`, benchPassword)
	b.ReportAllocs()
	for b.Loop() {
		a.serve(jsonRequest("POST", "/v1/auth/login", "", body), http.StatusOK)
	}
}

// BenchmarkRefresh measures one refresh-token rotation per op, each op
// presenting the token the previous one returned, as a client does. The
// op includes decoding the response to get that token.
func BenchmarkRefresh(b *testing.B) {
	a := newBenchApp(b)
	rt := a.signup("bench-refresh@example.com").Refresh
	b.ReportAllocs()
	for b.Loop() {
		w := a.serve(formRequest("/v1/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}), http.StatusOK)
		rt = decodeTokens(b, w).Refresh
	}
}
