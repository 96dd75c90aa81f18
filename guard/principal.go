package guard

import (
	"context"

	"github.com/jotauth/jot/token"
)

// Principal is the authenticated caller, carried in the request context.
// It marshals as {"user_id", "session_id", "role", "email"}, ready for a
// "who am I" answer; neither Claims nor User is written.
type Principal struct {
	UserID    string `json:"user_id"`
	SessionID string `json:"session_id,omitempty"`
	Role      string `json:"role,omitempty"`
	Email     string `json:"email,omitempty"`
	// Claims are the verified token's claims; nil for strategies that do not
	// use tokens (Local, or an app's own).
	Claims *token.Claims `json:"-"`
	// User is the app's own record of the caller, as Guard.User loaded it
	// (or a strategy of the app's set it); nil otherwise. It is never
	// marshalled: an app's user may hold what must not be shown.
	User any `json:"-"`
}

// principalKey is unexported so that only this package can put a Principal
// in a context: a handler can trust what FromContext returns.
type principalKey struct{}

// WithPrincipal returns a copy of ctx that carries p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal carried by ctx; ok is false when there
// is none.
func FromContext(ctx context.Context) (p *Principal, ok bool) {
	p, _ = ctx.Value(principalKey{}).(*Principal)
	return p, p != nil
}
