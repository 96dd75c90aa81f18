package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/token"
)

func TestSignupAnswersTokenResponse(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "  Ada@Example.COM ", "password": "correct horse", "name": "Ada"})
	tk := e.tokensOf(r, http.StatusCreated)
	if tk.Type != "Bearer" || tk.Expires != 900 || tk.Access == "" || len(tk.Refresh) < 43 {
		t.Fatalf("token response %+v", tk)
	}
	if tk.User.Email != "ada@example.com" || tk.User.Name != "Ada" || tk.User.Role != "user" || tk.User.ID == "" {
		t.Fatalf("user %+v", tk.User)
	}
	if strings.Contains(string(r.body), "hash") || strings.Contains(string(r.body), "$2") {
		t.Fatalf("response leaks a hash: %s", r.body)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Type": "application/json; charset=utf-8"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	// The access token carries the claims of docs/api.md §2.
	var h map[string]any
	jottest.Segment(t, tk.Access, 0, &h)
	if h["alg"] != "ES256" || h["typ"] != "JWT" || h["kid"] == "" {
		t.Errorf("header %v", h)
	}
	claims := claims(t, tk.Access)
	for _, c := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "role", "email"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("claim %s missing: %v", c, claims)
		}
	}
	if claims["sub"] != tk.User.ID || claims["iss"] != "jot" || claims["role"] != "user" {
		t.Errorf("claims %v", claims)
	}
	// And it opens the protected routes.
	me := e.do("GET", "/v1/users/me", tk.Access, nil)
	if me.StatusCode != 200 || me.json()["email"] != "ada@example.com" {
		t.Fatalf("me: %d %s", me.StatusCode, me.body)
	}
	if _, ok := me.json()["password_hash"]; ok {
		t.Fatal("user leaks password_hash")
	}
}

func TestSignupDuplicateEmailInAnyCase(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("bob@example.com", "pass-phrase-1")
	wantError(t, e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "BOB@Example.com", "password": "pass-phrase-2"}), 409, "conflict")
}

func TestConcurrentSignupsOneEmailGiveOneAccount(t *testing.T) {
	e := newEnv(t, nil)
	n, _ := burst(20, func(i int) *response {
		email := "race@example.com"
		if i%2 == 1 {
			email = "RACE@example.com"
		}
		return e.do("POST", "/v1/auth/signup", "", map[string]string{"email": email, "password": "pass-phrase-1"})
	})
	if n[201] != 1 || n[409] != 19 {
		t.Fatalf("statuses %v, want one 201 and nineteen 409", n)
	}
}

func TestSignupValidation(t *testing.T) {
	e := newEnv(t, nil)
	long := strings.Repeat("a", 73)
	m := wantError(t, e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "x@example.com", "password": long}), 422, "validation_failed")
	if f, _ := m["fields"].(map[string]any); f["password"] == nil {
		t.Fatalf("no password field: %v", m)
	}
	m = wantError(t, e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "x@example.com", "password": "short"}), 422, "validation_failed")
	if f, _ := m["fields"].(map[string]any); f["password"] != "must be at least 8 characters" {
		t.Fatalf("fields %v", m["fields"])
	}
	m = wantError(t, e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "not-an-email", "password": "pass-phrase-1"}), 422, "validation_failed")
	if f, _ := m["fields"].(map[string]any); f["email"] == nil {
		t.Fatalf("fields %v", m["fields"])
	}
	// 72 bytes is the most bcrypt takes, and it is accepted.
	e.signup("y@example.com", strings.Repeat("b", 72))
	e.login("y@example.com", strings.Repeat("b", 72))
	// Unknown fields, malformed JSON and trailing data are 400.
	wantError(t, e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "z@example.com", "password": "pass-phrase-1", "nmae": "typo"}), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/signup", "", `{"email": "z@example.com", "password": `), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/signup", "", `{"email": "z@example.com", "password": "pass-phrase-1"} {}`), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/signup", "", `{"password": "pass-phrase-1"}`), 400, "invalid_request")
	// Field names are matched exactly: another case is a typo, and a
	// repeated field is ambiguous.
	wantError(t, e.do("POST", "/v1/auth/signup", "", `{"EMAIL": "z@example.com", "password": "pass-phrase-1"}`), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/signup", "", `{"email": "z@example.com", "password": "pass-phrase-1", "name": "a", "name": "b"}`), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/signup", "", `{"email": 5, "password": "pass-phrase-1"}`), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/signup", "", "email=a%40b.c&password=pass-phrase-1", "Content-Type", "text/plain"), 400, "invalid_request")
}

func TestLoginWrongPasswordAndUnknownEmailAnswerAlike(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("carol@example.com", "pass-phrase-1")
	wrong := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "carol@example.com", "password": "pass-phrase-2"})
	unknown := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "pass-phrase-2"})
	wantError(t, wrong, 401, "invalid_credentials")
	wantError(t, unknown, 401, "invalid_credentials")
	if string(wrong.body) != string(unknown.body) {
		t.Fatalf("bodies differ:\n%s\n%s", wrong.body, unknown.body)
	}
	if got := wrong.Header.Get("WWW-Authenticate"); got != `Bearer realm="jot"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
}

func TestLoginForms(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("dan@example.com", "pass-phrase-1")
	// Passport's local strategy sends `username`.
	e.tokensOf(e.do("POST", "/v1/auth/login", "", map[string]string{"username": "DAN@example.com", "password": "pass-phrase-1"}), 200)
	// Form bodies, as curl -d and HTML forms send, with an extra field.
	e.tokensOf(e.do("POST", "/v1/auth/login", "", url.Values{"email": {"dan@example.com"}, "password": {"pass-phrase-1"}, "remember": {"on"}}), 200)
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "dan@example.com", "username": "dan@example.com", "password": "pass-phrase-1"}), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "dan@example.com", "password": "pass-phrase-1", "extra": "x"}), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "dan@example.com"}), 400, "invalid_request")
}

func TestTokenEndpointGrants(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("erin@example.com", "pass-phrase-1")
	// Password grant, form-encoded, with parameters it does not know.
	r := e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"password"}, "username": {"erin@example.com"}, "password": {"pass-phrase-1"}, "client_id": {"cli"}, "scope": {"openid"}})
	tk := e.tokensOf(r, 200)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	// The same in JSON, unknown parameters still ignored.
	e.tokensOf(e.do("POST", "/v1/auth/token", "", map[string]string{"grant_type": "password", "username": "erin@example.com", "password": "pass-phrase-1", "client_id": "x"}), 200)
	wantError(t, e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"password"}, "username": {"erin@example.com"}, "password": {"nope-nope"}}), 400, "invalid_grant")
	wantError(t, e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"client_credentials"}}), 400, "unsupported_grant_type")
	wantError(t, e.do("POST", "/v1/auth/token", "", url.Values{"username": {"erin@example.com"}}), 400, "invalid_request")
	wantError(t, e.refresh("not-a-token"), 400, "invalid_grant")
	// Refresh grant.
	next := e.tokensOf(e.refresh(tk.Refresh), 200)
	if next.Refresh == tk.Refresh || next.Access == tk.Access {
		t.Fatal("refresh did not rotate")
	}
}

func TestRefreshReuseEndsSession(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.RefreshGrace = 0 })
	first := e.signup("fay@example.com", "pass-phrase-1")
	second := e.tokensOf(e.refresh(first.Refresh), 200)
	// The first token again: reuse. The session ends with all its tokens.
	wantError(t, e.refresh(first.Refresh), 400, "invalid_grant")
	wantError(t, e.refresh(second.Refresh), 400, "invalid_grant")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", second.Access, nil), "revoked")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", first.Access, nil), "revoked")
	// Other sessions of the user are untouched.
	other := e.login("fay@example.com", "pass-phrase-1")
	if r := e.do("GET", "/v1/users/me", other.Access, nil); r.StatusCode != 200 {
		t.Fatalf("other session: %d", r.StatusCode)
	}
}

func TestRefreshGraceWindow(t *testing.T) {
	clk := &testClock{}
	e := newEnvAtClock(t, sqliteDSN(t), func(c *config.Config) { c.RefreshGrace = 2 * time.Second }, clk)
	first := e.signup("gil@example.com", "pass-phrase-1")
	a := e.tokensOf(e.refresh(first.Refresh), 200)
	// A second tab presents the same token within the grace: a new access
	// token for the same session and the same successor refresh token.
	b := e.tokensOf(e.refresh(first.Refresh), 200)
	if b.Refresh != a.Refresh {
		t.Fatal("grace replay returned a different refresh token")
	}
	if sidOf(t, a.Access) != sidOf(t, b.Access) || sidOf(t, a.Access) != sidOf(t, first.Access) {
		t.Fatal("grace replay changed the session")
	}
	if r := e.do("GET", "/v1/users/me", b.Access, nil); r.StatusCode != 200 {
		t.Fatalf("grace access token: %d", r.StatusCode)
	}
	// After the grace, presenting it again is reuse: the session ends.
	clk.Advance(2100 * time.Millisecond)
	wantError(t, e.refresh(first.Refresh), 400, "invalid_grant")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", a.Access, nil), "revoked")
	wantError(t, e.refresh(a.Refresh), 400, "invalid_grant")
}

func TestConcurrentRefreshesOfOneToken(t *testing.T) {
	e := newEnv(t, nil)
	first := e.signup("hal@example.com", "pass-phrase-1")
	var wg sync.WaitGroup
	results := make(chan tokens, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.refresh(first.Refresh)
			if r.StatusCode != 200 {
				t.Errorf("refresh: %d %s", r.StatusCode, r.body)
				return
			}
			var tk tokens
			_ = json.Unmarshal(r.body, &tk)
			results <- tk
		}()
	}
	wg.Wait()
	close(results)
	seen := map[string]bool{}
	for tk := range results {
		seen[tk.Refresh] = true
	}
	if len(seen) != 1 {
		t.Fatalf("%d distinct successors, want 1", len(seen))
	}
}

func TestLogoutSessionAndAll(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("ida@example.com", "pass-phrase-1")
	b := e.login("ida@example.com", "pass-phrase-1")
	c := e.login("ida@example.com", "pass-phrase-1")
	r := e.do("POST", "/v1/auth/logout", a.Access, nil)
	if r.StatusCode != 204 {
		t.Fatalf("logout: %d %s", r.StatusCode, r.body)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users/me", a.Access, nil), "revoked")
	wantError(t, e.refresh(a.Refresh), 400, "invalid_grant")
	if r := e.do("GET", "/v1/users/me", b.Access, nil); r.StatusCode != 200 {
		t.Fatalf("other session after logout: %d", r.StatusCode)
	}
	wantError(t, e.do("POST", "/v1/auth/logout", b.Access, map[string]string{"scope": "everything"}), 400, "invalid_request")
	if r := e.do("POST", "/v1/auth/logout", b.Access, map[string]string{"scope": "all"}); r.StatusCode != 204 {
		t.Fatalf("logout all: %d %s", r.StatusCode, r.body)
	}
	for _, tk := range []tokens{b, c} {
		wantInvalidToken(t, e.do("GET", "/v1/users/me", tk.Access, nil), "revoked")
		wantError(t, e.refresh(tk.Refresh), 400, "invalid_grant")
	}
	wantInvalidToken(t, e.do("POST", "/v1/auth/logout", "", nil), "missing")
}

func TestSessionsListAndDelete(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("jan@example.com", "pass-phrase-1")
	b := e.tokensOf(e.do("POST", "/v1/auth/login", "", map[string]string{"email": "jan@example.com", "password": "pass-phrase-1"}, "User-Agent", "second-device"), 200)
	other := e.signup("kim@example.com", "pass-phrase-1")
	r := e.do("GET", "/v1/auth/sessions", a.Access, nil)
	var list struct {
		Sessions []struct {
			ID         string `json:"id"`
			CreatedAt  string `json:"created_at"`
			LastUsedAt string `json:"last_used_at"`
			UserAgent  string `json:"user_agent"`
			IP         string `json:"ip"`
			Current    bool   `json:"current"`
		} `json:"sessions"`
	}
	if r.StatusCode != 200 {
		t.Fatalf("sessions: %d", r.StatusCode)
	}
	_ = json.Unmarshal(r.body, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions %s", r.body)
	}
	var bID string
	for _, s := range list.Sessions {
		if s.ID == sidOf(t, a.Access) != s.Current {
			t.Errorf("current flag wrong: %+v", s)
		}
		if s.IP != "127.0.0.1" {
			t.Errorf("ip %q", s.IP)
		}
		if _, err := time.Parse(time.RFC3339, s.CreatedAt); err != nil || !strings.HasSuffix(s.CreatedAt, "Z") {
			t.Errorf("created_at %q", s.CreatedAt)
		}
		if s.ID == sidOf(t, b.Access) {
			bID = s.ID
			if s.UserAgent != "second-device" {
				t.Errorf("user_agent %q", s.UserAgent)
			}
		}
	}
	// Another user's session id is 404, as if it did not exist.
	wantError(t, e.do("DELETE", "/v1/auth/sessions/"+bID, other.Access, nil), 404, "not_found")
	wantError(t, e.do("DELETE", "/v1/auth/sessions/nonsense", a.Access, nil), 404, "not_found")
	if r := e.do("DELETE", "/v1/auth/sessions/"+bID, a.Access, nil); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users/me", b.Access, nil), "revoked")
	wantError(t, e.do("DELETE", "/v1/auth/sessions/"+bID, a.Access, nil), 404, "not_found")
}

// TestPasswordPolicy: signup and a password change refuse a common
// password in any case, an all-whitespace one and one short of 8
// characters once combining marks are left out, each with its reason.
func TestPasswordPolicy(t *testing.T) {
	e := newEnv(t, nil)
	field := func(r *response, name string) string {
		t.Helper()
		m := wantError(t, r, 422, "validation_failed")
		f, _ := m["fields"].(map[string]any)
		if len(f) != 1 {
			t.Errorf("fields %v, want only %q", f, name)
		}
		msg, _ := f[name].(string)
		return msg
	}
	for pw, want := range map[string]string{
		"password1":                    "is too common",
		"PASSWORD1":                    "is too common",
		"Qwertyuiop":                   "is too common",
		"          ":                   "must not be all whitespace",
		"\t \u00a0 \u2003 \t ":         "must not be all whitespace",
		"e\u0301a\u0301o\u0301u\u0301": "must be at least 8 characters",
	} {
		r := e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "pp@example.com", "password": pw})
		if got := field(r, "password"); got != want {
			t.Errorf("signup with %q: password %q, want %q", pw, got, want)
		}
	}
	a := e.signup("pp@example.com", "pass-phrase-1")
	for pw, want := range map[string]string{
		"Baseball1":     "is too common",
		"        ":      "must not be all whitespace",
		"abcdefe\u0301": "must be at least 8 characters",
	} {
		r := e.do("POST", "/v1/users/me/password", a.Access, map[string]string{"current_password": "pass-phrase-1", "new_password": pw})
		if got := field(r, "new_password"); got != want {
			t.Errorf("change to %q: new_password %q, want %q", pw, got, want)
		}
	}
	e.login("pp@example.com", "pass-phrase-1")
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("lee@example.com", "pass-phrase-1")
	b := e.login("lee@example.com", "pass-phrase-1")
	r := e.do("POST", "/v1/users/me/password", a.Access, map[string]string{"current_password": "wrong-one", "new_password": "pass-phrase-2"})
	wantError(t, r, 403, "invalid_credentials")
	wantError(t, e.do("POST", "/v1/users/me/password", a.Access, map[string]string{"current_password": "pass-phrase-1", "new_password": "short"}), 422, "validation_failed")
	if r := e.do("POST", "/v1/users/me/password", a.Access, map[string]string{"current_password": "pass-phrase-1", "new_password": "pass-phrase-2"}); r.StatusCode != 204 {
		t.Fatalf("change: %d %s", r.StatusCode, r.body)
	}
	if r := e.do("GET", "/v1/users/me", a.Access, nil); r.StatusCode != 200 {
		t.Fatalf("own session ended: %d", r.StatusCode)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users/me", b.Access, nil), "revoked")
	wantError(t, e.refresh(b.Refresh), 400, "invalid_grant")
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "lee@example.com", "password": "pass-phrase-1"}), 401, "invalid_credentials")
	e.login("lee@example.com", "pass-phrase-2")
}

func TestMe(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("max@example.com", "pass-phrase-1")
	r := e.do("PATCH", "/v1/users/me", a.Access, map[string]string{"name": "Max Power"})
	if r.StatusCode != 200 || r.json()["name"] != "Max Power" {
		t.Fatalf("patch: %d %s", r.StatusCode, r.body)
	}
	m := e.do("GET", "/v1/users/me", a.Access, nil).json()
	for _, k := range []string{"id", "email", "name", "role", "disabled", "created_at", "updated_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("user lacks %s: %v", k, m)
		}
	}
	wantError(t, e.do("PATCH", "/v1/users/me", a.Access, map[string]string{"role": "admin"}), 400, "invalid_request")
}

// forge signs claims with the server's own current key but lets the test
// choose every claim.
func forge(t *testing.T, e *env, mutate func(c *token.Claims)) string {
	t.Helper()
	is := &token.Issuer{Keys: e.app.Keyring, Issuer: "jot", Audience: "jot", TTL: 15 * time.Minute}
	c := token.Claims{SessionID: "s1", Role: "user", Email: "x@example.com"}
	c.Subject = "u1"
	if mutate != nil {
		mutate(&c)
	}
	raw, _, err := is.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRefusedTokens(t *testing.T) {
	e := newEnv(t, nil)
	good := e.signup("ned@example.com", "pass-phrase-1")
	parts := strings.Split(good.Access, ".")

	// Tampered payload: role raised to admin, signature kept.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := strings.Replace(string(payload), `"role":"user"`, `"role":"admin"`, 1)
	wantInvalidToken(t, e.do("GET", "/v1/users/me", parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(tampered))+"."+parts[2], nil), "invalid")

	// alg: none.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	wantInvalidToken(t, e.do("GET", "/v1/users/me", none, nil), "invalid")

	// Expired, with a valid signature.
	past := time.Now().Add(-2 * time.Hour)
	expired := forge(t, e, func(c *token.Claims) {
		c.IssuedAt = jwt.NewNumericDate(past)
		c.NotBefore = jwt.NewNumericDate(past)
		c.ExpiresAt = jwt.NewNumericDate(past.Add(15 * time.Minute))
	})
	wantInvalidToken(t, e.do("GET", "/v1/users/me", expired, nil), "expired")

	// Wrong audience.
	is := &token.Issuer{Keys: e.app.Keyring, Issuer: "jot", Audience: "someone-else", TTL: time.Minute}
	c := token.Claims{SessionID: "s1", Role: "user"}
	c.Subject = "u1"
	wrongAud, _, err := is.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users/me", wrongAud, nil), "invalid")

	// Validly signed, for a user that does not exist.
	wantInvalidToken(t, e.do("GET", "/v1/users/me", forge(t, e, nil), nil), "revoked")

	// Malformed and oversized.
	wantInvalidToken(t, e.do("GET", "/v1/users/me", "not-a-jwt", nil), "malformed")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", strings.Repeat("a", 9000), nil), "malformed")
	// Missing: no header, and an unsupported scheme.
	wantInvalidToken(t, e.do("GET", "/v1/users/me", "", nil), "missing")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", "", nil, "Authorization", "JWT "+good.Access), "missing")
	// The scheme is matched case-insensitively.
	if r := e.do("GET", "/v1/users/me", "", nil, "Authorization", "bearer "+good.Access); r.StatusCode != 200 {
		t.Fatalf("lower-case scheme: %d", r.StatusCode)
	}
	// A query-string token is refused unless configured.
	wantInvalidToken(t, e.do("GET", "/v1/users/me?access_token="+good.Access, "", nil), "missing")
}

func TestConfiguredTokenLocations(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.TokenQuery = "access_token"
		c.TokenSchemes = []string{"JWT"}
		c.TokenCookie = "jot_token"
	})
	tk := e.signup("ola@example.com", "pass-phrase-1")
	for name, r := range map[string]*response{
		"query":  e.do("GET", "/v1/users/me?access_token="+tk.Access, "", nil),
		"scheme": e.do("GET", "/v1/users/me", "", nil, "Authorization", "JWT "+tk.Access),
		"cookie": e.do("GET", "/v1/users/me", "", nil, "Cookie", "jot_token="+tk.Access),
	} {
		if r.StatusCode != 200 {
			t.Errorf("%s: %d %s", name, r.StatusCode, r.body)
		}
	}
}

func TestHMACAlgorithm(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.JWTAlg = "HS256"
		c.JWTSecret = []byte(strings.Repeat("s", 32))
	})
	tk := e.signup("pia@example.com", "pass-phrase-1")
	if r := e.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != 200 {
		t.Fatalf("me: %d", r.StatusCode)
	}
	r := e.do("GET", "/.well-known/jwks.json", "", nil)
	if r.StatusCode != 200 || strings.ReplaceAll(string(r.body), " ", "") != "{\"keys\":[]}" && !strings.Contains(string(r.body), `"keys":[]`) {
		t.Fatalf("jwks under HS256: %s", r.body)
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t, nil)
	wantError(t, e.do("GET", "/v1/nothing-here", "", nil), 404, "not_found")
	r := e.do("GET", "/v1/auth/signup", "", nil)
	wantError(t, r, 405, "method_not_allowed")
	if !strings.Contains(r.Header.Get("Allow"), "POST") {
		t.Errorf("Allow %q", r.Header.Get("Allow"))
	}
	big := `{"email":"a@b.co","password":"` + strings.Repeat("x", 2<<20) + `"}`
	wantError(t, e.do("POST", "/v1/auth/signup", "", big), 413, "payload_too_large")
	// A sane request id is echoed; an insane one is replaced.
	if got := e.do("GET", "/healthz", "", nil, "X-Request-Id", "abc-123").Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("request id %q", got)
	}
	if got := e.do("GET", "/healthz", "", nil, "X-Request-Id", "bad id\u00e9").Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("request id %q", got)
	}
}

func TestOperationsEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.do("GET", "/healthz", "", nil); r.StatusCode != 200 {
		t.Fatalf("healthz %d", r.StatusCode)
	}
	if r := e.do("GET", "/readyz", "", nil); r.StatusCode != 200 {
		t.Fatalf("readyz %d", r.StatusCode)
	}
	r := e.do("GET", "/.well-known/jwks.json", "", nil)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["kty"] != "EC" || set.Keys[0]["use"] != "sig" {
		t.Fatalf("jwks %s", r.body)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		t.Errorf("jwks Cache-Control %q", cc)
	}
}

func TestRevocationsFeed(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("quin@example.com", "pass-phrase-1")
	r := e.do("GET", "/v1/auth/revocations", "", nil)
	var feed struct {
		Sessions []struct {
			SID string `json:"sid"`
			Exp int64  `json:"exp"`
		} `json:"sessions"`
		Cursor string `json:"cursor"`
	}
	_ = json.Unmarshal(r.body, &feed)
	if r.StatusCode != 200 || len(feed.Sessions) != 0 || feed.Cursor == "" {
		t.Fatalf("empty feed: %d %s", r.StatusCode, r.body)
	}
	cursor := feed.Cursor
	// After a refresh, the feed's exp is exactly that of the session's
	// latest access token.
	b := e.tokensOf(e.refresh(a.Refresh), 200)
	e.do("POST", "/v1/auth/logout", b.Access, nil)
	r = e.do("GET", "/v1/auth/revocations?since="+url.QueryEscape(cursor), "", nil)
	_ = json.Unmarshal(r.body, &feed)
	var claims struct {
		Exp int64 `json:"exp"`
	}
	_ = json.Unmarshal(decodeSegment(t, b.Access, 1), &claims)
	if len(feed.Sessions) != 1 || feed.Sessions[0].SID != sidOf(t, a.Access) || feed.Sessions[0].Exp != claims.Exp {
		t.Fatalf("feed after logout: %s, want exp %d", r.body, claims.Exp)
	}
	r = e.do("GET", "/v1/auth/revocations?since="+url.QueryEscape(feed.Cursor), "", nil)
	_ = json.Unmarshal(r.body, &feed)
	if len(feed.Sessions) != 0 {
		t.Fatalf("feed after cursor: %s", r.body)
	}
	wantError(t, e.do("GET", "/v1/auth/revocations?since=garbage", "", nil), 400, "invalid_request")
	wantError(t, e.do("GET", "/v1/auth/revocations?since=999999", "", nil), 400, "invalid_request")
	wantError(t, e.do("GET", "/v1/auth/revocations?since=0"+feed.Cursor, "", nil), 400, "invalid_request")
}

func TestRestartKeepsUsersSessionsAndKey(t *testing.T) {
	dsn := "sqlite://" + t.TempDir() + "/jot.db"
	e1 := newEnvAt(t, dsn, nil)
	tk := e1.signup("rae@example.com", "pass-phrase-1")
	jwks1 := string(e1.do("GET", "/.well-known/jwks.json", "", nil).body)
	e2 := newEnvAt(t, dsn, nil)
	if got := string(e2.do("GET", "/.well-known/jwks.json", "", nil).body); got != jwks1 {
		t.Fatalf("key changed across restart:\n%s\n%s", jwks1, got)
	}
	if r := e2.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != 200 {
		t.Fatalf("old token after restart: %d", r.StatusCode)
	}
	e2.tokensOf(e2.refresh(tk.Refresh), 200)
	e2.login("rae@example.com", "pass-phrase-1")
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.LoginRate = config.Rate{N: 3, Per: time.Minute} })
	e.signup("sam@example.com", "pass-phrase-1")
	for i := 0; i < 3; i++ {
		wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "sam@example.com", "password": fmt.Sprint("wrong", i, "xxxx")}), 401, "invalid_credentials")
	}
	r := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "sam@example.com", "password": "pass-phrase-1"})
	wantError(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestPasswordChangeGuessesAreLimited(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.LoginRate = config.Rate{N: 2, Per: time.Minute} })
	a := e.signup("tia@example.com", "pass-phrase-1")
	for i := 0; i < 2; i++ {
		wantError(t, e.do("POST", "/v1/users/me/password", a.Access, map[string]string{"current_password": fmt.Sprint("guess-", i, "-xx"), "new_password": "pass-phrase-2"}), 403, "invalid_credentials")
	}
	r := e.do("POST", "/v1/users/me/password", a.Access, map[string]string{"current_password": "pass-phrase-1", "new_password": "pass-phrase-2"})
	wantError(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// The token itself is untouched: it is the guessing that is slowed.
	if r := e.do("GET", "/v1/users/me", a.Access, nil); r.StatusCode != 200 {
		t.Fatalf("me: %d", r.StatusCode)
	}
}

// Concurrent guesses cannot all pass before the first failure is counted.
func TestConcurrentGuessesAreLimited(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.LoginRate = config.Rate{N: 3, Per: time.Minute} })
	e.signup("uma@example.com", "pass-phrase-1")
	n, _ := burst(12, func(i int) *response {
		return e.do("POST", "/v1/auth/login", "", map[string]string{"email": "uma@example.com", "password": fmt.Sprint("guess-", i, "-xx")})
	})
	if n[401] != 3 || n[429] != 9 {
		t.Fatalf("statuses %v, want three 401 and nine 429", n)
	}
}

// With tokens in cookies, which a browser sends by itself, a state-changing
// request from another site is refused; a configured origin and non-browser
// clients are not.
func TestCookieTokensRefuseCrossSiteWrites(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.TokenCookie = "jot_token"
		c.CORSOrigins = []string{"https://app.example.com"}
	})
	tk := e.signup("val@example.com", "pass-phrase-1")
	cookie := "jot_token=" + tk.Access
	r := e.do("POST", "/v1/auth/logout", "", nil, "Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example.net")
	wantError(t, r, 403, "insufficient_scope")
	if r := e.do("GET", "/v1/users/me", "", nil, "Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example.net"); r.StatusCode != 200 {
		t.Fatalf("a cross-site read: %d", r.StatusCode)
	}
	if r := e.do("PATCH", "/v1/users/me", "", map[string]string{"name": "V"}, "Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.com"); r.StatusCode != 200 {
		t.Fatalf("the configured origin: %d %s", r.StatusCode, r.body)
	}
	if r := e.do("POST", "/v1/auth/logout", "", nil, "Cookie", cookie); r.StatusCode != 204 {
		t.Fatalf("a non-browser client: %d %s", r.StatusCode, r.body)
	}
}

// Many people behind one address logging in are not turned away: a
// success gives its attempt back, so only failures stay counted. Attempts in
// flight do count (else a burst of guesses would all be checked), so up to
// the budget may run at once.
func TestConcurrentLoginsFromOneAddress(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.LoginRate = config.Rate{N: 3, Per: time.Minute} })
	const n = 8
	for i := 0; i < n; i++ {
		e.signup(fmt.Sprintf("crowd%d@example.com", i), "pass-phrase-1")
	}
	for i := 0; i < n; i++ {
		e.login(fmt.Sprintf("crowd%d@example.com", i), "pass-phrase-1")
	}
	codes, _ := burst(3, func(i int) *response {
		return e.do("POST", "/v1/auth/login", "", map[string]string{"email": fmt.Sprintf("crowd%d@example.com", i), "password": "pass-phrase-1"})
	})
	if codes[200] != 3 {
		t.Errorf("three logins at once: statuses %v, want three 200", codes)
	}
}
