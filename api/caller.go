package api

import (
	"net/http"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/policy"
)

// principal returns the authenticated caller; routes that need one are
// always wrapped by the guard, so a missing principal is a wiring bug.
func principal(r *http.Request) *guard.Principal {
	p, ok := guard.FromContext(r.Context())
	if !ok {
		panic("api: protected handler without a principal")
	}
	noteUser(r, p.UserID)
	noteActor(r, p.UserID)
	return p
}

// subject returns the authenticated caller as the policy sees it: the one
// place a policy.Subject is made. The role is the token's: every role
// change ends the user's sessions, so a live token's role is the stored
// one.
func subject(r *http.Request) policy.Subject {
	p := principal(r)
	return policy.Subject{UserID: p.UserID, Role: jot.Role(p.Role)}
}

// caller is the account service's name for the principal: its user and
// session ids.
func caller(p *guard.Principal) accounts.Caller {
	return accounts.Caller{UserID: p.UserID, SessionID: p.SessionID}
}
