package guard

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/jotauth/jot/internal/httpio"
)

// Local returns the username/password strategy, Passport-local's
// counterpart. It reads `email` (or `username`, what Passport clients send)
// and `password` from a JSON or form-encoded body and lets check decide.
//
// check returns the Principal, or ErrInvalidCredentials (or a nil Principal)
// for a wrong email, a wrong password or a disabled account alike; any other
// error is a failure of check itself, not an answer about the caller.
//
// A request with no body, another content type or neither field carries no
// credentials, so the next strategy is tried. Malformed JSON, unknown JSON
// fields (names are matched exactly, case included), a field sent twice, a
// missing password or both email and username are bad requests: the body
// is read as the jot server reads its own login.
// The body is restored afterwards, so handlers behind the strategy can read
// it too.
func Local(check func(ctx context.Context, email, password string) (*Principal, error)) Strategy {
	if check == nil {
		panic("guard: Local needs a check function")
	}
	return StrategyFunc(func(r *http.Request) (*Principal, error) {
		email, password, err := readLogin(r)
		if err != nil {
			return nil, err
		}
		p, err := check(r.Context(), email, password)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, ErrInvalidCredentials
		}
		return p, nil
	})
}

func readLogin(r *http.Request) (email, password string, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", "", ErrNoCredentials
	}
	mediaType, err := httpio.MediaType(r)
	if err != nil || (mediaType != "application/json" && mediaType != httpio.Form) {
		return "", "", ErrNoCredentials
	}
	data, err := httpio.Read(r)
	if err != nil {
		return "", "", loginError(err)
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(data))

	// The parser of the jot server's own login: docs/api.md has unknown
	// JSON fields refused, so that a typo such as "emial" is not mistaken
	// for an absent email. Pointers tell an absent field (perhaps not a
	// login) from an empty one (a bad login); a JSON null is absent.
	p, err := httpio.Params(mediaType, data, []string{"email", "username", "password"}, true)
	if err != nil {
		return "", "", loginError(err)
	}
	login, username, pw := p["email"], p["username"], p["password"]
	if login != nil && username != nil {
		return "", "", badRequest("send email or username, not both", nil)
	}
	if login == nil {
		login = username
	}
	if login == nil && pw == nil {
		return "", "", ErrNoCredentials
	}
	if login == nil || *login == "" || pw == nil || *pw == "" {
		return "", "", badRequest("email and password are required", nil)
	}
	return *login, *pw, nil
}

// loginError answers a login body that cannot be read, in fixed text: the
// parser's words may quote what the client sent.
func loginError(err error) error {
	switch httpio.ProblemOf(err) {
	case httpio.TooLarge:
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large", desc: "request body too large", err: err}
	case httpio.Empty:
		return ErrNoCredentials
	case httpio.UnknownField:
		return badRequest("unknown field in JSON body", err)
	case httpio.BadForm:
		return badRequest("malformed form body", err)
	case httpio.BadJSON:
		return badRequest("malformed JSON body", err)
	default:
		return badRequest("cannot read request body", err)
	}
}
