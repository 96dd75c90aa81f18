package accounts

import (
	"context"
	"log/slog"

	"github.com/jotauth/jot"
)

// Origin is where a request comes from, as the audit trail records it: the
// HTTP layer puts one in every request's context (WithOrigin) and fills
// ActorID once it knows the caller. It is request-scoped data, like the
// request id, and carries no part of the change: which events a write
// stores, and in which transaction, is always passed to the store
// explicitly (a jot.Audit).
type Origin struct {
	// ActorID is the authenticated caller, when there is one.
	ActorID   string
	IP        string
	UserAgent string
	RequestID string
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o *Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin in ctx, or an empty one.
func OriginFrom(ctx context.Context) *Origin {
	if o, ok := ctx.Value(originKey{}).(*Origin); ok && o != nil {
		return o
	}
	return &Origin{}
}

// Event returns an audit event named name (one of the jot.Audit*
// constants) about the user and session (either may be empty), stamped
// now and carrying the request's origin from ctx. detail must hold no
// password, token or hash.
//
// An account flow records what it changes in the transaction of the
// change by passing a jot.Audit to the store write, then logs it:
//
//	a := &jot.Audit{
//		Events: []*jot.AuditEvent{s.Event(ctx, jot.AuditPasswordReset, u.ID, "", nil)},
//		Ended:  s.Event(ctx, jot.AuditSessionEnded, u.ID, "", map[string]any{"why": jot.WhyPasswordReset}),
//	}
//	if _, err := s.store.UpdateUser(ctx, u.ID, upd, now, a); err != nil {
//		return err // nothing of a was stored
//	}
//	s.LogAudit(ctx, a)
//
// An event that records no change of its own goes through Record. A jot.Audit
// serves one store call: build a new one for a retry.
func (s *Service) Event(ctx context.Context, name, userID, sessionID string, detail map[string]any) *jot.AuditEvent {
	o := OriginFrom(ctx)
	e := jot.NewAuditEvent(name, s.opts.Now())
	e.UserID, e.SessionID = userID, sessionID
	e.ActorID, e.IP, e.UserAgent, e.RequestID = o.ActorID, o.IP, truncate(o.UserAgent, 256), o.RequestID
	e.Detail = detail
	return e
}

// selfEvent is Event for something a user does on their own account
// before they hold a token (signup, login): they are its actor.
func (s *Service) selfEvent(ctx context.Context, name, userID, sessionID string, detail map[string]any) *jot.AuditEvent {
	e := s.Event(ctx, name, userID, sessionID, detail)
	if e.ActorID == "" {
		e.ActorID = userID
	}
	return e
}

// Record stores events that record no change of their own (a failed login,
// a refused request) and logs them. A failure to store is logged, not
// returned: the answer to the request does not depend on it.
func (s *Service) Record(ctx context.Context, events ...*jot.AuditEvent) {
	if err := s.store.RecordAudit(ctx, events...); err != nil {
		s.opts.Logger.WarnContext(ctx, "audit event not stored", "err", err)
	}
	for _, e := range events {
		s.logEvent(ctx, e)
	}
}

// LogAudit writes one log line for each event of audits, after the write
// that stored them committed.
func (s *Service) LogAudit(ctx context.Context, audits ...*jot.Audit) {
	for _, e := range jot.AuditRows(audits) {
		s.logEvent(ctx, e)
	}
}

func (s *Service) logEvent(ctx context.Context, e *jot.AuditEvent) {
	attrs := []slog.Attr{
		slog.String("event", e.Event),
		slog.String("audit_id", e.ID),
		slog.String("user_id", e.UserID),
		slog.String("session_id", e.SessionID),
		slog.String("actor_id", e.ActorID),
		slog.String("ip", e.IP),
		slog.String("user_agent", e.UserAgent),
		slog.String("request_id", e.RequestID),
	}
	if len(e.Detail) > 0 {
		attrs = append(attrs, slog.Any("detail", e.Detail))
	}
	s.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
}

// why is the detail of an event that says only why it happened.
func why(reason string) map[string]any { return map[string]any{"why": reason} }
