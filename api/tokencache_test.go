package api_test

import (
	"testing"
)

// A token presented again is served from the cache of verified tokens
// (counted in /metrics), and a logout still refuses it on the next request.
func TestTokenCacheOnServer(t *testing.T) {
	e, _ := newServedEnv(t, nil, nil)
	tk := e.signup("cache@example.com", "pass-phrase-1")
	before := scrape(t, e)
	for range 3 {
		wantStatus(t, e.do("GET", "/v1/users/me", tk.Access, nil), 200)
	}
	after := scrape(t, e)
	hits := after["jot_token_cache_hits_total"] - before["jot_token_cache_hits_total"]
	misses := after["jot_token_cache_misses_total"] - before["jot_token_cache_misses_total"]
	if hits != 2 || misses != 1 {
		t.Errorf("cache hits %v, misses %v; want 2 and 1", hits, misses)
	}
	if after["jot_token_cache_entries"] < 1 {
		t.Errorf("jot_token_cache_entries = %v", after["jot_token_cache_entries"])
	}
	if r := e.do("POST", "/v1/auth/logout", tk.Access, nil); r.StatusCode != 204 {
		t.Fatalf("logout %d", r.StatusCode)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users/me", tk.Access, nil), "revoked")
}
