package guard

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jotauth/jot/token"
)

// KeyTruster is a TokenVerifier that can say whether a key still verifies
// tokens: what JWT needs of a verifier to remember its answers in a
// TokenCache, so that a key removed from the trusted set ends its cached
// tokens at once. token.Verifier and Remote implement it.
type KeyTruster interface {
	// Trusted reports whether the key named kid verifies tokens now.
	Trusted(kid string) bool
}

// DefaultTokenCacheSize is the number of tokens a TokenCache holds when
// TokenCacheOptions.Size is zero. A remembered token of jot's costs about
// 530 bytes of heap (its map slot and parsed claims; see
// TestTokenCacheDefaultHoldsTenThousand), so a full cache is about 35 MB;
// it fills only with tokens that verified and have not expired. The size
// leaves room for 10,000 live tokens without a shard (1/16 of the size)
// overflowing while others have room.
const DefaultTokenCacheSize = 65_536

// TokenCacheOptions configure a TokenCache.
type TokenCacheOptions struct {
	// Size is the most tokens remembered; DefaultTokenCacheSize when zero.
	Size int
	// Now is the clock that decides when a remembered token has expired;
	// time.Now when nil. Use the verifier's clock.
	Now func() time.Time
}

// TokenCache remembers tokens that verified, so that a token presented
// again costs a hash and a map lookup instead of a signature check. It is
// keyed by the SHA-256 of the whole token, so a token differing in any
// byte (a forged signature) never matches a remembered one, and holds each
// token's claims until the token's exp.
//
// Only tokens that verified are ever inserted, so junk or forged tokens
// cannot fill it; its size is bounded, and when full a random entry
// (an expired one if a few probes find it) makes room. JWT still checks
// the revocation set and that the token's key is trusted on every hit, so
// a logout or a removed key takes effect at once.
//
// Use one TokenCache per verifier: entries carry no record of which
// verifier accepted them.
type TokenCache struct {
	shards   [cacheShards]cacheShard
	perShard int
	now      func() time.Time
	hits     atomic.Uint64
	misses   atomic.Uint64
}

// Sharded so that parallel requests rarely wait on one another's lock.
const cacheShards = 16

type cacheShard struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]cacheEntry
}

// cacheEntry is what a remembered token needs on a hit; the claims are
// shared by every request of the token and must not be modified.
type cacheEntry struct {
	exp    int64 // Unix nanoseconds; the token's exp, no leeway
	kid    string
	claims *token.Claims
}

// NewTokenCache returns an empty cache.
func NewTokenCache(opts TokenCacheOptions) *TokenCache {
	size := opts.Size
	if size <= 0 {
		size = DefaultTokenCacheSize
	}
	c := &TokenCache{perShard: max(1, (size+cacheShards-1)/cacheShards), now: opts.Now}
	if c.now == nil {
		c.now = time.Now
	}
	for i := range c.shards {
		c.shards[i].m = make(map[[sha256.Size]byte]cacheEntry)
	}
	return c
}

// TokenCacheStats are a TokenCache's counters.
type TokenCacheStats struct {
	// Hits and Misses count lookups since the cache was made: a miss is a
	// token that had to be verified.
	Hits, Misses uint64
	// Len is the number of tokens held now.
	Len int
}

// Stats returns the cache's counters. A nil cache has none.
func (c *TokenCache) Stats() TokenCacheStats {
	if c == nil {
		return TokenCacheStats{}
	}
	st := TokenCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Len += len(s.m)
		s.mu.Unlock()
	}
	return st
}

func cacheKey(raw string) [sha256.Size]byte { return sha256.Sum256([]byte(raw)) }

func (c *TokenCache) shard(k *[sha256.Size]byte) *cacheShard {
	return &c.shards[k[0]%cacheShards]
}

// get returns the claims remembered for the token hashed to k, when it has
// not expired and its key is still trusted; otherwise it drops the entry
// and counts a miss.
func (c *TokenCache) get(k *[sha256.Size]byte, trusted func(string) bool) *token.Claims {
	s := c.shard(k)
	s.mu.Lock()
	e, ok := s.m[*k]
	s.mu.Unlock()
	if ok && c.now().UnixNano() < e.exp && trusted(e.kid) {
		c.hits.Add(1)
		return e.claims
	}
	if ok {
		s.mu.Lock()
		delete(s.m, *k)
		s.mu.Unlock()
	}
	c.misses.Add(1)
	return nil
}

// put remembers a token that verified, until its exp.
func (c *TokenCache) put(k *[sha256.Size]byte, kid string, claims *token.Claims) {
	if kid == "" || claims.ExpiresAt == nil {
		return
	}
	exp := claims.ExpiresAt.UnixNano()
	now := c.now().UnixNano()
	if exp <= now {
		return
	}
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[*k]; !ok && len(s.m) >= c.perShard {
		s.evict(now)
	}
	s.m[*k] = cacheEntry{exp: exp, kid: kid, claims: claims}
}

// evict drops one entry: an expired one among the first few that map
// iteration (which starts at a random place) offers, else the first.
func (s *cacheShard) evict(now int64) {
	const probes = 8
	var victim [sha256.Size]byte
	n := 0
	for k, e := range s.m {
		if e.exp <= now {
			victim = k
			break
		}
		if n == 0 {
			victim = k
		}
		if n++; n == probes {
			break
		}
	}
	delete(s.m, victim)
}

// Trusted reports whether kid names one of the issuer's keys in the JWKS
// last fetched: a key the issuer dropped stops verifying cached tokens at
// the next JWKS refresh. It is false while the Remote is not Ready, so a
// cached token is verified again, and refused with 503, like any other.
func (r *Remote) Trusted(kid string) bool {
	if !r.Ready() {
		return false
	}
	for _, ks := range *r.keys.Load() {
		if ks != nil && ks.Lookup(kid) != nil {
			return true
		}
	}
	return false
}
