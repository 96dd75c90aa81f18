package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/policy"
)

// auditEventJSON is one event of GET /v1/audit. Absent values are null,
// never "": a client tells "not known" from a value without guessing.
// detail is always an object ({} when there is nothing more to say).
type auditEventJSON struct {
	ID        string         `json:"id"`
	Time      string         `json:"time"`
	Event     string         `json:"event"`
	UserID    *string        `json:"user_id"`
	SessionID *string        `json:"session_id"`
	ActorID   *string        `json:"actor_id"`
	IP        *string        `json:"ip"`
	UserAgent *string        `json:"user_agent"`
	RequestID *string        `json:"request_id"`
	Detail    map[string]any `json:"detail"`
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// auditParam reads a filter parameter given at most once; empty is absent,
// as an empty cursor is the first page.
func auditParam(r *http.Request, name string) (string, error) {
	vs, ok := r.URL.Query()[name]
	if !ok {
		return "", nil
	}
	if len(vs) > 1 {
		return "", jot.Errorf(jot.EINVALID, "%s must be given once", name)
	}
	return vs[0], nil
}

// listAudit is GET /v1/audit: the audit trail, newest first, for admins.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	if !policy.CanReadAudit(subject(r)) {
		return policy.Refuse("only an admin may read the audit trail")
	}
	var f jot.AuditFilter
	var err error
	if f.UserID, err = auditParam(r, "user_id"); err != nil {
		return err
	}
	if f.UserID != "" && !jot.ValidID(f.UserID) {
		return jot.Errorf(jot.EINVALID, "user_id must be a user id")
	}
	if f.Event, err = auditParam(r, "event"); err != nil {
		return err
	}
	if f.Event != "" && !jot.ValidAuditEvent(f.Event) {
		return jot.Errorf(jot.EINVALID, "event must be one of %s", strings.Join(jot.AuditEventNames(), ", "))
	}
	// A cursor continues only the listing, filters included, it came from.
	list := "audit:" + f.UserID + ":" + f.Event
	page, limit, err := s.auditCursors.pageRequest(r, list)
	if err != nil {
		return err
	}
	events, err := s.opts.Store.ListAudit(r.Context(), f, page)
	if err != nil {
		return err
	}
	events, next, err := nextCursor(r.Context(), s.auditCursors, list, events, limit, func(e *jot.AuditEvent) string { return e.ID })
	if err != nil {
		return err
	}
	out := make([]auditEventJSON, 0, len(events))
	for _, e := range events {
		d := e.Detail
		if d == nil {
			d = map[string]any{}
		}
		out = append(out, auditEventJSON{
			ID: e.ID, Time: jot.FormatTime(e.Time), Event: e.Event,
			UserID: orNull(e.UserID), SessionID: orNull(e.SessionID), ActorID: orNull(e.ActorID),
			IP: orNull(e.IP), UserAgent: orNull(e.UserAgent), RequestID: orNull(e.RequestID), Detail: d,
		})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"events": out, "next_cursor": next})
	return nil
}

// auditRoutes registers the audit API.
func (s *Server) auditRoutes() {
	s.mux.Handle("GET /v1/audit", s.protect(s.handle("listAudit", s.listAudit)))
}

// origin starts the audit origin of a request: where it comes from and its
// id. principal adds the caller once the guard has let them in.
func (s *Server) origin(r *http.Request, requestID string) *accounts.Origin {
	return &accounts.Origin{IP: s.clientIP(r), UserAgent: r.UserAgent(), RequestID: requestID}
}

// noteActor records the authenticated caller as the actor of whatever the
// request changes.
func noteActor(r *http.Request, userID string) {
	accounts.OriginFrom(r.Context()).ActorID = userID
}

// rateLimitedEvery is how often one client network's refusals on one path
// are recorded: a flood of 429s must not become a flood of audit rows.
const rateLimitedEvery = time.Minute

// auditRateLimited records a 429 rate_limited answer, at most once per
// client network and path every rateLimitedEvery.
func (s *Server) auditRateLimited(r *http.Request, after int) {
	if s.opts.Accounts == nil {
		return
	}
	o := accounts.OriginFrom(r.Context())
	if ok, _ := s.rateLimitedSeen.take(networkKey(o.IP) + "|" + r.Method + " " + r.URL.Path); !ok {
		return
	}
	e := s.opts.Accounts.Event(r.Context(), jot.AuditRateLimited, o.ActorID, "", map[string]any{
		"method": r.Method, "path": r.URL.Path, "retry_after": after,
	})
	s.opts.Accounts.Record(r.Context(), e)
}
