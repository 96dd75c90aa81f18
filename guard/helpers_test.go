package guard_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// fakeVerifier stands in for token.Verifier: guard's contract with a
// verifier is the TokenVerifier interface, not a signature scheme.
type fakeVerifier struct {
	tokens map[string]*token.Claims
	errs   map[string]error
	calls  atomic.Int64
}

func (f *fakeVerifier) Verify(raw string) (*token.Claims, error) {
	f.calls.Add(1)
	if c, ok := f.tokens[raw]; ok {
		return c, nil
	}
	if err, ok := f.errs[raw]; ok {
		return nil, err
	}
	return nil, &token.Error{Reason: token.ReasonInvalid, Err: errors.New("unknown test token")}
}

func claims(sub, sid, role string) *token.Claims {
	return &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: sub, Issuer: "jot", Audience: jwt.ClaimStrings{"jot"}},
		SessionID:        sid,
		Role:             role,
		Email:            sub + "@example.com",
	}
}

func newVerifier() *fakeVerifier {
	return &fakeVerifier{
		tokens: map[string]*token.Claims{
			"alice-token": claims("alice", "s-alice", "user"),
			"admin-token": claims("root", "s-root", "admin"),
			"no-sid":      claims("bob", "", "user"),
			"no-sub":      claims("", "s-x", "user"),
		},
		errs: map[string]error{
			"expired-token":   &token.Error{Reason: token.ReasonExpired, Err: errors.New("exp 1732000000 is past")},
			"malformed-token": &token.Error{Reason: token.ReasonMalformed, Err: errors.New("illegal base64 data at input byte 3")},
			"plain-error":     errors.New("secret internal detail"),
			"says-missing":    &token.Error{Reason: token.ReasonMissing},
		},
	}
}

// okHandler answers 200 with the principal's user id.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := guard.FromContext(r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	w.Write([]byte(p.UserID))
})

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/v1/things", nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

// wantProblem checks an error answer: status, exact body fields and the
// WWW-Authenticate header ("" for none).
func wantProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, code string, reason token.Reason, wwwAuth string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != wwwAuth {
		t.Errorf("WWW-Authenticate = %q, want %q", got, wwwAuth)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	want := map[string]any{"error": code, "status": float64(status)}
	if reason != "" {
		want["reason"] = string(reason)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %v, want %v (body %s)", k, body[k], v, rec.Body)
		}
	}
	if d, _ := body["error_description"].(string); d == "" {
		t.Errorf("no error_description in %s", rec.Body)
	}
	if len(body) != len(want)+1 {
		t.Errorf("unexpected fields in %s", rec.Body)
	}
	for _, secret := range []string{"secret internal detail", "illegal base64", "1732000000", "alice-token", "expired-token"} {
		if strings.Contains(rec.Body.String(), secret) {
			t.Errorf("body leaks %q: %s", secret, rec.Body)
		}
	}
}

func tokenReason(s string) token.Reason { return token.Reason(s) }

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
