package guard_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jotauth/jot/guard"
)

// checkLogin accepts alice@example.com / correct horse; it records what it
// was asked so tests can see which field reached it.
type checkLogin struct {
	email, password string
	calls           int
	err             error
}

func (c *checkLogin) check(ctx context.Context, email, password string) (*guard.Principal, error) {
	c.calls++
	c.email, c.password = email, password
	if c.err != nil {
		return nil, c.err
	}
	if email == "alice@example.com" && password == "correct horse" {
		return &guard.Principal{UserID: "alice", Email: email, Role: "user"}, nil
	}
	if email == "nil@example.com" {
		return nil, nil
	}
	return nil, guard.ErrInvalidCredentials
}

func post(contentType, body string) *http.Request {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

const (
	jsonCT = "application/json"
	formCT = "application/x-www-form-urlencoded"
)

func TestLocal(t *testing.T) {
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantCode   string
		wantReason string
		wantWWW    string
		wantCheck  bool
	}{
		{name: "json email", req: post(jsonCT, `{"email":"alice@example.com","password":"correct horse"}`), wantStatus: 200, wantCheck: true},
		{name: "json with charset", req: post("application/json; charset=utf-8", `{"email":"alice@example.com","password":"correct horse"}`), wantStatus: 200, wantCheck: true},
		{name: "json username", req: post(jsonCT, `{"username":"alice@example.com","password":"correct horse"}`), wantStatus: 200, wantCheck: true},
		{name: "form email", req: post(formCT, `email=alice%40example.com&password=correct+horse`), wantStatus: 200, wantCheck: true},
		{name: "form username", req: post(formCT, `username=alice%40example.com&password=correct+horse&remember=on`), wantStatus: 200, wantCheck: true},
		{name: "wrong password", req: post(jsonCT, `{"email":"alice@example.com","password":"nope"}`), wantStatus: 401, wantCode: "invalid_credentials", wantWWW: challengeMissing, wantCheck: true},
		{name: "nil principal", req: post(jsonCT, `{"email":"nil@example.com","password":"x"}`), wantStatus: 401, wantCode: "invalid_credentials", wantWWW: challengeMissing, wantCheck: true},
		{name: "both email and username", req: post(jsonCT, `{"email":"a@x","username":"a@x","password":"x"}`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "form both", req: post(formCT, `email=a&username=a&password=x`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "no password", req: post(jsonCT, `{"email":"alice@example.com"}`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "empty password", req: post(formCT, `email=alice%40example.com&password=`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "malformed json", req: post(jsonCT, `{"email":`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "trailing json", req: post(jsonCT, `{"email":"a","password":"b"} {}`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "unknown json field", req: post(jsonCT, `{"emial":"alice@example.com","password":"x"}`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "wrong json type", req: post(jsonCT, `{"email":1,"password":"x"}`), wantStatus: 400, wantCode: "invalid_request"},
		{name: "too large", req: post(jsonCT, `{"email":"`+strings.Repeat("a", 1<<20)+`","password":"x"}`), wantStatus: 413, wantCode: "payload_too_large"},
		{name: "no body", req: httptest.NewRequest("POST", "/login", nil), wantStatus: 401, wantCode: "invalid_token", wantReason: "missing", wantWWW: challengeMissing},
		{name: "other content type", req: post("text/plain", `email=a&password=b`), wantStatus: 401, wantCode: "invalid_token", wantReason: "missing", wantWWW: challengeMissing},
		{name: "empty json object", req: post(jsonCT, `{}`), wantStatus: 401, wantCode: "invalid_token", wantReason: "missing", wantWWW: challengeMissing},
		{name: "empty json body", req: post(jsonCT, ``), wantStatus: 401, wantCode: "invalid_token", wantReason: "missing", wantWWW: challengeMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &checkLogin{}
			rec := serve(guard.Require(guard.Local(c.check))(okHandler), tt.req)
			if tt.wantStatus == 200 {
				if rec.Code != 200 || rec.Body.String() != "alice" {
					t.Fatalf("got %d %q", rec.Code, rec.Body)
				}
			} else {
				wantProblem(t, rec, tt.wantStatus, tt.wantCode, tokenReason(tt.wantReason), tt.wantWWW)
			}
			if (c.calls == 1) != tt.wantCheck || c.calls > 1 {
				t.Errorf("check called %d times", c.calls)
			}
			if tt.wantStatus == 200 && (c.email != "alice@example.com" || c.password != "correct horse") {
				t.Errorf("check got %q / %q", c.email, c.password)
			}
		})
	}
}

func TestLocalCheckFailure(t *testing.T) {
	c := &checkLogin{err: errors.New("db down: secret internal detail")}
	rec := serve(guard.Require(guard.Local(c.check))(okHandler), post(jsonCT, `{"email":"alice@example.com","password":"x"}`))
	wantProblem(t, rec, 500, "server_error", "", "")
}

// The handler behind Local can still read the body.
func TestLocalRestoresBody(t *testing.T) {
	c := &checkLogin{}
	body := `{"email":"alice@example.com","password":"correct horse"}`
	var got string
	h := guard.Require(guard.Local(c.check))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
	}))
	serve(h, post(jsonCT, body))
	if got != body {
		t.Errorf("handler read %q", got)
	}
}

// JWT and Local side by side: a bearer token or a login, whichever is sent.
func TestJWTOrLocal(t *testing.T) {
	c := &checkLogin{}
	h := guard.Require(guard.JWT(newVerifier(), guard.JWTOptions{}), guard.Local(c.check))(okHandler)

	if rec := serve(h, post(jsonCT, `{"email":"alice@example.com","password":"correct horse"}`)); rec.Code != 200 {
		t.Errorf("login: %d %s", rec.Code, rec.Body)
	}
	r := post(jsonCT, `{}`)
	r.Header.Set("Authorization", "Bearer admin-token")
	if rec := serve(h, r); rec.Code != 200 || rec.Body.String() != "root" {
		t.Errorf("bearer: %d %s", rec.Code, rec.Body)
	}
	wantProblem(t, serve(h, post(jsonCT, `{}`)), 401, "invalid_token", "missing", challengeMissing)
}
