package guard_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

const (
	challengeMissing = `Bearer realm="jot"`
	challengeInvalid = `Bearer realm="jot", error="invalid_token"`
	challengeScope   = `Bearer realm="jot", error="insufficient_scope"`
)

func TestRequireAnswers(t *testing.T) {
	v := newVerifier()
	revoked := guard.NewRevocationSet()
	h := guard.Require(guard.JWT(v, guard.JWTOptions{Revocations: revoked}))(okHandler)
	revoked.Add("s-root", farFuture)

	tests := []struct {
		name    string
		req     *http.Request
		reason  token.Reason
		wwwAuth string
	}{
		{"no header", bearer(""), token.ReasonMissing, challengeMissing},
		{"unsupported scheme", func() *http.Request {
			r := bearer("")
			r.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
			return r
		}(), token.ReasonMissing, challengeMissing},
		{"empty bearer", func() *http.Request {
			r := bearer("")
			r.Header.Set("Authorization", "Bearer ")
			return r
		}(), token.ReasonMissing, challengeMissing},
		{"malformed", bearer("malformed-token"), token.ReasonMalformed, challengeInvalid},
		{"oversized", bearer(strings.Repeat("a", token.MaxTokenSize+1)), token.ReasonMalformed, challengeInvalid},
		{"expired", bearer("expired-token"), token.ReasonExpired, challengeInvalid},
		{"invalid", bearer("forged"), token.ReasonInvalid, challengeInvalid},
		{"foreign verifier error", bearer("plain-error"), token.ReasonInvalid, challengeInvalid},
		{"verifier says missing", bearer("says-missing"), token.ReasonInvalid, challengeInvalid},
		{"revoked", bearer("admin-token"), token.ReasonRevoked, challengeInvalid},
		{"no sid with revocations", bearer("no-sid"), token.ReasonInvalid, challengeInvalid},
		{"no subject", bearer("no-sub"), token.ReasonInvalid, challengeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, serve(h, tt.req), 401, "invalid_token", tt.reason, tt.wwwAuth)
		})
	}

	t.Run("valid", func(t *testing.T) {
		rec := serve(h, bearer("alice-token"))
		if rec.Code != 200 || rec.Body.String() != "alice" {
			t.Fatalf("got %d %q", rec.Code, rec.Body)
		}
	})
}

func TestOversizedTokenNotVerified(t *testing.T) {
	v := newVerifier()
	h := guard.Require(guard.JWT(v, guard.JWTOptions{}))(okHandler)
	serve(h, bearer(strings.Repeat("a", token.MaxTokenSize+1)))
	if n := v.calls.Load(); n != 0 {
		t.Errorf("Verify called %d times for an oversized token", n)
	}
	// Exactly MaxTokenSize still reaches the verifier.
	serve(h, bearer(strings.Repeat("a", token.MaxTokenSize)))
	if n := v.calls.Load(); n != 1 {
		t.Errorf("Verify called %d times for a token of MaxTokenSize", n)
	}
}

func TestPrincipalFromClaims(t *testing.T) {
	v := newVerifier()
	var got *guard.Principal
	h := guard.Require(guard.JWT(v, guard.JWTOptions{}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = guard.FromContext(r.Context())
	}))
	serve(h, bearer("admin-token"))
	want := v.tokens["admin-token"]
	if got == nil || got.UserID != "root" || got.SessionID != "s-root" || got.Role != "admin" || got.Email != "root@example.com" || got.Claims != want {
		t.Fatalf("principal = %+v", got)
	}
	// Without Revocations a token without sid is fine.
	rec := serve(h, bearer("no-sid"))
	if rec.Code != 200 {
		t.Errorf("no-sid without revocations: %d", rec.Code)
	}
}

func TestFromContextEmpty(t *testing.T) {
	if p, ok := guard.FromContext(httptest.NewRequest("GET", "/", nil).Context()); ok || p != nil {
		t.Errorf("FromContext on a bare context = %v, %v", p, ok)
	}
}

func TestRealmAndOnRefuse(t *testing.T) {
	type refusal struct {
		status int
		reason token.Reason
	}
	var seen []refusal
	g := &guard.Guard{
		Strategies: []guard.Strategy{guard.JWT(newVerifier(), guard.JWTOptions{})},
		Realm:      `my "api"`,
		OnRefuse: func(r *http.Request, status int, reason token.Reason) {
			seen = append(seen, refusal{status, reason})
		},
	}
	h := g.Require(okHandler)
	wantProblem(t, serve(h, bearer("")), 401, "invalid_token", "missing", `Bearer realm="my \"api\""`)
	wantProblem(t, serve(h, bearer("expired-token")), 401, "invalid_token", "expired", `Bearer realm="my \"api\"", error="invalid_token"`)
	wantProblem(t, serve(g.Require(g.RequireRole("admin")(okHandler)), bearer("alice-token")), 403, "insufficient_scope", "", `Bearer realm="my \"api\"", error="insufficient_scope"`)
	serve(h, bearer("alice-token"))
	want := []refusal{{401, token.ReasonMissing}, {401, token.ReasonExpired}, {403, ""}}
	if len(seen) != len(want) {
		t.Fatalf("OnRefuse saw %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("OnRefuse[%d] = %v, want %v", i, seen[i], want[i])
		}
	}
}

func TestRequireRole(t *testing.T) {
	v := newVerifier()
	auth := guard.Require(guard.JWT(v, guard.JWTOptions{}))
	h := auth(guard.RequireRole("admin")(okHandler))

	wantProblem(t, serve(h, bearer("alice-token")), 403, "insufficient_scope", "", challengeScope)
	if rec := serve(h, bearer("admin-token")); rec.Code != 200 {
		t.Errorf("admin: %d", rec.Code)
	}
	wantProblem(t, serve(h, bearer("")), 401, "invalid_token", "missing", challengeMissing)

	// Several roles; and without Require in front there is no Principal.
	both := auth(guard.RequireRole("user", "admin")(okHandler))
	if rec := serve(both, bearer("alice-token")); rec.Code != 200 {
		t.Errorf("user on user|admin: %d", rec.Code)
	}
	bare := guard.RequireRole("admin")(okHandler)
	wantProblem(t, serve(bare, bearer("admin-token")), 401, "invalid_token", "missing", challengeMissing)

	defer func() {
		if recover() == nil {
			t.Error("RequireRole() did not panic")
		}
	}()
	guard.RequireRole()
}

func TestWriters(t *testing.T) {
	rec := httptest.NewRecorder()
	guard.WriteUnauthorized(rec, "", token.ReasonRevoked, "")
	wantProblem(t, rec, 401, "invalid_token", "revoked", challengeInvalid)

	rec = httptest.NewRecorder()
	guard.WriteUnauthorized(rec, "jot", token.ReasonMissing, "log in first")
	wantProblem(t, rec, 401, "invalid_token", "missing", challengeMissing)
	if !strings.Contains(rec.Body.String(), `"error_description":"log in first"`) {
		t.Errorf("description not used: %s", rec.Body)
	}

	rec = httptest.NewRecorder()
	guard.WriteUnauthorized(rec, "jot", "bogus", "")
	wantProblem(t, rec, 401, "invalid_token", "invalid", challengeInvalid)

	rec = httptest.NewRecorder()
	guard.WriteForbidden(rec, "jot", "admins only")
	wantProblem(t, rec, 403, "insufficient_scope", "", challengeScope)

	rec = httptest.NewRecorder()
	guard.WriteInvalidCredentials(rec, "jot")
	wantProblem(t, rec, 401, "invalid_credentials", "", challengeMissing)
}

// stub is a strategy with a fixed answer that counts its calls.
type stub struct {
	p     *guard.Principal
	err   error
	calls int
}

func (s *stub) Authenticate(*http.Request) (*guard.Principal, error) {
	s.calls++
	return s.p, s.err
}

func TestStrategyOrder(t *testing.T) {
	alice := &guard.Principal{UserID: "alice"}
	bob := &guard.Principal{UserID: "bob"}
	expired := &token.Error{Reason: token.ReasonExpired}
	revoked := &token.Error{Reason: token.ReasonRevoked}
	outage := errors.New("db down: secret internal detail")

	tests := []struct {
		name       string
		strategies []*stub
		wantUser   string
		wantStatus int
		wantCode   string
		wantReason token.Reason
		wantCalls  []int
	}{
		{name: "first success wins", strategies: []*stub{{p: alice}, {p: bob}}, wantUser: "alice", wantCalls: []int{1, 0}},
		{name: "missing then success", strategies: []*stub{{err: guard.ErrNoCredentials}, {p: bob}}, wantUser: "bob", wantCalls: []int{1, 1}},
		{name: "refusal then success", strategies: []*stub{{err: expired}, {p: bob}}, wantUser: "bob", wantCalls: []int{1, 1}},
		{name: "all missing", strategies: []*stub{{err: guard.ErrNoCredentials}, {err: guard.ErrNoCredentials}}, wantStatus: 401, wantCode: "invalid_token", wantReason: "missing", wantCalls: []int{1, 1}},
		{name: "no strategies", wantStatus: 401, wantCode: "invalid_token", wantReason: "missing"},
		{name: "nil nil counts as missing", strategies: []*stub{{}}, wantStatus: 401, wantCode: "invalid_token", wantReason: "missing", wantCalls: []int{1}},
		{name: "first refusal decides", strategies: []*stub{{err: guard.ErrNoCredentials}, {err: expired}, {err: revoked}}, wantStatus: 401, wantCode: "invalid_token", wantReason: "expired", wantCalls: []int{1, 1, 1}},
		{name: "wrapped missing", strategies: []*stub{{err: wrap(guard.ErrNoCredentials)}, {err: guard.ErrInvalidCredentials}}, wantStatus: 401, wantCode: "invalid_credentials", wantCalls: []int{1, 1}},
		{name: "failure stops the search", strategies: []*stub{{err: outage}, {p: bob}}, wantStatus: 500, wantCode: "server_error", wantCalls: []int{1, 0}},
		{name: "earlier refusal still decides", strategies: []*stub{{err: expired}, {err: outage}, {p: bob}}, wantStatus: 401, wantCode: "invalid_token", wantReason: "expired", wantCalls: []int{1, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ss []guard.Strategy
			for _, s := range tt.strategies {
				ss = append(ss, s)
			}
			rec := serve(guard.Require(ss...)(okHandler), bearer(""))
			if tt.wantUser != "" {
				if rec.Code != 200 || rec.Body.String() != tt.wantUser {
					t.Fatalf("got %d %q, want user %q", rec.Code, rec.Body, tt.wantUser)
				}
			} else {
				www := ""
				switch {
				case tt.wantReason == "missing" || tt.wantCode == "invalid_credentials":
					www = challengeMissing
				case tt.wantReason != "":
					www = challengeInvalid
				}
				wantProblem(t, rec, tt.wantStatus, tt.wantCode, tt.wantReason, www)
			}
			for i, s := range tt.strategies {
				if s.calls != tt.wantCalls[i] {
					t.Errorf("strategy %d called %d times, want %d", i, s.calls, tt.wantCalls[i])
				}
			}
		})
	}
}

func TestOnError(t *testing.T) {
	outage := errors.New("db down")
	var got error
	g := &guard.Guard{
		Strategies: []guard.Strategy{guard.StrategyFunc(func(*http.Request) (*guard.Principal, error) { return nil, outage })},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(503)
		},
	}
	if rec := serve(g.Require(okHandler), bearer("")); rec.Code != 503 || got != outage {
		t.Errorf("got %d, err %v", rec.Code, got)
	}
}

// A Guard is a Strategy too, so guards nest.
func TestGuardIsStrategy(t *testing.T) {
	inner := &guard.Guard{Strategies: []guard.Strategy{guard.JWT(newVerifier(), guard.JWTOptions{})}}
	h := guard.Require(inner)(okHandler)
	if rec := serve(h, bearer("alice-token")); rec.Code != 200 {
		t.Errorf("nested guard: %d", rec.Code)
	}
	wantProblem(t, serve(h, bearer("")), 401, "invalid_token", "missing", challengeMissing)
}

func wrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "wrapped: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
