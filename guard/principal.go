package guard

import (
	"context"

	"github.com/jotauth/jot/token"
)

// Principal is the authenticated caller, carried in the request context.
type Principal struct {
	UserID    string
	SessionID string
	Role      string
	Email     string
	// Claims are the verified token's claims; nil for strategies that do not
	// use tokens (Local, or an app's own).
	Claims *token.Claims
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
