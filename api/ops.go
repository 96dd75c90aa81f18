package api

import (
	"context"
	"net/http"
	"time"

	"github.com/jotauth/jot/guard"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.opts.Store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness check failed", "err", err)
		// Not ready until the ended sessions are re-read once it answers
		// again (unless it was only this client that went away).
		if s.opts.Accounts != nil && r.Context().Err() == nil {
			s.opts.Accounts.RevocationsMissed()
		}
		w.Header().Set("Retry-After", "5")
		guard.WriteRefusal(w, guard.Refusal{Error: "unavailable", Description: "database unreachable", Status: http.StatusServiceUnavailable})
		return
	}
	if s.opts.Accounts != nil && !s.opts.Accounts.RevocationsCurrent() {
		// The database answers, but a token revoked while it did not
		// would still pass here: not ready until the next sync.
		w.Header().Set("Retry-After", "1")
		guard.WriteRefusal(w, guard.Refusal{Error: "unavailable", Description: "ended sessions not yet re-read", Status: http.StatusServiceUnavailable})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
