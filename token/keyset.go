package token

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The states of a key on the rotation timeline, as `jot keys list` shows
// them.
const (
	// StateNext: published for verification, signing from ActivatesAt on.
	StateNext = "next"
	// StateCurrent: the key that signs.
	StateCurrent = "current"
	// StateRetired: superseded by a newer key; it keeps verifying until the
	// tokens it signed have expired (KeyInfo.DropsAt), then is dropped.
	StateRetired = "retired"
	// StateVerify: a verification-only key (no private key, e.g. from a
	// JWKS), outside the rotation timeline: it verifies, never signs.
	StateVerify = "verify"
	// StateRevoked: a leaked key taken out of service by `jot keys
	// revoke`: never published, signing or verifying again.
	StateRevoked = "revoked"
)

// KeyInfo describes one key of a KeySet, for `jot keys list`.
type KeyInfo struct {
	KID   string
	Alg   string
	State string
	// Verifies reports whether the key is accepted for verification (and,
	// if asymmetric, published in the JWKS). A retired key stops at DropsAt.
	Verifies    bool
	CreatedAt   time.Time
	ActivatesAt time.Time
	// RetiredAt is when the next key took over signing; zero unless retired.
	RetiredAt time.Time
	// DropsAt is RetiredAt plus the access TTL and leeway; zero unless retired.
	DropsAt time.Time
	// RevokedAt is when the key was revoked; zero unless revoked.
	RevokedAt time.Time
}

// KeySource yields the current KeySet snapshot. Issuer and Verifier ask it
// on every call, so a rotation takes effect without rebuilding them.
type KeySource interface {
	KeySet() *KeySet
}

// StaticKeys returns a KeySource that always yields ks.
func StaticKeys(ks *KeySet) KeySource { return staticKeys{ks} }

type staticKeys struct{ ks *KeySet }

func (s staticKeys) KeySet() *KeySet { return s.ks }

// KeySet is an immutable snapshot of the keys of one algorithm at one
// moment: which key signs, which verify, and the JWKS that publishes them.
// Everything Verify needs is computed once here, so the hot path only reads.
// It is safe for concurrent use.
type KeySet struct {
	alg     string
	method  jwt.SigningMethod
	methods []string // for jwt.WithValidMethods; never modified
	signing *Key
	byKID   map[string]*Key
	revoked map[string]bool // kids of revoked keys, which no reload brings back
	jwks    []byte
	infos   []KeyInfo
	keyfunc jwt.Keyfunc
}

// NewKeySet builds the snapshot of keys at now for alg. Keys of any other
// algorithm are ignored, as are nil entries, repeated ids, and keys whose
// public key does not fit alg (they could verify nothing).
//
// Keys with a private key form the rotation timeline, ordered by
// ActivatesAt, then CreatedAt, then their order in keys: the current key
// is the last one whose ActivatesAt is not after now; later ones are next.
// A key superseded at T (the ActivatesAt of the key after it) keeps
// verifying until T + accessTTL + leeway, because a token it signed just
// before T is valid until then. Keys without a private key (parsed from a
// JWKS) always verify and never sign.
func NewKeySet(alg string, keys []*Key, now time.Time, accessTTL, leeway time.Duration) *KeySet {
	s := &KeySet{
		alg:     alg,
		method:  jwt.GetSigningMethod(alg),
		methods: []string{alg},
		byKID:   make(map[string]*Key),
	}
	s.keyfunc = s.keyFor
	if !ValidAlg(alg) {
		// An unknown alg must not resolve to whatever the jwt library has
		// registered under that name (such as "none"): an empty, non-nil
		// allow-list makes the parser refuse every method.
		s.method, s.methods, keys = nil, []string{}, nil
	}

	seen := make(map[string]bool)
	var timeline, verifyOnly, revoked []*Key
	for _, k := range keys {
		if k != nil && k.Alg == alg && k.ID != "" && !seen[k.ID] && !k.RevokedAt.IsZero() {
			// Out of the timeline altogether: a revoked key that had not
			// activated yet must never become current, and the key before
			// a revoked one keeps verifying until the next trusted key
			// took over, which is never earlier.
			seen[k.ID] = true
			revoked = append(revoked, k)
			continue
		}
		if k == nil || k.Alg != alg || k.ID == "" || seen[k.ID] || !usable(k) {
			continue
		}
		seen[k.ID] = true
		if k.Private == nil {
			verifyOnly = append(verifyOnly, k)
		} else {
			timeline = append(timeline, k)
		}
	}
	// Stable: keys with equal times (a store that keeps whole seconds) stay
	// in the given order, which for a KeyStore is oldest first, so the key
	// stored last wins.
	slices.SortStableFunc(timeline, func(a, b *Key) int {
		return cmp.Or(a.ActivatesAt.Compare(b.ActivatesAt), a.CreatedAt.Compare(b.CreatedAt))
	})
	cur := -1
	for i, k := range timeline {
		if !k.ActivatesAt.After(now) {
			cur = i
		}
	}

	// Order for the JWKS and the listing: current, next (soonest first),
	// retired (latest first), then verification-only keys. Consumers that
	// take the first key they find get the signing one.
	var published []*Key
	info := func(k *Key, state string) KeyInfo {
		return KeyInfo{KID: k.ID, Alg: k.Alg, State: state, Verifies: true, CreatedAt: k.CreatedAt, ActivatesAt: k.ActivatesAt}
	}
	if cur >= 0 {
		s.signing = timeline[cur]
		s.infos = append(s.infos, info(s.signing, StateCurrent))
		published = append(published, s.signing)
	}
	for _, k := range timeline[cur+1:] {
		s.infos = append(s.infos, info(k, StateNext))
		published = append(published, k)
	}
	for i := cur - 1; i >= 0; i-- {
		k := timeline[i]
		ki := info(k, StateRetired)
		ki.RetiredAt = timeline[i+1].ActivatesAt
		ki.DropsAt = ki.RetiredAt.Add(accessTTL + leeway)
		ki.Verifies = now.Before(ki.DropsAt)
		s.infos = append(s.infos, ki)
		if ki.Verifies {
			published = append(published, k)
		}
	}
	for _, k := range verifyOnly {
		s.infos = append(s.infos, info(k, StateVerify))
		published = append(published, k)
	}
	// Listed last, never published nor looked up.
	for _, k := range revoked {
		if s.revoked == nil {
			s.revoked = make(map[string]bool, len(revoked))
		}
		s.revoked[k.ID] = true
		ki := info(k, StateRevoked)
		ki.Verifies, ki.RevokedAt = false, k.RevokedAt
		s.infos = append(s.infos, ki)
	}
	for _, k := range published {
		s.byKID[k.ID] = k
	}
	s.jwks = marshalJWKS(published)
	return s
}

// Alg returns the one algorithm this set signs and accepts.
func (s *KeySet) Alg() string { return s.alg }

// Signing returns the current key, or nil when no key has activated yet.
func (s *KeySet) Signing() *Key { return s.signing }

// Lookup returns the verification key named kid: a next, current or still
// retained retired key. It returns nil for any other kid, a revoked one
// included.
func (s *KeySet) Lookup(kid string) *Key { return s.byKID[kid] }

// JWKS returns the JWK Set of the public verification keys, computed once
// when the set was built; `{"keys":[]}` under HS256, whose key is secret.
// The slice is shared: callers must not modify it.
func (s *KeySet) JWKS() []byte { return s.jwks }

// Keys describes every key of the set's algorithm, including retired keys
// that no longer verify, current first and revoked keys last.
func (s *KeySet) Keys() []KeyInfo { return slices.Clone(s.infos) }

// Errors a key function reports; static so refusing a token allocates no
// more than it must. They are causes for logs: every one is ReasonInvalid.
var (
	errUnknownKID   = errors.New("unknown or missing kid")
	errHeaderParam  = errors.New("header names a key or critical extension (jku, x5u, jwk, x5c, crit)")
	errTyp          = errors.New("typ header is not JWT")
	errAlgMismatch  = errors.New("alg does not match the key")
	forbiddenParams = [...]string{"jku", "x5u", "jwk", "x5c", "crit"}
)

// keyFor is the jwt.Keyfunc: it picks the key by kid from this set only,
// never from anything the token carries.
func (s *KeySet) keyFor(t *jwt.Token) (any, error) {
	for _, p := range forbiddenParams {
		if _, ok := t.Header[p]; ok {
			return nil, errHeaderParam
		}
	}
	if typ, ok := t.Header["typ"]; ok {
		if str, _ := typ.(string); !strings.EqualFold(str, "JWT") {
			return nil, errTyp
		}
	}
	kid, _ := t.Header["kid"].(string)
	k := s.byKID[kid]
	if k == nil {
		return nil, errUnknownKID
	}
	// WithValidMethods already pins the alg; this guards the pairing of
	// key and method in case a set were ever built with mixed keys.
	if t.Method == nil || t.Method.Alg() != k.Alg {
		return nil, errAlgMismatch
	}
	return k.Public, nil
}

// usable reports whether k's public key is one its Alg can verify with.
func usable(k *Key) bool {
	switch p := k.Public.(type) {
	case []byte:
		return k.Alg == AlgHS256 && len(p) >= MinHMACSecret
	case *ecdsa.PublicKey:
		return k.Alg == AlgES256 && p.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return k.Alg == AlgEdDSA && len(p) == ed25519.PublicKeySize
	case *rsa.PublicKey:
		return k.Alg == AlgRS256 && p.N != nil && p.N.BitLen() >= MinRSABits
	}
	return false
}
