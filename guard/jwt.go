package guard

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"

	"github.com/jotauth/jot/token"
)

// TokenVerifier checks a raw token and returns its claims. Refusals should
// be *token.Error values so that their reason reaches the client; any other
// error counts as token.ReasonInvalid.
type TokenVerifier interface {
	Verify(raw string) (*token.Claims, error)
}

// ContextVerifier is a TokenVerifier whose check may wait (for a fetch
// of keys, as Remote's does): JWT calls VerifyContext with the request's
// context, so a request that ends stops waiting.
type ContextVerifier interface {
	VerifyContext(ctx context.Context, raw string) (*token.Claims, error)
}

// RevocationChecker tells whether a session has ended.
type RevocationChecker interface {
	Revoked(sessionID string) bool
}

// JWTOptions configure the JWT strategy.
type JWTOptions struct {
	// Extractor finds the token; the default is FromAuthHeader(), the
	// Bearer scheme only.
	Extractor Extractor
	// Revocations, if set, refuses tokens of ended sessions. With it set, a
	// token without a sid is refused too: it could never be revoked.
	Revocations RevocationChecker
	// Cache, if set, remembers the tokens that verified (see TokenCache),
	// so a token presented again skips the signature check. It is used
	// only with a verifier that is a KeyTruster (token.Verifier and Remote
	// are): every hit asks it whether the token's key is still trusted,
	// and checks Revocations, as a fresh verification would.
	Cache *TokenCache
}

// JWT returns the bearer token strategy: it extracts a token, has v verify
// it, checks that its session is still live and makes a Principal of its
// claims.
func JWT(v TokenVerifier, opts JWTOptions) Strategy {
	if v == nil {
		panic("guard: JWT needs a TokenVerifier")
	}
	extract := opts.Extractor
	if extract == nil {
		extract = FromAuthHeader()
	}
	verify := func(r *http.Request, raw string) (*token.Claims, error) { return v.Verify(raw) }
	if cv, ok := v.(ContextVerifier); ok {
		verify = func(r *http.Request, raw string) (*token.Claims, error) { return cv.VerifyContext(r.Context(), raw) }
	}
	revocations := opts.Revocations
	cache := opts.Cache
	var trusted func(kid string) bool
	if kt, ok := v.(KeyTruster); ok {
		trusted = kt.Trusted
	} else {
		// Without a way to learn that a key was dropped, a remembered
		// token could outlive its key: verify every time.
		cache = nil
	}
	return StrategyFunc(func(r *http.Request) (*Principal, error) {
		raw := extract(r)
		if raw == "" {
			return nil, ErrNoCredentials
		}
		if raw == Ambiguous {
			return nil, badRequest("the access token was sent more than once", nil)
		}
		// Checked here as well as in the verifier, so that no verifier ever
		// spends effort on an oversized token.
		if len(raw) > token.MaxTokenSize {
			return nil, &token.Error{Reason: token.ReasonMalformed, Err: errors.New("token longer than MaxTokenSize")}
		}
		var key [sha256.Size]byte
		var claims *token.Claims
		if cache != nil {
			key = cacheKey(raw)
			claims = cache.get(&key, trusted)
		}
		fresh := claims == nil
		if fresh {
			var err error
			if claims, err = verify(r, raw); err != nil {
				return nil, refusal(err)
			}
			// Fail closed on a verifier that says yes without saying who.
			if claims == nil || claims.Subject == "" {
				return nil, errNoSubject
			}
		}
		if revocations != nil {
			if claims.SessionID == "" {
				return nil, errNoSID
			}
			if revocations.Revoked(claims.SessionID) {
				return nil, errRevoked
			}
		}
		if fresh && cache != nil {
			// The kid is read only now, from a token whose signature
			// verified, so its header is the issuer's.
			if _, kid, ok := peekHeader(raw); ok {
				cache.put(&key, kid, claims)
			}
		}
		return &Principal{
			UserID:    claims.Subject,
			SessionID: claims.SessionID,
			Role:      claims.Role,
			Email:     claims.Email,
			Claims:    claims,
		}, nil
	})
}

// The guard's own refusals; static, so that refusing allocates nothing.
var (
	errNoSubject = &token.Error{Reason: token.ReasonInvalid, Err: errors.New("token has no subject")}
	errNoSID     = &token.Error{Reason: token.ReasonInvalid, Err: errors.New("token has no sid")}
	errRevoked   = &token.Error{Reason: token.ReasonRevoked}
)

// refusal makes a verifier's error a *token.Error, keeping its reason. A
// token was present, so "missing" from a verifier is a bug there; it
// becomes "invalid" rather than letting the next strategy decide. An error
// matching ErrUnavailable stays as it is: it is no answer about the token.
func refusal(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	var te *token.Error
	if errors.As(err, &te) && te.Reason != token.ReasonMissing && te.Reason != "" {
		return err
	}
	return &token.Error{Reason: token.ReasonInvalid, Err: err}
}
