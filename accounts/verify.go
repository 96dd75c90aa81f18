package accounts

import (
	"context"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
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
func (s *Service) ResendVerification(ctx context.Context, p *guard.Principal) error {
	if s.opts.Mail.Verification == VerificationOff {
		return jot.Errorf(jot.ENOTFOUND, "email verification is turned off")
	}
	u, err := s.store.UserByID(ctx, p.UserID)
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
	u, err := s.consume(ctx, token, jot.PurposeVerify, func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error) {
		if u.Email != t.Email || u.Disabled {
			return jot.UserUpdate{}, ErrBadMailToken
		}
		return jot.UserUpdate{EmailVerified: &yes}, nil
	})
	if err == nil {
		s.opts.Logger.InfoContext(ctx, "email verified", "user_id", u.ID)
		return u, nil
	} else if err != ErrBadMailToken {
		return nil, err
	}
	u, err = s.consume(ctx, token, jot.PurposeEmailChange, func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error) {
		if u.Disabled {
			return jot.UserUpdate{}, ErrBadMailToken
		}
		return jot.UserUpdate{Email: &t.Email, EmailVerified: &yes, EndSessions: true, EndSessionsExcept: t.SessionID}, nil
	})
	if jot.ErrorCode(err) == jot.ECONFLICT {
		return nil, jot.Errorf(jot.ECONFLICT, "email already registered")
	} else if err != nil {
		return nil, err
	}
	s.opts.Logger.InfoContext(ctx, "email changed", "user_id", u.ID)
	s.afterEnd(ctx)
	return u, nil
}
