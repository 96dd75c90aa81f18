package token

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// KeyEncryptionKeySize is the size of the key that seals stored private
// keys: AES-256.
const KeyEncryptionKeySize = 32

// sealPrefix starts every sealed private key. Plaintext keys are PKCS #8
// DER, which starts with 0x30 (a SEQUENCE), so the two are told apart by
// the first byte already; the version leaves room for another scheme.
var sealPrefix = []byte("jot-aes256gcm-v1:")

// Errors of SealedKeys about the key encryption key.
var (
	// ErrSealedNoKey: a stored key is encrypted and no key encryption key
	// was given.
	ErrSealedNoKey = errors.New("the stored signing keys are encrypted and no key encryption key is set")
	// ErrSealedWrongKey: a stored key does not open with the key given.
	ErrSealedWrongKey = errors.New("the key encryption key does not decrypt the stored signing keys")
)

// Sealed reports whether a stored private key is encrypted.
func Sealed(private []byte) bool { return bytes.HasPrefix(private, sealPrefix) }

// SealedKeys is a KeyStore whose private keys are stored encrypted
// with AES-256-GCM under a key encryption key: each with a random 96-bit
// nonce, its kid as additional data (so a sealed key moved to another row
// does not open), behind a versioned prefix. Keys are sealed as they are
// stored and opened as they are read; every other method is the
// underlying store's.
//
// Without a key encryption key it stores keys as they are (plaintext) and
// refuses to read a sealed one (ErrSealedNoKey), so a server never starts
// half able to read its keys.
type SealedKeys struct {
	KeyStore
	aead cipher.AEAD // nil without a key encryption key
}

// NewSealedKeys wraps store. kek is the key encryption key, 32 bytes, or
// empty for none.
func NewSealedKeys(store KeyStore, kek []byte) (*SealedKeys, error) {
	s := &SealedKeys{KeyStore: store}
	if len(kek) == 0 {
		return s, nil
	}
	if len(kek) != KeyEncryptionKeySize {
		return nil, fmt.Errorf("token: key encryption key is %d bytes, want %d", len(kek), KeyEncryptionKeySize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("token: key encryption key: %w", err)
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("token: key encryption key: %w", err)
	}
	return s, nil
}

// Encrypts reports whether keys are stored encrypted.
func (s *SealedKeys) Encrypts() bool { return s.aead != nil }

func (s *SealedKeys) seal(kid string, private []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	out := append(append([]byte(nil), sealPrefix...), nonce...)
	return s.aead.Seal(out, nonce, private, []byte(kid))
}

func (s *SealedKeys) open(kid string, stored []byte) ([]byte, error) {
	if !Sealed(stored) {
		return stored, nil
	}
	if s.aead == nil {
		return nil, ErrSealedNoKey
	}
	body := stored[len(sealPrefix):]
	n := s.aead.NonceSize()
	if len(body) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("token: key %s: sealed private key is truncated", kid)
	}
	plain, err := s.aead.Open(nil, body[:n], body[n:], []byte(kid))
	if err != nil {
		// GCM cannot tell a wrong key from a damaged row; a wrong key is
		// by far the likelier, and the remedy the operator needs.
		return nil, ErrSealedWrongKey
	}
	return plain, nil
}

// Seal returns a copy of k with its private key sealed, or k itself
// without a key encryption key: for a store write that does not go
// through s, such as one that records an audit event with the key.
func (s *SealedKeys) Seal(k *StoredKey) *StoredKey { return s.sealed(k) }

// sealed returns a copy of k with its private key sealed, or k itself
// without a key encryption key.
func (s *SealedKeys) sealed(k *StoredKey) *StoredKey {
	if s.aead == nil || k == nil || Sealed(k.Private) {
		return k
	}
	c := *k
	c.Private = s.seal(k.KID, k.Private)
	return &c
}

// SigningKeys lists the stored keys with their private keys opened. A
// revoked key is listed as stored: it is never used, so never opened.
func (s *SealedKeys) SigningKeys(ctx context.Context) ([]*StoredKey, error) {
	keys, err := s.KeyStore.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if k == nil || !k.RevokedAt.IsZero() {
			continue
		}
		plain, err := s.open(k.KID, k.Private)
		if err != nil {
			return nil, err
		}
		c := *k
		c.Private = plain
		keys[i] = &c
	}
	return keys, nil
}

// CreateSigningKey stores k, sealed.
func (s *SealedKeys) CreateSigningKey(ctx context.Context, k *StoredKey) error {
	return s.KeyStore.CreateSigningKey(ctx, s.sealed(k))
}

// CreateFirstSigningKey stores k, sealed, as the underlying store does.
func (s *SealedKeys) CreateFirstSigningKey(ctx context.Context, k *StoredKey, now time.Time) (bool, error) {
	return s.KeyStore.CreateFirstSigningKey(ctx, s.sealed(k), now)
}

// SealStored brings the stored keys in line with the key encryption key,
// and is called at start before anything reads them. With a key, every
// sealed key must open with it (else ErrSealedWrongKey, and nothing is
// written) and every plaintext key is sealed, all in one transaction: a
// failure leaves the store as it was. Without one, a sealed key is
// ErrSealedNoKey. It returns how many keys it sealed.
func (s *SealedKeys) SealStored(ctx context.Context) (int, error) {
	if s.aead == nil {
		keys, err := s.KeyStore.SigningKeys(ctx)
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			if k != nil && Sealed(k.Private) {
				return 0, ErrSealedNoKey
			}
		}
		return 0, nil
	}
	return s.RewriteSigningKeys(ctx, func(k *StoredKey) ([]byte, bool, error) {
		if Sealed(k.Private) {
			_, err := s.open(k.KID, k.Private)
			return nil, false, err
		}
		return s.seal(k.KID, k.Private), true, nil
	})
}
