package token

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer signs access tokens with the current key of its KeySource.
type Issuer struct {
	Keys KeySource
	// Issuer and Audience become the `iss` and `aud` claims.
	Issuer, Audience string
	// TTL is the lifetime of a token: exp = now + TTL.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// SessionOptional issues tokens without a `sid` (see
	// Verifier.SessionOptional).
	SessionOptional bool
}

// Issue signs c as an access token and returns it with its `exp`. It fills
// each of iss, aud (a single string), iat, nbf (both now), exp (now + TTL)
// and jti (128 random bits, base64url) that c leaves unset, so a caller
// that needs exp before issuing can set it. The header carries alg,
// typ "JWT" and the signing key's kid. c must name a subject and a
// session (unless SessionOptional): Verify refuses tokens without them.
func (i *Issuer) Issue(c Claims) (raw string, exp time.Time, err error) {
	if c.Subject == "" {
		return "", time.Time{}, errors.New("token: issue: sub is required")
	}
	if c.SessionID == "" && !i.SessionOptional {
		return "", time.Time{}, errors.New("token: issue: sid is required (or set SessionOptional)")
	}
	var ks *KeySet
	if i.Keys != nil {
		ks = i.Keys.KeySet()
	}
	if ks == nil {
		return "", time.Time{}, errors.New("token: issue: no keys loaded")
	}
	key := ks.Signing()
	if key == nil || ks.method == nil {
		return "", time.Time{}, fmt.Errorf("token: issue: no %s signing key is active", ks.alg)
	}
	now := time.Now()
	if i.Now != nil {
		now = i.Now()
	}
	if c.Issuer == "" {
		c.Issuer = i.Issuer
	}
	if len(c.Audience) == 0 && i.Audience != "" {
		c.Audience = jwt.ClaimStrings{i.Audience}
	}
	if c.IssuedAt == nil {
		c.IssuedAt = jwt.NewNumericDate(now)
	}
	if c.NotBefore == nil {
		c.NotBefore = jwt.NewNumericDate(now)
	}
	if c.ExpiresAt == nil {
		if i.TTL <= 0 {
			return "", time.Time{}, errors.New("token: issue: TTL must be positive")
		}
		c.ExpiresAt = jwt.NewNumericDate(now.Add(i.TTL))
	}
	if c.ID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		c.ID = base64.RawURLEncoding.EncodeToString(b[:])
	}
	t := jwt.NewWithClaims(ks.method, c)
	t.Header["kid"] = key.ID
	raw, err = t.SignedString(key.Private)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: sign with %s key %s: %w", ks.alg, key.ID, err)
	}
	// The exp in the token is truncated to whole seconds; return that one,
	// so what the caller records matches what verifiers see.
	return raw, c.ExpiresAt.Time, nil
}
