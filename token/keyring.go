package token

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
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
	// MinKIDReload is the least time between two reloads prompted by a
	// token naming an unknown kid (ReloadForKID); DefaultMinKIDReload when
	// zero.
	MinKIDReload time.Duration
}

// AnnounceEvery is how often a server refreshes its record in the store
// (Keyring.Announce); a record counts for two of these past its last
// refresh, plus the time its tokens and JWKS live.
const AnnounceEvery = 30 * time.Second

// Keyring keeps the current KeySet of a running server, built from a
// KeyStore and rebuilt by Run, so that a rotation made by the CLI or by
// another instance, and the activation of a next key, take effect without
// a restart. Readers get the snapshot with one atomic load.
type Keyring struct {
	store KeyStore
	opts  KeyringOptions
	cur   atomic.Pointer[KeySet]

	mu     sync.Mutex      // serialises loads
	static []*Key          // the HS256 or PEM key; nil when keys come from the store
	parsed map[string]*Key // stored keys already parsed, by kid
	failed string          // last reload error logged, to log a failure once rather than every tick

	// retain is the access TTL that decides how long a retired key
	// verifies: the longest of this server's and the ones recorded by
	// every server running on the store, in nanoseconds.
	retain   atomic.Int64
	isStatic atomic.Bool
	id       string // this server's record in the store (Announce)

	kidMu      sync.Mutex
	kidReload  chan struct{} // closed when the reload under way ends; nil when none
	lastKIDRel time.Time
}

// NewKeyring returns a Keyring over store; call Load before using it.
func NewKeyring(store KeyStore, opts KeyringOptions) *Keyring {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	k := &Keyring{store: store, opts: opts, parsed: make(map[string]*Key), id: serverID()}
	k.retain.Store(int64(opts.AccessTTL))
	return k
}

// serverID names one server process in the store: random, 128 bits.
func serverID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// retention is the access TTL that bounds how long a retired key verifies.
func (k *Keyring) retention() time.Duration { return time.Duration(k.retain.Load()) }

// setLimits takes the largest access TTL recorded in the store into
// account, never going below this server's own.
func (k *Keyring) setLimits(accessTTL time.Duration) {
	k.retain.Store(int64(max(k.opts.AccessTTL, accessTTL)))
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
		k.isStatic.Store(true)
		k.cur.Store(NewKeySet(alg, k.static, k.now(), k.opts.AccessTTL, k.leeway()))
		return nil
	}

	_, ttl, err := k.store.KeyServerLimits(ctx, k.now())
	if err != nil {
		return fmt.Errorf("token: read key servers: %w", err)
	}
	k.setLimits(ttl)
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
		// Stored only if no other server starting at the same moment got
		// there first: however many start, they all sign with one key.
		created, err := k.store.CreateFirstSigningKey(ctx, sk, now)
		if err != nil {
			return fmt.Errorf("token: store new signing key: %w", err)
		}
		if created {
			k.opts.Logger.Info("generated signing key", "kid", sk.KID, "alg", alg)
		}
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
	if expired(ks) {
		// Checked against the servers' records as they are now, not as
		// of the last Announce: a server with a longer TTL may have
		// started since.
		_, ttl, err := k.store.KeyServerLimits(ctx, k.now())
		if err != nil {
			return fmt.Errorf("token: read key servers: %w", err)
		}
		k.setLimits(ttl)
		if ks, err = k.load(ctx); err != nil {
			return err
		}
		// A failed delete is tried again at the next reload; it must not
		// keep this one from taking effect (the key no longer verifies
		// either way).
		if err := k.dropExpired(ctx, ks); err != nil {
			k.opts.Logger.Warn("deleting an expired signing key failed", "err", err)
		} else if ks, err = k.load(ctx); err != nil {
			// The snapshot lists what is stored, as `jot keys list` does.
			return err
		}
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
		if key == nil || !key.CreatedAt.Equal(sk.CreatedAt) || !key.ActivatesAt.Equal(sk.ActivatesAt) || !key.RevokedAt.Equal(sk.RevokedAt) {
			if !sk.RevokedAt.IsZero() {
				// Listed, never used: its private key is not even read.
				key = &Key{ID: sk.KID, Alg: sk.Alg, CreatedAt: sk.CreatedAt, ActivatesAt: sk.ActivatesAt, RevokedAt: sk.RevokedAt}
			} else if key, err = ParseSigningKey(sk); err != nil {
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
	return NewKeySet(k.opts.Alg, keys, k.now(), k.retention(), k.leeway()), nil
}

// expired reports whether ks holds a retired key that no longer verifies.
func expired(ks *KeySet) bool {
	for _, ki := range ks.infos {
		if ki.State == StateRetired && !ki.Verifies {
			return true
		}
	}
	return false
}

// dropExpired deletes from the store the retired keys of ks that no longer
// verify: nothing they signed can be valid any more on any server, since
// ks keeps them for the longest access TTL recorded by a running server
// plus the leeway. The caller holds k.mu.
func (k *Keyring) dropExpired(ctx context.Context, ks *KeySet) error {
	for _, ki := range ks.infos {
		if ki.State != StateRetired || ki.Verifies {
			continue
		}
		if err := k.store.DeleteSigningKey(ctx, ki.KID); err != nil {
			return fmt.Errorf("token: delete expired signing key: %w", err)
		}
		delete(k.parsed, ki.KID)
		k.opts.Logger.Info("deleted expired signing key", "kid", ki.KID, "alg", ki.Alg, "retired", ki.RetiredAt)
	}
	return nil
}

// Announce records this server in the store with its JWKS max age and
// access TTL, and takes up the longest access TTL recorded by any server,
// so that retired keys verify, and are deleted, by the same rule on every
// instance. A server calls it at start, before it signs, and then every
// AnnounceEvery (Run does). The record outlives the server by as long as
// its tokens live and its JWKS may be cached. Nothing is recorded for a
// configured key (HS256 or PEM), which is never rotated from the store.
func (k *Keyring) Announce(ctx context.Context) error {
	if k.isStatic.Load() {
		return nil
	}
	now := k.now()
	life := max(k.opts.AccessTTL+k.leeway(), k.opts.JWKSMaxAge)
	err := k.store.RecordKeyServer(ctx, KeyServer{
		ID: k.id, JWKSMaxAge: k.opts.JWKSMaxAge, AccessTTL: k.opts.AccessTTL,
		ExpiresAt: now.Add(2*AnnounceEvery + life),
	}, now)
	if err != nil {
		return fmt.Errorf("token: record this server: %w", err)
	}
	_, ttl, err := k.store.KeyServerLimits(ctx, now)
	if err != nil {
		return fmt.Errorf("token: read key servers: %w", err)
	}
	k.setLimits(ttl)
	return nil
}

// sameState reports whether two snapshots sign and verify with the same
// keys, so an unchanged set keeps its snapshot (and its JWKS bytes).
func sameState(a, b *KeySet) bool {
	return a.alg == b.alg && a.signing == b.signing && slices.EqualFunc(a.infos, b.infos, func(x, y KeyInfo) bool {
		return x.KID == y.KID && x.State == y.State && x.Verifies == y.Verifies &&
			x.ActivatesAt.Equal(y.ActivatesAt) && x.DropsAt.Equal(y.DropsAt) && x.RevokedAt.Equal(y.RevokedAt)
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
	announce := time.NewTicker(AnnounceEvery)
	defer announce.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-announce.C:
			if err := k.Announce(ctx); err != nil && ctx.Err() == nil {
				k.logReload(err)
			}
			continue
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
