package api

import (
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/guard"
)

// caller is the account service's name for the principal: its user and
// session ids.
func caller(p *guard.Principal) accounts.Caller {
	return accounts.Caller{UserID: p.UserID, SessionID: p.SessionID}
}
