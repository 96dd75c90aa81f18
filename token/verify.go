package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultLeeway is the clock skew allowed on exp, nbf and iat when none is
// configured.
const DefaultLeeway = 30 * time.Second

// Verifier checks access tokens strictly: only the KeySet's algorithm,
// only its keys (chosen by kid), the signature before any claim, then exp
// (required), nbf, iat, iss and aud, and a non-empty sub and sid.
//
// A Verifier with an empty Issuer or Audience refuses every token: a
// missing setting must not silently turn a check off.
//
// Set the fields before the first Verify and leave them alone while
// Verify may run; Verify itself is safe for concurrent use.
type Verifier struct {
	Keys KeySource
	// Issuer and Audience are the `iss` and `aud` a token must carry.
	Issuer, Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat: DefaultLeeway
	// when zero, none when negative.
	Leeway time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// SessionOptional accepts tokens without a `sid`, for an app without
	// sessions that never revokes a token before it expires (guard's JWT
	// still refuses them when it checks revocations).
	SessionOptional bool

	// parser caches the jwt.Parser built from the fields above, so the hot
	// path allocates no options. An atomic.Value (unlike atomic.Pointer)
	// keeps Verifier copyable; a copy notices it is not the owner and
	// builds its own.
	parser atomic.Value // *parserCache
}

type parserCache struct {
	owner         *Verifier
	alg, iss, aud string
	leeway        time.Duration
	p             *jwt.Parser
}

// Causes of refusals that jwt does not name; see Error.Err.
var (
	errTooLong       = errors.New("token longer than MaxTokenSize")
	errShape         = errors.New("not three base64url segments with a JSON object header and payload")
	errNoKeys        = errors.New("no keys loaded")
	errNotConfigured = errors.New("verifier has no issuer or audience configured")
	errNoSubject     = errors.New("sub and sid claims are required")
	errDateType      = errors.New("exp, iat and nbf must be JSON numbers")
)

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) leeway() time.Duration {
	switch {
	case v.Leeway == 0:
		return DefaultLeeway
	case v.Leeway < 0:
		return 0
	}
	return v.Leeway
}

// jwtParser returns the parser for ks, building it when the configuration
// changed since the last call.
func (v *Verifier) jwtParser(ks *KeySet) *jwt.Parser {
	leeway := v.leeway()
	if c, _ := v.parser.Load().(*parserCache); c != nil && c.owner == v &&
		c.alg == ks.alg && c.iss == v.Issuer && c.aud == v.Audience && c.leeway == leeway {
		return c.p
	}
	c := &parserCache{owner: v, alg: ks.alg, iss: v.Issuer, aud: v.Audience, leeway: leeway}
	c.p = jwt.NewParser(
		jwt.WithValidMethods(ks.methods),
		jwt.WithIssuer(v.Issuer),
		jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(v.now),
		// Non-canonical base64 would let one signature be spelled several
		// ways; refuse it.
		jwt.WithStrictDecoding(),
	)
	v.parser.Store(c)
	return c.p
}

// Verify checks raw and returns its claims. Every error is an *Error whose
// Reason is ReasonMalformed (too long, or not three base64url segments
// whose first two are JSON objects), ReasonExpired (a token that is valid
// in every respect but its exp, leeway included, so a refresh will help) or
// ReasonInvalid (anything else).
func (v *Verifier) Verify(raw string) (*Claims, error) {
	if len(raw) > MaxTokenSize {
		return nil, &Error{Reason: ReasonMalformed, Err: errTooLong}
	}
	var ks *KeySet
	if v.Keys != nil {
		ks = v.Keys.KeySet()
	}
	if ks == nil {
		return nil, &Error{Reason: ReasonInvalid, Err: errNoKeys}
	}
	if v.Issuer == "" || v.Audience == "" {
		return nil, &Error{Reason: ReasonInvalid, Err: errNotConfigured}
	}
	c := new(Claims)
	t, err := v.jwtParser(ks).ParseWithClaims(raw, c, ks.keyfunc)
	if err != nil && errors.Is(err, errUnknownKID) {
		// A kid this server does not know may be one another instance
		// made a moment ago: a KeySource that can reload is asked to, once,
		// before the token is refused.
		if r, ok := v.Keys.(KIDReloader); ok && t != nil {
			if kid, _ := t.Header["kid"].(string); kid != "" && r.ReloadForKID(kid) {
				if ks = v.Keys.KeySet(); ks != nil {
					c = new(Claims)
					_, err = v.jwtParser(ks).ParseWithClaims(raw, c, ks.keyfunc)
				}
			}
		}
	}
	if err != nil {
		return nil, v.refusal(raw, c, err)
	}
	if !numericDates(raw) {
		return nil, &Error{Reason: ReasonInvalid, Err: errDateType}
	}
	if c.Subject == "" || (c.SessionID == "" && !v.SessionOptional) {
		return nil, &Error{Reason: ReasonInvalid, Err: errNoSubject}
	}
	return c, nil
}

// refusal classifies a jwt error. Only the refusal path pays for the shape
// check, which jwt's own errors cannot answer: it calls a JSON array or an
// exp of the wrong type alike "malformed", and null a valid header.
func (v *Verifier) refusal(raw string, c *Claims, err error) *Error {
	if !wellFormed(raw) {
		return &Error{Reason: ReasonMalformed, Err: errors.Join(errShape, err)}
	}
	// Claims are validated only after the signature verified, so an
	// expired-only failure means a genuine token that simply aged out
	// (provided its dates were numbers to begin with).
	if onlyExpired(err) && c.Subject != "" && (c.SessionID != "" || v.SessionOptional) && numericDates(raw) {
		return &Error{Reason: ReasonExpired, Err: err}
	}
	return &Error{Reason: ReasonInvalid, Err: err}
}

// onlyExpired reports whether err is a claims failure whose one defect is
// exp: an expired token whose iss is wrong as well is invalid, not
// expired, since a refresh would not help.
func onlyExpired(err error) bool {
	expired := false
	var walk func(error) bool
	walk = func(e error) bool {
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if !walk(x) {
					return false
				}
			}
			return true
		case interface{ Unwrap() error }:
			if x := u.Unwrap(); x != nil {
				return walk(x)
			}
		}
		switch e {
		case jwt.ErrTokenExpired:
			expired = true
			return true
		case jwt.ErrTokenInvalidClaims:
			return true
		}
		return false
	}
	return walk(err) && expired
}

// segmentEncoding is the base64url variant the parser accepts.
var segmentEncoding = base64.RawURLEncoding.Strict()

// wellFormed reports whether raw is three base64url segments whose first
// two decode to JSON objects: the line between malformed and invalid.
func wellFormed(raw string) bool {
	h, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return false
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") {
		return false
	}
	if _, err := segmentEncoding.DecodeString(sig); err != nil {
		return false
	}
	return jsonObjectSegment(h) && jsonObjectSegment(p)
}

func jsonObjectSegment(seg string) bool {
	b, err := segmentEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// dateClaims are the NumericDate claims, kept raw to see their JSON type.
type dateClaims struct {
	Exp json.RawMessage `json:"exp"`
	Iat json.RawMessage `json:"iat"`
	Nbf json.RawMessage `json:"nbf"`
}

// numericDates reports whether the exp, iat and nbf of raw's payload, where
// present, are JSON numbers, as RFC 7519 §2 defines NumericDate. jwt reads
// them through json.Number, which also takes a string holding digits;
// accepting "exp":"9999999999" would let a token pass a verifier here
// that other libraries refuse, so the two would disagree about it.
func numericDates(raw string) bool {
	_, rest, _ := strings.Cut(raw, ".")
	payload, _, _ := strings.Cut(rest, ".")
	b, err := segmentEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	var d dateClaims
	if err := json.Unmarshal(b, &d); err != nil {
		return false
	}
	for _, v := range []json.RawMessage{d.Exp, d.Iat, d.Nbf} {
		if len(v) > 0 && !(v[0] == '-' || '0' <= v[0] && v[0] <= '9') {
			return false
		}
	}
	return true
}
