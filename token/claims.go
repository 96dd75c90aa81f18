// Package token issues and verifies jot's access tokens: JWS-signed JWTs
// (RFC 7519) with a strict allow-list of algorithms and keys, and publishes
// the public keys as a JWK Set (RFC 7517).
package token

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of a jot access token.
type Claims struct {
	jwt.RegisteredClaims
	// SessionID is the `sid` claim: the session the token belongs to.
	SessionID string `json:"sid"`
	Role      string `json:"role"`
	Email     string `json:"email"`

	// EmailVerified is the `email_verified` claim (as in OpenID Connect).
	EmailVerified bool `json:"email_verified"`

	// Extra holds the app's own claims: written beside the standard ones
	// when issuing (a name that clashes with one of them is an error), and
	// filled with any claim this struct does not name when verifying.
	Extra map[string]any `json:"-"`
}

// knownClaims are the claim names Claims has fields for.
var knownClaims = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true,
	"jti": true, "sid": true, "role": true, "email": true, "email_verified": true}

// UnmarshalJSON decodes the claims, and any claim without a field into
// Extra.
func (c *Claims) UnmarshalJSON(data []byte) error {
	type plain Claims // without the methods, so no recursion
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for name, raw := range all {
		if knownClaims[name] {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if p.Extra == nil {
			p.Extra = make(map[string]any)
		}
		p.Extra[name] = v
	}
	*c = Claims(p)
	return nil
}

// Reason says why a token was refused; it is the `reason` of a 401 answer.
type Reason string

// The reasons.
const (
	// ReasonMissing: no token where the server looks.
	ReasonMissing Reason = "missing"
	// ReasonMalformed: not three base64url segments whose first two decode
	// to JSON objects, or longer than MaxTokenSize.
	ReasonMalformed Reason = "malformed"
	// ReasonExpired: exp is past, leeway included.
	ReasonExpired Reason = "expired"
	// ReasonRevoked: the token's session has ended.
	ReasonRevoked Reason = "revoked"
	// ReasonInvalid: any other defect (signature, algorithm, iss, aud, nbf…).
	ReasonInvalid Reason = "invalid"
)

// MaxTokenSize is the longest token accepted; longer ones are refused
// before any parsing.
const MaxTokenSize = 8 << 10

// Error is a refused token.
type Error struct {
	Reason Reason
	// Err is the cause, for logs only.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return "token " + string(e.Reason) + ": " + e.Err.Error()
	}
	return "token " + string(e.Reason)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason of a token error, ReasonInvalid for any other
// non-nil error, and "" for nil: no error is no refusal.
func ReasonOf(err error) Reason {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonInvalid
}

// MarshalJSON encodes the claims with a single audience as a plain string
// (RFC 7519 §4.1.3 allows both forms; a string is what most verifiers
// expect). jwt.ClaimStrings would follow a package-wide switch instead.
func (c Claims) MarshalJSON() ([]byte, error) {
	var aud any
	switch len(c.Audience) {
	case 0:
	case 1:
		aud = c.Audience[0]
	default:
		aud = []string(c.Audience)
	}
	std, err := json.Marshal(struct {
		Issuer    string           `json:"iss,omitempty"`
		Subject   string           `json:"sub,omitempty"`
		Audience  any              `json:"aud,omitempty"`
		ExpiresAt *jwt.NumericDate `json:"exp,omitempty"`
		NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
		IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
		ID        string           `json:"jti,omitempty"`
		SessionID string           `json:"sid"`
		Role      string           `json:"role"`
		Email     string           `json:"email"`

		EmailVerified bool `json:"email_verified"`
	}{c.Issuer, c.Subject, aud, c.ExpiresAt, c.NotBefore, c.IssuedAt, c.ID, c.SessionID, c.Role, c.Email,
		c.EmailVerified})
	if err != nil || len(c.Extra) == 0 {
		return std, err
	}
	for name := range c.Extra {
		if knownClaims[name] {
			return nil, fmt.Errorf("token: extra claim %q is a standard claim; set its field instead", name)
		}
	}
	extra, err := json.Marshal(c.Extra)
	if err != nil {
		return nil, fmt.Errorf("token: extra claims: %w", err)
	}
	// Both are JSON objects: join them as one.
	if string(extra) == "{}" {
		return std, nil
	}
	return append(append(std[:len(std)-1:len(std)-1], ','), extra[1:]...), nil
}
