package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jotauth/jot"
)

// KeyringOptions configure a Keyring.
type KeyringOptions struct {
	// Alg is the one signing algorithm (JOT_JWT_ALG).
	Alg string
	// Secret is the HS256 secret (JOT_JWT_SECRET); used only under HS256.
	Secret []byte
	// PEM, when set, is the one fixed key (from a PEM file): nothing is
	// generated or read from the store.
	PEM *Key
	// AccessTTL and Leeway decide how long a retired key keeps verifying;
	// Leeway is DefaultLeeway when zero, none when negative.
	AccessTTL, Leeway time.Duration
	// JWKSMaxAge is the delay before a key made by Keyring.Rotate signs.
	JWKSMaxAge time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives reload failures and key changes; slog.Default() when nil.
	Logger *slog.Logger
}

// Keyring keeps the current KeySet of a running server, built from a
// jot.KeyStore and rebuilt by Run, so that a rotation made by the CLI or by
// another instance, and the activation of a next key, take effect without
// a restart. Readers get the snapshot with one atomic load.
type Keyring struct {
	store jot.KeyStore
	opts  KeyringOptions
	cur   atomic.Pointer[KeySet]

	mu     sync.Mutex      // serialises loads
	static []*Key          // the HS256 or PEM key; nil when keys come from the store
	parsed map[string]*Key // stored keys already parsed, by kid
	failed string          // last reload error logged, to log a failure once rather than every tick
}

// NewKeyring returns a Keyring over store; call Load before using it.
func NewKeyring(store jot.KeyStore, opts KeyringOptions) *Keyring {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Keyring{store: store, opts: opts, parsed: make(map[string]*Key)}
}

func (k *Keyring) now() time.Time {
	if k.opts.Now != nil {
		return k.opts.Now()
	}
	return time.Now()
}

func (k *Keyring) leeway() time.Duration {
	switch {
	case k.opts.Leeway == 0:
		return DefaultLeeway
	case k.opts.Leeway < 0:
		return 0
	}
	return k.opts.Leeway
}

// KeySet returns the current snapshot, or nil before Load succeeded.
func (k *Keyring) KeySet() *KeySet { return k.cur.Load() }

// Load builds the first snapshot. Under HS256 the key is the secret and
// under PEM the fixed key; nothing is stored. Otherwise the keys come from
// the store, and when none of Alg can sign now (a first start, or a change
// of algorithm) a new key, active at once, is generated and stored first.
func (k *Keyring) Load(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	alg := k.opts.Alg
	switch {
	case !ValidAlg(alg):
		return fmt.Errorf("token: unsupported algorithm %q", alg)
	case alg == AlgHS256:
		if k.opts.PEM != nil {
			return errors.New("token: a PEM key cannot be used with HS256")
		}
		key, err := HMACKey(k.opts.Secret)
		if err != nil {
			return err
		}
		k.static = []*Key{key}
	case k.opts.PEM != nil:
		if k.opts.PEM.Alg != alg || k.opts.PEM.Private == nil {
			return fmt.Errorf("token: the PEM key is not a %s private key", alg)
		}
		k.static = []*Key{k.opts.PEM}
	}
	if k.static != nil {
		k.cur.Store(NewKeySet(alg, k.static, k.now(), k.opts.AccessTTL, k.leeway()))
		return nil
	}

	ks, err := k.load(ctx)
	if err != nil {
		return err
	}
	if ks.Signing() == nil {
		now := k.now()
		sk, err := GenerateKey(alg, now, now)
		if err != nil {
			return err
		}
		if err := k.store.CreateSigningKey(ctx, sk); err != nil {
			return fmt.Errorf("token: store new signing key: %w", err)
		}
		k.opts.Logger.Info("generated signing key", "kid", sk.KID, "alg", alg)
		// Reread rather than add sk by hand: another instance starting at
		// the same moment may have stored one too, and both must verify.
		if ks, err = k.load(ctx); err != nil {
			return err
		}
	}
	k.cur.Store(ks)
	return nil
}

// Reload rebuilds the snapshot from the store (or, for a static key, for
// the current time). On error the previous snapshot stays.
func (k *Keyring) Reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.static != nil {
		k.cur.Store(NewKeySet(k.opts.Alg, k.static, k.now(), k.opts.AccessTTL, k.leeway()))
		return nil
	}
	ks, err := k.load(ctx)
	if err != nil {
		return err
	}
	if ks.Signing() == nil {
		return fmt.Errorf("token: no %s signing key is active", k.opts.Alg)
	}
	if old := k.cur.Load(); old == nil || !sameState(old, ks) {
		k.opts.Logger.Info("signing keys changed", "alg", k.opts.Alg, "current", ks.Signing().ID, "verifying", len(ks.byKID))
		k.cur.Store(ks)
	}
	return nil
}

// load reads and parses the stored keys of Alg, parsing each key only
// once over the life of the Keyring.
func (k *Keyring) load(ctx context.Context) (*KeySet, error) {
	stored, err := k.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: read signing keys: %w", err)
	}
	keys := make([]*Key, 0, len(stored))
	seen := make(map[string]bool, len(stored))
	for _, sk := range stored {
		if sk == nil || sk.Alg != k.opts.Alg {
			continue
		}
		key := k.parsed[sk.KID]
		if key == nil || !key.CreatedAt.Equal(sk.CreatedAt) || !key.ActivatesAt.Equal(sk.ActivatesAt) {
			if key, err = ParseSigningKey(sk); err != nil {
				return nil, err
			}
			k.parsed[sk.KID] = key
		}
		seen[sk.KID] = true
		keys = append(keys, key)
	}
	for kid := range k.parsed {
		if !seen[kid] {
			delete(k.parsed, kid)
		}
	}
	return NewKeySet(k.opts.Alg, keys, k.now(), k.opts.AccessTTL, k.leeway()), nil
}

// sameState reports whether two snapshots sign and verify with the same
// keys, so an unchanged set keeps its snapshot (and its JWKS bytes).
func sameState(a, b *KeySet) bool {
	return a.alg == b.alg && a.signing == b.signing && slices.EqualFunc(a.infos, b.infos, func(x, y KeyInfo) bool {
		return x.KID == y.KID && x.State == y.State && x.Verifies == y.Verifies &&
			x.ActivatesAt.Equal(y.ActivatesAt) && x.DropsAt.Equal(y.DropsAt)
	})
}

// Run reloads the keys every `every` until ctx ends. A failed reload is
// logged (once, until it changes or recovers) and the previous snapshot
// stays, so a database hiccup never stops verification. With a static key
// (HS256 or PEM), or a non-positive every, Run returns at once.
func (k *Keyring) Run(ctx context.Context, every time.Duration) {
	k.mu.Lock()
	static := k.static != nil
	k.mu.Unlock()
	if static || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := k.Reload(ctx)
		if ctx.Err() != nil {
			return
		}
		k.logReload(err)
	}
}

func (k *Keyring) logReload(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case err != nil && err.Error() != k.failed:
		k.failed = err.Error()
		k.opts.Logger.Error("reloading signing keys failed; keeping the previous keys", "err", err)
	case err == nil && k.failed != "":
		k.failed = ""
		k.opts.Logger.Info("reloading signing keys works again")
	}
}

// Rotate makes a new signing key as `jot keys rotate` does: published at
// once, signing after JWKSMaxAge, or at once when immediate (a leaked key).
// The new key is in this Keyring's snapshot on return; other instances pick
// it up on their next reload.
func (k *Keyring) Rotate(ctx context.Context, immediate bool) (*jot.SigningKey, error) {
	delay := k.opts.JWKSMaxAge
	if immediate {
		delay = 0
	}
	if k.opts.Alg == AlgHS256 || k.opts.PEM != nil {
		return nil, errors.New("token: a configured key cannot be rotated here: change the secret or the PEM file")
	}
	sk, err := Rotate(ctx, k.store, k.opts.Alg, delay, k.now())
	if err != nil {
		return nil, err
	}
	return sk, k.Reload(ctx)
}

// Rotate generates a key of alg that signs from now + delay and stores it.
// `jot keys rotate` passes JOT_JWKS_MAX_AGE as delay, so every JWKS cache
// downstream has the key before any token names it; `--now` passes 0.
func Rotate(ctx context.Context, store jot.KeyStore, alg string, delay time.Duration, now time.Time) (*jot.SigningKey, error) {
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
