package guard_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// FuzzExtractors feeds arbitrary Authorization headers, query strings and
// Cookie headers to the extractors: they never panic, return only what the
// request holds (never a token pieced together from elsewhere), and say
// Ambiguous exactly when the query parameter or the cookie is repeated.
func FuzzExtractors(f *testing.F) {
	f.Add("Bearer abc.def.ghi", "access_token=abc", "jot=abc")
	f.Add("bearer   x", "access_token=a&access_token=b", "jot=a; jot=b")
	f.Add("JWT x", "access_token=", "jot=")
	f.Add("Basic YWxpY2U6cHc=", "access_token=%00", "jot=\"quoted\"; other=1")
	f.Add("Bearer", "a=1&access_token=x;y", "jot=a;jot=a")
	f.Add("", "access_token=a+b&ACCESS_TOKEN=c", "JOT=x; jot=y")
	header := guard.FromAuthHeader("Bearer", "JWT")
	query := guard.FromQuery("access_token")
	cookie := guard.FromCookie("jot")
	all := guard.Standard([]string{"JWT"}, "access_token", "jot")
	f.Fuzz(func(t *testing.T, authz, rawQuery, cookies string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = rawQuery
		r.Header.Set("Authorization", authz)
		r.Header.Set("Cookie", cookies)

		if got := header(r); got != "" && !strings.HasSuffix(authz, got) {
			t.Fatalf("header %q gave %q", authz, got)
		}
		q, _ := url.ParseQuery(rawQuery)
		switch got, vs := query(r), q["access_token"]; {
		case len(vs) > 1:
			if got != guard.Ambiguous {
				t.Fatalf("query %q: %q, want Ambiguous", rawQuery, got)
			}
		case len(vs) == 1:
			if got != vs[0] {
				t.Fatalf("query %q: %q, want %q", rawQuery, got, vs[0])
			}
		default:
			if got != "" {
				t.Fatalf("query %q: %q from nothing", rawQuery, got)
			}
		}
		cs := r.CookiesNamed("jot")
		switch got := cookie(r); {
		case len(cs) > 1:
			if got != guard.Ambiguous {
				t.Fatalf("cookies %q: %q, want Ambiguous", cookies, got)
			}
		case len(cs) == 1:
			if got != cs[0].Value {
				t.Fatalf("cookies %q: %q, want %q", cookies, got, cs[0].Value)
			}
		default:
			if got != "" {
				t.Fatalf("cookies %q: %q from nothing", cookies, got)
			}
		}
		// First match wins, in the order of docs/api.md §2.
		want := header(r)
		if want == "" {
			want = query(r)
		}
		if want == "" {
			want = cookie(r)
		}
		if got := all(r); got != want {
			t.Fatalf("Standard gave %q, want %q", got, want)
		}
	})
}

// FuzzGuardAnswers runs whole requests through a guard whose verifier
// refuses everything: the answer is 400 invalid_request for an ambiguous
// token, 401 otherwise, and never 200 or 500.
func FuzzGuardAnswers(f *testing.F) {
	f.Add("Bearer a.b.c", "access_token=a&access_token=b", "jot=a")
	f.Add("", "", "jot=a; jot=b")
	f.Add("", "", "")
	g := &guard.Guard{Strategies: []guard.Strategy{guard.JWT(refuseAll{}, guard.JWTOptions{
		Extractor: guard.Standard(nil, "access_token", "jot"),
	})}}
	h := g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	ambiguous := guard.Standard(nil, "access_token", "jot")
	f.Fuzz(func(t *testing.T, authz, rawQuery, cookies string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = rawQuery
		r.Header.Set("Authorization", authz)
		r.Header.Set("Cookie", cookies)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		want := http.StatusUnauthorized
		if ambiguous(r) == guard.Ambiguous {
			want = http.StatusBadRequest
		}
		if w.Code != want {
			t.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
		}
		for _, c := range w.Body.String() {
			if c > 0x7e {
				t.Fatalf("non-ASCII answer %q", w.Body)
			}
		}
	})
}

// refuseAll is a verifier that refuses every token as invalid.
type refuseAll struct{}

func (refuseAll) Verify(string) (*token.Claims, error) {
	return nil, &token.Error{Reason: token.ReasonInvalid}
}
