package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

func TestOptional(t *testing.T) {
	h := guard.Optional(guard.JWT(newVerifier(), guard.JWTOptions{}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := guard.FromContext(r.Context()); ok {
			fmt.Fprint(w, p.UserID)
			return
		}
		fmt.Fprint(w, "anonymous")
	}))
	anon := serve(h, bearer(""))
	if anon.Code != 200 || anon.Body.String() != "anonymous" {
		t.Errorf("no token: %d %s", anon.Code, anon.Body)
	}
	if rec := serve(h, bearer("alice-token")); rec.Code != 200 || rec.Body.String() != "alice" {
		t.Errorf("good token: %d %s", rec.Code, rec.Body)
	}
	// A token that is sent but no good is answered, not ignored.
	wantProblem(t, serve(h, bearer("expired-token")), 401, "invalid_token", "expired", challengeInvalid)
}

func TestRenderAndRealm(t *testing.T) {
	type appError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	g := &guard.Guard{
		Strategies: []guard.Strategy{guard.JWT(newVerifier(), guard.JWTOptions{})},
		Realm:      "my-api",
		Render: func(w http.ResponseWriter, r *http.Request, f guard.Refusal) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			json.NewEncoder(w).Encode(appError{Code: f.Error + "/" + string(f.Reason), Message: f.Description})
		},
	}
	h := g.Require(g.RequireRole("admin")(okHandler))
	for _, c := range []struct {
		tok, body, challenge string
		status               int
	}{
		{"expired-token", `{"code":"invalid_token/expired","message":"the access token has expired"}`, `Bearer realm="my-api", error="invalid_token"`, 401},
		{"", `{"code":"invalid_token/missing","message":"no access token was sent"}`, `Bearer realm="my-api"`, 401},
		{"alice-token", `{"code":"insufficient_scope/","message":"this role may not do this"}`, `Bearer realm="my-api", error="insufficient_scope"`, 403},
	} {
		rec := serve(h, bearer(c.tok))
		if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.body || rec.Header().Get("WWW-Authenticate") != c.challenge {
			t.Errorf("%q: %d %s %q", c.tok, rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"))
		}
	}
}

func TestGuardUser(t *testing.T) {
	type user struct{ Name string }
	errGone := &token.Error{Reason: token.ReasonRevoked}
	g := &guard.Guard{
		Strategies: []guard.Strategy{guard.JWT(newVerifier(), guard.JWTOptions{})},
		User: func(ctx context.Context, p *guard.Principal) (any, error) {
			switch p.UserID {
			case "alice":
				return &user{Name: "Alice"}, nil
			case "root":
				return nil, errGone
			}
			return nil, errors.New("users table unreachable")
		},
	}
	h := g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := guard.FromContext(r.Context())
		fmt.Fprint(w, p.User.(*user).Name)
	}))
	if rec := serve(h, bearer("alice-token")); rec.Code != 200 || rec.Body.String() != "Alice" {
		t.Errorf("alice: %d %s", rec.Code, rec.Body)
	}
	wantProblem(t, serve(h, bearer("admin-token")), 401, "invalid_token", "revoked", challengeInvalid)
	wantProblem(t, serve(h, bearer("no-sid")), 500, "server_error", "", "")
}

func TestPrincipalJSON(t *testing.T) {
	p := guard.Principal{UserID: "u1", SessionID: "s1", Role: "user", Email: "a@example.com",
		Claims: &token.Claims{}, User: struct{ PasswordHash string }{"secret"}}
	b, _ := json.Marshal(p)
	if got := string(b); got != `{"user_id":"u1","session_id":"s1","role":"user","email":"a@example.com"}` {
		t.Errorf("JSON = %s", got)
	}
}

func TestLocalUnknownField(t *testing.T) {
	var c checkLogin
	rec := serve(guard.Require(guard.Local(c.check))(okHandler), post("application/json", `{"emial":"a@example.com","password":"x"}`))
	wantProblem(t, rec, 400, "invalid_request", "", "")
	if !strings.Contains(rec.Body.String(), "unknown field") {
		t.Errorf("body = %s", rec.Body)
	}
}
