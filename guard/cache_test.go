package guard_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// swappableKeys is a KeySource whose set a test replaces, as a keyring
// does when a key is rotated out or removed.
type swappableKeys struct{ p atomic.Pointer[token.KeySet] }

func (s *swappableKeys) KeySet() *token.KeySet { return s.p.Load() }

// countingVerifier is a real ES256 token.Verifier that counts the
// verifications it makes; the embedded verifier makes it a KeyTruster.
type countingVerifier struct {
	*token.Verifier
	calls atomic.Int64
}

func (c *countingVerifier) Verify(raw string) (*token.Claims, error) {
	c.calls.Add(1)
	return c.Verifier.Verify(raw)
}

// cached is a Require guard over a real verifier with a token cache, and
// what a test needs to drive it.
type cached struct {
	t       *testing.T
	clock   *fakeClock
	key     *token.Key
	keys    *swappableKeys
	v       *countingVerifier
	revoked *guard.RevocationSet
	cache   *guard.TokenCache
	h       http.Handler
}

func newKey(t *testing.T, now time.Time) *token.Key {
	t.Helper()
	sk, err := token.GenerateKey(token.AlgES256, now, now)
	if err != nil {
		t.Fatal(err)
	}
	k, err := token.ParseSigningKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCached(t *testing.T, size int) *cached {
	c := &cached{t: t, clock: newFakeClock(), keys: &swappableKeys{}, revoked: guard.NewRevocationSet()}
	c.key = newKey(t, c.clock.Now())
	c.trust(c.key)
	c.v = &countingVerifier{Verifier: &token.Verifier{Keys: c.keys, Issuer: "jot", Audience: "jot", Now: c.clock.Now}}
	c.cache = guard.NewTokenCache(guard.TokenCacheOptions{Size: size, Now: c.clock.Now})
	c.h = guard.Require(guard.JWT(c.v, guard.JWTOptions{Revocations: c.revoked, Cache: c.cache}))(okHandler)
	return c
}

// trust makes keys the verifier's whole key set.
// cachedWithToken is newCached with no size bound, and alice's token of
// its key.
func cachedWithToken(t *testing.T) (*cached, string) {
	t.Helper()
	c := newCached(t, 0)
	return c, c.issue(c.key, "alice", sidA)
}

func (c *cached) trust(keys ...*token.Key) {
	c.keys.p.Store(token.NewKeySet(token.AlgES256, keys, c.clock.Now(), 15*time.Minute, 30*time.Second))
}

func (c *cached) issue(k *token.Key, sub, sid string) string {
	c.t.Helper()
	iss := &token.Issuer{
		Keys:   token.StaticKeys(token.NewKeySet(k.Alg, []*token.Key{k}, c.clock.Now(), 15*time.Minute, 30*time.Second)),
		Issuer: "jot", Audience: "jot", TTL: 15 * time.Minute, Now: c.clock.Now,
	}
	raw, _, err := iss.Issue(token.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: sub}, SessionID: sid, Role: "user"})
	if err != nil {
		c.t.Fatal(err)
	}
	return raw
}

func (c *cached) wantOK(raw, user string) {
	c.t.Helper()
	rec := serve(c.h, bearer(raw))
	if rec.Code != http.StatusOK || rec.Body.String() != user {
		c.t.Fatalf("status %d body %q, want 200 %q", rec.Code, rec.Body, user)
	}
}

const sidA = "0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d2e01"

func TestTokenCacheSkipsVerification(t *testing.T) {
	c, raw := cachedWithToken(t)
	for range 3 {
		c.wantOK(raw, "alice")
	}
	if n := c.v.calls.Load(); n != 1 {
		t.Errorf("verifications = %d, want 1", n)
	}
	if st := c.cache.Stats(); st.Hits != 2 || st.Misses != 1 || st.Len != 1 {
		t.Errorf("stats = %+v, want 2 hits, 1 miss, 1 entry", st)
	}
	// Every hit gets its own Principal: a handler that writes to it must
	// not change what the next request sees.
	h := guard.Require(guard.JWT(c.v, guard.JWTOptions{Cache: c.cache}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := guard.FromContext(r.Context())
		w.Write([]byte(p.UserID))
		p.UserID = "mallory"
	}))
	for range 2 {
		if rec := serve(h, bearer(raw)); rec.Body.String() != "alice" {
			t.Fatalf("body %q, want alice", rec.Body)
		}
	}
}

func TestTokenCacheEndedSessionRefusedAtOnce(t *testing.T) {
	c, raw := cachedWithToken(t)
	c.wantOK(raw, "alice")
	c.wantOK(raw, "alice") // now served from the cache
	c.revoked.Add(sidA, c.clock.Now().Add(15*time.Minute))
	wantProblem(t, serve(c.h, bearer(raw)), 401, "invalid_token", "revoked", challengeInvalid)
	if n := c.v.calls.Load(); n != 1 {
		t.Errorf("verifications = %d, want 1: the refusal came from the cache hit", n)
	}
}

func TestTokenCacheUntrustedKeyRefusedAtOnce(t *testing.T) {
	c := newCached(t, 0)
	other := newKey(t, c.clock.Now())
	c.trust(c.key, other)
	raw := c.issue(c.key, "alice", sidA)
	kept := c.issue(other, "bob", "0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d2e02")
	c.wantOK(raw, "alice")
	c.wantOK(raw, "alice")
	c.wantOK(kept, "bob")
	if st := c.cache.Stats(); st.Hits != 1 || st.Len != 2 {
		t.Fatalf("stats = %+v, want the token cached", st)
	}
	// The key is removed from the set: its cached token is refused on
	// the very next request, and the token of the key still trusted is
	// still served from the cache.
	c.trust(other)
	wantProblem(t, serve(c.h, bearer(raw)), 401, "invalid_token", "invalid", challengeInvalid)
	wantProblem(t, serve(c.h, bearer(raw)), 401, "invalid_token", "invalid", challengeInvalid)
	before := c.v.calls.Load()
	c.wantOK(kept, "bob")
	if c.v.calls.Load() != before {
		t.Error("the token of a trusted key was verified again")
	}
	if st := c.cache.Stats(); st.Len != 1 {
		t.Errorf("entries = %d, want 1: the untrusted one dropped", st.Len)
	}
}

func TestTokenCacheExpiry(t *testing.T) {
	c, raw := cachedWithToken(t)
	c.wantOK(raw, "alice")
	// Past exp and the 30 s leeway: the cache must not answer for a token
	// the verifier refuses.
	c.clock.Advance(15*time.Minute + time.Minute)
	wantProblem(t, serve(c.h, bearer(raw)), 401, "invalid_token", "expired", challengeInvalid)
	if st := c.cache.Stats(); st.Len != 0 || st.Hits != 0 {
		t.Errorf("stats = %+v, want the expired entry gone and no hit", st)
	}
}

func TestTokenCacheNeverHoldsRefusedTokens(t *testing.T) {
	c, raw := cachedWithToken(t)
	// One character of the signature changed: well formed, fails the
	// signature check, and must not be remembered.
	b := []byte(raw)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	for range 2 {
		wantProblem(t, serve(c.h, bearer(string(b))), 401, "invalid_token", "invalid", challengeInvalid)
	}
	if n := c.v.calls.Load(); n != 2 {
		t.Errorf("verifications = %d, want 2: a forged token is verified (and refused) every time", n)
	}
	if st := c.cache.Stats(); st.Len != 0 {
		t.Errorf("entries = %d after forged tokens", st.Len)
	}
	// A token of a key never trusted, well signed: refused, not remembered.
	stranger := c.issue(newKey(t, c.clock.Now()), "eve", sidA)
	wantProblem(t, serve(c.h, bearer(stranger)), 401, "invalid_token", "invalid", challengeInvalid)
	if st := c.cache.Stats(); st.Len != 0 {
		t.Errorf("entries = %d after a stranger's token", st.Len)
	}
}

// 100k distinct junk tokens: none is remembered and the heap does not grow
// with them.
func TestTokenCacheBoundedUnderJunk(t *testing.T) {
	c, raw := cachedWithToken(t)
	c.wantOK(raw, "alice")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 100_000
	for i := range n {
		junk := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0." + strconv.Itoa(i)
		if rec := serve(c.h, bearer(junk)); rec.Code != 401 {
			t.Fatalf("junk token answered %d", rec.Code)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if st := c.cache.Stats(); st.Len != 1 || st.Misses != n+1 {
		t.Errorf("stats = %+v, want 1 entry and %d misses", st, n+1)
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap after %d junk tokens: %+d bytes", n, grown)
	if grown > 1<<20 {
		t.Errorf("heap grew by %d bytes under junk tokens", grown)
	}
	c.wantOK(raw, "alice") // the live entry is still there
	if c.v.calls.Load() != n+1 {
		t.Error("the live token was evicted by junk")
	}
}

// Valid tokens beyond the cache's size: it holds at most Size of them and
// every one is still accepted.
func TestTokenCacheSizeBound(t *testing.T) {
	const size = 32
	c := newCached(t, size)
	var toks []string
	for i := range 3 * size {
		toks = append(toks, c.issue(c.key, "u"+strconv.Itoa(i), "0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d"+strconv.Itoa(1000+i)))
	}
	for i, raw := range toks {
		c.wantOK(raw, "u"+strconv.Itoa(i))
	}
	for i, raw := range toks {
		c.wantOK(raw, "u"+strconv.Itoa(i))
	}
	if st := c.cache.Stats(); st.Len > size || st.Len == 0 {
		t.Errorf("entries = %d, want 1..%d", st.Len, size)
	}
}

func TestTokenCacheNeedsKeyTruster(t *testing.T) {
	// fakeVerifier cannot say whether a key is still trusted: every
	// request is verified.
	v := newVerifier()
	cache := guard.NewTokenCache(guard.TokenCacheOptions{})
	h := guard.Require(guard.JWT(v, guard.JWTOptions{Cache: cache}))(okHandler)
	for range 3 {
		if rec := serve(h, bearer("alice-token")); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if v.calls.Load() != 3 || cache.Stats().Len != 0 {
		t.Errorf("calls = %d, entries = %d; want 3 and 0", v.calls.Load(), cache.Stats().Len)
	}
}

// Through Remote: a key the issuer drops from its JWKS ends its cached
// tokens at the next JWKS refresh.
func TestRemoteCachedTokenOfDroppedKey(t *testing.T) {
	f, k1, clock, remote := newDroppingRemote(t)
	cache := guard.NewTokenCache(guard.TokenCacheOptions{})
	h := guard.Require(guard.JWT(remote, guard.JWTOptions{Revocations: remote, Cache: cache}))(okHandler)
	raw := f.issue(k1, "alice", "s1")
	for range 2 {
		if rec := serve(h, bearer(raw)); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if st := cache.Stats(); st.Hits != 1 {
		t.Fatalf("stats = %+v, want one hit", st)
	}
	f.unpublish(k1)
	clock.Advance(time.Second) // the JWKS's max-age
	waitFor(t, "a cached token of a key dropped from the JWKS to be refused", func() bool { return serve(h, bearer(raw)).Code != 200 })
	wantProblem(t, serve(h, bearer(raw)), 401, "invalid_token", "invalid", challengeInvalid)
}

// With the default size, 10,000 distinct live tokens (W1c of bench/run)
// all stay remembered: the second round verifies none of them.
func TestTokenCacheDefaultHoldsTenThousand(t *testing.T) {
	c := newCached(t, 0)
	const n = 10_000
	toks := make([]string, n)
	for i := range toks {
		toks[i] = c.issue(c.key, "u"+strconv.Itoa(i), fmt.Sprintf("0b9d6a62-4c8e-4b4e-9a8e-%012d", i))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, raw := range toks {
		c.wantOK(raw, "u"+strconv.Itoa(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("heap per remembered token: %d bytes", (int64(after.HeapAlloc)-int64(before.HeapAlloc))/n)
	calls := c.v.calls.Load()
	for i, raw := range toks {
		c.wantOK(raw, "u"+strconv.Itoa(i))
	}
	if again := c.v.calls.Load() - calls; again != 0 {
		t.Errorf("%d of %d remembered tokens were verified again", again, n)
	}
	if st := c.cache.Stats(); st.Len != n {
		t.Errorf("entries = %d, want %d", st.Len, n)
	}
}
