package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// The signing algorithms jot supports, as named in a JWS `alg` header.
const (
	AlgHS256 = "HS256"
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
	AlgRS256 = "RS256"
)

// MinHMACSecret is the shortest HS256 secret accepted: RFC 7518 §3.2 asks
// for a key at least as long as the hash output.
const MinHMACSecret = 32

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const MinRSABits = 2048

// Key is one signing/verification key.
//
// A Key is never modified once built, so keys can be shared between
// snapshots and goroutines freely.
type Key struct {
	// ID is the `kid`: the RFC 7638 JWK thumbprint (base64url SHA-256) of
	// an asymmetric key, or for HS256 an id derived from a hash of the
	// secret that does not reveal it.
	ID string
	// Alg is one of AlgHS256, AlgES256, AlgEdDSA, AlgRS256.
	Alg string
	// Private is *ecdsa.PrivateKey, ed25519.PrivateKey, *rsa.PrivateKey or
	// the HMAC secret ([]byte); nil for a verification-only key (one from
	// a JWKS).
	Private any
	// Public is the matching *ecdsa.PublicKey, ed25519.PublicKey or
	// *rsa.PublicKey, or the HMAC secret for HS256.
	Public any
	// CreatedAt and ActivatesAt place the key on the rotation timeline: it
	// signs from ActivatesAt until a newer key activates. Zero for keys
	// that are not rotated (HMAC, PEM file, JWKS).
	CreatedAt, ActivatesAt time.Time
	// RevokedAt is when the key was revoked (`jot keys revoke`); a revoked
	// key neither signs nor verifies, and needs neither Private nor Public.
	// Zero while the key is trusted.
	RevokedAt time.Time
}

// ValidAlg reports whether alg is one of the supported algorithms.
func ValidAlg(alg string) bool {
	switch alg {
	case AlgHS256, AlgES256, AlgEdDSA, AlgRS256:
		return true
	}
	return false
}

// asymmetric reports whether alg uses a key pair, i.e. can be stored as a
// StoredKey and published in a JWKS.
func asymmetric(alg string) bool {
	return alg == AlgES256 || alg == AlgEdDSA || alg == AlgRS256
}

// GenerateKey makes a new key pair for alg (P-256 for ES256, Ed25519 for
// EdDSA, RSA 2048 for RS256), ready to be stored: Private holds PKCS #8 DER
// and KID its JWK thumbprint. HS256 has no key pair to generate: its key is
// the configured secret.
func GenerateKey(alg string, now time.Time, activatesAt time.Time) (*StoredKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, MinRSABits)
	case AlgHS256:
		return nil, errors.New("token: HS256 keys are not generated: configure a secret")
	default:
		return nil, fmt.Errorf("token: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("token: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("token: encode %s key: %w", alg, err)
	}
	kid, err := thumbprint(priv.Public())
	if err != nil {
		return nil, err
	}
	return &StoredKey{
		KID:         kid,
		Alg:         alg,
		Private:     der,
		CreatedAt:   now.UTC(),
		ActivatesAt: activatesAt.UTC(),
	}, nil
}

// ParseSigningKey decodes a stored key. It refuses a key whose type does
// not match its Alg, or whose KID is not its thumbprint: either means the
// row was not written by GenerateKey, and signing with it would publish a
// kid that verifiers cannot match.
func ParseSigningKey(k *StoredKey) (*Key, error) {
	if k == nil {
		return nil, errors.New("token: nil signing key")
	}
	priv, err := x509.ParsePKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("token: key %s: parse PKCS #8: %w", k.KID, err)
	}
	key, err := newPrivateKey(k.Alg, priv)
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %w", k.KID, err)
	}
	if k.KID != key.ID {
		return nil, fmt.Errorf("token: key %s: kid does not match the key's thumbprint %s", k.KID, key.ID)
	}
	key.CreatedAt = k.CreatedAt
	key.ActivatesAt = k.ActivatesAt
	return key, nil
}

// HMACKey makes the HS256 key for secret, which must be at least
// MinHMACSecret bytes long. The secret is copied.
func HMACKey(secret []byte) (*Key, error) {
	if len(secret) < MinHMACSecret {
		return nil, fmt.Errorf("token: HS256 secret is %d bytes, need at least %d", len(secret), MinHMACSecret)
	}
	s := append([]byte(nil), secret...)
	// The kid only has to tell secrets apart (after a secret change, old
	// tokens fail fast on an unknown kid). A domain-separated hash reveals
	// nothing that an HS256 token does not already expose to a guesser.
	sum := sha256.Sum256(append([]byte("jot HS256 kid\x00"), s...))
	return &Key{
		ID:      base64.RawURLEncoding.EncodeToString(sum[:16]),
		Alg:     AlgHS256,
		Private: s,
		Public:  s,
	}, nil
}

// ParsePEMKey decodes a private key from PEM (PKCS #8 "PRIVATE KEY", SEC 1
// "EC PRIVATE KEY" or PKCS #1 "RSA PRIVATE KEY"; other blocks such as "EC
// PARAMETERS" are skipped) and checks that it fits alg. Encrypted keys are
// not supported.
func ParsePEMKey(alg string, pemBytes []byte) (*Key, error) {
	if !asymmetric(alg) {
		return nil, fmt.Errorf("token: a PEM key needs ES256, EdDSA or RS256, not %q", alg)
	}
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("token: no private key found in PEM")
		}
		var priv any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			priv, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("token: encrypted PEM keys are not supported")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("token: parse %s: %w", block.Type, err)
		}
		return newPrivateKey(alg, priv)
	}
}

// newPrivateKey checks that priv suits alg and builds its Key.
func newPrivateKey(alg string, priv any) (*Key, error) {
	var pub crypto.PublicKey
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		if alg != AlgES256 {
			return nil, fmt.Errorf("an ECDSA key cannot be used for %s", alg)
		}
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ES256 needs a P-256 key, not %s", p.Curve.Params().Name)
		}
		pub = &p.PublicKey
	case ed25519.PrivateKey:
		if alg != AlgEdDSA {
			return nil, fmt.Errorf("an Ed25519 key cannot be used for %s", alg)
		}
		pub = p.Public()
	case *rsa.PrivateKey:
		if alg != AlgRS256 {
			return nil, fmt.Errorf("an RSA key cannot be used for %s", alg)
		}
		if n := p.N.BitLen(); n < MinRSABits {
			return nil, fmt.Errorf("RSA key is %d bits, need at least %d", n, MinRSABits)
		}
		pub = &p.PublicKey
	default:
		return nil, fmt.Errorf("unsupported private key type %T for %s", priv, alg)
	}
	kid, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}
	return &Key{ID: kid, Alg: alg, Private: priv, Public: pub}, nil
}

// newPublicKey builds a verification-only Key, checking pub suits alg.
func newPublicKey(alg, kid string, pub crypto.PublicKey) (*Key, error) {
	if kid == "" {
		var err error
		if kid, err = thumbprint(pub); err != nil {
			return nil, err
		}
	}
	return &Key{ID: kid, Alg: alg, Public: pub}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of pub: SHA-256 over the
// required members in lexicographic order, without whitespace. Every value
// is base64url, so no JSON escaping is needed.
func thumbprint(pub crypto.PublicKey) (string, error) {
	j, err := publicJWK(pub)
	if err != nil {
		return "", err
	}
	var s string
	switch j.Kty {
	case "EC":
		s = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "OKP":
		s = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	case "RSA":
		s = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// publicJWK returns the key members of pub's JWK (RFC 7518 §6).
func publicJWK(pub crypto.PublicKey) (*jwk, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		pt, err := p.Bytes() // 0x04 || X || Y, each padded to the field size
		if err != nil || p.Curve != elliptic.P256() {
			return nil, errors.New("token: ECDSA public key is not a valid P-256 key")
		}
		return &jwk{Kty: "EC", Crv: "P-256", X: b64(pt[1:33]), Y: b64(pt[33:65])}, nil
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return nil, errors.New("token: Ed25519 public key has the wrong size")
		}
		return &jwk{Kty: "OKP", Crv: "Ed25519", X: b64(p)}, nil
	case *rsa.PublicKey:
		return &jwk{Kty: "RSA", N: b64(p.N.Bytes()), E: b64(big.NewInt(int64(p.E)).Bytes())}, nil
	}
	return nil, fmt.Errorf("token: unsupported public key type %T", pub)
}
