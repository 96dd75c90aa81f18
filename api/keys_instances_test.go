package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/internal/storage"
	"github.com/jotauth/jot/token"
)

// openStore opens (and migrates) the database at dsn for the test, as the
// CLI does.
func openStore(t *testing.T, dsn string) jot.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// status sends one request with a bearer token and returns its status;
// safe to call from any goroutine.
func status(base, path, bearer string) (int, error) {
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// refreshAt exchanges rt at base and returns the new access and refresh
// tokens; safe to call from any goroutine.
func refreshAt(base, rt string) (access, refresh string, err error) {
	resp, err := http.PostForm(base+"/v1/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var tk tokens
	if err := json.NewDecoder(resp.Body).Decode(&tk); err != nil || resp.StatusCode != 200 {
		return "", "", fmt.Errorf("refresh: status %d, %v", resp.StatusCode, err)
	}
	return tk.Access, tk.Refresh, nil
}

// Three instances keep accepting each other's tokens, continuously, while
// `jot keys rotate --now` runs again and again: each new key reaches the
// others through the database's notification, and a token that gets
// there first makes the instance reload its keys rather than be refused.
func TestRotateNowAcrossInstancesOverPostgres(t *testing.T) {
	dsn := postgresSchema(t)
	clk := &testClock{}
	envs := []*env{newEnvAtClock(t, dsn, nil, clk), newEnvAtClock(t, dsn, nil, clk), newEnvAtClock(t, dsn, nil, clk)}
	envs[0].signup("rotate@example.com", "pass-phrase-1")
	refresh := make([]string, len(envs))
	for i, e := range envs {
		refresh[i] = e.login("rotate@example.com", "pass-phrase-1").Refresh
	}
	cli := openStore(t, dsn)

	stop := make(chan struct{})
	var checked, refused atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	kids := map[string]bool{}
	// checkedKID is, per instance, the kid of its last token that every
	// other instance has checked.
	checkedKID := make([]string, len(envs))
	for i := range envs {
		wg.Go(func() {
			rt := refresh[i]
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				access, next, err := refreshAt(envs[i].srv.URL, rt)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					return
				}
				rt = next
				kid := kidOf(t, access)
				mu.Lock()
				kids[kid] = true
				mu.Unlock()
				for j, other := range envs {
					if j == i {
						continue
					}
					code, err := status(other.srv.URL, "/v1/users/me", access)
					checked.Add(1)
					if err != nil || code != 200 {
						refused.Add(1)
						mu.Lock()
						failures = append(failures, fmt.Sprintf("token of instance %d at instance %d: %d %v", i, j, code, err))
						mu.Unlock()
					}
				}
				mu.Lock()
				checkedKID[i] = kid
				mu.Unlock()
			}
		})
	}
	const rotations = 4
	for range rotations {
		// Farther apart than the unknown-kid reload's throttle, as
		// rotations are in practice: the instances' clock moves on.
		clk.Advance(1200 * time.Millisecond)
		k, err := token.Rotate(context.Background(), cli, token.AlgES256, 0, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		// Traffic goes on until every instance signs with the new key and
		// the others have checked such a token (or something failed).
		eventually(t, 10*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(failures) > 0 || !slices.ContainsFunc(checkedKID, func(kid string) bool { return kid != k.KID })
		})
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d cross-instance checks refused; first: %s", refused.Load(), checked.Load(), failures[0])
	}
	if len(kids) < 2 {
		t.Fatalf("tokens were signed with %d keys during %d rotations", len(kids), rotations)
	}
	t.Logf("%d cross-instance checks over %d signing keys, none refused", checked.Load(), len(kids))
}

// Instances that start at the same moment on an empty database make one
// signing key between them, and accept each other's tokens at once.
func TestSimultaneousFirstStartOverPostgres(t *testing.T) {
	for run := range 4 {
		dsn := postgresSchema(t)
		cfg := jottest.Config(t)
		cfg.DatabaseURL = dsn
		apps := make([]*app.App, 3)
		errs := make([]error, 3)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range apps {
			wg.Go(func() {
				<-start
				st, err := storage.Open(context.Background(), dsn)
				if err != nil {
					errs[i] = err
					return
				}
				t.Cleanup(func() { st.Close() })
				apps[i], errs[i] = app.Build(context.Background(), &cfg, st, nil)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("run %d: instance %d: %v", run, i, err)
			}
		}
		keys, err := openStore(t, dsn).SigningKeys(context.Background())
		if err != nil || len(keys) != 1 {
			t.Fatalf("run %d: %d signing keys after a simultaneous first start (%v), want 1", run, len(keys), err)
		}
		urls := make([]string, len(apps))
		for i, a := range apps {
			srv := httptest.NewServer(a)
			t.Cleanup(srv.Close)
			urls[i] = srv.URL
		}
		e := &env{t: t, srv: httptest.NewServer(apps[0]), app: apps[0]}
		t.Cleanup(e.srv.Close)
		tk := e.signup(fmt.Sprintf("first%d@example.com", run), "pass-phrase-1")
		for i, u := range urls {
			if code, err := status(u, "/v1/users/me", tk.Access); err != nil || code != 200 {
				t.Fatalf("run %d: token of instance 0 at instance %d: %d %v", run, i, code, err)
			}
		}
	}
}

// countingStore counts the reads of the signing keys.
type countingStore struct {
	jot.Store
	reads atomic.Int64
}

func (c *countingStore) SigningKeys(ctx context.Context) ([]*jot.SigningKey, error) {
	c.reads.Add(1)
	return c.Store.SigningKeys(ctx)
}

// A token signed with a key another instance made a moment ago, before
// this instance's periodic reload, is accepted after one reload of the
// keys; tokens naming made-up kids are refused, reloading at most once a
// second.
func TestUnknownKIDReloadsKeys(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "jot.db")
	a := newEnvAt(t, dsn, nil)
	cfg := jottest.Config(t)
	cfg.DatabaseURL = dsn
	st := &countingStore{Store: openStore(t, dsn)}
	// Built but not run: no periodic reload, so only a token can prompt one.
	built, err := app.Build(context.Background(), &cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &env{t: t, srv: httptest.NewServer(built), app: built, cfg: &cfg, dsn: dsn}
	t.Cleanup(b.srv.Close)

	if _, err := a.app.Keyring.Rotate(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	tk := a.signup("kid@example.com", "pass-phrase-1")
	if b.app.Keyring.KeySet().Lookup(kidOf(t, tk.Access)) != nil {
		t.Fatal("instance b knows the new key before any reload")
	}
	before := st.reads.Load()
	if r := b.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != 200 {
		t.Fatalf("token with the other instance's new key: %d %s", r.StatusCode, r.body)
	}
	if n := st.reads.Load() - before; n != 1 {
		t.Fatalf("%d reloads for one unknown kid, want 1", n)
	}

	// Made-up kids: the header of a real token with its kid changed.
	parts := strings.SplitN(tk.Access, ".", 3)
	before = st.reads.Load()
	began := time.Now()
	const forged = 30
	for i := range forged {
		hdr := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"alg":"ES256","kid":"forged-%d","typ":"JWT"}`, i))
		wantInvalidToken(t, b.do("GET", "/v1/users/me", hdr+"."+parts[1]+"."+parts[2], nil), "invalid")
	}
	seconds := int64(time.Since(began)/time.Second) + 1
	if n := st.reads.Load() - before; n > seconds {
		t.Fatalf("%d reloads for %d made-up kids in under %d s; want at most one a second", n, forged, seconds)
	}
}

// A retired key whose tokens have all expired is dropped from the JWKS and
// deleted from the store.
func TestExpiredRetiredKeysAreDeleted(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "jot.db")
	st := openStore(t, dsn)
	now := time.Now()
	var kids []string
	// Retired two hours ago (15 min access TTL), retired just now, current.
	for _, at := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Second} {
		sk, err := token.GenerateKey(token.AlgES256, now.Add(at), now.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateSigningKey(context.Background(), sk); err != nil {
			t.Fatal(err)
		}
		kids = append(kids, sk.KID)
	}
	e := newEnvAt(t, dsn, nil)
	published := jwksKIDs(t, e)
	if slices.Contains(published, kids[0]) || !slices.Contains(published, kids[1]) || !slices.Contains(published, kids[2]) {
		t.Fatalf("JWKS publishes %v; want the current %s and the recently retired %s, not the expired %s", published, kids[2], kids[1], kids[0])
	}
	// The server's next reload deletes it.
	eventually(t, 5*time.Second, func() bool {
		keys, err := st.SigningKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(keys) == 2 && !slices.ContainsFunc(keys, func(k *jot.SigningKey) bool { return k.KID == kids[0] })
	})
}
