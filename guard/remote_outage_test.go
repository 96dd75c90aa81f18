package guard_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/internal/testlog"
	"github.com/jotauth/jot/token"
)

// Requests with an unknown kid behind an issuer that hangs all wait for
// one fetch, each at most MaxWait, and are answered 503 unavailable: the
// token may be genuine. Before, each waiter fetched in turn, the k-th
// waiting k fetch timeouts.
func TestRemoteWaitersShareOneHungFetch(t *testing.T) {
	f := newFakeIssuer(t)
	f.newKey(token.AlgES256, true)
	clock := newFakeClock()
	remote := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), PollInterval: time.Hour,
		MinRefetch: 10 * time.Second, MaxWait: 50 * time.Millisecond, Now: clock.Now})
	h := guard.Require(guard.JWT(remote, guard.JWTOptions{}))(okHandler)

	rotated := f.newKey(token.AlgES256, false)
	raw := f.issue(rotated, "alice", "s1")
	hang := make(chan struct{})
	f.mu.Lock()
	f.jwksHang = hang
	f.mu.Unlock()
	clock.Advance(11 * time.Second) // a refetch is due

	const waiters = 8
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() {
			rec := serve(h, bearer(raw))
			if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"error":"unavailable"`) {
				t.Errorf("waiter: %d %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Retry-After"); got != "5" {
				t.Errorf("Retry-After = %q", got)
			}
		})
	}
	wg.Wait()
	wantProblem(t, serve(h, bearer(raw)), 503, "unavailable", "", "")
	if n := f.jwksHits.Load(); n != 2 {
		t.Errorf("%d waiters made %d JWKS fetches, want 1", waiters, n-1)
	}

	// The issuer answers, with the new key: the fetch under way brings it.
	f.publish(rotated)
	close(hang)
	waitFor(t, "the rotated key after the hung fetch ended", func() bool {
		_, err := remote.Verify(raw)
		return err == nil
	})
	if n := f.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
}

// MinRefetch counts from the end of a fetch: a fetch that took longer than
// MinRefetch does not make the next unknown kid fetch again at once.
func TestRemoteLastFetchStampedAtItsEnd(t *testing.T) {
	f := newFakeIssuer(t)
	f.newKey(token.AlgES256, true)
	clock := newFakeClock()
	remote := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), PollInterval: time.Hour,
		MinRefetch: 10 * time.Second, Now: clock.Now})
	junk := f.issue(f.newKey(token.AlgES256, false), "mallory", "s1")

	clock.Advance(11 * time.Second)
	// The fetch takes 15 s by the Remote's clock.
	f.mu.Lock()
	f.onJWKS = func() { clock.Advance(15 * time.Second) }
	f.mu.Unlock()
	if _, err := remote.Verify(junk); token.ReasonOf(err) != token.ReasonInvalid {
		t.Fatalf("junk kid: %v", err)
	}
	if _, err := remote.Verify(junk); token.ReasonOf(err) != token.ReasonInvalid {
		t.Fatalf("junk kid again: %v", err)
	}
	if n := f.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times after the start, want 1", n-1)
	}
}

// A kid the Remote does not know while the issuer is down is 503, not 401:
// the client must not be told to throw its token away. Within MinRefetch
// of the failure, no fetch is made, and the answer stays 503.
func TestRemoteUnknownKidWhileIssuerDown(t *testing.T) {
	f := newFakeIssuer(t)
	known := f.newKey(token.AlgES256, true)
	clock := newFakeClock()
	remote := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), PollInterval: time.Hour,
		MinRefetch: 10 * time.Second, Now: clock.Now})
	h := guard.Require(guard.JWT(remote, guard.JWTOptions{}))(okHandler)
	fresh := f.issue(f.newKey(token.AlgES256, true), "alice", "s1")

	f.down.Store(true)
	clock.Advance(11 * time.Second)
	wantProblem(t, serve(h, bearer(fresh)), 503, "unavailable", "", "")
	wantProblem(t, serve(h, bearer(fresh)), 503, "unavailable", "", "")
	if n := f.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times after the start, want 1", n-1)
	}
	// Tokens of keys already known verify through the outage.
	if rec := serve(h, bearer(f.issue(known, "bob", "s2"))); rec.Code != 200 {
		t.Errorf("known key while the issuer is down: %d", rec.Code)
	}

	f.down.Store(false)
	clock.Advance(11 * time.Second)
	if rec := serve(h, bearer(fresh)); rec.Code != 200 {
		t.Errorf("after the issuer is back: %d %s", rec.Code, rec.Body)
	}
}

// With MaxStale, a feed silent for longer is answered 503 rather than
// trusted; without it, tokens are accepted through the outage.
func TestRemoteMaxStale(t *testing.T) {
	f := newFakeIssuer(t)
	k := f.newKey(token.AlgES256, true)
	clock := newFakeClock()
	opts := guard.RemoteOptions{JWKSURL: f.jwksURL(), RevocationsURL: f.revocationsURL(),
		PollInterval: 10 * time.Millisecond, MaxStale: time.Minute, Now: clock.Now}
	strict := newRemote(t, opts)
	opts.MaxStale = 0
	lenient := newRemote(t, opts)
	cache := guard.NewTokenCache(guard.TokenCacheOptions{Now: clock.Now})
	h := guard.Require(guard.JWT(strict, guard.JWTOptions{Revocations: strict, Cache: cache}))(okHandler)
	raw := f.issue(k, "alice", "s1")
	if rec := serve(h, bearer(raw)); rec.Code != 200 || !strict.Ready() {
		t.Fatalf("before the outage: %d, ready %v", rec.Code, strict.Ready())
	}

	f.feedDown.Store(true)
	clock.Advance(2 * time.Minute)
	// The token is in the cache: the outage is answered all the same.
	wantProblem(t, serve(h, bearer(raw)), 503, "unavailable", "", "")
	if strict.Ready() {
		t.Error("Ready with a feed silent past MaxStale")
	}
	if _, err := lenient.Verify(raw); err != nil || !lenient.Ready() {
		t.Errorf("MaxStale 0: %v, ready %v", err, lenient.Ready())
	}

	f.feedDown.Store(false)
	waitFor(t, "Ready once the feed answers", strict.Ready)
	if rec := serve(h, bearer(raw)); rec.Code != 200 {
		t.Errorf("after the feed answered: %d", rec.Code)
	}
}

// StartWithoutIssuer: NewRemote returns at once while the issuer is down,
// refuses with 503 until it has read the JWKS and the feed, then verifies.
func TestRemoteStartWithoutIssuer(t *testing.T) {
	f := newFakeIssuer(t)
	k := f.newKey(token.AlgES256, true)
	f.end("ended-before-start", time.Now().Add(time.Hour))
	f.down.Store(true)
	var logs testlog.Buffer
	remote := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), RevocationsURL: f.revocationsURL(),
		PollInterval: 10 * time.Millisecond, StartWithoutIssuer: true, Logger: logs.Text()})
	h := guard.Require(guard.JWT(remote, guard.JWTOptions{Revocations: remote}))(okHandler)
	if remote.Ready() {
		t.Fatal("Ready before the issuer answered")
	}
	raw := f.issue(k, "alice", "s1")
	wantProblem(t, serve(h, bearer(raw)), 503, "unavailable", "", "")
	_, err := remote.Verify(raw)
	if !errors.Is(err, guard.ErrUnavailable) {
		t.Errorf("Verify before ready: %v", err)
	}

	waitFor(t, "a log line for the failed start", func() bool { return strings.Contains(logs.String(), "cannot reach the issuer") })

	f.down.Store(false)
	waitFor(t, "Ready once the issuer answers", remote.Ready)
	if rec := serve(h, bearer(raw)); rec.Code != 200 {
		t.Errorf("after start: %d %s", rec.Code, rec.Body)
	}
	if !remote.Revoked("ended-before-start") {
		t.Error("the feed was not read before Ready")
	}
	out := logs.String()
	if strings.Count(out, "cannot reach the issuer") != 1 || !strings.Contains(out, "reached the issuer") {
		t.Errorf("log:\n%s", out)
	}
}

// The context given to NewRemote bounds the start only: once it ends (a
// timeout, as often used for a start), the follower goes on. Before, it
// stopped silently and logouts were never enforced again.
func TestRemoteOutlivesStartContext(t *testing.T) {
	f := newFakeIssuer(t)
	k := f.newKey(token.AlgES256, true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	remote, err := guard.NewRemote(ctx, guard.RemoteOptions{JWKSURL: f.jwksURL(), RevocationsURL: f.revocationsURL(),
		Issuer: "jot", Audience: "jot", PollInterval: 10 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remote.Close)
	cancel() // as the timeout would, later

	h := guard.Require(guard.JWT(remote, guard.JWTOptions{Revocations: remote}))(okHandler)
	raw := f.issue(k, "alice", "s-after")
	f.end("s-after", time.Now().Add(time.Hour))
	waitFor(t, "a logout after the start context ended", func() bool { return remote.Revoked("s-after") })
	wantProblem(t, serve(h, bearer(raw)), 401, "invalid_token", "revoked", challengeInvalid)
}

// Close ends the follower, which says so in the log; tokens still verify
// with what was known.
func TestRemoteClose(t *testing.T) {
	f := newFakeIssuer(t)
	k := f.newKey(token.AlgES256, true)
	var logs testlog.Buffer
	remote, err := guard.NewRemote(t.Context(), guard.RemoteOptions{JWKSURL: f.jwksURL(), RevocationsURL: f.revocationsURL(),
		Issuer: "jot", Audience: "jot", PollInterval: 10 * time.Millisecond, Logger: logs.Text()})
	if err != nil {
		t.Fatal(err)
	}
	remote.Close()
	if !strings.Contains(logs.String(), "stopped following the issuer") {
		t.Errorf("no log line for the stop:\n%s", logs.String())
	}
	hits := f.feedHits.Load()
	f.end("s1", time.Now().Add(time.Hour))
	if _, err := remote.Verify(f.issue(k, "alice", "s1")); err != nil {
		t.Errorf("after Close: %v", err)
	}
	if f.feedHits.Load() != hits || remote.Revoked("s1") {
		t.Error("the feed was read after Close")
	}
}
