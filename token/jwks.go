package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// jwk is a public JSON Web Key (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2),
// with only the members jot writes and reads. Field order is the order the
// JWKS shows them in.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

type jwkSet struct {
	Keys []*jwk `json:"keys"`
}

// marshalJWKS encodes the public halves of the asymmetric keys among keys.
// An HMAC key is skipped: its "public" key is the secret.
func marshalJWKS(keys []*Key) []byte {
	set := jwkSet{Keys: []*jwk{}}
	for _, k := range keys {
		if !asymmetric(k.Alg) {
			continue
		}
		j, err := publicJWK(k.Public)
		if err != nil {
			continue // NewKeySet admits only usable keys; nothing to publish
		}
		j.Kid, j.Alg, j.Use = k.ID, k.Alg, "sig"
		set.Keys = append(set.Keys, j)
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic("token: marshal JWKS: " + err.Error())
	}
	return b
}

// ParseJWKS decodes the public keys of a JWK Set (RFC 7517 §5), such as the
// one jot serves at /.well-known/jwks.json, for a service that verifies
// tokens offline: pass the keys to NewKeySet.
//
// It keeps EC P-256 (ES256), OKP Ed25519 (EdDSA) and RSA (RS256, at least
// 2048 bits) signature keys, and skips, rather than failing the whole set
// for, any key of another kty, curve or alg, one whose use is not "sig",
// and a short RSA key. A key of a supported type whose members do not
// decode to a valid key is an error: the set is corrupt. A key without a
// kid gets its RFC 7638 thumbprint as ID.
func ParseJWKS(data []byte) ([]*Key, error) {
	var set struct {
		Keys *[]jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("token: parse JWKS: %w", err)
	}
	if set.Keys == nil {
		return nil, errors.New(`token: parse JWKS: no "keys" member`)
	}
	var keys []*Key
	for i, j := range *set.Keys {
		k, err := parseJWK(&j)
		if err != nil {
			return nil, fmt.Errorf("token: parse JWKS: key %d (kid %q): %w", i, j.Kid, err)
		}
		if k != nil {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// parseJWK returns nil, nil for a key to skip.
func parseJWK(j *jwk) (*Key, error) {
	if j.Use != "" && j.Use != "sig" {
		return nil, nil
	}
	switch j.Kty {
	case "EC":
		if j.Crv != "P-256" || (j.Alg != "" && j.Alg != AlgES256) {
			return nil, nil
		}
		x, err := decodeCoord(j.X, 32)
		if err != nil {
			return nil, fmt.Errorf("x: %w", err)
		}
		y, err := decodeCoord(j.Y, 32)
		if err != nil {
			return nil, fmt.Errorf("y: %w", err)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, err
		}
		return newPublicKey(AlgES256, j.Kid, pub)
	case "OKP":
		if j.Crv != "Ed25519" || (j.Alg != "" && j.Alg != AlgEdDSA) {
			return nil, nil
		}
		x, err := decodeCoord(j.X, ed25519.PublicKeySize)
		if err != nil {
			return nil, fmt.Errorf("x: %w", err)
		}
		return newPublicKey(AlgEdDSA, j.Kid, ed25519.PublicKey(x))
	case "RSA":
		if j.Alg != "" && j.Alg != AlgRS256 {
			return nil, nil
		}
		n, err := base64.RawURLEncoding.DecodeString(j.N)
		if err != nil || len(n) == 0 {
			return nil, errors.New("n is not base64url")
		}
		e, err := base64.RawURLEncoding.DecodeString(j.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("e is not a base64url integer of at most 32 bits")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.E < 3 || pub.E%2 == 0 || pub.E > 1<<31-1 {
			return nil, fmt.Errorf("e = %d is not a valid RSA exponent", pub.E)
		}
		if pub.N.BitLen() < MinRSABits {
			return nil, nil
		}
		return newPublicKey(AlgRS256, j.Kid, pub)
	}
	return nil, nil
}

// decodeCoord decodes a fixed-size base64url member.
func decodeCoord(s string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	if len(b) != size {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), size)
	}
	return b, nil
}
