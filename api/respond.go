package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/internal/httpio"
)

// writeJSON writes v as the JSON answer with the given status, as every
// answer of the API and of the guard is written.
func writeJSON(w http.ResponseWriter, status int, v any) { httpio.WriteJSON(w, status, v) }

// answer writes v as the JSON answer with status, or returns err for the
// caller to write.
func answer[T any](w http.ResponseWriter, status int, v T, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}

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
