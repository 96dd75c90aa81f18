package guard

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/jotauth/jot/token"
)

// Guard runs authentication strategies in front of handlers and answers
// the requests they refuse. The zero value refuses everything as missing;
// set Strategies. A Guard must not be changed once it is in use.
type Guard struct {
	// Strategies are tried in order; the first success wins.
	Strategies []Strategy
	// Realm is the realm of WWW-Authenticate challenges; default "jot".
	Realm string
	// OnRefuse, if set, is called with every refusal before it is written
	// (metrics, logs). reason is empty for refusals that are not about a
	// token (wrong login, bad request, role).
	OnRefuse func(r *http.Request, status int, reason token.Reason)
	// OnError, if set, answers the errors of a strategy that failed rather
	// than refused (a database is down), as Passport hands them to next(err).
	// The default answers 500 server_error and shows nothing of err.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	// Render, if set, writes every refusal in the app's own error shape.
	// The guard has set the headers the answer needs (WWW-Authenticate,
	// Retry-After) before; Render writes the status and the body. The
	// default writes jot's shape: {"error", "error_description",
	// "status", "reason"}.
	Render func(w http.ResponseWriter, r *http.Request, f Refusal)
	// User, if set, loads the app's own record of a caller a strategy
	// authenticated, into Principal.User. Returning a *token.Error (such
	// as one with token.ReasonRevoked, for a user deleted since) or
	// ErrInvalidCredentials refuses the request; any other error is a
	// failure, answered by OnError.
	User func(ctx context.Context, p *Principal) (any, error)
}

// Authenticate runs the strategies in order and returns the first
// Principal one of them finds. Without one, it returns ErrNoCredentials if
// every strategy found nothing, and otherwise the first other error: a
// refused token decides over strategies that had nothing to say. A failed
// strategy (not a refusal) ends the search at once, since later strategies
// might hide an outage behind a misleading 401. Guard is itself a Strategy.
func (g *Guard) Authenticate(r *http.Request) (*Principal, error) {
	var first error
	for _, s := range g.Strategies {
		p, err := s.Authenticate(r)
		if err == nil && p != nil {
			if g.User != nil {
				u, err := g.User(r.Context(), p)
				if err != nil {
					return nil, err
				}
				p.User = u
			}
			return p, nil
		}
		// A strategy that returns neither is treated as having found
		// nothing: it must not let the request through.
		if err == nil || isMissing(err) {
			continue
		}
		if first == nil {
			first = err
		}
		if !isRefusal(err) {
			break
		}
	}
	if first == nil {
		return nil, ErrNoCredentials
	}
	return nil, first
}

// Require returns next behind the guard: requests that a strategy
// authenticates reach next with their Principal in the context (see
// FromContext); the others are answered here.
func (g *Guard) Require(next http.Handler) http.Handler {
	// A snapshot, so that a Guard changed later cannot race with requests.
	gg := *g
	gg.Strategies = slices.Clone(g.Strategies)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := gg.Authenticate(r)
		if err != nil {
			gg.Refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// RequireRole returns middleware that lets through only callers whose role
// is one of roles. It goes behind Require: without a Principal in the
// context the answer is 401 missing, and with another role it is 403
// insufficient_scope. It panics without roles, which could only ever
// refuse.
func (g *Guard) RequireRole(roles ...string) func(http.Handler) http.Handler {
	if len(roles) == 0 {
		panic("guard: RequireRole needs at least one role")
	}
	roles = slices.Clone(roles)
	gg := *g
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				gg.Refuse(w, r, ErrNoCredentials)
				return
			}
			if !slices.Contains(roles, p.Role) {
				gg.refused(r, http.StatusForbidden, "")
				gg.write(w, r, forbidden(w.Header(), gg.Realm, "this role may not do this"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Refuse answers a request for an error of Authenticate or of a strategy:
// 401 invalid_token with the reason of a *token.Error, 401
// invalid_credentials for ErrInvalidCredentials, 400 or 413 for a request
// whose credentials cannot be read, 503 unavailable with Retry-After for
// ErrUnavailable, and OnError (default 500) for anything else. Handlers that run a strategy themselves use it to answer alike.
func (g *Guard) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	var (
		te *token.Error
		re *requestError
	)
	switch {
	case errors.As(err, &te):
		reason := te.Reason
		if _, ok := reasonText[reason]; !ok {
			reason = token.ReasonInvalid
		}
		g.refused(r, http.StatusUnauthorized, reason)
		g.write(w, r, unauthorized(w.Header(), g.Realm, reason, ""))
	case errors.Is(err, ErrInvalidCredentials):
		g.refused(r, http.StatusUnauthorized, "")
		g.write(w, r, invalidCredentials(w.Header(), g.Realm))
	case errors.As(err, &re):
		g.refused(r, re.status, "")
		g.write(w, r, Refusal{Error: re.code, Description: re.desc, Status: re.status})
	case errors.Is(err, ErrUnavailable):
		g.refused(r, http.StatusServiceUnavailable, "")
		w.Header().Set("Retry-After", retryAfter)
		g.write(w, r, Refusal{Error: "unavailable", Description: "the token issuer cannot be reached; retry shortly", Status: http.StatusServiceUnavailable})
	case g.OnError != nil:
		g.OnError(w, r, err)
	default:
		g.write(w, r, Refusal{Error: "server_error", Description: "internal error", Status: http.StatusInternalServerError})
	}
}

// write answers a refusal with Render, or in jot's shape.
func (g *Guard) write(w http.ResponseWriter, r *http.Request, p Refusal) {
	if g.Render == nil {
		WriteRefusal(w, p)
		return
	}
	p.Description = ErrorDescription(p.Description)
	g.Render(w, r, p)
}

// Optional returns next behind the guard for routes that serve anonymous
// callers too: a request without credentials reaches next without a
// Principal, one that a strategy authenticates reaches it with one, and
// one whose credentials are refused (a bad or expired token) is answered
// as Require answers it, so a client learns that its token is no good.
func (g *Guard) Optional(next http.Handler) http.Handler {
	gg := *g
	gg.Strategies = slices.Clone(g.Strategies)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := gg.Authenticate(r)
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		case isMissing(err):
			next.ServeHTTP(w, r)
		default:
			gg.Refuse(w, r, err)
		}
	})
}

// retryAfter is the Retry-After of a 503, in seconds: about a poll of a
// Remote, after which the issuer may well answer again.
const retryAfter = "5"

func (g *Guard) refused(r *http.Request, status int, reason token.Reason) {
	if g.OnRefuse != nil {
		g.OnRefuse(r, status, reason)
	}
}

// isRefusal reports whether err is an answer about the caller rather than a
// failure of the strategy.
func isRefusal(err error) bool {
	var te *token.Error
	return errors.As(err, &te) || errors.Is(err, ErrInvalidCredentials) || errors.Is(err, ErrBadRequest)
}

// Require returns middleware that authenticates requests with strategies,
// using a Guard with default settings.
func Require(strategies ...Strategy) func(http.Handler) http.Handler {
	g := &Guard{Strategies: strategies}
	return g.Require
}

// Optional returns middleware that authenticates requests with strategies
// when they carry credentials and lets anonymous ones through, using a
// Guard with default settings (see Guard.Optional).
func Optional(strategies ...Strategy) func(http.Handler) http.Handler {
	g := &Guard{Strategies: strategies}
	return g.Optional
}

// RequireRole returns middleware that lets through only callers whose role
// is one of roles, answering as a Guard with default settings does (see
// Guard.RequireRole).
func RequireRole(roles ...string) func(http.Handler) http.Handler {
	return (&Guard{}).RequireRole(roles...)
}
