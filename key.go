package jot

import "time"

// SigningKey is a stored asymmetric signing key. A key is `next` until
// ActivatesAt, then `current` until a newer key activates, then `retired`.
type SigningKey struct {
	KID string
	// Alg is the JWS algorithm: ES256, EdDSA or RS256.
	Alg string
	// Private is the private key, PKCS #8 DER.
	Private     []byte
	CreatedAt   time.Time
	ActivatesAt time.Time
}
