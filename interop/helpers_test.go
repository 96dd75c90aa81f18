package interop_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/jottest"
)

// testSecret is the HS256 secret of the servers that use one.
const testSecret = "interop-test-secret-of-at-least-32-bytes"

// jotServer is a real jot server over a temporary SQLite database.
type jotServer struct {
	t     *testing.T
	URL   string
	App   *app.App
	Store jot.Store
	Cfg   config.Config
}

// startJot starts a server signing with alg; edit may change the
// configuration first.
func startJot(t *testing.T, alg string, edit func(*config.Config)) *jotServer {
	t.Helper()
	cfg := jottest.Config(t)
	cfg.JWTAlg = alg
	if alg == "HS256" {
		cfg.JWTSecret = []byte(testSecret)
	}
	if edit != nil {
		edit(&cfg)
	}
	app, st := jottest.Start(t, cfg, nil)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return &jotServer{t: t, URL: srv.URL, App: app, Store: st, Cfg: cfg}
}

// tokenResponse is jot's token response (docs/api.md §2).
type tokenResponse = jottest.Tokens

// call sends a JSON request (body may be nil) and returns the status and
// the response body.
func (s *jotServer) call(method, path, bearer string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := jottest.Request(s.t, method, s.URL+path, bearer, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, b := jottest.Send(s.t, nil, req)
	return res.StatusCode, b
}

// signup registers a user and returns the token response.
func (s *jotServer) signup(email, password string) tokenResponse {
	s.t.Helper()
	return s.tokens(s.call("POST", "/v1/auth/signup", "", map[string]string{"email": email, "password": password, "name": "Interop"}))
}

// login logs a user in and returns the token response.
func (s *jotServer) login(email, password string) tokenResponse {
	s.t.Helper()
	return s.tokens(s.call("POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password}))
}

// refresh uses a refresh token and returns the new token response.
func (s *jotServer) refresh(rt string) tokenResponse {
	s.t.Helper()
	return s.tokens(s.call("POST", "/v1/auth/token", "", map[string]string{"grant_type": "refresh_token", "refresh_token": rt}))
}

func (s *jotServer) tokens(status int, body []byte) tokenResponse {
	s.t.Helper()
	if status != http.StatusOK && status != http.StatusCreated {
		s.t.Fatalf("status %d: %s", status, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		s.t.Fatal(err)
	}
	if tr.Access == "" || tr.User.ID == "" {
		s.t.Fatalf("no token or user in %s", body)
	}
	return tr
}

// header decodes a token's JOSE header.
func header(t *testing.T, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	jottest.Segment(t, raw, 0, &m)
	return m
}

// claims decodes a token's payload without verifying it.
func claims(t *testing.T, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	jottest.Segment(t, raw, 1, &m)
	return m
}

// forgeRole returns raw with its role claim changed to admin and the
// original signature kept: what an attacker who edits a token gets.
func forgeRole(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	c := claims(t, raw)
	c["role"] = "admin"
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// forgeNone returns raw's claims under an unsigned `alg: none` header.
func forgeNone(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return h + "." + parts[1] + "."
}
