package token_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/jotauth/jot/token"
)

func parsed(t testing.TB, alg string, created, activates time.Time) *token.Key {
	t.Helper()
	k, err := token.ParseSigningKey(newStoredKey(t, alg, created, activates))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jwksKIDs(t testing.TB, ks *token.KeySet) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(ks.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func states(ks *token.KeySet) map[string]token.KeyInfo {
	m := map[string]token.KeyInfo{}
	for _, ki := range ks.Keys() {
		m[ki.KID] = ki
	}
	return m
}

// TestKeySetRotation follows one rotation: a next key is published before it
// signs, then takes over, and the old key verifies its tokens until they can
// no longer be valid, leeway included, then disappears.
func TestKeySetRotation(t *testing.T) {
	for _, alg := range asyms {
		t.Run(alg, func(t *testing.T) {
			const leeway = token.DefaultLeeway
			old := parsed(t, alg, t0, t0)
			T := t0.Add(time.Hour) // when the new key activates
			next := parsed(t, alg, T.Add(-5*time.Minute), T)
			keys := []*token.Key{next, old} // order must not matter
			at := func(now time.Time) *token.KeySet { return token.NewKeySet(alg, keys, now, testTTL, leeway) }

			clk := newClock(T.Add(-time.Second))
			issuer := &token.Issuer{Issuer: testIss, Audience: testAud, TTL: testTTL, Now: clk.Now}
			verifyAt := func(raw string, now time.Time) error {
				v := &token.Verifier{Keys: token.StaticKeys(at(now)), Issuer: testIss, Audience: testAud, Leeway: leeway, Now: func() time.Time { return now }}
				_, err := v.Verify(raw)
				return err
			}

			// Before T: old signs, next is published and verifies.
			before := at(T.Add(-time.Second))
			if before.Signing() != old {
				t.Fatalf("signing %v, want the old key", before.Signing().ID)
			}
			if before.Lookup(next.ID) != next || before.Lookup(old.ID) != old {
				t.Fatal("both keys must verify before T")
			}
			if got := jwksKIDs(t, before); len(got) != 2 || got[0] != old.ID || got[1] != next.ID {
				t.Fatalf("JWKS kids = %v, want current then next", got)
			}
			s := states(before)
			if s[old.ID].State != token.StateCurrent || s[next.ID].State != token.StateNext || !s[next.ID].Verifies {
				t.Fatalf("states = %+v", s)
			}
			issuer.Keys = token.StaticKeys(before)
			lastOld, exp, err := issuer.Issue(testClaims())
			if err != nil {
				t.Fatal(err)
			}

			// Another instance whose clock is ahead already signs with next;
			// this one must accept that token.
			issuer.Keys = token.StaticKeys(at(T))
			fromNext, _, err := issuer.Issue(testClaims())
			if err != nil {
				t.Fatal(err)
			}
			if h, _, _ := segments(t, fromNext); h["kid"] != next.ID {
				t.Fatalf("kid %v, want the new key", h["kid"])
			}
			if err := verifyAt(fromNext, T.Add(-time.Second)); err != nil {
				t.Fatalf("token signed with the next key refused: %v", err)
			}

			// At T: next signs, old is retired but still verifies.
			atT := at(T)
			if atT.Signing() != next {
				t.Fatal("next did not take over at T")
			}
			s = states(atT)
			ko := s[old.ID]
			drops := T.Add(testTTL + leeway)
			if ko.State != token.StateRetired || !ko.Verifies || !ko.RetiredAt.Equal(T) || !ko.DropsAt.Equal(drops) {
				t.Fatalf("old key info = %+v", ko)
			}
			if s[next.ID].State != token.StateCurrent {
				t.Fatalf("next key info = %+v", s[next.ID])
			}

			// The last token the old key signed is good until exp + leeway,
			// which is before the old key is dropped.
			if !exp.Add(leeway).Before(drops) && !exp.Add(leeway).Equal(drops) {
				t.Fatalf("the old key is dropped (%v) before its last token expires (%v)", drops, exp.Add(leeway))
			}
			if err := verifyAt(lastOld, exp.Add(leeway-time.Second)); err != nil {
				t.Fatalf("old token refused just before it expires: %v", err)
			}

			// Just before the drop the old key is still there; at the drop it
			// is gone from lookups and the JWKS, and listed as not verifying.
			if at(drops.Add(-time.Nanosecond)).Lookup(old.ID) == nil {
				t.Fatal("old key dropped early")
			}
			gone := at(drops)
			if gone.Lookup(old.ID) != nil {
				t.Fatal("old key still verifies after T+TTL+leeway")
			}
			if got := jwksKIDs(t, gone); len(got) != 1 || got[0] != next.ID {
				t.Fatalf("JWKS kids after the drop = %v", got)
			}
			if ki := states(gone)[old.ID]; ki.State != token.StateRetired || ki.Verifies {
				t.Fatalf("dropped key info = %+v", ki)
			}
			err = verifyAt(lastOld, drops)
			wantReason(t, err, token.ReasonInvalid)
		})
	}
}

func TestKeySetTimeline(t *testing.T) {
	a := parsed(t, token.AlgEdDSA, t0, t0)
	b := parsed(t, token.AlgEdDSA, t0.Add(time.Minute), t0.Add(10*time.Minute))
	// c was made after b but activated before it (`rotate --now` while b
	// was pending): the timeline follows activation, so c signs first and
	// b takes over when its time comes.
	c := parsed(t, token.AlgEdDSA, t0.Add(2*time.Minute), t0.Add(2*time.Minute))
	other := parsed(t, token.AlgES256, t0, t0)
	keys := []*token.Key{a, b, c, other, nil, a}

	ks := token.NewKeySet(token.AlgEdDSA, keys, t0.Add(5*time.Minute), testTTL, 0)
	if ks.Alg() != token.AlgEdDSA || ks.Signing() != c {
		t.Fatalf("signing = %v, want c", ks.Signing())
	}
	if ks.Lookup(other.ID) != nil {
		t.Fatal("a key of another alg is in the set")
	}
	if ks.Lookup("") != nil {
		t.Fatal("empty kid found a key")
	}
	if n := len(ks.Keys()); n != 3 {
		t.Fatalf("%d keys listed, want 3 (others' alg and duplicates ignored)", n)
	}
	s := states(ks)
	if s[a.ID].State != token.StateRetired || !s[a.ID].RetiredAt.Equal(c.ActivatesAt) || s[b.ID].State != token.StateNext {
		t.Fatalf("states = %+v", s)
	}

	later := token.NewKeySet(token.AlgEdDSA, keys, t0.Add(10*time.Minute), testTTL, 0)
	if later.Signing() != b || !states(later)[c.ID].RetiredAt.Equal(b.ActivatesAt) {
		t.Fatal("b did not take over from c")
	}

	// Nothing active yet: no signing key, but the next keys verify.
	early := token.NewKeySet(token.AlgEdDSA, []*token.Key{b}, t0, testTTL, 0)
	if early.Signing() != nil || early.Lookup(b.ID) == nil {
		t.Fatal("a pending key must verify and not sign")
	}

	// Equal times (a store keeping whole seconds, `rotate --now` in the
	// second of the last rotation): the key given last wins.
	d := parsed(t, token.AlgEdDSA, c.CreatedAt, c.ActivatesAt)
	for range 10 {
		tie := token.NewKeySet(token.AlgEdDSA, []*token.Key{a, c, d}, t0.Add(5*time.Minute), testTTL, 0)
		if tie.Signing() != d || states(tie)[c.ID].State != token.StateRetired {
			t.Fatal("a tie must go to the key stored last")
		}
	}

	// Hand-made keys that could verify nothing are left out, not fatal.
	broken := []*token.Key{
		{ID: "no-public", Alg: token.AlgES256, Private: "x"},
		{ID: "wrong-type", Alg: token.AlgES256, Private: "x", Public: a.Public},
		{ID: "short-secret", Alg: token.AlgHS256, Private: []byte("s"), Public: []byte("s")},
	}
	for _, k := range broken {
		ks := token.NewKeySet(k.Alg, []*token.Key{k}, t0, testTTL, 0)
		if ks.Lookup(k.ID) != nil || ks.Signing() != nil || string(ks.JWKS()) != `{"keys":[]}` {
			t.Errorf("%s: admitted", k.ID)
		}
	}

	// Keys() is a copy.
	infos := ks.Keys()
	infos[0].State = "tampered"
	if ks.Keys()[0].State == "tampered" {
		t.Fatal("Keys exposes the set's own slice")
	}
}

func TestKeySetHS256(t *testing.T) {
	key := newKey(t, token.AlgHS256)
	ks := token.NewKeySet(token.AlgHS256, []*token.Key{key}, t0, testTTL, 0)
	if ks.Signing() != key || ks.Lookup(key.ID) != key {
		t.Fatal("HMAC key must sign and verify")
	}
	if got := string(ks.JWKS()); got != `{"keys":[]}` {
		t.Fatalf("JWKS = %s, want no keys: an HMAC secret is never published", got)
	}
	if bytes.Contains(ks.JWKS(), key.Private.([]byte)) {
		t.Fatal("secret in JWKS")
	}
	empty := token.NewKeySet(token.AlgES256, nil, t0, testTTL, 0)
	if string(empty.JWKS()) != `{"keys":[]}` || empty.Signing() != nil {
		t.Fatalf("empty set: %s", empty.JWKS())
	}
}

// TestKeySetUnknownAlg: a set for an algorithm jot does not support never
// signs or verifies, whatever the jwt library has registered ("none").
func TestKeySetUnknownAlg(t *testing.T) {
	k := &token.Key{ID: "x", Alg: "none", Private: []byte("x"), Public: []byte("x")}
	ks := token.NewKeySet("none", []*token.Key{k}, t0, testTTL, 0)
	iss := &token.Issuer{Keys: token.StaticKeys(ks), TTL: time.Minute}
	if _, _, err := iss.Issue(testClaims()); err == nil {
		t.Fatal("issued with alg none")
	}
	raw := encJSON(t, map[string]any{"alg": "none", "kid": "x"}) + "." + encJSON(t, map[string]any{"sub": "u", "sid": "s", "iss": "i", "aud": "a", "exp": t0.Add(time.Hour).Unix()}) + "."
	v := &token.Verifier{Keys: token.StaticKeys(ks), Issuer: "i", Audience: "a", Now: func() time.Time { return t0 }}
	_, err := v.Verify(raw)
	wantReason(t, err, token.ReasonInvalid)
}
