package api

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter is a token bucket per key (an account or a client IP): N tokens
// refilled over Per. Only failed attempts take a token, so people who type
// their password right are never slowed, while guessing is.
type limiter struct {
	mu      sync.Mutex
	n       float64
	per     time.Duration
	buckets map[string]*bucket
	now     func() time.Time
	sweep   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(n int, per time.Duration, now func() time.Time) *limiter {
	return &limiter{n: float64(n), per: per, buckets: map[string]*bucket{}, now: now}
}

func (l *limiter) refill(b *bucket, now time.Time) {
	el := now.Sub(b.at)
	if el > 0 {
		b.tokens = math.Min(l.n, b.tokens+l.n*float64(el)/float64(l.per))
		b.at = now
	}
}

// allow reports whether key has an attempt left, and if not, how many
// seconds until it has.
func (l *limiter) allow(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return true, 0
	}
	l.refill(b, l.now())
	if b.tokens >= 1 {
		return true, 0
	}
	wait := (1 - b.tokens) * float64(l.per) / l.n
	return false, int(math.Ceil(time.Duration(wait).Seconds()))
}

// fail takes one token from key's bucket.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.sweep) > l.per {
		// Full buckets carry no information; dropping them bounds memory.
		for k, b := range l.buckets {
			if l.refill(b, now); b.tokens >= l.n {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.n, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	b.tokens = math.Max(0, b.tokens-1)
}

// clientIP returns the caller's IP: the socket address, or, when that is a
// trusted proxy, the right-most address of X-Forwarded-For that is not.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if !s.trusted(addr) {
		return addr.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return addr.String()
			}
			a = a.Unmap()
			if !s.trusted(a) {
				return a.String()
			}
			addr = a
		}
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
