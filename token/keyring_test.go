package token_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jotauth/jot/internal/testlog"
	"github.com/jotauth/jot/token"
)

// loadKeyring returns a keyring over store with opts, loaded.
func loadKeyring(t testing.TB, store *memStore, opts token.KeyringOptions) *token.Keyring {
	t.Helper()
	k := token.NewKeyring(store, opts)
	if err := k.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return k
}

// freshKeyring is a keyring loaded over an empty store, on a clock at t0,
// that logs to logs.
func freshKeyring(t testing.TB, alg string) (k *token.Keyring, store *memStore, clk *clock, logs *testlog.Buffer) {
	t.Helper()
	store, clk, logs = &memStore{}, newClock(t0), &testlog.Buffer{}
	return loadKeyring(t, store, keyringOpts(alg, clk, logs)), store, clk, logs
}

func keyringOpts(alg string, clk *clock, logs *testlog.Buffer) token.KeyringOptions {
	return token.KeyringOptions{
		Alg: alg, AccessTTL: testTTL, Leeway: token.DefaultLeeway, JWKSMaxAge: 5 * time.Minute,
		Now: clk.Now, Logger: logs.Text(),
	}
}

// advance moves the fake time of the test's bubble on by d and returns
// once every goroutine of the bubble (a keyring's Run) has settled.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// afterTick checks cond once the Run of the test's bubble, ticking every
// millisecond, has had one more tick.
func afterTick(t *testing.T, what string, cond func() bool) {
	t.Helper()
	advance(time.Millisecond)
	if !cond() {
		t.Fatalf("not after one tick of Run: %s", what)
	}
}

func TestKeyringFirstStartThenReuse(t *testing.T) {
	for _, alg := range asyms {
		t.Run(alg, func(t *testing.T) {
			store := &memStore{}
			clk := newClock(t0)
			logs := &testlog.Buffer{}

			if (&token.Keyring{}).KeySet() != nil {
				t.Fatal("a keyring has keys before Load")
			}
			k1 := loadKeyring(t, store, keyringOpts(alg, clk, logs))
			if store.count() != 1 {
				t.Fatalf("%d keys stored on first start, want 1", store.count())
			}
			ks := k1.KeySet()
			if ks == nil || ks.Signing() == nil || ks.Signing().ID != store.keys[0].KID || ks.Alg() != alg {
				t.Fatal("first start did not produce a signing key")
			}
			if !store.keys[0].ActivatesAt.Equal(t0) {
				t.Fatalf("first key activates at %v, want now", store.keys[0].ActivatesAt)
			}
			if !strings.Contains(logs.String(), "generated signing key") {
				t.Error("generation not logged")
			}

			// A restart (or a second instance) reuses the stored key.
			clk.Add(time.Hour)
			k2 := loadKeyring(t, store, keyringOpts(alg, clk, logs))
			if store.count() != 1 || k2.KeySet().Signing().ID != ks.Signing().ID {
				t.Fatal("second start did not reuse the key")
			}

			// Tokens signed by one instance verify on the other.
			iss := &token.Issuer{Keys: k1, Issuer: testIss, Audience: testAud, TTL: testTTL, Now: clk.Now}
			v := &token.Verifier{Keys: k2, Issuer: testIss, Audience: testAud, Now: clk.Now}
			raw, _, err := iss.Issue(testClaims())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(raw); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestKeyringSwitchingAlgGeneratesOne(t *testing.T) {
	store := &memStore{}
	clk := newClock(t0)
	logs := &testlog.Buffer{}
	loadKeyring(t, store, keyringOpts(token.AlgES256, clk, logs))
	k := loadKeyring(t, store, keyringOpts(token.AlgEdDSA, clk, logs))
	if store.count() != 2 || k.KeySet().Signing().Alg != token.AlgEdDSA || len(k.KeySet().Keys()) != 1 {
		t.Fatal("keys of the old algorithm must be ignored, and one of the new made")
	}
}

// TestKeyringLoadWithOnlyAPendingKey: a key rotated in before the first
// `serve` cannot sign yet; the server must not start unable to sign.
func TestKeyringLoadWithOnlyAPendingKey(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	clk := newClock(t0)
	pending, err := token.Rotate(ctx, store, token.AlgEdDSA, 5*time.Minute, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	k := loadKeyring(t, store, keyringOpts(token.AlgEdDSA, clk, &testlog.Buffer{}))
	ks := k.KeySet()
	if store.count() != 2 || ks.Signing() == nil || ks.Signing().ID == pending.KID || ks.Lookup(pending.KID) == nil {
		t.Fatal("Load must add a key that signs now and keep the pending one")
	}
}

// TestKeyringRotateThenRun: `jot keys rotate` from another process writes a
// key to the store; a running keyring publishes it at once, signs with it
// once its time comes, and drops the old key when its tokens are gone.
func TestKeyringRotateThenRun(t *testing.T) { synctest.Test(t, testKeyringRotateThenRun) }

func testKeyringRotateThenRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, store, clk, _ := freshKeyring(t, token.AlgES256)
	first := k.KeySet()
	old := first.Signing()
	done := make(chan struct{})
	go func() {
		k.Run(ctx, time.Millisecond)
		close(done)
	}()

	iss := &token.Issuer{Keys: k, Issuer: testIss, Audience: testAud, TTL: testTTL, Now: clk.Now}
	v := &token.Verifier{Keys: k, Issuer: testIss, Audience: testAud, Now: clk.Now}

	// Nothing changed: the snapshot (and its JWKS bytes) stays the same
	// over twenty reloads.
	advance(20 * time.Millisecond)
	if k.KeySet() != first {
		t.Fatal("an unchanged store produced a new snapshot")
	}

	clk.Add(time.Minute)
	sk, err := token.Rotate(ctx, store, token.AlgES256, 5*time.Minute, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !sk.ActivatesAt.Equal(clk.After(5 * time.Minute)) {
		t.Fatalf("rotated key activates at %v", sk.ActivatesAt)
	}
	afterTick(t, "the new key to be published", func() bool { return k.KeySet().Lookup(sk.KID) != nil })
	if !bytes.Contains(k.KeySet().JWKS(), []byte(sk.KID)) {
		t.Fatal("the new key is not in the JWKS")
	}
	if k.KeySet().Signing() != old {
		t.Fatal("the new key signs before JWKSMaxAge passed")
	}
	oldToken, _, err := iss.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}

	T := sk.ActivatesAt
	clk.Set(T)
	afterTick(t, "the new key to sign", func() bool { return k.KeySet().Signing().ID == sk.KID })
	newToken, _, err := iss.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := segments(t, newToken); h["kid"] != sk.KID {
		t.Fatalf("signed with %v", h["kid"])
	}
	for _, raw := range []string{oldToken, newToken} {
		if _, err := v.Verify(raw); err != nil {
			t.Fatal(err)
		}
	}

	clk.Set(T.Add(testTTL + token.DefaultLeeway))
	afterTick(t, "the old key to be dropped", func() bool { return k.KeySet().Lookup(old.ID) == nil })
	if bytes.Contains(k.KeySet().JWKS(), []byte(old.ID)) {
		t.Fatal("the dropped key is still published")
	}

	cancel()
	synctest.Wait()
	select {
	case <-done:
	default:
		t.Fatal("Run did not return when its context ended")
	}
}

func TestKeyringRunKeepsSnapshotOnError(t *testing.T) {
	synctest.Test(t, testKeyringRunKeepsSnapshotOnError)
}

func testKeyringRunKeepsSnapshotOnError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, store, _, logs := freshKeyring(t, token.AlgEdDSA)
	before := k.KeySet()
	store.setFail(errors.New("database is locked"))
	if err := k.Reload(ctx); err == nil {
		t.Fatal("Reload hid the store's error")
	}
	go k.Run(ctx, time.Millisecond)
	afterTick(t, "the failure to be logged", func() bool { return strings.Contains(logs.String(), "database is locked") })
	reads := func() int { store.mu.Lock(); defer store.mu.Unlock(); return store.reads }
	n := reads()
	advance(6 * time.Millisecond)
	if reads() <= n+5 {
		t.Fatalf("%d reads in six ticks of Run", reads()-n)
	}
	if k.KeySet() != before {
		t.Fatal("a failed reload replaced the snapshot")
	}
	if c := strings.Count(logs.String(), "database is locked"); c != 1 {
		t.Fatalf("the same failure was logged %d times", c)
	}
	store.setFail(nil)
	afterTick(t, "the recovery to be logged", func() bool { return strings.Contains(logs.String(), "works again") })
}

func TestKeyringStaticKeys(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	logs := &testlog.Buffer{}

	t.Run("HS256", func(t *testing.T) {
		store := &memStore{}
		opts := keyringOpts(token.AlgHS256, clk, logs)
		opts.Secret = []byte("short")
		if err := token.NewKeyring(store, opts).Load(ctx); err == nil {
			t.Fatal("accepted a short secret")
		}
		opts.Secret = []byte(strings.Repeat("k", 32))
		k := loadKeyring(t, store, opts)
		if store.count() != 0 || store.reads != 0 {
			t.Fatal("HS256 touched the store")
		}
		if k.KeySet().Signing() == nil || string(k.KeySet().JWKS()) != `{"keys":[]}` {
			t.Fatal("HS256 set")
		}
		if _, err := k.Rotate(ctx, true); err == nil {
			t.Fatal("rotated an HS256 keyring")
		}
		k.Run(ctx, time.Millisecond) // returns at once: nothing to reload
	})

	t.Run("PEM", func(t *testing.T) {
		store := &memStore{}
		opts := keyringOpts(token.AlgEdDSA, clk, logs)
		opts.PEM = newKey(t, token.AlgEdDSA)
		k := loadKeyring(t, store, opts)
		if store.count() != 0 || k.KeySet().Signing() != opts.PEM {
			t.Fatal("PEM mode must use that key only")
		}
		opts.Alg = token.AlgES256
		if err := token.NewKeyring(store, opts).Load(ctx); err == nil {
			t.Fatal("accepted an EdDSA PEM key for ES256")
		}
	})

	t.Run("unknown alg", func(t *testing.T) {
		if err := token.NewKeyring(&memStore{}, keyringOpts("none", clk, logs)).Load(ctx); err == nil {
			t.Fatal("loaded alg none")
		}
	})
}

func TestKeyringRotateMethod(t *testing.T) {
	ctx := context.Background()
	k, store, _, _ := freshKeyring(t, token.AlgEdDSA)
	pending, err := k.Rotate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !pending.ActivatesAt.Equal(t0.Add(5*time.Minute)) || k.KeySet().Lookup(pending.KID) == nil || k.KeySet().Signing().ID == pending.KID {
		t.Fatal("a rotation waits JWKSMaxAge and is published at once")
	}
	now, err := k.Rotate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if k.KeySet().Signing().ID != now.KID {
		t.Fatal("rotate --now must sign at once")
	}
	if _, err := token.Rotate(ctx, store, token.AlgEdDSA, -time.Second, t0); err == nil {
		t.Fatal("negative delay")
	}
}

// TestKeyringConcurrentReadersAndReloads runs verification while keys
// rotate, for the race detector.
func TestKeyringConcurrentReadersAndReloads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, store, clk, _ := freshKeyring(t, token.AlgEdDSA)
	go k.Run(ctx, time.Millisecond)
	iss := &token.Issuer{Keys: k, Issuer: testIss, Audience: testAud, TTL: testTTL, Now: clk.Now}
	v := &token.Verifier{Keys: k, Issuer: testIss, Audience: testAud, Now: clk.Now}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 300 {
				raw, _, err := iss.Issue(testClaims())
				if err == nil {
					_, err = v.Verify(raw)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 3 {
		if _, err := token.Rotate(ctx, store, token.AlgEdDSA, 0, clk.Now()); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Second)
		// Loaded while the readers run, besides Run's own reloads.
		if err := k.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}
