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
	"sync"
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
	req := jottest.Request(e.t, method, e.srv.URL+path, bearer, rd)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(e.t, e.srv.Client(), req)
}

// send does one request and reads the whole answer.
func send(t *testing.T, c *http.Client, req *http.Request) *response {
	t.Helper()
	res, b := jottest.Send(t, c, req)
	return &response{Response: res, body: b}
}

// kidOf returns the kid in a token's header.
func kidOf(t *testing.T, raw string) string {
	t.Helper()
	var h struct {
		KID string `json:"kid"`
	}
	jottest.Segment(t, raw, 0, &h)
	return h.KID
}

// sidOf returns the sid claim of an access token.
func sidOf(t *testing.T, access string) string {
	t.Helper()
	var c struct {
		SID string `json:"sid"`
	}
	if jottest.Segment(t, access, 1, &c); c.SID == "" {
		t.Fatalf("no sid in %s", access)
	}
	return c.SID
}

// claims decodes an access token's claims (its signature is the server's
// business; here only what it says matters).
func claims(t *testing.T, access string) map[string]any {
	t.Helper()
	var c map[string]any
	jottest.Segment(t, access, 1, &c)
	return c
}

// tokens is a token response.
type tokens = jottest.Tokens

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

// burst sends n requests at once and counts their statuses; one of each
// status is kept for a closer look.
func burst(n int, one func(i int) *response) (map[int]int, map[int]*response) {
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		sample = map[int]*response{}
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r := one(i)
			mu.Lock()
			counts[r.StatusCode]++
			sample[r.StatusCode] = r
			mu.Unlock()
		}(i)
	}
	close(start)
	wg.Wait()
	return counts, sample
}
