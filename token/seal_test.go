package token_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jotauth/jot/token"
)

// Sealed keys: a random nonce per key (the same key sealed twice differs),
// bound to the kid (a sealed key copied into another row does not open),
// opened back to the very DER stored.
func TestSealedKeys(t *testing.T) {
	ctx := context.Background()
	raw := &memStore{}
	kek := bytes.Repeat([]byte{7}, token.KeyEncryptionKeySize)
	s, err := token.NewSealedKeys(raw, kek)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a, _ := token.GenerateKey(token.AlgEdDSA, now, now)
	b, _ := token.GenerateKey(token.AlgEdDSA, now, now)
	for _, k := range []*token.StoredKey{a, b} {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	stored, _ := raw.SigningKeys(ctx)
	if !token.Sealed(stored[0].Private) || bytes.Contains(stored[0].Private, a.Private) {
		t.Fatal("stored in plaintext")
	}
	opened, err := s.SigningKeys(ctx)
	if err != nil || !bytes.Equal(opened[0].Private, a.Private) || !bytes.Equal(opened[1].Private, b.Private) {
		t.Fatalf("opened: %v", err)
	}

	// The same plaintext sealed under a fresh nonce differs.
	if _, err := raw.RewriteSigningKeys(ctx, func(k *token.StoredKey) ([]byte, bool, error) {
		return a.Private, k.KID == a.KID, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SealStored(ctx); err != nil || n != 1 {
		t.Fatalf("SealStored = %d, %v; want 1 sealed", n, err)
	}
	again, _ := raw.SigningKeys(ctx)
	if bytes.Equal(again[0].Private, stored[0].Private) {
		t.Fatal("two seals of one key are equal: the nonce is not fresh")
	}

	// b's sealed bytes in a's row: the kid is the additional data.
	if _, err := raw.RewriteSigningKeys(ctx, func(k *token.StoredKey) ([]byte, bool, error) {
		return again[1].Private, k.KID == a.KID, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SigningKeys(ctx); !errors.Is(err, token.ErrSealedWrongKey) {
		t.Fatalf("a sealed key moved to another kid: %v", err)
	}
	if _, err := s.SealStored(ctx); !errors.Is(err, token.ErrSealedWrongKey) {
		t.Fatalf("SealStored over a key that does not open: %v", err)
	}
	plain, _ := token.NewSealedKeys(raw, nil)
	if _, err := plain.SealStored(ctx); !errors.Is(err, token.ErrSealedNoKey) {
		t.Fatalf("without a key: %v", err)
	}
	if _, err := token.NewSealedKeys(raw, kek[:16]); err == nil {
		t.Fatal("a 16-byte key was taken")
	}
}

// Trusted answers for a revoked key at once, and no unknown-kid reload
// brings it back.
func TestTrustedAfterRevoke(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	ring := token.NewKeyring(store, token.KeyringOptions{Alg: token.AlgES256, AccessTTL: time.Minute, MinKIDReload: time.Nanosecond})
	if err := ring.Load(ctx); err != nil {
		t.Fatal(err)
	}
	old := ring.KeySet().Signing().ID
	if _, err := ring.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	if !ring.Trusted(old) || !token.Trusted(ring, old) {
		t.Fatal("a retired key within its tokens' lifetime is not trusted")
	}
	if _, _, err := ring.Revoke(ctx, old); err != nil {
		t.Fatal(err)
	}
	if ring.Trusted(old) || token.Trusted(ring, old) || ring.ReloadForKID(old) || ring.Trusted("nope") {
		t.Fatal("a revoked key is trusted")
	}
	if !ring.Trusted(ring.KeySet().Signing().ID) {
		t.Fatal("the current key is not trusted")
	}
}
