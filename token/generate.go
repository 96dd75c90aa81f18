package token

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// Generate makes a new key for alg, ready to sign: a key pair for ES256,
// EdDSA or RS256, a 32-byte random secret for HS256. Keep it with
// MarshalPEM (key pairs) to verify its tokens after a restart.
func Generate(alg string) (*Key, error) {
	if alg == AlgHS256 {
		secret := make([]byte, MinHMACSecret)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
		return HMACKey(secret)
	}
	sk, err := GenerateKey(alg, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	return ParseSigningKey(sk)
}

// MarshalPEM encodes the private key as PKCS #8 PEM ("PRIVATE KEY"), which
// ParsePEM and ParsePEMKey read back. HS256 secrets and verification-only
// keys have no private key pair to encode.
func (k *Key) MarshalPEM() ([]byte, error) {
	if k == nil || k.Private == nil || k.Alg == AlgHS256 {
		return nil, errors.New("token: only a private ES256, EdDSA or RS256 key has a PEM form")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("token: encode key %s: %w", k.ID, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePEM decodes a private key from PEM as ParsePEMKey does, taking the
// algorithm from the key's type: ES256 for P-256, EdDSA for Ed25519, RS256
// for RSA.
func ParsePEM(pemBytes []byte) (*Key, error) {
	var firstErr error
	for _, alg := range []string{AlgES256, AlgEdDSA, AlgRS256} {
		k, err := ParsePEMKey(alg, pemBytes)
		if err == nil {
			return k, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// NewStaticKeys returns a KeySource of fixed keys, all of one algorithm:
// the first signs and all verify. It is for an app that signs its own
// tokens with keys it keeps (Generate, ParsePEM, HMACKey); a server that
// rotates keys uses a Keyring.
func NewStaticKeys(keys ...*Key) (KeySource, error) {
	if len(keys) == 0 || keys[0] == nil {
		return nil, errors.New("token: NewStaticKeys needs a key")
	}
	alg := keys[0].Alg
	for _, k := range keys {
		if k == nil || k.Alg != alg {
			return nil, errors.New("token: NewStaticKeys needs keys of one algorithm")
		}
	}
	// Only the first key may sign: the others are kept verification-only,
	// so the timeline does not pick one of them.
	set := []*Key{keys[0]}
	for _, k := range keys[1:] {
		set = append(set, &Key{ID: k.ID, Alg: k.Alg, Public: k.Public})
	}
	ks := NewKeySet(alg, set, time.Now(), 0, 0)
	if ks.Signing() == nil {
		return nil, fmt.Errorf("token: key %s cannot sign %s", keys[0].ID, alg)
	}
	return StaticKeys(ks), nil
}

// Subject is who a token is issued for, for Issuer.IssueFor.
type Subject struct {
	// UserID becomes `sub`; required.
	UserID string
	// SessionID becomes `sid`: the session to revoke at logout. Required
	// unless the Issuer is SessionOptional.
	SessionID string
	Role      string
	Email     string
	// Extra are the app's own claims (see Claims.Extra).
	Extra map[string]any
}

// IssueFor signs an access token for s, filling the other claims as Issue
// does.
func (i *Issuer) IssueFor(s Subject) (raw string, exp time.Time, err error) {
	c := Claims{SessionID: s.SessionID, Role: s.Role, Email: s.Email, Extra: s.Extra}
	c.Subject = s.UserID
	return i.Issue(c)
}
