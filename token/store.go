package token

import (
	"context"
	"time"
)

// StoredKey is a stored asymmetric signing key. A key is `next` until
// ActivatesAt, then `current` until a newer key activates, then `retired`;
// a revoked key (RevokedAt set) is none of these: it neither signs nor
// verifies, ever again.
type StoredKey struct {
	KID string
	// Alg is the JWS algorithm: ES256, EdDSA or RS256.
	Alg string
	// Private is the private key, PKCS #8 DER, or that DER sealed with
	// the key encryption key (SealedKeys tells them apart).
	Private     []byte
	CreatedAt   time.Time
	ActivatesAt time.Time
	// RevokedAt is when the key was revoked; zero while it is not.
	RevokedAt time.Time
}

// KeyServer is what one running server records about its keys' timeline,
// so that decisions taken elsewhere hold for every instance: a rotation
// (made by the CLI or any server) waits for the longest JWKS max age of
// any server before its key signs, and a retired key is kept, and
// verified, for the longest access TTL any server signs with.
type KeyServer struct {
	// ID names one server process, random per start.
	ID         string
	JWKSMaxAge time.Duration
	AccessTTL  time.Duration
	// ExpiresAt is when the record stops counting: past the server's last
	// refresh by as long as its tokens live and its JWKS may be cached.
	ExpiresAt time.Time
}

// RevokeNote is what the caller of Keyring.Revoke asks the KeyStore to
// record in the transaction that revokes the key, such as an audit event.
// This package passes it on without looking into it: which values a store
// understands is the store's business (jot's stores take a *jot.Audit and
// refuse anything else).
type RevokeNote any

// KeyStore keeps signing keys and server secrets.
type KeyStore interface {
	// SigningKeys lists every stored signing key, oldest first.
	SigningKeys(ctx context.Context) ([]*StoredKey, error)
	CreateSigningKey(ctx context.Context, k *StoredKey) error
	// CreateFirstSigningKey stores k unless a key of k.Alg that signs at
	// now (ActivatesAt not after now) is stored already, and reports
	// whether it stored k. Concurrent callers, on any instance, are
	// serialized: however many servers start at once, one key is made.
	CreateFirstSigningKey(ctx context.Context, k *StoredKey, now time.Time) (bool, error)
	// DeleteSigningKey removes the key kid; an unknown kid is no error.
	DeleteSigningKey(ctx context.Context, kid string) error
	// RevokeSigningKey marks the key kid revoked at `at`, keeping its row,
	// and announces it to every server like a new key. It returns when the
	// key was revoked: `at`, or the earlier time of a key already revoked
	// (then already is true and nothing changes). An unknown kid is a
	// not-found error of the store (jot.ENOTFOUND). notes (`jot keys
	// revoke`: the key_revoked audit) are stored in the same transaction
	// when this call revoked the key, and not when it was revoked already.
	RevokeSigningKey(ctx context.Context, kid string, at time.Time, notes ...RevokeNote) (revokedAt time.Time, already bool, err error)
	// RewriteSigningKeys calls fn with every stored key, oldest first, in
	// one transaction that locks the keys against concurrent rewrites, and
	// stores the private key fn returns where it reports a change. An error
	// of fn rolls everything back. It returns how many keys changed.
	RewriteSigningKeys(ctx context.Context, fn func(k *StoredKey) (private []byte, changed bool, err error)) (int, error)
	// RecordKeyServer stores, or refreshes, r (by r.ID) and deletes the
	// records that expired before now.
	RecordKeyServer(ctx context.Context, r KeyServer, now time.Time) error
	// KeyServerLimits returns the largest JWKSMaxAge and AccessTTL of the
	// records that have not expired at now; zero when there are none.
	KeyServerLimits(ctx context.Context, now time.Time) (jwksMaxAge, accessTTL time.Duration, err error)
	// Secret returns the secret stored under name, storing gen() first when
	// there is none; concurrent callers all get the one stored value.
	Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error)
}
