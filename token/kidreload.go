package token

import (
	"context"
	"time"
)

// Bounds of the reload a token with an unknown kid prompts.
const (
	// DefaultMinKIDReload: a flood of made-up kids costs the database at
	// most one read a second.
	DefaultMinKIDReload = time.Second
	// kidReloadWait is the longest a request waits for that reload.
	kidReloadWait = 2 * time.Second
	// kidReloadTimeout bounds the reload itself.
	kidReloadTimeout = 5 * time.Second
)

// KIDReloader is a KeySource that can reload its keys when a token names a
// kid it does not know, which a Verifier then asks before refusing.
type KIDReloader interface {
	// ReloadForKID reloads the keys, or waits for a reload under way, and
	// reports whether kid is known afterwards.
	ReloadForKID(kid string) bool
}

// ReloadForKID reloads the keys from the store because a token names kid,
// which this server does not know: another instance may have rotated a
// moment ago, before this one heard of it. It reports whether kid is
// known afterwards.
//
// Concurrent callers share one reload and wait for it at most a couple of
// seconds; a reload starts at most once every MinKIDReload, and a caller
// that finds none under way within that time is refused at once, so a
// flood of made-up kids costs the database one read a second, not one a
// request.
func (k *Keyring) ReloadForKID(kid string) bool {
	if k.lookup(kid) {
		return true
	}
	if kid == "" || k.isStatic.Load() {
		return false
	}
	if ks := k.cur.Load(); ks != nil && ks.revoked[kid] {
		// A revoked key stays revoked: no reload can bring it back, so
		// tokens of a leaked key cost no database read.
		return false
	}
	every := k.opts.MinKIDReload
	if every <= 0 {
		every = DefaultMinKIDReload
	}
	k.kidMu.Lock()
	done := k.kidReload
	if done == nil {
		now := k.now()
		if !k.lastKIDRel.IsZero() && now.Sub(k.lastKIDRel) < every {
			k.kidMu.Unlock()
			return k.lookup(kid)
		}
		k.lastKIDRel = now
		done = make(chan struct{})
		k.kidReload = done
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), kidReloadTimeout)
			err := k.Reload(ctx)
			cancel()
			k.logReload(err)
			k.kidMu.Lock()
			k.kidReload = nil
			k.kidMu.Unlock()
			close(done)
		}()
	}
	k.kidMu.Unlock()
	t := time.NewTimer(kidReloadWait)
	select {
	case <-done:
	case <-t.C:
	}
	t.Stop()
	return k.lookup(kid)
}

func (k *Keyring) lookup(kid string) bool {
	ks := k.cur.Load()
	return ks != nil && ks.Lookup(kid) != nil
}

// Trusted reports whether the key kid verifies now: one atomic load and a
// map lookup, no database read and no reload. A key stops being trusted
// when it is revoked (within 5 s of `jot keys revoke` on every server) or
// when a retired key's tokens have all expired.
//
// It is the check for anything that remembers a verification: a cache of
// verified tokens must ask it on every hit with the kid the token was
// verified with, and treat false as a miss (verify again, which refuses
// the token as invalid), so a revoked key's tokens are refused as soon as
// the keyring has heard of the revocation rather than when the cache entry
// expires. For a KeySource other than a Keyring, see the function Trusted.
func (k *Keyring) Trusted(kid string) bool { return k.lookup(kid) }

// Trusted reports whether src's current key set verifies with the key kid,
// for any KeySource (a Keyring, a remote JWKS): see Keyring.Trusted.
func Trusted(src KeySource, kid string) bool {
	if src == nil {
		return false
	}
	ks := src.KeySet()
	return ks != nil && ks.Lookup(kid) != nil
}
