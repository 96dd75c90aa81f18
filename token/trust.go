package token

// Trusted reports whether the key named kid verifies tokens now: a next,
// current or still retained retired key of the verifier's KeySet. A cache
// of verified tokens asks it on every hit, so that a key dropped from the
// set (rotated out, or removed) ends its tokens at once.
func (v *Verifier) Trusted(kid string) bool {
	return kid != "" && Trusted(v.Keys, kid)
}
