package token_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot/internal/testlog"
	"github.com/jotauth/jot/token"
)

// twoRings returns two servers' keyrings over one store, both loaded: a
// and b, on one clock.
func twoRings(t *testing.T, store *memStore, clk *clock) (a, b *token.Keyring) {
	t.Helper()
	logs := &testlog.Buffer{}
	a = token.NewKeyring(store, keyringOpts(token.AlgES256, clk, logs))
	b = token.NewKeyring(store, keyringOpts(token.AlgES256, clk, logs))
	for _, k := range []*token.Keyring{a, b} {
		if err := k.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

func (m *memStore) readCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

// A token signed with a key another server made a moment ago is accepted:
// the unknown kid makes this server reload once, and only once for any
// number of requests at the same time.
func TestUnknownKIDReloadsOnce(t *testing.T) {
	store := &memStore{}
	clk := newClock(t0)
	a, b := twoRings(t, store, clk)
	if _, err := a.Rotate(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	iss := &token.Issuer{Keys: a, Issuer: testIss, Audience: testAud, TTL: testTTL, Now: clk.Now}
	ver := &token.Verifier{Keys: b, Issuer: testIss, Audience: testAud, Now: clk.Now}
	raw, _, err := iss.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	before := store.readCount()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() { _, errs[i] = ver.Verify(raw) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("verify %d of a token from the other server: %v", i, err)
		}
	}
	if n := store.readCount() - before; n != 1 {
		t.Fatalf("%d reloads for 20 concurrent tokens with one new kid, want 1", n)
	}
}

// Made-up kids cost the store one read a second at most: within that
// second they are refused without a read, after it one more read.
func TestUnknownKIDReloadIsThrottled(t *testing.T) {
	store := &memStore{}
	clk := newClock(t0)
	_, b := twoRings(t, store, clk)
	before := store.readCount()
	for range 50 {
		if b.ReloadForKID("forged") {
			t.Fatal("a made-up kid is known")
		}
	}
	if n := store.readCount() - before; n != 1 {
		t.Fatalf("%d reloads for 50 made-up kids within a second, want 1", n)
	}
	clk.Add(token.DefaultMinKIDReload)
	b.ReloadForKID("forged2")
	b.ReloadForKID("forged3")
	if n := store.readCount() - before; n != 2 {
		t.Fatalf("%d reloads after a second more, want 2", n)
	}
	// A known kid, and no kid at all, never reload.
	clk.Add(token.DefaultMinKIDReload)
	if !b.ReloadForKID(b.KeySet().Signing().ID) || b.ReloadForKID("") {
		t.Fatal("known kid refused, or empty kid accepted")
	}
	if n := store.readCount() - before; n != 2 {
		t.Fatalf("%d reloads after a known and an empty kid, want still 2", n)
	}
}

// A retired key is deleted from the store once every token it signed has
// expired, by the longest access TTL any running server records, not this
// server's own shorter one.
func TestRetiredKeyDeletedAfterLongestTTL(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	clk := newClock(t0)
	logs := &testlog.Buffer{}
	short := token.NewKeyring(store, keyringOpts(token.AlgES256, clk, logs))
	longOpts := keyringOpts(token.AlgES256, clk, logs)
	longOpts.AccessTTL = 4 * testTTL
	long := token.NewKeyring(store, longOpts)
	for _, k := range []*token.Keyring{short, long} {
		if err := k.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if err := k.Announce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	old := short.KeySet().Signing().ID
	if _, err := short.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	present := func() bool {
		for _, k := range store.keys {
			if k.KID == old {
				return true
			}
		}
		return false
	}
	// Past the short TTL and the leeway the long server's tokens still
	// live: the key stays and verifies.
	clk.Add(testTTL + token.DefaultLeeway + time.Second)
	if err := short.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !present() || short.KeySet().Lookup(old) == nil {
		t.Fatal("retired key dropped after the shorter TTL; the other server's tokens still need it")
	}
	clk.Add(3 * testTTL)
	if err := short.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if present() || short.KeySet().Lookup(old) != nil {
		t.Fatal("retired key still stored or verifying after the longest TTL and the leeway")
	}
	if len(short.KeySet().Keys()) != 1 {
		t.Fatalf("keys after deletion: %+v", short.KeySet().Keys())
	}
}

// A rotation waits for the longest JWKS max age of the running servers,
// whatever the rotating side's own setting; with none recorded, its own.
func TestRotationDelayIsTheServers(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	if d, err := token.RotationDelay(ctx, store, t0, time.Minute); err != nil || d != time.Minute {
		t.Fatalf("no servers: %v, %v; want the fallback", d, err)
	}
	for _, age := range []time.Duration{time.Hour, 10 * time.Minute} {
		if err := store.RecordKeyServer(ctx, token.KeyServer{ID: age.String(), JWKSMaxAge: age, AccessTTL: testTTL, ExpiresAt: t0.Add(2 * time.Hour)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := token.RotationDelay(ctx, store, t0, time.Minute); err != nil || d != time.Hour {
		t.Fatalf("two servers: %v, %v; want their longest max age", d, err)
	}
}
