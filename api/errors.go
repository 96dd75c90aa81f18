package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
)

// statusOf maps an application error code to its HTTP status: the one
// place where codes meet statuses.
func statusOf(code string) int {
	switch code {
	case jot.EINVALID, jot.EINVALIDGRANT, jot.EUNSUPPORTEDGRANT:
		return http.StatusBadRequest
	case jot.EINVALIDTOKEN, jot.EINVALIDCREDENTIALS:
		return http.StatusUnauthorized
	case jot.EFORBIDDEN, jot.EQUOTA, jot.EEMAILNOTVERIFIED:
		return http.StatusForbidden
	case jot.ENOTFOUND:
		return http.StatusNotFound
	case jot.ECONFLICT:
		return http.StatusConflict
	case jot.EVALIDATION:
		return http.StatusUnprocessableEntity
	case jot.ERATELIMITED:
		return http.StatusTooManyRequests
	case jot.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case codePayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

// Codes that only the HTTP layer produces.
const (
	codePayloadTooLarge  = "payload_too_large"
	codeMethodNotAllowed = "method_not_allowed"
)

// retryError is an error that tells the client when to come back.
type retryError struct {
	err   *jot.Error
	after int
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// statusError overrides the status of its code for one endpoint.
type statusError struct {
	err    *jot.Error
	status int
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// writeError answers with err in jot's error shape, written by guard as its
// own refusals are. Errors that are not *jot.Error are internal: they are
// logged with the request id and the caller sees only a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := jot.ErrorCode(err)
	if code == jot.EINTERNAL && dbUnavailable(err) {
		// Not a bug: the database is out of reach or too slow. The client
		// may retry; the operator sees it at WARN, with the cause.
		s.log.WarnContext(r.Context(), "database unavailable", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		if s.opts.Accounts != nil {
			s.opts.Accounts.RevocationsMissed()
		}
		err = &retryError{err: errDBUnavailable, after: dbRetryAfter}
		code = jot.EUNAVAILABLE
	}
	status := statusOf(code)
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	msg := jot.ErrorMessage(err)
	if code == jot.EINTERNAL {
		s.log.ErrorContext(r.Context(), "internal error", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	body := guard.Refusal{Error: code, Description: msg, Status: status}
	var je *jot.Error
	if errors.As(err, &je) && code == jot.EVALIDATION {
		body.Fields = je.Fields
	}
	h := w.Header()
	var re *retryError
	switch {
	case errors.As(err, &re):
		h.Set("Retry-After", strconv.Itoa(re.after))
		if code == jot.ERATELIMITED {
			s.auditRateLimited(r, re.after)
		}
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		h.Set("Retry-After", "1")
	}
	switch {
	case code == jot.EINVALIDCREDENTIALS && status == http.StatusUnauthorized:
		// RFC 9110 §11.6.1: a 401 names the scheme that would work.
		h.Set("WWW-Authenticate", guard.Challenge(realm, ""))
	case code == jot.EFORBIDDEN:
		h.Set("WWW-Authenticate", guard.Challenge(realm, "insufficient_scope"))
	case code == jot.EINVALIDTOKEN:
		h.Set("WWW-Authenticate", guard.Challenge(realm, "invalid_token"))
	}
	guard.WriteRefusal(w, body)
}

// realm is the realm of the API's Bearer challenges.
const realm = "jot"
