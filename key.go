package jot

import "time"

// SigningKey is a stored asymmetric signing key. A key is `next` until
// ActivatesAt, then `current` until a newer key activates, then `retired`;
// a revoked key (RevokedAt set) is none of these: it neither signs nor
// verifies, ever again.
type SigningKey struct {
	KID string
	// Alg is the JWS algorithm: ES256, EdDSA or RS256.
	Alg string
	// Private is the private key, PKCS #8 DER, or that DER sealed with
	// the key encryption key (token.SealedKeys tells them apart).
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
