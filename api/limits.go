package api

import (
	"net/http"

	"github.com/jotauth/jot"
)

// writeAllowed takes one resource write (a create, update or delete of a
// task or recipe) from the caller's budget, JOT_WRITE_RATE. Every attempt
// counts, answered or refused, so a flood of writes costs the flooder its
// budget whatever it sends.
func (s *Server) writeAllowed(r *http.Request) error {
	if ok, after := s.writes.take(principal(r).UserID); !ok {
		if after < 1 {
			after = 1
		}
		return &retryError{err: jot.Errorf(jot.ERATELIMITED, "too many writes, retry in %d seconds", after), after: after}
	}
	return nil
}

// storeTask stores a new task within its owner's quota, JOT_MAX_RESOURCES.
func (s *Server) storeTask(r *http.Request, t *jot.Task) error {
	if s.opts.MaxResources <= 0 {
		return s.opts.Store.CreateTask(r.Context(), t)
	}
	return s.opts.Store.CreateTaskWithin(r.Context(), t, s.opts.MaxResources)
}

// storeRecipe stores a new recipe within its owner's quota.
func (s *Server) storeRecipe(r *http.Request, rec *jot.Recipe) error {
	if s.opts.MaxResources <= 0 {
		return s.opts.Store.CreateRecipe(r.Context(), rec)
	}
	return s.opts.Store.CreateRecipeWithin(r.Context(), rec, s.opts.MaxResources)
}
