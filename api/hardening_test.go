package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/api"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/internal/testlog"
)

// logBuffer collects a JSON log; handlers write to it concurrently.
type logBuffer struct{ testlog.Buffer }

// records returns the log lines, decoded.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// newServedEnv starts the app as production does: api.NewHTTPServer on a
// real listener, with a JSON log captured. tune may change the
// http.Server (a shorter timeout) before it starts.
func newServedEnv(t *testing.T, edit func(*config.Config), tune func(*http.Server)) (*env, *logBuffer) {
	t.Helper()
	cfg := jottest.Config(t)
	if edit != nil {
		edit(&cfg)
	}
	logs := &logBuffer{}
	log := slog.New(api.RequestIDHandler(slog.NewJSONHandler(logs, nil)))
	app, _ := jottest.Start(t, cfg, log)
	srv := serveReal(t, app, tune)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, app: app, cfg: &cfg, dsn: cfg.DatabaseURL}, logs
}

// serveReal serves h with the production http.Server on 127.0.0.1:0.
func serveReal(t *testing.T, h http.Handler, tune func(*http.Server)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config = api.NewHTTPServer(h)
	if tune != nil {
		tune(srv.Config)
	}
	srv.Start()
	return srv
}

// wantCommonHeaders checks what every answer the server writes carries.
func wantCommonHeaders(t *testing.T, r *response) {
	t.Helper()
	if r.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", r.Request.Method, r.Request.URL.Path)
	}
	if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s %s: X-Content-Type-Options %q", r.Request.Method, r.Request.URL.Path, got)
	}
}

func TestHTTPServerHasProductionLimits(t *testing.T) {
	s := api.NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Fatalf("a timeout is off: %+v", s)
	}
	if s.ReadHeaderTimeout > s.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %v exceeds ReadTimeout %v", s.ReadHeaderTimeout, s.ReadTimeout)
	}
	// Room for an 8 KiB token in a header and another in a cookie, and far
	// from net/http's 1 MiB default.
	if s.MaxHeaderBytes < 16<<10 || s.MaxHeaderBytes > 64<<10 {
		t.Errorf("MaxHeaderBytes %d", s.MaxHeaderBytes)
	}
}

// bodyOnly hides a reader's length, so the request is sent chunked.
type bodyOnly struct{ io.Reader }

func TestBodyOver1MiBIs413(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	tk := e.signup("big@example.com", "pass-phrase-1")
	big := `{"email":"a@b.co","password":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		method, path, bearer, ct string
		chunked                  bool
	}{
		{"POST", "/v1/auth/signup", "", "application/json", false},
		{"POST", "/v1/auth/signup", "", "application/json", true},
		{"POST", "/v1/auth/login", "", "application/json", true},
		{"POST", "/v1/auth/token", "", "application/x-www-form-urlencoded", false},
		{"PATCH", "/v1/users/me", tk.Access, "application/json", true},
	}
	for _, c := range cases {
		var body io.Reader = strings.NewReader(big)
		if c.chunked {
			body = bodyOnly{body}
		}
		req, _ := http.NewRequest(c.method, e.srv.URL+c.path, body)
		req.Header.Set("Content-Type", c.ct)
		req.Header.Set("X-Request-Id", "big-body-1")
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		r := send(t, e.srv.Client(), req)
		wantError(t, r, http.StatusRequestEntityTooLarge, "payload_too_large")
		wantCommonHeaders(t, r)
		if got := r.Header.Get("X-Request-Id"); got != "big-body-1" {
			t.Errorf("%s %s chunked=%v: X-Request-Id %q", c.method, c.path, c.chunked, got)
		}
	}
	// A body of exactly 1 MiB is not refused for its size.
	exact := `{"email":"a@b.co","password":"` + strings.Repeat("x", 1<<20-len(`{"email":"a@b.co","password":""}`)) + `"}`
	if r := e.do("POST", "/v1/auth/login", "", exact); r.StatusCode == http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MiB body refused: %s", r.body)
	}
}

func TestHugeHeaderIsRefusedAndServerStaysUp(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	req, _ := http.NewRequest("GET", e.srv.URL+"/healthz", nil)
	req.Header.Set("X-Filler", strings.Repeat("a", 64<<10))
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge && res.StatusCode != http.StatusBadRequest {
		t.Fatalf("64 KiB header: status %d, want 431 or 400", res.StatusCode)
	}
	// An 8 KiB token fits in the header limit.
	r := e.do("GET", "/v1/users/me", strings.Repeat("a", 8<<10), nil)
	wantInvalidToken(t, r, "malformed")
	if r := e.do("GET", "/healthz", "", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("after a huge header: healthz %d", r.StatusCode)
	}
}

func TestMalformedBodiesAre400(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	tk := e.signup("mal@example.com", "pass-phrase-1")
	cases := []struct {
		name, method, path, bearer, body, ct string
	}{
		{"unknown field", "POST", "/v1/auth/signup", "", `{"email":"x@example.com","password":"pass-phrase-1","nmae":"typo"}`, "application/json"},
		{"unknown field", "POST", "/v1/auth/login", "", `{"email":"mal@example.com","password":"pass-phrase-1","remember":true}`, "application/json"},
		{"unknown field", "PATCH", "/v1/users/me", tk.Access, `{"name":"x","role":"admin"}`, "application/json"},
		{"invalid JSON", "POST", "/v1/auth/signup", "", `{"email":"x@example.com",`, "application/json"},
		{"invalid JSON", "POST", "/v1/auth/login", "", `{email: "mal@example.com"}`, "application/json"},
		{"invalid JSON", "PATCH", "/v1/users/me", tk.Access, `{"name":}`, "application/json"},
		{"trailing garbage", "POST", "/v1/auth/signup", "", `{"email":"x@example.com","password":"pass-phrase-1"} xyz`, "application/json"},
		{"trailing object", "POST", "/v1/auth/login", "", `{"email":"mal@example.com","password":"pass-phrase-1"}{}`, "application/json"},
		{"trailing garbage", "PATCH", "/v1/users/me", tk.Access, `{"name":"x"}]`, "application/json"},
		{"not an object", "POST", "/v1/auth/signup", "", `["x@example.com"]`, "application/json"},
		{"wrong type", "PATCH", "/v1/users/me", tk.Access, `{"name":42}`, "application/json"},
		{"wrong content type", "POST", "/v1/auth/signup", "", `{"email":"x@example.com","password":"pass-phrase-1"}`, "text/plain"},
		{"wrong content type", "POST", "/v1/auth/login", "", `{"email":"mal@example.com","password":"pass-phrase-1"}`, "text/plain"},
		{"wrong content type", "PATCH", "/v1/users/me", tk.Access, `{"name":"x"}`, "application/xml"},
		{"bad content type", "POST", "/v1/auth/signup", "", `{"email":"x@example.com","password":"pass-phrase-1"}`, "application/json; charset"},
		{"empty body", "POST", "/v1/auth/signup", "", ``, "application/json"},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, c.bearer, c.body, "Content-Type", c.ct)
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s on %s %s: status %d: %s", c.name, c.method, c.path, r.StatusCode, r.body)
			continue
		}
		wantError(t, r, http.StatusBadRequest, "invalid_request")
		wantCommonHeaders(t, r)
	}
	// Nothing of it reached the store.
	if r := e.do("GET", "/v1/users/me", tk.Access, nil); r.json()["name"] != "Test" {
		t.Fatalf("a refused body changed the user: %s", r.body)
	}
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "x@example.com", "password": "pass-phrase-1"}), 401, "invalid_credentials")
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e, logs := newServedEnv(t, nil, func(s *http.Server) { s.ReadHeaderTimeout = timeout })
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// A byte at a time, never finishing the headers: each byte alone
		// arrives well within any per-read timeout, so only a deadline on
		// the whole header block stops this client.
		head, filler := "GET /healthz HTTP/1.1\r\nHost: jot\r\n", "X-Slow: a\r\n"
		for i := 0; ; i++ {
			var b byte
			if i < len(head) {
				b = head[i]
			} else {
				b = filler[(i-len(head))%len(filler)]
			}
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	// The bound only keeps a broken server from hanging the test; it is
	// far above the timeout under test.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := io.ReadAll(conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept a client that trickles its headers")
	}
	// net/http closes the connection silently when the deadline falls
	// between two header lines, and answers 400 first when it falls inside
	// one (bufio hands over the partial line as if it were whole); either
	// way the client is gone, and never got to a handler.
	if len(b) > 0 && !bytes.HasPrefix(b, []byte("HTTP/1.1 400 ")) {
		t.Fatalf("the slow client got an answer: %q", b)
	}
	for _, rec := range logs.records(t) {
		if rec["msg"] == "request" {
			t.Fatalf("the slow request reached the handlers: %v", rec)
		}
	}
	if r := e.do("GET", "/healthz", "", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("after a slow client: healthz %d", r.StatusCode)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	e, logs := newServedEnv(t, nil, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "half=done")
		w.Header().Set("Location", "/elsewhere")
		panic("kaboom: select * from users where password = 'hunter2'")
	})
	mux.HandleFunc("GET /half", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"partial":`)
		_ = http.NewResponseController(w).Flush()
		panic("after the header")
	})
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	srv := serveReal(t, e.app.WrapForTest(mux), nil)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/boom", nil)
	req.Header.Set("X-Request-Id", "panic-req-1")
	r := send(t, srv.Client(), req)
	wantError(t, r, http.StatusInternalServerError, "server_error")
	wantCommonHeaders(t, r)
	if got := r.Header.Get("X-Request-Id"); got != "panic-req-1" {
		t.Errorf("X-Request-Id %q", got)
	}
	if strings.Contains(string(r.body), "kaboom") || strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "goroutine") {
		t.Fatalf("the panic leaks into the answer: %s", r.body)
	}
	if r.Header.Get("Set-Cookie") != "" || r.Header.Get("Location") != "" {
		t.Errorf("headers set before the panic reach the 500: %v", r.Header)
	}
	// It is logged, with the request id and the stack.
	found := false
	for _, rec := range logs.records(t) {
		if rec["msg"] == "panic" {
			found = true
			if rec["request_id"] != "panic-req-1" || !strings.Contains(rec["panic"].(string), "kaboom") || !strings.Contains(rec["stack"].(string), "goroutine") || rec["level"] != "ERROR" {
				t.Errorf("panic log %v", rec)
			}
		}
		if rec["msg"] == "request" && rec["request_id"] == "panic-req-1" && rec["status"] != float64(500) {
			t.Errorf("access log of the panic: %v", rec)
		}
	}
	if !found {
		t.Fatalf("panic not logged: %s", logs)
	}

	// A panic after the answer has begun breaks the connection, so the
	// client cannot take the half answer for a whole one.
	res, err := srv.Client().Get(srv.URL + "/half")
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Fatal("a half-written answer was delivered as complete")
	}

	// And the server goes on serving, on the same listener.
	for i := 0; i < 3; i++ {
		if r := send(t, srv.Client(), mustRequest(t, "GET", srv.URL+"/ok")); r.StatusCode != 200 || string(r.body) != "ok" {
			t.Fatalf("after a panic: %d %s", r.StatusCode, r.body)
		}
	}
	if r := e.do("GET", "/healthz", "", nil); r.StatusCode != 200 {
		t.Fatalf("healthz after a panic: %d", r.StatusCode)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestMethodNotAllowedHasAllow(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/v1/auth/login", "POST"},
		{"DELETE", "/v1/auth/token", "POST"},
		{"PUT", "/v1/users/me", "GET, PATCH"},
		{"POST", "/healthz", "GET"},
		{"DELETE", "/.well-known/jwks.json", "GET"},
	} {
		r := e.do(c.method, c.path, "", nil, "X-Request-Id", "m-405")
		wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
		wantCommonHeaders(t, r)
		allow := r.Header.Get("Allow")
		for _, m := range strings.Split(c.allow, ", ") {
			if !strings.Contains(allow, m) {
				t.Errorf("%s %s: Allow %q lacks %s", c.method, c.path, allow, m)
			}
		}
		if strings.Contains(allow, c.method) {
			t.Errorf("%s %s: Allow %q names the refused method", c.method, c.path, allow)
		}
		if got := r.Header.Get("X-Request-Id"); got != "m-405" {
			t.Errorf("X-Request-Id %q", got)
		}
	}
}

func TestCommonHeadersOnEveryAnswer(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	tk := e.signup("hdr@example.com", "pass-phrase-1")
	cases := []struct {
		method, path, bearer string
		body                 any
		status               int
		noStore              bool
	}{
		{"GET", "/healthz", "", nil, 200, false},
		{"GET", "/readyz", "", nil, 200, false},
		{"GET", "/metrics", "", nil, 200, false},
		{"GET", "/.well-known/jwks.json", "", nil, 200, false},
		{"GET", "/nope", "", nil, 404, false},
		{"GET", "/v1/nope", "", nil, 404, false},
		{"DELETE", "/healthz", "", nil, 405, false},
		{"POST", "/v1/auth/login", "", map[string]string{"email": "hdr@example.com", "password": "pass-phrase-1"}, 200, true},
		{"POST", "/v1/auth/login", "", map[string]string{"email": "hdr@example.com", "password": "wrong-password"}, 401, true},
		{"POST", "/v1/auth/login", "", `{`, 400, true},
		{"GET", "/v1/auth/login", "", nil, 405, true},
		{"GET", "/v1/auth/nope", "", nil, 404, true},
		{"GET", "/v1/auth/sessions", tk.Access, nil, 200, true},
		{"GET", "/v1/auth/revocations", "", nil, 200, true},
		{"GET", "/v1/users/me", tk.Access, nil, 200, true},
		{"GET", "/v1/users/me", "", nil, 401, true},
		{"GET", "/v1/users", "", nil, 401, true},
		{"GET", "/v1/users/nope/deeper/still", "", nil, 404, true},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, c.bearer, c.body)
		if r.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, r.StatusCode, c.status, r.body)
		}
		wantCommonHeaders(t, r)
		if cc := r.Header.Get("Cache-Control"); c.noStore && !strings.Contains(cc, "no-store") {
			t.Errorf("%s %s: Cache-Control %q, want no-store", c.method, c.path, cc)
		}
	}
	// Generated ids differ per request; a client's sane id is echoed, an
	// unsafe one (it would forge log lines) is replaced.
	a, b := e.do("GET", "/healthz", "", nil), e.do("GET", "/healthz", "", nil)
	if a.Header.Get("X-Request-Id") == b.Header.Get("X-Request-Id") {
		t.Error("two requests got the same generated id")
	}
	for _, id := range []string{"abc-123", "0190a0a0-0000-7000-8000-000000000000", "trace:1/2+3=4_5.6"} {
		if got := e.do("GET", "/nope", "", nil, "X-Request-Id", id).Header.Get("X-Request-Id"); got != id {
			t.Errorf("sane id %q answered as %q", id, got)
		}
	}
	for _, id := range []string{"a b", "x\"y", strings.Repeat("z", 200), "id\u00e9", "a;b"} {
		if got := e.do("GET", "/healthz", "", nil, "X-Request-Id", id).Header.Get("X-Request-Id"); got == id || got == "" {
			t.Errorf("unsafe id %q answered as %q", id, got)
		}
	}
}

func TestCORS(t *testing.T) {
	const app, evil = "https://app.example.com", "https://evil.example.com"
	preflight := func(e *env, origin string) *response {
		return e.do("OPTIONS", "/v1/auth/login", "", nil, "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type, authorization")
	}
	hasVaryOrigin := func(r *response) bool {
		for _, v := range r.Header.Values("Vary") {
			for _, f := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(f), "Origin") {
					return true
				}
			}
		}
		return false
	}

	t.Run("listed origins", func(t *testing.T) {
		e, _ := newServedEnv(t, func(c *config.Config) { c.CORSOrigins = []string{app, "http://localhost:3000"} }, nil)
		r := preflight(e, app)
		if r.StatusCode != http.StatusNoContent {
			t.Fatalf("preflight: %d %s", r.StatusCode, r.body)
		}
		wantCommonHeaders(t, r)
		h := r.Header
		if h.Get("Access-Control-Allow-Origin") != app || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") || !hasVaryOrigin(r) {
			t.Fatalf("preflight headers %v", h)
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials allowed without a cookie: %v", h)
		}
		// A disallowed origin learns nothing that lets the browser proceed.
		r = preflight(e, evil)
		if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Methods") != "" || !hasVaryOrigin(r) {
			t.Fatalf("preflight of a disallowed origin: %d %v", r.StatusCode, r.Header)
		}
		// Simple requests: the allowed origin may read the answer and the
		// headers a client needs.
		r = e.do("GET", "/healthz", "", nil, "Origin", app)
		if r.Header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") || !hasVaryOrigin(r) {
			t.Fatalf("simple request headers %v", r.Header)
		}
		r = e.do("GET", "/v1/users/me", "", nil, "Origin", app)
		if r.StatusCode != 401 || r.Header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
			t.Fatalf("error answer to a cross-origin request: %d %v", r.StatusCode, r.Header)
		}
		r = e.do("GET", "/healthz", "", nil, "Origin", evil)
		if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" || !hasVaryOrigin(r) {
			t.Fatalf("simple request from a disallowed origin: %d %v", r.StatusCode, r.Header)
		}
		// Origins are whole: a prefix, a suffix or another scheme is not one.
		for _, o := range []string{"https://app.example.com.evil.net", "http://app.example.com", "https://app.example.co", "null"} {
			if got := preflight(e, o).Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("origin %q allowed as %q", o, got)
			}
		}
		// Without a CORS header, OPTIONS is an ordinary request.
		if r := e.do("OPTIONS", "/v1/auth/login", "", nil); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("plain OPTIONS: %d", r.StatusCode)
		}
	})

	t.Run("wildcard", func(t *testing.T) {
		e, _ := newServedEnv(t, func(c *config.Config) { c.CORSOrigins = []string{"*"} }, nil)
		r := preflight(e, evil)
		if r.StatusCode != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("wildcard preflight: %d %v", r.StatusCode, r.Header)
		}
	})

	t.Run("cookie", func(t *testing.T) {
		e, _ := newServedEnv(t, func(c *config.Config) {
			c.CORSOrigins = []string{app}
			c.TokenCookie = "jot_token"
		}, nil)
		r := preflight(e, app)
		if r.Header.Get("Access-Control-Allow-Origin") != app || r.Header.Get("Access-Control-Allow-Credentials") != "true" || !hasVaryOrigin(r) {
			t.Fatalf("preflight with a cookie: %v", r.Header)
		}
		r = e.do("GET", "/healthz", "", nil, "Origin", evil)
		if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("credentials for a disallowed origin: %v", r.Header)
		}
		// A wildcard with cookies would let any site act as the user.
		cfg := config.Default()
		cfg.CORSOrigins = []string{"*"}
		cfg.TokenCookie = "jot_token"
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "JOT_CORS_ORIGINS") {
			t.Fatalf("* with a cookie: %v", err)
		}
	})

	t.Run("off", func(t *testing.T) {
		e, _ := newServedEnv(t, nil, nil)
		r := preflight(e, app)
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("CORS answered while off: %v", r.Header)
		}
		wantCommonHeaders(t, r)
	})
}

// rawExchange writes a request by hand and reads one answer, for what
// http.Client refuses to send.
func rawExchange(t *testing.T, addr, request string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestOddRequestsGetTheErrorShape(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	addr := e.srv.Listener.Addr().String()
	// A method no route knows.
	res := rawExchange(t, addr, "BREW /v1/auth/login HTTP/1.1\r\nHost: jot\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("X-Request-Id") == "" || !strings.Contains(string(b), "method_not_allowed") {
		t.Fatalf("BREW: %d %v %s", res.StatusCode, res.Header, b)
	}
	// A body that claims more than 1 MiB is refused before it is read.
	res = rawExchange(t, addr, "POST /v1/auth/signup HTTP/1.1\r\nHost: jot\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{")
	b, _ = io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "payload_too_large") {
		t.Fatalf("big Content-Length: %d %s", res.StatusCode, b)
	}
}
