package accounts

import (
	"context"

	"github.com/jotauth/jot"
)

// Logout ends the caller's session, or with all every session of theirs.
func (s *Service) Logout(ctx context.Context, c Caller, all bool) error {
	var err error
	scope := "session"
	if all {
		scope = "all"
	}
	// One logout event for each session the logout ends.
	audit := &jot.Audit{Ended: s.Event(ctx, jot.AuditLogout, c.UserID, "", map[string]any{"scope": scope})}
	if all {
		err = s.store.EndUserSessions(ctx, c.UserID, "", s.opts.Now(), audit)
	} else {
		err = s.store.EndSession(ctx, c.SessionID, s.opts.Now(), audit)
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			// Already ended (a race with another logout): the goal holds.
			err = nil
		}
	}
	if err != nil {
		return err
	}
	s.LogAudit(ctx, audit)
	s.afterEnd(ctx)
	return nil
}

// Sessions lists the caller's live sessions.
func (s *Service) Sessions(ctx context.Context, c Caller) ([]*jot.Session, error) {
	return s.store.ListSessions(ctx, c.UserID, s.opts.Now())
}

// SessionsPage lists one page of the caller's live sessions, newest
// first; see jot.SessionStore.ListSessionsPage.
func (s *Service) SessionsPage(ctx context.Context, c Caller, page jot.Page) ([]*jot.Session, error) {
	return s.store.ListSessionsPage(ctx, c.UserID, s.opts.Now(), page)
}

// EndSession ends one of the caller's sessions; another user's session is
// ENOTFOUND, exactly like a missing one.
func (s *Service) EndSession(ctx context.Context, c Caller, id string) error {
	notFound := jot.Errorf(jot.ENOTFOUND, "session not found")
	if !jot.ValidID(id) {
		return notFound
	}
	sess, err := s.store.SessionByID(ctx, id)
	if err != nil {
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return notFound
		}
		return err
	}
	if sess.UserID != c.UserID || !sess.Live(s.opts.Now()) {
		return notFound
	}
	audit := &jot.Audit{Ended: s.Event(ctx, jot.AuditSessionEnded, c.UserID, "", why(jot.WhyEndedByUser))}
	if err := s.store.EndSession(ctx, id, s.opts.Now(), audit); err != nil {
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return notFound
		}
		return err
	}
	s.LogAudit(ctx, audit)
	s.afterEnd(ctx)
	return nil
}
