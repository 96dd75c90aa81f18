package token

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Rotate makes a new signing key as `jot keys rotate` does: published at
// once, signing after the longest JWKS max age of the running servers
// (RotationDelay), or at once when immediate (a leaked key). The new key is
// in this Keyring's snapshot on return; other instances pick it up at once
// where the store announces new keys (PostgreSQL), else on their next
// reload or the first token that names it.
func (k *Keyring) Rotate(ctx context.Context, immediate bool) (*StoredKey, error) {
	if k.opts.Alg == AlgHS256 || k.opts.PEM != nil {
		return nil, errors.New("token: a configured key cannot be rotated here: change the secret or the PEM file")
	}
	var delay time.Duration
	if !immediate {
		var err error
		if delay, err = RotationDelay(ctx, k.store, k.now(), k.opts.JWKSMaxAge); err != nil {
			return nil, err
		}
	}
	sk, err := Rotate(ctx, k.store, k.opts.Alg, delay, k.now())
	if err != nil {
		return nil, err
	}
	return sk, k.Reload(ctx)
}

// RotationDelay is how long a new key waits before it signs: the longest
// JWKS max age recorded by a server running on the store (Announce), so
// that every JWKS cache downstream of any of them has the key before a
// token names it. The servers decide, not the caller's own settings, which
// may differ; fallback is used only when no server has a live record (none
// runs, so no cache can hold what one served).
func RotationDelay(ctx context.Context, store KeyStore, now time.Time, fallback time.Duration) (time.Duration, error) {
	maxAge, _, err := store.KeyServerLimits(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("token: read key servers: %w", err)
	}
	if maxAge <= 0 {
		return fallback, nil
	}
	return maxAge, nil
}

// Rotate generates a key of alg that signs from now + delay and stores it.
// `jot keys rotate` passes RotationDelay as delay, so every JWKS cache
// downstream has the key before any token names it; `--now` passes 0.
func Rotate(ctx context.Context, store KeyStore, alg string, delay time.Duration, now time.Time) (*StoredKey, error) {
	if delay < 0 {
		return nil, errors.New("token: rotate: negative delay")
	}
	sk, err := GenerateKey(alg, now, now.Add(delay))
	if err != nil {
		return nil, err
	}
	if err := store.CreateSigningKey(ctx, sk); err != nil {
		return nil, fmt.Errorf("token: store new signing key: %w", err)
	}
	return sk, nil
}

// ErrRevokeCurrent is Keyring.Revoke's refusal of the current signing key:
// revoking it would leave nothing to sign with. Rotate with immediate set
// first (`jot keys rotate --now`), then revoke it.
var ErrRevokeCurrent = errors.New("token: the current signing key cannot be revoked: rotate it away first")

// Revoke takes the key kid out of service for good, as `jot keys revoke`
// does for a leaked key: it is unpublished and every token it signed is
// refused. The row stays, marked revoked, so the key is never trusted
// again (no reload, unknown-kid reload included, brings it back) and its
// kid cannot be stored again. The current key is refused
// (ErrRevokeCurrent); an unknown kid is the store's not-found error
// (jot.ENOTFOUND). Revoking a key twice changes nothing and reports
// already, with the first time.
//
// This Keyring drops the key on return; other instances at once where the
// store announces key changes (PostgreSQL), else at their next reload
// (Run, every 2 s in jot serve).
//
// The check that kid is not current and the revocation are two steps: a
// next key whose activation falls between them is revoked nonetheless,
// and the key before it simply goes on signing.
//
// notes, if given, are stored in the transaction of the revocation (see
// KeyStore.RevokeSigningKey): `jot keys revoke` records key_revoked with a
// *jot.Audit.
func (k *Keyring) Revoke(ctx context.Context, kid string, notes ...RevokeNote) (revokedAt time.Time, already bool, err error) {
	if k.isStatic.Load() {
		return time.Time{}, false, errors.New("token: a configured key cannot be revoked here: change the secret or the PEM file")
	}
	if err := k.Reload(ctx); err != nil {
		return time.Time{}, false, err
	}
	if ks := k.cur.Load(); ks != nil && ks.Signing() != nil && ks.Signing().ID == kid {
		return time.Time{}, false, ErrRevokeCurrent
	}
	revokedAt, already, err = k.store.RevokeSigningKey(ctx, kid, k.now(), notes...)
	if err != nil {
		return time.Time{}, false, err
	}
	return revokedAt, already, k.Reload(ctx)
}
