package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testSigningKeys(t *testing.T, s jot.Store) {
	ctx := t.Context()
	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys on an empty store = %v, %v; want none", keys, err)
	}

	k1 := &jot.SigningKey{KID: "k1", Alg: "ES256", Private: randomBytes(t, 138),
		CreatedAt: base(), ActivatesAt: base().Add(5 * time.Minute)}
	k2 := &jot.SigningKey{KID: "k2", Alg: "EdDSA", Private: randomBytes(t, 48),
		CreatedAt: base().Add(-time.Hour), ActivatesAt: base().Add(-time.Hour)}
	k3 := &jot.SigningKey{KID: "k3", Alg: "RS256", Private: randomBytes(t, 1218),
		CreatedAt: base().Add(time.Hour), ActivatesAt: base().Add(time.Hour + 5*time.Minute)}
	for _, k := range []*jot.SigningKey{k1, k2, k3} {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatalf("CreateSigningKey(%s): %v", k.KID, err)
		}
	}
	keys, err = s.SigningKeys(ctx)
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	// Oldest first by CreatedAt, not by the order of storing.
	want := []*jot.SigningKey{k2, k1, k3}
	if len(keys) != len(want) {
		t.Fatalf("SigningKeys = %d keys, want %d", len(keys), len(want))
	}
	for i, k := range keys {
		w := want[i]
		if k.KID != w.KID || k.Alg != w.Alg || !bytes.Equal(k.Private, w.Private) {
			t.Errorf("key %d = %s %s (%d bytes), want %s %s (%d bytes)", i, k.KID, k.Alg, len(k.Private), w.KID, w.Alg, len(w.Private))
		}
		checkTime(t, "key CreatedAt", k.CreatedAt, w.CreatedAt)
		checkTime(t, "key ActivatesAt", k.ActivatesAt, w.ActivatesAt)
	}

	dup := *k1
	dup.Private = randomBytes(t, 138)
	if err := s.CreateSigningKey(ctx, &dup); err == nil {
		t.Error("CreateSigningKey with a stored KID succeeded")
	}
	keys, err = s.SigningKeys(ctx)
	if err != nil || len(keys) != 3 || !bytes.Equal(keys[1].Private, k1.Private) {
		t.Errorf("after a duplicate KID: %d keys, %v; want the 3 stored, k1 unchanged", len(keys), err)
	}
}

func testSecret(t *testing.T, s jot.Store) {
	ctx := t.Context()
	first := randomBytes(t, 32)
	calls := 0
	v, err := s.Secret(ctx, "refresh", func() ([]byte, error) { calls++; return first, nil })
	if err != nil {
		t.Fatalf("Secret: %v", err)
	}
	if !bytes.Equal(v, first) || calls != 1 {
		t.Fatalf("Secret = %x after %d calls of gen, want %x after 1", v, calls, first)
	}

	v, err = s.Secret(ctx, "refresh", func() ([]byte, error) {
		t.Error("gen called though a value is stored")
		return randomBytes(t, 32), nil
	})
	if err != nil || !bytes.Equal(v, first) {
		t.Errorf("Secret again = %x, %v; want %x", v, err, first)
	}

	other := randomBytes(t, 64)
	v, err = s.Secret(ctx, "other", func() ([]byte, error) { return other, nil })
	if err != nil || !bytes.Equal(v, other) {
		t.Errorf("Secret(other) = %x, %v; want %x", v, err, other)
	}

	// A failing gen stores nothing.
	if _, err := s.Secret(ctx, "broken", func() ([]byte, error) { return nil, errors.New("no entropy") }); err == nil {
		t.Error("Secret with a failing gen succeeded")
	}
	fixed := randomBytes(t, 32)
	v, err = s.Secret(ctx, "broken", func() ([]byte, error) { return fixed, nil })
	if err != nil || !bytes.Equal(v, fixed) {
		t.Errorf("Secret after a failed gen = %x, %v; want %x", v, err, fixed)
	}
}

func testSecretConcurrent(t *testing.T, s jot.Store) {
	ctx := t.Context()
	generated := make([][]byte, concurrency)
	got := make([][]byte, concurrency)
	errs := make([]error, concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range concurrency {
		generated[i] = randomBytes(t, 32)
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.Secret(ctx, "shared", func() ([]byte, error) { return generated[i], nil })
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Secret %d: %v", i, err)
		}
	}
	winner := -1
	for i, g := range generated {
		if bytes.Equal(got[0], g) {
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("Secret = %x, which no gen returned", got[0])
	}
	for i, v := range got {
		if !bytes.Equal(v, got[0]) {
			t.Errorf("caller %d got %x, caller 0 got %x", i, v, got[0])
		}
	}
	v, err := s.Secret(ctx, "shared", func() ([]byte, error) { return randomBytes(t, 32), nil })
	if err != nil || !bytes.Equal(v, got[0]) {
		t.Errorf("Secret afterwards = %x, %v; want %x", v, err, got[0])
	}
}

func testCreateFirstSigningKey(t *testing.T, s jot.Store) {
	ctx := t.Context()
	now := base()
	// A next key (not active yet) and a key of another algorithm do not
	// count: neither can sign now.
	next := &jot.SigningKey{KID: "next", Alg: "ES256", Private: randomBytes(t, 138), CreatedAt: now, ActivatesAt: now.Add(time.Minute)}
	other := &jot.SigningKey{KID: "other", Alg: "EdDSA", Private: randomBytes(t, 48), CreatedAt: now, ActivatesAt: now}
	for _, k := range []*jot.SigningKey{next, other} {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	first := &jot.SigningKey{KID: "first", Alg: "ES256", Private: randomBytes(t, 138), CreatedAt: now, ActivatesAt: now}
	created, err := s.CreateFirstSigningKey(ctx, first, now)
	if err != nil || !created {
		t.Fatalf("CreateFirstSigningKey with no active ES256 key = %v, %v; want stored", created, err)
	}
	second := &jot.SigningKey{KID: "second", Alg: "ES256", Private: randomBytes(t, 138), CreatedAt: now, ActivatesAt: now}
	created, err = s.CreateFirstSigningKey(ctx, second, now.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("CreateFirstSigningKey with an active key = %v, %v; want nothing stored", created, err)
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 3 {
		t.Fatalf("SigningKeys = %d keys, %v; want next, other and first", len(keys), err)
	}
}

// Servers starting at once each try to store their first key: one does.
func testCreateFirstSigningKeyConcurrent(t *testing.T, s jot.Store) {
	ctx := t.Context()
	now := base()
	created := make([]bool, concurrency)
	errs := make([]error, concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range concurrency {
		k := &jot.SigningKey{KID: label("k", i), Alg: "ES256", Private: randomBytes(t, 138), CreatedAt: now, ActivatesAt: now}
		wg.Go(func() {
			<-start
			created[i], errs[i] = s.CreateFirstSigningKey(ctx, k, now)
		})
	}
	close(start)
	wg.Wait()
	n := 0
	for i := range concurrency {
		if errs[i] != nil {
			t.Fatalf("CreateFirstSigningKey %d: %v", i, errs[i])
		}
		if created[i] {
			n++
		}
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil || n != 1 || len(keys) != 1 {
		t.Fatalf("%d callers stored a key and %d keys are stored (%v); want one", n, len(keys), err)
	}
}

func testDeleteSigningKey(t *testing.T, s jot.Store) {
	ctx := t.Context()
	for _, kid := range []string{"a", "b"} {
		if err := s.CreateSigningKey(ctx, &jot.SigningKey{KID: kid, Alg: "ES256", Private: randomBytes(t, 138), CreatedAt: base(), ActivatesAt: base()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteSigningKey(ctx, "a"); err != nil {
		t.Fatalf("DeleteSigningKey: %v", err)
	}
	if err := s.DeleteSigningKey(ctx, "a"); err != nil {
		t.Fatalf("DeleteSigningKey of a deleted key: %v", err)
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].KID != "b" {
		t.Fatalf("after deleting a: %v, %v; want b only", keys, err)
	}
}

func testKeyServers(t *testing.T, s jot.Store) {
	ctx := t.Context()
	now := base()
	age, ttl, err := s.KeyServerLimits(ctx, now)
	if err != nil || age != 0 || ttl != 0 {
		t.Fatalf("KeyServerLimits with no record = %v, %v, %v; want zeros", age, ttl, err)
	}
	record := func(id string, age, ttl time.Duration, expires time.Time) {
		t.Helper()
		if err := s.RecordKeyServer(ctx, jot.KeyServer{ID: id, JWKSMaxAge: age, AccessTTL: ttl, ExpiresAt: expires}, now); err != nil {
			t.Fatalf("RecordKeyServer(%s): %v", id, err)
		}
	}
	want := func(at time.Time, wantAge, wantTTL time.Duration) {
		t.Helper()
		age, ttl, err := s.KeyServerLimits(ctx, at)
		if err != nil || age != wantAge || ttl != wantTTL {
			t.Errorf("KeyServerLimits at %v = %v, %v, %v; want %v, %v", at, age, ttl, err, wantAge, wantTTL)
		}
	}
	record("a", 5*time.Minute, 15*time.Minute, now.Add(time.Hour))
	record("b", time.Hour, 5*time.Minute, now.Add(2*time.Hour))
	want(now, time.Hour, 15*time.Minute)
	// Past a's record only b counts; past both, nothing.
	want(now.Add(90*time.Minute), time.Hour, 5*time.Minute)
	want(now.Add(3*time.Hour), 0, 0)
	// A refresh replaces the record: b lowered its max age.
	record("b", time.Minute, 5*time.Minute, now.Add(2*time.Hour))
	want(now, 5*time.Minute, 15*time.Minute)
	// Recording deletes what expired; a's record is gone for good even if
	// asked about an earlier moment.
	if err := s.RecordKeyServer(ctx, jot.KeyServer{ID: "c", JWKSMaxAge: time.Second, AccessTTL: time.Second, ExpiresAt: now.Add(4 * time.Hour)}, now.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	want(now, time.Minute, 5*time.Minute)
}

// testRevokeSigningKey: a revoked key keeps its row, with when; a second
// revocation keeps the first time; its kid cannot be stored again; an
// unknown kid is ENOTFOUND; a revoked key does not count as one that signs
// for CreateFirstSigningKey.
func testRevokeSigningKey(t *testing.T, s jot.Store) {
	ctx := t.Context()
	old := &jot.SigningKey{KID: "old", Alg: "ES256", Private: randomBytes(t, 138), CreatedAt: base(), ActivatesAt: base()}
	cur := &jot.SigningKey{KID: "cur", Alg: "ES256", Private: randomBytes(t, 138), CreatedAt: base().Add(time.Minute), ActivatesAt: base().Add(time.Minute)}
	for _, k := range []*jot.SigningKey{old, cur} {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	at := base().Add(time.Hour)
	got, already, err := s.RevokeSigningKey(ctx, "old", at)
	if err != nil || already {
		t.Fatalf("RevokeSigningKey = %v, %v, %v; want %v, false, nil", got, already, err, at)
	}
	checkTime(t, "revoked at", got, at)
	got, already, err = s.RevokeSigningKey(ctx, "old", at.Add(time.Hour))
	if err != nil || !already {
		t.Fatalf("second RevokeSigningKey = %v, %v, %v; want already", got, already, err)
	}
	checkTime(t, "revoked at, second time", got, at)
	if _, _, err := s.RevokeSigningKey(ctx, "nope", at); jot.ErrorCode(err) != jot.ENOTFOUND {
		t.Fatalf("RevokeSigningKey(unknown) = %v, want ENOTFOUND", err)
	}

	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("SigningKeys = %v, %v; want both keys", keys, err)
	}
	if keys[0].KID != "old" || !bytes.Equal(keys[0].Private, old.Private) {
		t.Errorf("revoked key read back as %s", keys[0].KID)
	}
	checkTime(t, "old RevokedAt", keys[0].RevokedAt, at)
	checkTime(t, "cur RevokedAt", keys[1].RevokedAt, time.Time{})

	again := *old
	if err := s.CreateSigningKey(ctx, &again); jot.ErrorCode(err) != jot.ECONFLICT {
		t.Errorf("re-adding a revoked key = %v, want ECONFLICT", err)
	}

	// With every signing key revoked, a first key is stored.
	if _, _, err := s.RevokeSigningKey(ctx, "cur", at); err != nil {
		t.Fatal(err)
	}
	first := &jot.SigningKey{KID: "first", Alg: "ES256", Private: randomBytes(t, 138), CreatedAt: at, ActivatesAt: at}
	if created, err := s.CreateFirstSigningKey(ctx, first, at); err != nil || !created {
		t.Errorf("CreateFirstSigningKey beside revoked keys = %v, %v; want stored", created, err)
	}
}

// testRewriteSigningKeys: the private keys fn changes are stored, the
// others are left; an error of fn writes nothing.
func testRewriteSigningKeys(t *testing.T, s jot.Store) {
	ctx := t.Context()
	for i, kid := range []string{"a", "b", "c"} {
		k := &jot.SigningKey{KID: kid, Alg: "ES256", Private: []byte("plain-" + kid), CreatedAt: base().Add(time.Duration(i) * time.Second), ActivatesAt: base()}
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.RevokeSigningKey(ctx, "c", base()); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	n, err := s.RewriteSigningKeys(ctx, func(k *jot.SigningKey) ([]byte, bool, error) {
		if k.KID == "b" {
			return nil, false, boom
		}
		return []byte("sealed-" + k.KID), true, nil
	})
	if !errors.Is(err, boom) || n != 0 {
		t.Fatalf("RewriteSigningKeys with a failing fn = %d, %v; want 0, boom", n, err)
	}
	keys, _ := s.SigningKeys(ctx)
	for _, k := range keys {
		if string(k.Private) != "plain-"+k.KID {
			t.Fatalf("after a failed rewrite key %s = %q; want it unchanged", k.KID, k.Private)
		}
	}

	var seen []string
	n, err = s.RewriteSigningKeys(ctx, func(k *jot.SigningKey) ([]byte, bool, error) {
		seen = append(seen, k.KID)
		if k.KID == "a" {
			return nil, false, nil
		}
		return []byte("sealed-" + k.KID), true, nil
	})
	if err != nil || n != 2 || len(seen) != 3 {
		t.Fatalf("RewriteSigningKeys = %d, %v (saw %v); want 2 of 3 changed", n, err, seen)
	}
	keys, err = s.SigningKeys(ctx)
	if err != nil || len(keys) != 3 {
		t.Fatal(keys, err)
	}
	want := map[string]string{"a": "plain-a", "b": "sealed-b", "c": "sealed-c"}
	for _, k := range keys {
		if string(k.Private) != want[k.KID] {
			t.Errorf("key %s = %q, want %q", k.KID, k.Private, want[k.KID])
		}
	}
	checkTime(t, "c RevokedAt after a rewrite", keys[2].RevokedAt, base())
}
