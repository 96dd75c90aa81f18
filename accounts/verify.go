package accounts

import (
	"context"

	"github.com/jotauth/jot"
)

// createUser stores a new account; unless verification is off, with a
// verification token and its mail, in the same transaction.
func (s *Service) createUser(ctx context.Context, u *jot.User, audit *jot.Audit) error {
	if s.opts.Mail.Verification == VerificationOff {
		return s.store.CreateUser(ctx, u, audit)
	}
	is, err := s.prepare(u, jot.PurposeVerify, mailVerify, u.Email, nil)
	if err != nil {
		return err
	}
	if err := s.store.CreateUserWithMail(ctx, u, is.tok, is.mail, audit); err != nil {
		return err
	}
	s.opts.Mail.Wake()
	return nil
}

// ResendVerification mails the caller a new verification link. An email
// verified already is ECONFLICT; with verification off, ENOTFOUND.
func (s *Service) ResendVerification(ctx context.Context, c Caller) error {
	if s.opts.Mail.Verification == VerificationOff {
		return jot.Errorf(jot.ENOTFOUND, "email verification is turned off")
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return err
	}
	if u.EmailVerified {
		return jot.Errorf(jot.ECONFLICT, "email already verified")
	}
	is, err := s.prepare(u, jot.PurposeVerify, mailVerify, u.Email, nil)
	if err != nil {
		return err
	}
	if err := s.store.IssueMailToken(ctx, is.tok, is.mail); err != nil {
		return err
	}
	s.opts.Logger.InfoContext(ctx, "verification mail queued", "user_id", u.ID)
	s.opts.Mail.Wake()
	return nil
}

// VerifyEmail uses a verification or an email-change token and returns
// the user as now stored. A verification token counts only for the
// address it was mailed to; an email-change token makes its address the
// user's email, verified, and ends every session but the one that asked
// for the change (an email taken meanwhile is ECONFLICT).
func (s *Service) VerifyEmail(ctx context.Context, token string) (*jot.User, error) {
	yes := true
	// The token's user is known only inside the transaction: the events
	// are completed there (self sets user and actor), before the store
	// writes them.
	self := func(u *jot.User, events ...*jot.AuditEvent) {
		for _, e := range events {
			e.UserID = u.ID
			if e.ActorID == "" {
				e.ActorID = u.ID
			}
		}
	}
	verified := &jot.Audit{Events: []*jot.AuditEvent{s.Event(ctx, jot.AuditEmailVerified, "", "", nil)}}
	u, err := s.consume(ctx, token, jot.PurposeVerify, func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error) {
		if u.Email != t.Email || u.Disabled {
			return jot.UserUpdate{}, ErrBadMailToken
		}
		self(u, verified.Events...)
		verified.Events[0].Detail = map[string]any{"email": t.Email}
		return jot.UserUpdate{EmailVerified: &yes}, nil
	}, verified)
	if err == nil {
		s.LogAudit(ctx, verified)
		return u, nil
	} else if err != ErrBadMailToken {
		return nil, err
	}
	changed := s.Event(ctx, jot.AuditEmailChanged, "", "", nil)
	audit := &jot.Audit{
		Events: []*jot.AuditEvent{changed},
		Ended:  s.Event(ctx, jot.AuditSessionEnded, "", "", why(jot.WhyEmailChange)),
	}
	u, err = s.consume(ctx, token, jot.PurposeEmailChange, func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error) {
		if u.Disabled {
			return jot.UserUpdate{}, ErrBadMailToken
		}
		audit.Events = []*jot.AuditEvent{changed}
		self(u, changed, audit.Ended)
		// Both addresses: after a takeover the old one is how the owner
		// is found again, and the new one is where the account went.
		changed.SessionID = t.SessionID
		changed.Detail = map[string]any{"old_email": u.Email, "new_email": t.Email}
		return jot.UserUpdate{Email: &t.Email, EmailVerified: &yes, EndSessions: true, EndSessionsExcept: t.SessionID}, nil
	}, audit)
	if jot.ErrorCode(err) == jot.ECONFLICT {
		return nil, jot.Errorf(jot.ECONFLICT, "email already registered")
	} else if err != nil {
		return nil, err
	}
	s.LogAudit(ctx, audit)
	s.afterEnd(ctx)
	return u, nil
}
