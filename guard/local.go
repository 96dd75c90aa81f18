package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxLocalBody is the API's body limit; a login needs a tiny fraction of it.
const maxLocalBody = 1 << 20

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
// fields, a missing password or both email and username are bad requests.
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

// login holds pointers so that an absent field and an empty one differ: the
// first may mean "not a login", the second is a bad login.
type login struct {
	Email    *string `json:"email"`
	Username *string `json:"username"`
	Password *string `json:"password"`
}

func readLogin(r *http.Request) (email, password string, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", "", ErrNoCredentials
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" && mediaType != "application/x-www-form-urlencoded" {
		return "", "", ErrNoCredentials
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxLocalBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return "", "", &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large", desc: "request body too large", err: err}
		}
		return "", "", badRequest("cannot read request body", err)
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(data))

	var l login
	if mediaType == "application/json" {
		if len(bytes.TrimSpace(data)) == 0 {
			return "", "", ErrNoCredentials
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		// docs/api.md: unknown fields are refused so that a typo such as
		// "emial" is not mistaken for an absent email.
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			// encoding/json has no error type for an unknown field; its
			// message is stable ("json: unknown field \"x\"").
			if strings.HasPrefix(err.Error(), "json: unknown field ") {
				return "", "", badRequest("unknown field in JSON body", err)
			}
			return "", "", badRequest("malformed JSON body", err)
		}
		if dec.Decode(&struct{}{}) != io.EOF {
			return "", "", badRequest("malformed JSON body", errors.New("data after the JSON object"))
		}
	} else {
		form, err := url.ParseQuery(string(data))
		if err != nil {
			return "", "", badRequest("malformed form body", err)
		}
		// Unknown form fields are ignored: HTML forms send extra ones.
		field := func(name string) *string {
			if v, ok := form[name]; ok && len(v) > 0 {
				return &v[0]
			}
			return nil
		}
		l = login{Email: field("email"), Username: field("username"), Password: field("password")}
	}

	if l.Email != nil && l.Username != nil {
		return "", "", badRequest("send email or username, not both", nil)
	}
	if l.Email == nil {
		l.Email = l.Username
	}
	if l.Email == nil && l.Password == nil {
		return "", "", ErrNoCredentials
	}
	if l.Email == nil || *l.Email == "" || l.Password == nil || *l.Password == "" {
		return "", "", badRequest("email and password are required", nil)
	}
	return *l.Email, *l.Password, nil
}
