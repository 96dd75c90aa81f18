package jot

import (
	"errors"
	"fmt"
)

// Error codes. They are the `error` values of the public error shape, so the
// HTTP layer maps each to one status and clients can branch on them.
const (
	ECONFLICT           = "conflict"
	EINTERNAL           = "server_error"
	EINVALID            = "invalid_request"
	EINVALIDCREDENTIALS = "invalid_credentials"
	EINVALIDGRANT       = "invalid_grant"
	EINVALIDTOKEN       = "invalid_token"
	EFORBIDDEN          = "insufficient_scope"
	ENOTFOUND           = "not_found"
	EUNAVAILABLE        = "unavailable"
	EUNSUPPORTEDGRANT   = "unsupported_grant_type"
	EVALIDATION         = "validation_failed"
	ERATELIMITED        = "rate_limited"
	EQUOTA              = "quota_exceeded"

	// EEMAILNOTVERIFIED: the password is right, but the account's email
	// must be verified first (JOT_EMAIL_VERIFICATION=required).
	EEMAILNOTVERIFIED = "email_not_verified"
)

// Error is an application error: a machine code, a message that is safe to
// show to the caller, and for validation errors the offending fields.
type Error struct {
	Code    string
	Message string
	// Fields maps a request field to what is wrong with it (EVALIDATION).
	Fields map[string]string
	// Err is the cause, for logs only; it is never shown to a caller.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("jot error: code=%s message=%s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("jot error: code=%s message=%s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ValidationError returns an EVALIDATION error for the given fields.
func ValidationError(fields map[string]string) *Error {
	return &Error{Code: EVALIDATION, Message: "request failed validation", Fields: fields}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err, and a generic one for
// errors that are not *Error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// QuotaError is the EQUOTA error of a create past the owner's quota of
// what (a plural such as "tasks").
func QuotaError(what string, max int) *Error {
	return Errorf(EQUOTA, "quota exceeded: at most %d %s per user", max, what)
}
