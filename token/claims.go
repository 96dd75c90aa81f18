// Package token issues and verifies jot's access tokens: JWS-signed JWTs
// (RFC 7519) with a strict allow-list of algorithms and keys, and publishes
// the public keys as a JWK Set (RFC 7517).
package token

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of a jot access token.
type Claims struct {
	jwt.RegisteredClaims
	// SessionID is the `sid` claim: the session the token belongs to.
	SessionID string `json:"sid"`
	Role      string `json:"role"`
	Email     string `json:"email"`
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

// ReasonOf returns the reason of a token error, and ReasonInvalid for any
// other non-nil error.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonInvalid
}
