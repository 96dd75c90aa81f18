package guard

import (
	"net/http"
	"slices"
	"strings"
)

// Extractor finds a raw token in a request; it returns "" when there is
// none. Extractors never judge the token: an empty or garbled value is the
// verifier's business, so the answer stays "malformed" rather than "missing".
//
// A source that holds the token more than once (two cookies of the name,
// a repeated query parameter) makes the extractor return Ambiguous: RFC
// 6750 §3.1 calls that an invalid_request, and taking either copy would
// let whoever can plant the other one (a cookie set by a sibling
// subdomain) choose the identity the request runs as.
type Extractor func(r *http.Request) string

// Ambiguous is what an Extractor returns for a token it found more than
// once. The JWT strategy answers it with 400 invalid_request. It holds a
// NUL byte, so no header can carry it and no token is ever mistaken for it.
const Ambiguous = "\x00guard: token sent more than once\x00"

// FromAuthHeader reads "Authorization: <scheme> <token>" for any of the
// given schemes, matched case-insensitively as RFC 9110 §11.1 requires.
// Without arguments it accepts "Bearer". A header with another scheme
// counts as no token at all.
func FromAuthHeader(schemes ...string) Extractor {
	if len(schemes) == 0 {
		schemes = []string{"Bearer"}
	}
	// A copy, so that a caller reusing its slice cannot change what a
	// running server accepts; blanks (an unset setting) would match nothing
	// useful.
	schemes = slices.DeleteFunc(slices.Clone(schemes), func(s string) bool { return s == "" })
	return func(r *http.Request) string {
		// Authorization is not a list-valued field, so a second header
		// would be ambiguous; only the first one is considered.
		scheme, credentials, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok {
			return ""
		}
		for _, s := range schemes {
			if strings.EqualFold(scheme, s) {
				// RFC 9110 allows one or more spaces after the scheme.
				return strings.TrimLeft(credentials, " ")
			}
		}
		return ""
	}
}

// FromQuery reads the token from the query parameter name. Tokens in URLs
// end up in access logs and browser history, so this is for clients that
// cannot set a header (EventSource, WebSocket handshakes). An empty name
// finds nothing, so a setting left blank turns the source off.
func FromQuery(name string) Extractor {
	if name == "" {
		return none
	}
	return func(r *http.Request) string {
		vs := r.URL.Query()[name]
		switch {
		case len(vs) == 0:
			return ""
		case len(vs) > 1:
			return Ambiguous
		}
		return vs[0]
	}
}

// FromCookie reads the token from the cookie name. An empty name finds
// nothing, so a setting left blank turns the source off.
func FromCookie(name string) Extractor {
	if name == "" {
		return none
	}
	return func(r *http.Request) string {
		cs := r.CookiesNamed(name)
		switch {
		case len(cs) == 0:
			return ""
		case len(cs) > 1:
			return Ambiguous
		}
		return cs[0].Value
	}
}

// FirstOf returns the first token that one of ex finds, trying them in
// order. Nil extractors are skipped, so optional sources can be listed
// unconditionally.
func FirstOf(ex ...Extractor) Extractor {
	ex = slices.DeleteFunc(slices.Clone(ex), func(e Extractor) bool { return e == nil })
	return func(r *http.Request) string {
		for _, e := range ex {
			if t := e(r); t != "" {
				return t
			}
		}
		return ""
	}
}

// Standard returns the lookup order of jot's API (docs/api.md §2): the Bearer
// scheme always, then extraSchemes, then the query parameter and the cookie
// when they are named. Empty names turn those sources off.
func Standard(extraSchemes []string, query, cookie string) Extractor {
	schemes := append([]string{"Bearer"}, extraSchemes...)
	return FirstOf(FromAuthHeader(schemes...), FromQuery(query), FromCookie(cookie))
}

func none(*http.Request) string { return "" }
