package api

import (
	"context"

	"github.com/jotauth/jot"
)

// writeAllowed takes one resource write (a create, update or delete of a
// task or recipe) from the user's budget, JOT_WRITE_RATE: the services'
// resources.Options.Writes. Every attempt counts, answered or refused, so a
// flood of writes costs the flooder its budget whatever it sends.
func (s *Server) writeAllowed(_ context.Context, userID string) error {
	if ok, after := s.writes.take(userID); !ok {
		if after < 1 {
			after = 1
		}
		return &retryError{err: jot.Errorf(jot.ERATELIMITED, "too many writes, retry in %d seconds", after), after: after}
	}
	return nil
}
