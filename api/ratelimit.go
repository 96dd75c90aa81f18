package api

import (
	"crypto/sha256"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/jotauth/jot"
)

// limiter is a token bucket per key (an account, a client network, a
// user): N tokens refilled over Per, kept in this process. An attempt takes
// its token before it runs, so a burst of concurrent attempts cannot all
// pass before the first one counts; where only failures should count, a
// success gives its token back (refund), so people who type their password
// right are never slowed while guessing is.
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

// take takes one attempt from key's bucket. When none is left it reports
// false and how many seconds until one is.
func (l *limiter) take(key string) (bool, int) {
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
	if b.tokens < 1 {
		wait := (1 - b.tokens) * float64(l.per) / l.n
		return false, int(math.Ceil(time.Duration(wait).Seconds()))
	}
	b.tokens--
	return true, 0
}

// refund gives back the attempt take took, for an attempt that succeeded
// (or was never judged).
func (l *limiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.tokens = math.Min(l.n, b.tokens+1)
	}
}

// accountKey is the limiter key of an account: a fixed-size digest of the
// normalized email, so a megabyte of "email" costs no more memory than a
// real one.
func accountKey(scope, email string) string {
	sum := sha256.Sum256([]byte(jot.NormalizeEmail(email)))
	return scope + string(sum[:16])
}

// networkKey is the limiter key of a client: its IPv4 address, or its IPv6
// /64, since one IPv6 client commonly holds a whole /64.
func networkKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
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
