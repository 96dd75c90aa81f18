package guard

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/jotauth/jot/token"
)

// remoteKeys is the KeySource of one algorithm: the latest JWKS, so a
// refetch reaches verifiers without rebuilding them.
type remoteKeys struct {
	r   *Remote
	alg string
}

func (k remoteKeys) KeySet() *token.KeySet { return (*k.r.keys.Load())[k.alg] }

// Verify is VerifyContext without a context: a wait for a JWKS fetch is
// bounded by MaxWait alone.
func (r *Remote) Verify(raw string) (*token.Claims, error) {
	return r.VerifyContext(context.Background(), raw)
}

// VerifyContext checks raw against the issuer's keys. A token whose kid is
// not known yet (the issuer rotated) prompts one JWKS fetch, at most every
// MinRefetch, shared by every request that needs it and waited for until
// ctx ends or MaxWait passes; then it is checked again. When the JWKS
// cannot be had (the fetch failed or is still under way), such a token is
// refused with an error matching ErrUnavailable rather than as invalid:
// it may well be genuine, and a client told "invalid" would log in again
// in a loop. So is every token before the Remote is Ready.
func (r *Remote) VerifyContext(ctx context.Context, raw string) (*token.Claims, error) {
	if !r.ready.Load() {
		return nil, errNotReady
	}
	if r.stale() {
		r.logStale()
		return nil, errStale
	}
	v := r.verifiers[r.opts.Algorithms[0]]
	var alg, kid string
	peeked := false
	// With one algorithm the fast path needs no look at the header: the
	// verifier pins the algorithm itself.
	if len(r.verifiers) > 1 && len(raw) <= token.MaxTokenSize {
		alg, kid, peeked = peekHeader(raw)
		if va := r.verifiers[alg]; va != nil {
			v = va
		}
	}
	c, err := v.Verify(raw)
	// Only an invalid token can be one signed by a key not fetched yet.
	if err == nil || token.ReasonOf(err) != token.ReasonInvalid {
		return c, err
	}
	if !peeked {
		alg, kid, peeked = peekHeader(raw)
	}
	if !peeked || kid == "" || r.verifiers[alg] == nil || r.lookup(alg, kid) {
		return c, err
	}
	known, ferr := r.refetchFor(ctx, alg, kid)
	if ferr != nil {
		return nil, ferr
	}
	if !known {
		return c, err
	}
	return r.verifiers[alg].Verify(raw)
}

// Revoked reports whether the issuer's feed has listed sessionID as ended.
func (r *Remote) Revoked(sessionID string) bool { return r.revoked.Revoked(sessionID) }

func (r *Remote) lookup(alg, kid string) bool {
	ks := (*r.keys.Load())[alg]
	return ks != nil && ks.Lookup(kid) != nil
}

// peekHeader reads alg and kid from a token's header without verifying
// anything: only to pick a verifier and to decide on a refetch.
func peekHeader(raw string) (alg, kid string, ok bool) {
	h, _, found := strings.Cut(raw, ".")
	if !found {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return "", "", false
	}
	return hdr.Alg, hdr.Kid, true
}
