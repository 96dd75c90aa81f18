package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Look-alike and invisible characters in emails either fold into the one
// account they look like or are refused: never a second account that reads
// the same (API.md §3 Auth).
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

var _ = url.Values{}
