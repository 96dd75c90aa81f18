package guard_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jotauth/jot/guard"
)

func TestFromAuthHeader(t *testing.T) {
	tests := []struct {
		name    string
		ex      guard.Extractor
		header  string
		want    string
		noHdr   bool
		headers []string
	}{
		{name: "bearer", ex: guard.FromAuthHeader(), header: "Bearer abc.def.ghi", want: "abc.def.ghi"},
		{name: "lower case scheme", ex: guard.FromAuthHeader(), header: "bearer abc", want: "abc"},
		{name: "upper case scheme", ex: guard.FromAuthHeader(), header: "BEARER abc", want: "abc"},
		{name: "several spaces", ex: guard.FromAuthHeader(), header: "Bearer   abc", want: "abc"},
		{name: "explicit Bearer", ex: guard.FromAuthHeader("Bearer"), header: "Bearer abc", want: "abc"},
		{name: "no header", ex: guard.FromAuthHeader(), noHdr: true, want: ""},
		{name: "scheme only", ex: guard.FromAuthHeader(), header: "Bearer", want: ""},
		{name: "scheme and space", ex: guard.FromAuthHeader(), header: "Bearer ", want: ""},
		{name: "other scheme", ex: guard.FromAuthHeader(), header: "Basic YWxpY2U6cHc=", want: ""},
		{name: "extra scheme off", ex: guard.FromAuthHeader(), header: "JWT abc", want: ""},
		{name: "extra scheme on", ex: guard.FromAuthHeader("Bearer", "JWT"), header: "jwt abc", want: "abc"},
		{name: "extra scheme keeps bearer", ex: guard.FromAuthHeader("Bearer", "JWT"), header: "Bearer abc", want: "abc"},
		{name: "only named schemes", ex: guard.FromAuthHeader("JWT"), header: "Bearer abc", want: ""},
		{name: "prefix is not a scheme", ex: guard.FromAuthHeader(), header: "Bearerx abc", want: ""},
		{name: "first header only", ex: guard.FromAuthHeader(), noHdr: true, headers: []string{"Basic x", "Bearer abc"}, want: ""},
		{name: "standard", ex: guard.Standard([]string{"JWT"}, "", ""), header: "JWT abc", want: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if !tt.noHdr {
				r.Header.Set("Authorization", tt.header)
			}
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			if got := tt.ex(r); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFromQueryAndCookie(t *testing.T) {
	r := httptest.NewRequest("GET", "/?access_token=from-query", nil)
	r.AddCookie(&http.Cookie{Name: "jot", Value: "from-cookie"})

	if got := guard.FromQuery("access_token")(r); got != "from-query" {
		t.Errorf("FromQuery = %q", got)
	}
	if got := guard.FromQuery("other")(r); got != "" {
		t.Errorf("FromQuery(other) = %q", got)
	}
	if got := guard.FromCookie("jot")(r); got != "from-cookie" {
		t.Errorf("FromCookie = %q", got)
	}
	if got := guard.FromCookie("other")(r); got != "" {
		t.Errorf("FromCookie(other) = %q", got)
	}
	// Blank names are how an unset setting turns a source off.
	if got := guard.FromQuery("")(r); got != "" {
		t.Errorf(`FromQuery("") = %q`, got)
	}
	if got := guard.FromCookie("")(r); got != "" {
		t.Errorf(`FromCookie("") = %q`, got)
	}
}

// The default extractor and the standard one without names must not look at
// the query or cookies: tokens there are opt-in (docs/api.md §2).
func TestQueryAndCookieOffByDefault(t *testing.T) {
	r := httptest.NewRequest("GET", "/?access_token=from-query", nil)
	r.AddCookie(&http.Cookie{Name: "access_token", Value: "from-cookie"})
	r.AddCookie(&http.Cookie{Name: "jot", Value: "from-cookie"})
	for name, ex := range map[string]guard.Extractor{
		"FromAuthHeader()": guard.FromAuthHeader(),
		"Standard(nil)":    guard.Standard(nil, "", ""),
	} {
		if got := ex(r); got != "" {
			t.Errorf("%s read %q from a query or cookie", name, got)
		}
	}

	v := newVerifier()
	v.tokens["from-query"] = claims("alice", "s", "user")
	v.tokens["from-cookie"] = claims("alice", "s", "user")
	h := guard.Require(guard.JWT(v, guard.JWTOptions{}))(okHandler)
	rec := serve(h, r)
	wantProblem(t, rec, 401, "invalid_token", "missing", `Bearer realm="jot"`)
	if v.calls.Load() != 0 {
		t.Errorf("verifier called %d times", v.calls.Load())
	}
}

func TestFirstOf(t *testing.T) {
	ex := guard.FirstOf(nil, guard.FromAuthHeader(), guard.FromQuery("access_token"), guard.FromCookie("jot"))
	req := func(header, query, cookie string) *http.Request {
		r := httptest.NewRequest("GET", "/?access_token="+query, nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "jot", Value: cookie})
		}
		return r
	}
	for _, tt := range []struct{ header, query, cookie, want string }{
		{"Bearer h", "q", "c", "h"},
		{"", "q", "c", "q"},
		{"Basic x", "q", "c", "q"}, // an unsupported scheme is no token, so later sources count
		{"", "", "c", "c"},
		{"", "", "", ""},
	} {
		if got := ex(req(tt.header, tt.query, tt.cookie)); got != tt.want {
			t.Errorf("FirstOf(header %q, query %q, cookie %q) = %q, want %q", tt.header, tt.query, tt.cookie, got, tt.want)
		}
	}
	if got := guard.FirstOf()(req("Bearer h", "q", "c")); got != "" {
		t.Errorf("FirstOf() = %q", got)
	}
	std := guard.Standard([]string{"JWT"}, "access_token", "jot")
	if got := std(req("JWT h", "q", "c")); got != "h" {
		t.Errorf("Standard = %q", got)
	}
	if got := std(req("", "", "c")); got != "c" {
		t.Errorf("Standard = %q", got)
	}
}
