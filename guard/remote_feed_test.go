package guard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/internal/jottest"
)

// feedCall is what a jot server saw and answered of one feed request.
type feedCall struct {
	since, ifNoneMatch, acceptEncoding, contentEncoding string
	authorized                                          bool
	status                                              int
}

// jotIssuer is a real jot server (SQLite, the App as `jot serve` builds
// it) with a record of the feed requests it answered and of whether any
// other request carried an Authorization header.
type jotIssuer struct {
	url   string
	store jot.Store

	mu        sync.Mutex
	feed      []feedCall
	otherAuth bool
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func startJotIssuer(t *testing.T, secret string) *jotIssuer {
	t.Helper()
	cfg := jottest.Config(t)
	cfg.RevocationsSecret = config.Secret(secret)
	app, st := jottest.Start(t, cfg, nil)
	j := &jotIssuer{store: st}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/auth/revocations" {
			if r.Header.Get("Authorization") != "" {
				j.mu.Lock()
				j.otherAuth = true
				j.mu.Unlock()
			}
			app.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		app.ServeHTTP(rec, r)
		j.mu.Lock()
		defer j.mu.Unlock()
		j.feed = append(j.feed, feedCall{
			since:           r.URL.Query().Get("since"),
			ifNoneMatch:     r.Header.Get("If-None-Match"),
			acceptEncoding:  r.Header.Get("Accept-Encoding"),
			contentEncoding: w.Header().Get("Content-Encoding"),
			authorized:      r.Header.Get("Authorization") == "Bearer "+secret,
			status:          rec.status,
		})
	}))
	t.Cleanup(srv.Close)
	j.url = srv.URL
	return j
}

func (j *jotIssuer) calls() []feedCall {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]feedCall(nil), j.feed...)
}

// end stores n sessions with live access tokens and ends them, returning
// their ids.
func (j *jotIssuer) end(t *testing.T, n int) []string {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC()
	u := jottest.StoreUser(t, j.store, "", now)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = jottest.StoreSession(t, j.store, u.ID, now, now.Add(time.Hour)).ID
	}
	if err := j.store.EndUserSessions(ctx, u.ID, "", now); err != nil {
		t.Fatal(err)
	}
	return ids
}

func (j *jotIssuer) remote(t *testing.T, feedQuery, secret string, poll time.Duration) (*guard.Remote, error) {
	t.Helper()
	r, err := guard.NewRemote(t.Context(), guard.RemoteOptions{
		JWKSURL:           j.url + "/.well-known/jwks.json",
		RevocationsURL:    j.url + "/v1/auth/revocations" + feedQuery,
		Issuer:            "jot",
		Audience:          "jot",
		PollInterval:      poll,
		Logger:            quietLogger(),
		RevocationsSecret: secret,
	})
	if err == nil {
		t.Cleanup(r.Close)
	}
	return r, err
}

// waitFor polls f until it holds, for at most 5 s. It waits for the
// follower of a Remote to fetch over real HTTP, not for time to pass: the
// tests move a fake clock for that.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRemoteFollowsFeedPages reads a jot server's feed of several pages
// (pages of 100 asked for in the URL), gzipped, then polls it with
// If-None-Match and gets 304s while nothing ends, and the new pages when
// sessions do.
func TestRemoteFollowsFeedPages(t *testing.T) {
	j := startJotIssuer(t, "")
	first := j.end(t, 350)
	remote, err := j.remote(t, "?limit=100", "", 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// NewRemote returned after every page: all 350 are known at once.
	for _, sid := range first {
		if !remote.Revoked(sid) {
			t.Fatalf("%s not revoked after NewRemote", sid)
		}
	}
	calls := j.calls()
	if len(calls) < 4 {
		t.Fatalf("%d feed requests by NewRemote, want 4 pages", len(calls))
	}
	sinces := map[string]bool{}
	for i, c := range calls[:4] {
		if c.status != http.StatusOK || c.contentEncoding != "gzip" || !strings.Contains(c.acceptEncoding, "gzip") {
			t.Errorf("page %d: status %d, Content-Encoding %q, Accept-Encoding %q; want a gzipped 200", i, c.status, c.contentEncoding, c.acceptEncoding)
		}
		if (i == 0) != (c.since == "") || sinces[c.since] {
			t.Errorf("page %d read with since %q (sinces so far %v)", i, c.since, sinces)
		}
		sinces[c.since] = true
	}

	// Nothing new: the poll from the last cursor answers an empty page
	// once, then 304s to its ETag.
	waitFor(t, "three 304s in a row", func() bool {
		c := j.calls()
		n := len(c)
		return n >= 3 && c[n-1].status == 304 && c[n-2].status == 304 && c[n-3].status == 304
	})
	calls = j.calls()
	for i, c := range calls[4:] {
		switch {
		case i == 0 && c.status != http.StatusOK:
			t.Errorf("first poll after the pages: %d, want 200", c.status)
		case i > 0 && (c.status != http.StatusNotModified || c.ifNoneMatch == ""):
			t.Errorf("poll %d with nothing new: %d, If-None-Match %q; want 304 to the tag sent", i, c.status, c.ifNoneMatch)
		}
		if c.since != calls[4].since {
			t.Errorf("poll %d from %q, want %q", i, c.since, calls[4].since)
		}
	}

	// New endings, two pages of them, and a logout over HTTP: followed.
	before := len(calls)
	later := j.end(t, 150)
	waitFor(t, "the new sessions revoked", func() bool { return remote.Revoked(later[0]) && remote.Revoked(later[149]) })
	for _, sid := range later {
		if !remote.Revoked(sid) {
			t.Fatalf("%s not revoked", sid)
		}
	}
	got200 := 0
	for _, c := range j.calls()[before:] {
		if c.status == http.StatusOK {
			got200++
		}
	}
	if got200 < 2 {
		t.Errorf("%d pages read after 150 endings, want at least 2", got200)
	}
}

// TestRemoteFeedSecret follows a feed that needs JOT_REVOCATIONS_SECRET:
// without the secret, or with another, NewRemote fails; with it, the feed
// is read, and the secret goes to the feed only.
func TestRemoteFeedSecret(t *testing.T) {
	const secret = "remote-feed-secret-0123456789abcdef01234"
	j := startJotIssuer(t, secret)
	ended := j.end(t, 3)

	for name, s := range map[string]string{"no secret": "", "wrong secret": "remote-feed-secret-0123456789abcdef0123X"} {
		_, err := j.remote(t, "", s, time.Hour)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("%s: NewRemote error %v, want one saying 401", name, err)
		}
	}
	remote, err := j.remote(t, "", secret, 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for _, sid := range ended {
		if !remote.Revoked(sid) {
			t.Errorf("%s not revoked", sid)
		}
	}
	waitFor(t, "a 304 with the secret", func() bool {
		c := j.calls()
		return len(c) > 0 && c[len(c)-1].status == http.StatusNotModified
	})
	for _, c := range j.calls() {
		if c.status == http.StatusOK || c.status == http.StatusNotModified {
			if !c.authorized {
				t.Errorf("an answered feed request without the secret: %+v", c)
			}
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.otherAuth {
		t.Error("the secret was sent to the JWKS too")
	}
}
