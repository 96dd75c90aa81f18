package jot

import (
	"fmt"

	"github.com/jotauth/jot/token"
)

// SigningKey is a stored asymmetric signing key: see token.StoredKey.
type SigningKey = token.StoredKey

// KeyServer is what one running server records about its keys' timeline:
// see token.KeyServer.
type KeyServer = token.KeyServer

// KeyStore keeps signing keys and server secrets: see token.KeyStore. The
// notes its RevokeSigningKey takes are *Audit values, stored with the
// revocation (AuditsOf).
type KeyStore = token.KeyStore

// AuditsOf returns the audits among notes, the values a caller handed to
// KeyStore.RevokeSigningKey (through token.Keyring.Revoke) for the store to
// record with the revocation. A note that is not an *Audit is an error: the
// caller meant it to be stored, and no store of jot knows how.
func AuditsOf(notes []token.RevokeNote) ([]*Audit, error) {
	audits := make([]*Audit, 0, len(notes))
	for _, n := range notes {
		if n == nil {
			continue
		}
		a, ok := n.(*Audit)
		if !ok {
			return nil, fmt.Errorf("jot: a key revocation note must be a *jot.Audit, not %T", n)
		}
		audits = append(audits, a)
	}
	return audits, nil
}
