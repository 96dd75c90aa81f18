package guard_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// fakeIssuer serves what a jot server serves to other services: a JWKS
// built with the token package and the revocation feed.
type fakeIssuer struct {
	t   *testing.T
	srv *httptest.Server

	mu           sync.Mutex
	published    []*token.Key // public halves, as a JWKS carries them
	maxAge       int
	ended        []feedEntry
	sinces       []string
	forgetCursor bool // answer 400 to any since, as after an issuer restart
	jwksDelay    time.Duration
	// jwksHang, when set, holds every JWKS request until it is closed or
	// the client gives up: an issuer that hangs.
	jwksHang chan struct{}
	// onJWKS, when set, runs in every JWKS request before it answers.
	onJWKS func()

	down     atomic.Bool // both endpoints answer 503
	feedDown atomic.Bool // the feed answers 503

	jwksHits atomic.Int64
	feedHits atomic.Int64
}

type feedEntry struct {
	SID string `json:"sid"`
	Exp int64  `json:"exp"`
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	f := &fakeIssuer{t: t, maxAge: 300}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		f.jwksHits.Add(1)
		if f.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		f.mu.Lock()
		hang, onJWKS := f.jwksHang, f.onJWKS
		f.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
				return
			}
		}
		if onJWKS != nil {
			onJWKS()
		}
		f.mu.Lock()
		ks := token.NewKeySet(token.AlgES256, f.published, time.Now(), 15*time.Minute, 30*time.Second)
		ed := token.NewKeySet(token.AlgEdDSA, f.published, time.Now(), 15*time.Minute, 30*time.Second)
		maxAge, delay := f.maxAge, f.jwksDelay
		f.mu.Unlock()
		// An issuer slow to answer, so that requests pile up behind the
		// fetch: the latency of a real server, not a wait for time.
		time.Sleep(delay)
		// Both algorithms in one set, as an issuer mid-migration might serve.
		var a, b struct{ Keys []json.RawMessage }
		json.Unmarshal(ks.JWKS(), &a)
		json.Unmarshal(ed.JWKS(), &b)
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge))
		json.NewEncoder(w).Encode(map[string]any{"keys": append(a.Keys, b.Keys...)})
	})
	mux.HandleFunc("GET /v1/auth/revocations", func(w http.ResponseWriter, r *http.Request) {
		f.feedHits.Add(1)
		if f.down.Load() || f.feedDown.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		since := r.URL.Query().Get("since")
		f.sinces = append(f.sinces, since)
		start := 0
		if since != "" {
			n, err := strconv.Atoi(since)
			if err != nil || f.forgetCursor || n > len(f.ended) {
				http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
				return
			}
			start = n
		}
		json.NewEncoder(w).Encode(map[string]any{
			"sessions": append([]feedEntry{}, f.ended[start:]...),
			"cursor":   strconv.Itoa(len(f.ended)),
		})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) jwksURL() string        { return f.srv.URL + "/.well-known/jwks.json" }
func (f *fakeIssuer) revocationsURL() string { return f.srv.URL + "/v1/auth/revocations" }

// newKey makes a signing key and publishes its public half.
func (f *fakeIssuer) newKey(alg string, publish bool) *token.Key {
	f.t.Helper()
	sk, err := token.GenerateKey(alg, time.Now(), time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	k, err := token.ParseSigningKey(sk)
	if err != nil {
		f.t.Fatal(err)
	}
	if publish {
		f.publish(k)
	}
	return k
}

func (f *fakeIssuer) publish(k *token.Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, &token.Key{ID: k.ID, Alg: k.Alg, Public: k.Public})
}

func (f *fakeIssuer) unpublish(k *token.Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = slices.DeleteFunc(f.published, func(p *token.Key) bool { return p.ID == k.ID })
}

func (f *fakeIssuer) end(sid string, exp time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, feedEntry{SID: sid, Exp: exp.Unix()})
}

// issue signs a token for sub/sid with k.
func (f *fakeIssuer) issue(k *token.Key, sub, sid string) string {
	f.t.Helper()
	iss := &token.Issuer{
		Keys:   token.StaticKeys(token.NewKeySet(k.Alg, []*token.Key{k}, time.Now(), 15*time.Minute, 30*time.Second)),
		Issuer: "jot", Audience: "jot", TTL: 15 * time.Minute,
	}
	raw, _, err := iss.Issue(token.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: sub}, SessionID: sid, Role: "user"})
	if err != nil {
		f.t.Fatal(err)
	}
	return raw
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRemote(t *testing.T, opts guard.RemoteOptions) *guard.Remote {
	t.Helper()
	if opts.Issuer == "" {
		opts.Issuer, opts.Audience = "jot", "jot"
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	r, err := guard.NewRemote(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestRemoteRevocationWithinPollInterval(t *testing.T) {
	f := newFakeIssuer(t)
	k := f.newKey(token.AlgES256, true)
	f.end("ended-before-start", time.Now().Add(time.Minute))

	const poll = 100 * time.Millisecond
	remote := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), RevocationsURL: f.revocationsURL(), PollInterval: poll})
	h := guard.Require(guard.JWT(remote, guard.JWTOptions{Revocations: remote}))(okHandler)

	// The feed is read before NewRemote returns: no window after a start.
	if !remote.Revoked("ended-before-start") {
		t.Fatal("a session ended before start is not revoked")
	}
	raw := f.issue(k, "alice", "s-live")
	if rec := serve(h, bearer(raw)); rec.Code != 200 || rec.Body.String() != "alice" {
		t.Fatalf("valid token: %d %s", rec.Code, rec.Body)
	}

	f.end("s-live", time.Now().Add(15*time.Minute))
	ended := time.Now()
	for !remote.Revoked("s-live") {
		// Ten intervals of slack for a loaded test machine; the log line
		// shows the real delay. The wait is for Remote's poll over HTTP:
		// what the test measures.
		if time.Since(ended) > 10*poll {
			t.Fatalf("not revoked %v after the feed listed it (poll interval %v)", time.Since(ended), poll)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("revoked %v after the feed listed it (poll interval %v)", time.Since(ended).Round(time.Millisecond), poll)
	wantProblem(t, serve(h, bearer(raw)), 401, "invalid_token", "revoked", challengeInvalid)

	// Other sessions are unaffected; the feed was read with cursors.
	if rec := serve(h, bearer(f.issue(k, "alice", "s-other"))); rec.Code != 200 {
		t.Errorf("other session: %d", rec.Code)
	}
	f.mu.Lock()
	sinces := slices.Clone(f.sinces)
	f.mu.Unlock()
	if len(sinces) < 2 || sinces[0] != "" || sinces[1] != "1" {
		t.Errorf("since values = %q, want \"\", \"1\", ...", sinces)
	}
}

func TestRemoteForgottenCursor(t *testing.T) {
	f := newFakeIssuer(t)
	f.newKey(token.AlgES256, true)
	remote := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), RevocationsURL: f.revocationsURL(), PollInterval: 20 * time.Millisecond})

	f.mu.Lock()
	f.forgetCursor = true
	f.ended = append(f.ended, feedEntry{SID: "after-restart", Exp: time.Now().Add(time.Minute).Unix()})
	f.mu.Unlock()
	waitFor(t, "Remote to start over after the issuer refused its cursor", func() bool { return remote.Revoked("after-restart") })
}

func TestRemoteUnknownKidRefetchIsRateLimited(t *testing.T) {
	f := newFakeIssuer(t)
	k1 := f.newKey(token.AlgES256, true)
	junk := f.newKey(token.AlgES256, false) // a key the issuer never publishes

	const minRefetch = 300 * time.Millisecond
	clock := newFakeClock()
	remote := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), MinRefetch: minRefetch, PollInterval: time.Hour, Now: clock.Now})
	if n := f.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times by NewRemote", n)
	}
	if _, err := remote.Verify(f.issue(k1, "alice", "s1")); err != nil {
		t.Fatalf("known key: %v", err)
	}

	bad := f.issue(junk, "mallory", "s-m")
	verifyMany := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := remote.Verify(bad)
				if token.ReasonOf(err) != token.ReasonInvalid {
					t.Errorf("junk kid: %v", err)
				}
			})
		}
		wg.Wait()
	}
	// Right after the start fetch: no refetch at all.
	verifyMany(100)
	if n := f.jwksHits.Load(); n != 1 {
		t.Errorf("junk kids within MinRefetch of the last fetch caused %d fetches", n-1)
	}
	// Once MinRefetch has passed, a burst of junk costs one fetch.
	clock.Advance(minRefetch)
	verifyMany(100)
	if n := f.jwksHits.Load(); n != 2 {
		t.Errorf("a burst of junk kids caused %d fetches, want 1", n-1)
	}

	// A real rotation: the new kid is refetched, but not sooner than
	// MinRefetch after the previous fetch.
	k2 := f.newKey(token.AlgES256, true)
	fresh := f.issue(k2, "alice", "s2")
	if _, err := remote.Verify(fresh); token.ReasonOf(err) != token.ReasonInvalid {
		t.Errorf("new kid within MinRefetch: %v", err)
	}
	clock.Advance(minRefetch)
	// A burst of the new kid while the issuer answers slowly: one fetch,
	// and the requests that arrive during it wait for it and pass.
	f.mu.Lock()
	f.jwksDelay = 100 * time.Millisecond
	f.mu.Unlock()
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 50 {
		wg.Go(func() {
			if _, err := remote.Verify(fresh); err != nil {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if n := refused.Load(); n != 0 {
		t.Errorf("%d of 50 tokens of the new key refused", n)
	}
	if n := f.jwksHits.Load(); n != 3 {
		t.Errorf("JWKS fetched %d times, want 3", n)
	}
	// The old key still verifies after the refetch.
	if _, err := remote.Verify(f.issue(k1, "alice", "s3")); err != nil {
		t.Errorf("old key after refetch: %v", err)
	}
}

// newDroppingRemote is a Remote, on a clock the test moves, over an issuer
// that publishes two keys with a JWKS max-age of a second; the test drops
// k1.
func newDroppingRemote(t *testing.T) (f *fakeIssuer, k1 *token.Key, clock *fakeClock, remote *guard.Remote) {
	t.Helper()
	f = newFakeIssuer(t)
	k1 = f.newKey(token.AlgES256, true)
	f.newKey(token.AlgES256, true)
	f.maxAge = 1
	clock = newFakeClock()
	remote = newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), PollInterval: 20 * time.Millisecond, MinRefetch: 100 * time.Millisecond, Now: clock.Now})
	return f, k1, clock, remote
}

// Keys the issuer stops publishing stop verifying once the JWKS's max-age
// has passed, without any unknown kid to prompt a fetch.
func TestRemoteDropsUnpublishedKeys(t *testing.T) {
	f, k1, clock, remote := newDroppingRemote(t)
	raw := f.issue(k1, "alice", "s1")
	if _, err := remote.Verify(raw); err != nil {
		t.Fatal(err)
	}
	f.unpublish(k1)
	clock.Advance(time.Second)
	var err error
	waitFor(t, "a key dropped from the JWKS to stop verifying", func() bool {
		_, err = remote.Verify(raw)
		return err != nil
	})
	if token.ReasonOf(err) != token.ReasonInvalid {
		t.Errorf("unpublished key: %v", err)
	}
}

func TestRemoteAlgorithms(t *testing.T) {
	f := newFakeIssuer(t)
	es := f.newKey(token.AlgES256, true)
	ed := f.newKey(token.AlgEdDSA, true)

	// Default: ES256 only, even though the JWKS has an Ed25519 key.
	only := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL()})
	if _, err := only.Verify(f.issue(es, "a", "s")); err != nil {
		t.Errorf("ES256: %v", err)
	}
	if _, err := only.Verify(f.issue(ed, "a", "s")); token.ReasonOf(err) != token.ReasonInvalid {
		t.Errorf("EdDSA not allowed, got %v", err)
	}

	both := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), Algorithms: []string{token.AlgES256, token.AlgEdDSA}})
	for _, k := range []*token.Key{es, ed} {
		if _, err := both.Verify(f.issue(k, "a", "s")); err != nil {
			t.Errorf("%s: %v", k.Alg, err)
		}
	}
	if _, err := both.Verify("not-a-token"); token.ReasonOf(err) != token.ReasonMalformed {
		t.Errorf("garbage: %v", err)
	}

	// Wrong issuer or audience.
	strict := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), Issuer: "jot", Audience: "billing"})
	if _, err := strict.Verify(f.issue(es, "a", "s")); token.ReasonOf(err) != token.ReasonInvalid {
		t.Errorf("wrong audience: %v", err)
	}
}

func TestNewRemoteErrors(t *testing.T) {
	f := newFakeIssuer(t)
	f.newKey(token.AlgES256, true)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"keys":[]}`)
	}))
	defer empty.Close()

	for name, opts := range map[string]guard.RemoteOptions{
		"no JWKS URL":      {Issuer: "jot", Audience: "jot"},
		"no issuer":        {JWKSURL: f.jwksURL(), Audience: "jot"},
		"no audience":      {JWKSURL: f.jwksURL(), Issuer: "jot"},
		"HS256":            {JWKSURL: f.jwksURL(), Issuer: "jot", Audience: "jot", Algorithms: []string{"HS256"}},
		"none":             {JWKSURL: f.jwksURL(), Issuer: "jot", Audience: "jot", Algorithms: []string{"none"}},
		"unreachable":      {JWKSURL: down.URL, Issuer: "jot", Audience: "jot"},
		"not a JWKS":       {JWKSURL: f.revocationsURL(), Issuer: "jot", Audience: "jot"},
		"no usable keys":   {JWKSURL: empty.URL, Issuer: "jot", Audience: "jot"},
		"feed unreachable": {JWKSURL: f.jwksURL(), RevocationsURL: down.URL, Issuer: "jot", Audience: "jot"},
	} {
		opts.Logger = quietLogger()
		if _, err := guard.NewRemote(t.Context(), opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
