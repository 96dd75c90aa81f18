package guard

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jotauth/jot/token"
)

// jwksState is the one JWKS fetch a Remote may have under way, and how
// the last one ended. Every request that needs a fetch waits for the one
// under way instead of starting its own, so an issuer that hangs costs one
// fetch, not one per waiting request.
type jwksState struct {
	mu       sync.Mutex
	inflight *jwksFetch
	// fetchedAt is when the last fetch ended (by the Remote's clock), so
	// MinRefetch counts from the answer, not from the question: a fetch
	// that took longer than MinRefetch must not make the next waiter fetch
	// again at once.
	fetchedAt time.Time
	lastErr   error
}

// jwksFetch is one fetch under way; done is closed when it has ended, and
// err is set before that.
type jwksFetch struct {
	done chan struct{}
	err  error
}

// startFetchLocked starts a fetch in the background, bounded by the
// client's timeout and by Close rather than by the request that prompted
// it: the requests after it are waiting for the same answer. The caller
// holds jwks.mu.
func (r *Remote) startFetchLocked() *jwksFetch {
	f := &jwksFetch{done: make(chan struct{})}
	r.jwks.inflight = f
	go func() {
		err := r.fetchJWKS(r.ctx)
		r.jwks.mu.Lock()
		r.jwks.inflight = nil
		r.jwks.fetchedAt = r.now()
		r.jwks.lastErr = err
		f.err = err
		r.jwks.mu.Unlock()
		close(f.done)
	}()
	return f
}

// refetchFor fetches the JWKS for an unknown kid unless the last fetch
// ended less than MinRefetch ago, and reports whether the kid is known
// now. The error, matching ErrUnavailable, says that the JWKS could not be
// had: the last fetch failed, or the one under way did not end within
// MaxWait or the life of ctx.
func (r *Remote) refetchFor(ctx context.Context, alg, kid string) (bool, error) {
	r.jwks.mu.Lock()
	if r.lookup(alg, kid) {
		r.jwks.mu.Unlock()
		return true, nil
	}
	f := r.jwks.inflight
	if f == nil {
		if r.now().Sub(r.jwks.fetchedAt) < r.opts.MinRefetch {
			// Too soon for a fetch: a flood of made-up kids ends here
			// without a call to the issuer. The answer depends on
			// whether the issuer answered last time.
			err := r.jwks.lastErr
			r.jwks.mu.Unlock()
			if err != nil {
				return false, unavailable("the JWKS cannot be fetched")
			}
			return false, nil
		}
		f = r.startFetchLocked()
	}
	r.jwks.mu.Unlock()

	wait := time.NewTimer(r.opts.MaxWait)
	defer wait.Stop()
	select {
	case <-f.done:
		if f.err != nil {
			r.log.Warn("guard: JWKS refetch for an unknown kid failed", "url", r.opts.JWKSURL, "err", f.err)
			return false, unavailable("the JWKS cannot be fetched")
		}
		return r.lookup(alg, kid), nil
	case <-wait.C:
		return false, unavailable("the JWKS fetch did not end within MaxWait")
	case <-ctx.Done():
		return false, unavailable("the request ended while the JWKS was fetched")
	}
}

// refreshJWKS refetches the JWKS once its max-age has passed since the
// last fetch ended, and waits for it (the follower has nothing else to do).
func (r *Remote) refreshJWKS() {
	r.jwks.mu.Lock()
	f := r.jwks.inflight
	if f == nil {
		if r.now().Sub(r.jwks.fetchedAt) < time.Duration(r.jwksEvery.Load()) {
			r.jwks.mu.Unlock()
			return
		}
		f = r.startFetchLocked()
	}
	r.jwks.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil && r.ctx.Err() == nil {
			r.log.Warn("guard: JWKS refresh failed; keeping the keys there are", "err", f.err)
		}
	case <-r.ctx.Done():
	}
}

// fetchJWKS replaces the keys with the issuer's current JWKS. A failed
// fetch, or a JWKS with no key of the accepted algorithms, keeps the keys
// there are: an issuer that is briefly down or misconfigured must not
// take every service that trusts it down too.
func (r *Remote) fetchJWKS(ctx context.Context) error {
	body, header, err := r.get(ctx, r.opts.JWKSURL, maxRemoteBody, nil)
	if err != nil {
		return fmt.Errorf("guard: remote: fetch JWKS: %w", err)
	}
	keys, err := token.ParseJWKS(body)
	if err != nil {
		return fmt.Errorf("guard: remote: %s: %w", r.opts.JWKSURL, err)
	}
	sets := make(map[string]*token.KeySet, len(r.opts.Algorithms))
	n := 0
	for _, alg := range r.opts.Algorithms {
		// Keys from a JWKS have no private half, so NewKeySet treats them
		// as verification-only and the TTL does not matter.
		sets[alg] = token.NewKeySet(alg, keys, r.now(), 0, 0)
		n += len(sets[alg].Keys())
	}
	if n == 0 {
		return fmt.Errorf("guard: remote: the JWKS at %s has no keys for %s", r.opts.JWKSURL, strings.Join(r.opts.Algorithms, ", "))
	}
	r.keys.Store(&sets)
	r.jwksEvery.Store(int64(refreshPeriod(header.Get("Cache-Control"), r.opts.MinRefetch)))
	return nil
}

// refreshPeriod is the JWKS's max-age, kept between MinRefetch and an hour.
func refreshPeriod(cacheControl string, floor time.Duration) time.Duration {
	d := defaultJWKSEvery
	for directive := range strings.SplitSeq(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		if strings.EqualFold(name, "max-age") {
			if s, err := strconv.Atoi(strings.Trim(value, `"`)); err == nil && s >= 0 {
				d = time.Duration(s) * time.Second
			}
		}
	}
	return min(max(d, floor), maxJWKSEvery)
}
