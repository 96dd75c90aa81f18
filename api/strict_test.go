package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jotauth/jot/config"
)

// Look-alike and invisible characters in emails either fold into the one
// account they look like or are refused: never a second account that reads
// the same (docs/api.md §3 Auth).
func TestEmailLookAlikes(t *testing.T) {
	e := newEnv(t, nil)
	const pw = "correct horse battery"
	e.signup("ada@example.com", pw)
	e.signup("ren\u00e9@example.com", pw) // precomposed é

	for _, tc := range []struct {
		name, email string
	}{
		{"fullwidth a", "\uff41da@example.com"},
		{"fullwidth everything", "\uff21\uff24\uff21\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"},
		{"upper case", "  ADA@Example.COM "},
		{"decomposed e acute", "rene\u0301@example.com"},
		{"Kelvin sign", "\u212a@example.com"},
	} {
		t.Run("same account/"+tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/auth/signup", "", map[string]string{"email": tc.email, "password": pw})
			if tc.name == "Kelvin sign" {
				// A Kelvin sign lowers to an ASCII k: a new account, k@.
				tk := e.tokensOf(r, http.StatusCreated)
				if tk.User.Email != "k@example.com" {
					t.Fatalf("email %q, want k@example.com", tk.User.Email)
				}
				e.login("K@example.com", pw)
				return
			}
			wantError(t, r, http.StatusConflict, "conflict")
			// Login with the look-alike spelling reaches the one account.
			tk := e.login(tc.email, pw)
			if tk.User.Email != "ada@example.com" && tk.User.Email != "ren\u00e9@example.com" {
				t.Fatalf("logged in as %q", tk.User.Email)
			}
		})
	}

	for _, tc := range []struct {
		name, email string
	}{
		{"Cyrillic a", "\u0430da@example.com"},
		{"Greek omicron in domain", "ada@ex\u03bfmple.com"},
		{"zero-width space", "ada\u200b@example.com"},
		{"soft hyphen in domain", "ada@exam\u00adple.com"},
		{"bidi override", "\u202eada@example.com"},
		{"zero-width joiner", "a\u200dda@example.com"},
		{"byte order mark", "\ufeffada@example.com"},
		{"C1 control", "ada\u0085@example.com"},
		{"variation selector", "ada\ufe0f@example.com"},
		{"Hangul filler", "ada\u3164@example.com"},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/auth/signup", "", map[string]string{"email": tc.email, "password": pw})
			m := wantError(t, r, http.StatusUnprocessableEntity, "validation_failed")
			fields, _ := m["fields"].(map[string]any)
			if msg, _ := fields["email"].(string); msg == "" {
				t.Fatalf("no fields.email: %s", r.body)
			}
		})
	}

	// One script, or Latin beside Japanese, is fine.
	for _, email := range []string{"\u0430\u0434\u0430@example.com", "taro\u5c71\u7530\u3042@example.jp", "\u00e9l\u00e8ve@\u00e9cole.fr"} {
		r := e.do("POST", "/v1/auth/signup", "", map[string]string{"email": email, "password": pw})
		e.tokensOf(r, http.StatusCreated)
	}
}

// Names refuse controls, bidi controls and zero-width spaces, and keep the
// joiners that scripts and emoji need.
func TestNameCharacters(t *testing.T) {
	e := newEnv(t, nil)
	tk := e.signup("ada@example.com", "correct horse battery")
	for _, name := range []string{"Ada\u202e", "\u2066Ada", "Ad\u0085a", "A\u200bda", "\ufeffAda", "Ada\u202a", "Ada\u2069", "Ada\x7f"} {
		r := e.do("PATCH", "/v1/users/me", tk.Access, map[string]string{"name": name})
		m := wantError(t, r, http.StatusUnprocessableEntity, "validation_failed")
		if f, _ := m["fields"].(map[string]any); f["name"] == nil {
			t.Errorf("%q: no fields.name: %s", name, r.body)
		}
		r = e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "x" + strings.Repeat("y", len(name)) + "@example.com", "password": "correct horse battery", "name": name})
		wantError(t, r, http.StatusUnprocessableEntity, "validation_failed")
	}
	for _, name := range []string{"\U0001F469\u200d\U0001F4BB Ada", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "Ren\u00e9e"} {
		r := e.do("PATCH", "/v1/users/me", tk.Access, map[string]string{"name": name})
		if r.StatusCode != http.StatusOK {
			t.Errorf("%q: status %d: %s", name, r.StatusCode, r.body)
		}
	}
}

// A repeated key is refused on every JSON endpoint, login and the token
// endpoint included, rather than letting the last one win.
func TestRepeatedJSONKeysAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	tk := e.signup("ada@example.com", "correct horse battery")
	e.signup("bob@example.com", "correct horse battery")
	for _, tc := range []struct{ method, path, bearer, body string }{
		{"POST", "/v1/auth/login", "", `{"email":"bob@example.com","email":"ada@example.com","password":"correct horse battery"}`},
		{"POST", "/v1/auth/login", "", `{"username":"ada@example.com","password":"x","password":"correct horse battery"}`},
		{"POST", "/v1/auth/token", "", `{"grant_type":"password","username":"bob@example.com","username":"ada@example.com","password":"correct horse battery"}`},
		{"POST", "/v1/auth/token", "", `{"grant_type":"password","client_id":"a","client_id":"b","username":"ada@example.com","password":"correct horse battery"}`},
		{"POST", "/v1/auth/signup", "", `{"email":"cy@example.com","email":"cz@example.com","password":"correct horse battery"}`},
		{"PATCH", "/v1/users/me", tk.Access, `{"name":"A","name":"B"}`},
		{"POST", "/v1/tasks", tk.Access, `{"title":"a","title":"b"}`},
		{"POST", "/v1/auth/logout", tk.Access, `{"scope":"session","scope":"all"}`},
	} {
		r := e.do(tc.method, tc.path, tc.bearer, tc.body)
		m := wantError(t, r, http.StatusBadRequest, "invalid_request")
		if d := m["error_description"].(string); !strings.Contains(d, "repeated") {
			t.Errorf("%s %s: description %q", tc.method, tc.path, d)
		}
	}
	// A repeated form parameter of the token endpoint (RFC 6749 §3.2);
	// unknown parameters it ignores, once or repeated.
	form := "grant_type=password&username=ada%40example.com&password=correct+horse+battery"
	wantError(t, e.do("POST", "/v1/auth/token", "", nil, "Content-Type", "application/x-www-form-urlencoded"), http.StatusBadRequest, "invalid_request")
	for body, want := range map[string]int{
		form + "&username=bob%40example.com": http.StatusBadRequest,
		form + "&grant_type=password":        http.StatusBadRequest,
		form + "&scope=a&scope=b":            http.StatusOK,
	} {
		r := e.do("POST", "/v1/auth/token", "", body, "Content-Type", "application/x-www-form-urlencoded")
		if r.StatusCode != want {
			t.Errorf("%s: %d, want %d: %s", body, r.StatusCode, want, r.body)
		}
	}
}

// A body sent to a JSON endpoint without Content-Type: application/json is
// 400: browsers send such a body cross-origin without a CORS preflight.
func TestJSONNeedsContentType(t *testing.T) {
	e := newEnv(t, nil)
	tk := e.signup("ada@example.com", "correct horse battery")
	for _, tc := range []struct{ method, path, bearer, body, ct string }{
		{"POST", "/v1/auth/signup", "", `{"email":"b@example.com","password":"correct horse battery"}`, ""},
		{"POST", "/v1/auth/signup", "", `{"email":"b@example.com","password":"correct horse battery"}`, "text/plain"},
		{"POST", "/v1/auth/login", "", `{"email":"ada@example.com","password":"correct horse battery"}`, ""},
		{"POST", "/v1/auth/login", "", `{"email":"ada@example.com","password":"correct horse battery"}`, "text/plain"},
		{"POST", "/v1/auth/token", "", `{"grant_type":"password","username":"ada@example.com","password":"correct horse battery"}`, ""},
		{"PATCH", "/v1/users/me", tk.Access, `{"name":"A"}`, ""},
		{"POST", "/v1/tasks", tk.Access, `{"title":"a"}`, ""},
		{"POST", "/v1/auth/logout", tk.Access, `{"scope":"all"}`, ""},
	} {
		req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(tc.body))
		if tc.ct != "" {
			req.Header.Set("Content-Type", tc.ct)
		}
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		r := send(t, e.srv.Client(), req)
		m := wantError(t, r, http.StatusBadRequest, "invalid_request")
		if d := m["error_description"].(string); !strings.Contains(d, "Content-Type") {
			t.Errorf("%s %s: description %q", tc.method, tc.path, d)
		}
	}
	// Logout without a body needs no Content-Type.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/auth/logout", nil)
	req.Header.Set("Authorization", "Bearer "+tk.Access)
	if r := send(t, e.srv.Client(), req); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout without body: %d %s", r.StatusCode, r.body)
	}
}

// A token cookie or query parameter sent twice is 400 invalid_request
// (RFC 6750 §3.1), not the first copy.
func TestDuplicateTokenSources(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.TokenCookie = "__Host-jot"
		c.TokenQuery = "access_token"
	})
	tk := e.signup("ada@example.com", "correct horse battery")
	other := e.signup("bob@example.com", "correct horse battery")

	r := e.do("GET", "/v1/users/me?access_token="+tk.Access+"&access_token="+other.Access, "", nil)
	wantError(t, r, http.StatusBadRequest, "invalid_request")
	r = e.do("GET", "/v1/users/me?access_token="+tk.Access+"&access_token="+tk.Access, "", nil)
	wantError(t, r, http.StatusBadRequest, "invalid_request")
	r = e.do("GET", "/v1/users/me", "", nil, "Cookie", "__Host-jot="+tk.Access+"; __Host-jot="+other.Access)
	wantError(t, r, http.StatusBadRequest, "invalid_request")

	// One of each still works, and a Bearer header comes first.
	if r := e.do("GET", "/v1/users/me?access_token="+tk.Access, "", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("one query token: %d %s", r.StatusCode, r.body)
	}
	if r := e.do("GET", "/v1/users/me", "", nil, "Cookie", "other=1; __Host-jot="+tk.Access); r.StatusCode != http.StatusOK {
		t.Fatalf("one cookie: %d %s", r.StatusCode, r.body)
	}
	if r := e.do("GET", "/v1/users/me", tk.Access, nil, "Cookie", "__Host-jot=a; __Host-jot=b"); r.StatusCode != http.StatusOK {
		t.Fatalf("bearer with duplicate cookies: %d %s", r.StatusCode, r.body)
	}
}

// exp, iat and nbf written as strings make a token invalid, even with a
// good signature (RFC 7519 NumericDate is a JSON number).
func TestNumericDateStringsAreInvalid(t *testing.T) {
	secret := strings.Repeat("s", 32)
	e := newEnv(t, func(c *config.Config) {
		c.JWTAlg = "HS256"
		c.JWTSecret = []byte(secret)
	})
	tk := e.signup("ada@example.com", "correct horse battery")
	parts := strings.Split(tk.Access, ".")
	claims := claims(t, tk.Access)
	resign := func(c map[string]any) string {
		b, _ := json.Marshal(c)
		signing := parts[0] + "." + base64.RawURLEncoding.EncodeToString(b)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(signing))
		return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	// The same claims signed again pass: the forging itself is sound.
	if r := e.do("GET", "/v1/users/me", resign(claims), nil); r.StatusCode != http.StatusOK {
		t.Fatalf("re-signed token: %d %s", r.StatusCode, r.body)
	}
	for _, name := range []string{"exp", "iat", "nbf"} {
		c := map[string]any{}
		for k, v := range claims {
			c[k] = v
		}
		c[name] = jsonText(claims[name]) // "1764870000", a string
		wantInvalidToken(t, e.do("GET", "/v1/users/me", resign(c), nil), "invalid")
	}
	// An expired token whose exp is a string is invalid, not expired.
	c := map[string]any{}
	for k, v := range claims {
		c[k] = v
	}
	c["exp"], c["iat"], c["nbf"] = "1000000100", "1000000000", "1000000000"
	wantInvalidToken(t, e.do("GET", "/v1/users/me", resign(c), nil), "invalid")
}

// jsonText writes a claim's number as the string a sloppy issuer would.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Every error_description keeps to RFC 6749 §5.2's characters, whatever
// the message quotes.
func TestErrorDescriptionCharacters(t *testing.T) {
	e := newEnv(t, nil)
	tk := e.signup("ada@example.com", "correct horse battery")
	for _, r := range []*response{
		e.do("POST", "/v1/auth/signup", "", `{"em\"ailé":"x"}`),
		e.do("POST", "/v1/auth/login", "", `{"email":"a@b.co"}`),
		e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"x\"\\é\n"}}),
		e.do("POST", "/v1/tasks", tk.Access, `{"title":1}`),
		e.do("GET", "/v1/tasks?limit=x", tk.Access, nil),
	} {
		m := wantError(t, r, r.StatusCode, r.json()["error"].(string))
		d := m["error_description"].(string)
		for _, c := range []byte(d) {
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				t.Errorf("description %q holds %q", d, c)
				break
			}
		}
	}
}

// DELETE /v1/users/me is not a route (405), not the admin delete.
func TestUsersMeMethods(t *testing.T) {
	e := newEnv(t, nil)
	tk := e.signup("ada@example.com", "correct horse battery")
	for _, method := range []string{"DELETE", "PUT", "POST"} {
		for _, bearer := range []string{"", tk.Access} {
			r := e.do(method, "/v1/users/me", bearer, nil)
			wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
			if got := r.Header.Get("Allow"); got != "GET, PATCH" {
				t.Errorf("%s: Allow %q", method, got)
			}
		}
	}
	if r := e.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("GET me: %d", r.StatusCode)
	}
	// The subroutes keep their own methods.
	r := e.do("DELETE", "/v1/users/me/password", tk.Access, nil)
	wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
	if got := r.Header.Get("Allow"); got != "POST" {
		t.Errorf("password Allow %q", got)
	}
}
