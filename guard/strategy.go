package guard

import (
	"errors"
	"net/http"

	"github.com/jotauth/jot/token"
)

// Strategy authenticates a request, as a Passport strategy does. It returns
// the caller, or an error saying why not:
//
//   - ErrNoCredentials (any error whose token.ReasonOf is token.ReasonMissing)
//     when it finds nothing it understands, so the next strategy is tried;
//   - a *token.Error with another reason for a token that is refused;
//   - ErrInvalidCredentials for a wrong login;
//   - an error matching ErrBadRequest for credentials it cannot read;
//   - any other error when the strategy itself failed (a database is down):
//     that is not an authentication answer, and Guard hands it to OnError.
type Strategy interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// StrategyFunc is a function used as a Strategy.
type StrategyFunc func(r *http.Request) (*Principal, error)

// Authenticate calls f(r).
func (f StrategyFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// ErrNoCredentials is what a strategy returns when the request carries none
// of the credentials it looks for.
var ErrNoCredentials = &token.Error{Reason: token.ReasonMissing}

// ErrInvalidCredentials is what a Local check returns for a wrong email or
// password or a disabled account: one error for all three, so the answer
// cannot tell them apart.
var ErrInvalidCredentials = errors.New("guard: invalid credentials")

// ErrBadRequest matches errors of credentials that cannot be read: a
// malformed body, a missing field, both email and username.
var ErrBadRequest = errors.New("guard: bad request")

// requestError is a defect of the request itself; desc is fixed text that is
// safe to show, never a parser's message.
type requestError struct {
	status int
	code   string
	desc   string
	err    error
}

func (e *requestError) Error() string {
	if e.err != nil {
		return "guard: " + e.desc + ": " + e.err.Error()
	}
	return "guard: " + e.desc
}

func (e *requestError) Unwrap() error { return e.err }

func (e *requestError) Is(target error) bool { return target == ErrBadRequest }

func badRequest(desc string, err error) error {
	return &requestError{status: http.StatusBadRequest, code: "invalid_request", desc: desc, err: err}
}

// isMissing reports whether err means "no credentials here".
func isMissing(err error) bool {
	return err != nil && token.ReasonOf(err) == token.ReasonMissing
}
