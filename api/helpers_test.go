package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/jottest"
)

// env is a running server over a real SQLite database.
type env struct {
	t   *testing.T
	srv *httptest.Server
	app *app.App
	cfg *config.Config
	dsn string
	st  jot.Store
}

// testClock is the clock of a test's servers: real time plus an offset the
// test moves on instead of sleeping.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// newEnv starts a server; edit may change the configuration first.
func newEnv(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	return newEnvAtClock(t, sqliteDSN(t), edit, nil)
}

// sqliteDSN names a new SQLite database in a temporary folder.
func sqliteDSN(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "jot.db") }

func newEnvAt(t *testing.T, dsn string, edit func(*config.Config)) *env {
	t.Helper()
	return newEnvAtClock(t, dsn, edit, nil)
}

// newEnvAtClock is newEnvAt with clk as the server's clock (nil: time.Now).
func newEnvAtClock(t *testing.T, dsn string, edit func(*config.Config), clk *testClock) *env {
	t.Helper()
	cfg := jottest.Config(t)
	cfg.DatabaseURL = dsn
	if edit != nil {
		edit(&cfg)
	}
	var now func() time.Time
	if clk != nil {
		now = clk.Now
	}
	app, st := jottest.StartWithClock(t, cfg, nil, now)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, app: app, cfg: &cfg, dsn: dsn, st: st}
}

// response is a finished HTTP exchange.
type response struct {
	*http.Response
	body []byte
}

func (r *response) json() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		panic("response is not a JSON object: " + string(r.body))
	}
	return m
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON). Headers come in pairs.
func (e *env) do(method, path, bearer string, body any, headers ...string) *response {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
		ct = "application/json"
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ct = "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &response{Response: res, body: b}
}

// tokens is a token response.
type tokens struct {
	Access  string `json:"access_token"`
	Type    string `json:"token_type"`
	Expires int    `json:"expires_in"`
	Refresh string `json:"refresh_token"`
	User    struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
		Role  string `json:"role"`
	} `json:"user"`
}

func (e *env) tokensOf(r *response, want int) tokens {
	e.t.Helper()
	if r.StatusCode != want {
		e.t.Fatalf("status %d, want %d: %s", r.StatusCode, want, r.body)
	}
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		e.t.Fatal(err)
	}
	return tk
}

func (e *env) signup(email, password string) tokens {
	e.t.Helper()
	return e.tokensOf(e.do("POST", "/v1/auth/signup", "", map[string]string{"email": email, "password": password, "name": "Test"}), http.StatusCreated)
}

func (e *env) login(email, password string) tokens {
	e.t.Helper()
	return e.tokensOf(e.do("POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password}), http.StatusOK)
}

func (e *env) refresh(rt string) *response {
	e.t.Helper()
	return e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// wantError checks the exact error shape of docs/api.md §1.
func wantError(t *testing.T, r *response, status int, code string) map[string]any {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	m := r.json()
	if m["error"] != code {
		t.Fatalf("error %v, want %s: %s", m["error"], code, r.body)
	}
	if m["status"] != float64(status) {
		t.Errorf("status field %v, want %d", m["status"], status)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Errorf("no error_description: %s", r.body)
	}
	return m
}

// wantInvalidToken checks a 401 invalid_token with its reason and header.
func wantInvalidToken(t *testing.T, r *response, reason string) {
	t.Helper()
	m := wantError(t, r, http.StatusUnauthorized, "invalid_token")
	if m["reason"] != reason {
		t.Errorf("reason %v, want %s", m["reason"], reason)
	}
	want := `Bearer realm="jot", error="invalid_token"`
	if reason == "missing" {
		want = `Bearer realm="jot"`
	}
	if got := r.Header.Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate %q, want %q", got, want)
	}
}

// eventually retries f until it holds or the deadline passes. It is for
// what servers do over a real database and network (notifications,
// reloads, reconnecting); the tests move a testClock for time to pass.
func eventually(t *testing.T, within time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
