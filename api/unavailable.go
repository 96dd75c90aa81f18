package api

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jotauth/jot"
)

// dbRetryAfter is the Retry-After, in seconds, of a 503 for a database out
// of reach: long enough for a pool to reconnect, short enough that a
// client is not kept away once it has.
const dbRetryAfter = 2

// errDBUnavailable is what a caller sees when the database could not be had
// within JOT_DB_TIMEOUT: never the driver's own words.
var errDBUnavailable = jot.Errorf(jot.EUNAVAILABLE, "database unavailable, retry shortly")

// dbUnavailable reports whether err, an error that is not a *jot.Error,
// means the database could not be reached or did not answer in time, as
// opposed to a bug. It knows the drivers only through the standard
// library's error types and two methods their errors have: SQLState
// (PostgreSQL's error codes) and SafeToRetry (pgx: failed before anything
// was sent).
func dbUnavailable(err error) bool {
	var (
		netErr net.Error
		state  interface{ SQLState() string }
		retry  interface{ SafeToRetry() bool }
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &state):
		c := state.SQLState()
		// Class 08 is a connection exception; 57P01-57P03 a server
		// shutting down, crashed or starting; 53300 no connection slot.
		return strings.HasPrefix(c, "08") || c == "57P01" || c == "57P02" || c == "57P03" || c == "53300"
	case errors.As(err, &retry):
		return retry.SafeToRetry()
	}
	return false
}
