package api

import (
	"net/http"

	"github.com/jotauth/jot"
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
