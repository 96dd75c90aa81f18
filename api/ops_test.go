package api_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/token"
)

func TestAccessLog(t *testing.T) {
	e, logs := newServedEnv(t, func(c *config.Config) { c.TokenQuery = "access_token" }, nil)
	const pw = "s3cret-Passw0rd-xyzzy"
	signed := e.signup("log@example.com", pw)
	tk := e.tokensOf(e.do("POST", "/v1/auth/login", "", map[string]string{"email": "log@example.com", "password": pw}, "X-Request-Id", "login-1"), 200)
	formLogin := e.tokensOf(e.do("POST", "/v1/auth/login", "", url.Values{"username": {"log@example.com"}, "password": {pw}}), 200)
	if r := e.do("GET", "/v1/users/me", tk.Access, nil, "X-Request-Id", "me-1"); r.StatusCode != 200 {
		t.Fatalf("me: %d", r.StatusCode)
	}
	// A token in the query string must not reach the log through the path.
	if r := e.do("GET", "/v1/users/me?access_token="+url.QueryEscape(signed.Access), "", nil, "X-Request-Id", "me-query"); r.StatusCode != 200 {
		t.Fatalf("me by query: %d %s", r.StatusCode, r.body)
	}
	refreshed := e.tokensOf(e.refresh(tk.Refresh), 200)
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "log@example.com", "password": pw + "-wrong"}), 401, "invalid_credentials")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", tk.Access[:len(tk.Access)-4]+"AAAA", nil, "X-Request-Id", "bad-token-1"), "invalid")
	if r := e.do("POST", "/v1/users/me/password", refreshed.Access, map[string]string{"current_password": pw, "new_password": pw + "-new"}); r.StatusCode != 204 {
		t.Fatalf("password change: %d %s", r.StatusCode, r.body)
	}
	e.do("POST", "/v1/auth/logout", refreshed.Access, nil)

	text := logs.String()
	for what, secret := range map[string]string{
		"password": pw, "signup access token": signed.Access, "signup refresh token": signed.Refresh,
		"access token": tk.Access, "refresh token": tk.Refresh, "form login refresh token": formLogin.Refresh,
		"rotated access token": refreshed.Access, "rotated refresh token": refreshed.Refresh, "new password": pw + "-new",
	} {
		if strings.Contains(text, secret) {
			t.Errorf("the log contains the %s", what)
		}
	}
	// No token piece either (a signature alone is enough to replay nothing,
	// but the payload is personal data), and no bcrypt hash.
	for _, part := range strings.Split(tk.Access, ".") {
		if strings.Contains(text, part) {
			t.Errorf("the log contains a segment of an access token: %.20s...", part)
		}
	}
	for _, h := range []string{"$2a$", "$2b$", "$2y$", "Bearer "} {
		if strings.Contains(text, h) {
			t.Errorf("the log contains %q", h)
		}
	}

	byID := map[string]map[string]any{}
	n := 0
	for _, rec := range logs.records(t) {
		if rec["msg"] != "request" {
			continue
		}
		n++
		for _, k := range []string{"request_id", "method", "path", "status", "duration"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("access log line without %s: %v", k, rec)
			}
		}
		if p, _ := rec["path"].(string); strings.Contains(p, "?") {
			t.Errorf("access log path carries the query: %v", rec)
		}
		byID[rec["request_id"].(string)] = rec
	}
	if n < 9 {
		t.Fatalf("%d access log lines for 9 requests:\n%s", n, text)
	}
	want := map[string]map[string]any{
		"login-1":     {"method": "POST", "path": "/v1/auth/login", "status": float64(200)},
		"me-1":        {"method": "GET", "path": "/v1/users/me", "status": float64(200), "user_id": tk.User.ID},
		"me-query":    {"method": "GET", "path": "/v1/users/me", "status": float64(200), "user_id": tk.User.ID},
		"bad-token-1": {"method": "GET", "path": "/v1/users/me", "status": float64(401)},
	}
	for id, fields := range want {
		rec, ok := byID[id]
		if !ok {
			t.Errorf("no access log line for request %s", id)
			continue
		}
		for k, v := range fields {
			if rec[k] != v {
				t.Errorf("request %s: %s = %v, want %v", id, k, rec[k], v)
			}
		}
		if d, ok := rec["duration"].(float64); !ok || d <= 0 {
			t.Errorf("request %s: duration %v", id, rec["duration"])
		}
	}
	if _, ok := byID["bad-token-1"]["user_id"]; ok {
		t.Errorf("a refused token is logged with a user: %v", byID["bad-token-1"])
	}
}

// scrape reads /metrics into series → value, the series named as in the
// text format (labels in the order the client library writes them).
func scrape(t *testing.T, e *env) map[string]float64 {
	t.Helper()
	r := e.do("GET", "/metrics", "", nil)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsMove(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	tk := e.signup("met@example.com", "pass-phrase-1")
	before := scrape(t, e)

	e.login("met@example.com", "pass-phrase-1")
	e.do("POST", "/v1/auth/login", "", map[string]string{"email": "met@example.com", "password": "pass-phrase-2"})
	next := e.tokensOf(e.refresh(tk.Refresh), 200)
	wantInvalidToken(t, e.do("GET", "/v1/users/me", "", nil), "missing")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", "not-a-jwt", nil), "malformed")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", next.Access[:len(next.Access)-4]+"AAAA", nil), "invalid")
	past := time.Now().Add(-2 * time.Hour)
	is := &token.Issuer{Keys: e.app.Keyring, Issuer: e.cfg.Issuer, Audience: e.cfg.Audience, TTL: 15 * time.Minute, Now: func() time.Time { return past }}
	c := token.Claims{SessionID: "s-expired", Role: "user"}
	c.Subject = tk.User.ID
	expired, _, err := is.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users/me", expired, nil), "expired")
	e.do("GET", "/v1/users/me", next.Access, nil)
	const rawID = "0190ffff-dead-7bee-8000-00000000abcd"
	wantError(t, e.do("DELETE", "/v1/auth/sessions/"+rawID, next.Access, nil), 404, "not_found")
	wantError(t, e.do("GET", "/v1/no-such-route-"+rawID, "", nil), 404, "not_found")
	e.do("BREW", "/v1/auth/login", "", nil)
	if r := e.do("POST", "/v1/auth/logout", next.Access, nil); r.StatusCode != 204 {
		t.Fatalf("logout %d", r.StatusCode)
	}

	after := scrape(t, e)
	for series, delta := range map[string]float64{
		`jot_auth_events_total{event="login_ok"}`:                                                     1,
		`jot_auth_events_total{event="login_failed"}`:                                                 1,
		`jot_auth_events_total{event="refresh"}`:                                                      1,
		`jot_auth_events_total{event="session_ended"}`:                                                1,
		`jot_tokens_refused_total{reason="missing"}`:                                                  1,
		`jot_tokens_refused_total{reason="malformed"}`:                                                1,
		`jot_tokens_refused_total{reason="invalid"}`:                                                  1,
		`jot_tokens_refused_total{reason="expired"}`:                                                  1,
		`jot_http_requests_total{method="GET",route="GET /v1/users/me",status="200"}`:                 1,
		`jot_http_requests_total{method="GET",route="GET /v1/users/me",status="401"}`:                 4,
		`jot_http_requests_total{method="DELETE",route="DELETE /v1/auth/sessions/{id}",status="404"}`: 1,
		`jot_http_requests_total{method="POST",route="POST /v1/auth/login",status="200"}`:             1,
		`jot_http_requests_total{method="GET",route="unmatched",status="404"}`:                        1,
		`jot_http_requests_total{method="other",route="unmatched",status="405"}`:                      1,
		`jot_http_request_duration_seconds_count{method="GET",route="GET /v1/users/me"}`:              5,
	} {
		if got := after[series] - before[series]; got < delta {
			t.Errorf("%s moved by %v, want at least %v", series, got, delta)
		}
	}
	// Label values come from patterns, never from what a client sent.
	for series := range after {
		if strings.Contains(series, rawID) || strings.Contains(series, "no-such-route") || strings.Contains(series, "BREW") {
			t.Errorf("a client-chosen value became a label: %s", series)
		}
	}
}

func TestOperationsAnswers(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		r := e.do("GET", path, "", nil)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("%s: %d %q %s", path, r.StatusCode, r.Header.Get("Content-Type"), r.body)
		}
		wantCommonHeaders(t, r)
	}
	r := e.do("GET", "/openapi.json", "", nil)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !strings.HasPrefix(fmt.Sprint(r.json()["openapi"]), "3.1.") {
		t.Fatalf("openapi.json: %d %q %.80s", r.StatusCode, r.Header.Get("Content-Type"), r.body)
	}
	wantCommonHeaders(t, r)
	// Caches may keep it and ask again cheaply.
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("openapi.json has no ETag")
	}
	if r := e.do("GET", "/openapi.json", "", nil, "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", r.StatusCode)
	}
}
