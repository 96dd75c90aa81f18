package accounts

import (
	"context"
	"errors"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/password"
)

// ForgotPassword mails a reset link to the account with the email, if
// there is one and it is enabled. It answers the same, after the same
// work, whether or not there is: a token is made either way, and one write
// transaction commits either way. For an unknown email (or a disabled
// account) that transaction queues a placeholder that is due never and
// expired at once: it names no one, is never sent, and the next prune
// removes it.
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	email = jot.NormalizeEmail(email)
	var target *jot.User
	if msg := ValidateEmail(email); msg == "" {
		u, err := s.store.UserByEmail(ctx, email)
		if err == nil && !u.Disabled {
			target = u
		} else if err != nil && jot.ErrorCode(err) != jot.ENOTFOUND {
			return err
		}
	}
	is, err := s.prepare(orNobody(target), jot.PurposeReset, mailReset, "", nil)
	if err != nil {
		return err
	}
	if target == nil {
		is.mail.TokenHash, is.mail.Data = nil, map[string]string{}
		is.mail.ExpiresAt = is.mail.CreatedAt
		return s.store.QueueMail(ctx, is.mail)
	}
	is.tok.Email, is.mail.To = target.Email, target.Email
	if err := s.store.IssueMailToken(ctx, is.tok, is.mail); err != nil {
		return err
	}
	s.opts.Logger.InfoContext(ctx, "password reset requested", "user_id", target.ID)
	s.opts.Mail.Wake()
	return nil
}

// orNobody is u, or for nil a user who does not exist.
func orNobody(u *jot.User) *jot.User {
	if u == nil {
		return &jot.User{ID: jot.NewID()}
	}
	return u
}

// AdminPasswordReset mails the user a reset link, on an admin's request.
// A disabled account is ECONFLICT: its link could not be used.
func (s *Service) AdminPasswordReset(ctx context.Context, id string) error {
	u, err := s.userByID(ctx, id)
	if err != nil {
		return err
	}
	if u.Disabled {
		return jot.Errorf(jot.ECONFLICT, "the account is disabled")
	}
	is, err := s.prepare(u, jot.PurposeReset, mailReset, u.Email, nil)
	if err != nil {
		return err
	}
	if err := s.store.IssueMailToken(ctx, is.tok, is.mail); err != nil {
		return err
	}
	s.opts.Logger.InfoContext(ctx, "password reset requested by an admin", "user_id", u.ID)
	s.opts.Mail.Wake()
	return nil
}

// ResetLink stores a new reset token for the enabled account with the
// email and returns its link, without mailing it (jot users reset-link).
// It is an ordinary reset token: it ends the user's older ones.
func ResetLink(ctx context.Context, store jot.Store, o MailOptions, email string) (string, error) {
	o.defaults()
	s := &Service{store: store, opts: Options{Mail: o, Now: utcNow}}
	u, err := store.UserByEmail(ctx, jot.NormalizeEmail(email))
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return "", jot.Errorf(jot.ENOTFOUND, "no user with email %s", jot.NormalizeEmail(email))
	} else if err != nil {
		return "", err
	}
	if u.Disabled {
		return "", jot.Errorf(jot.ECONFLICT, "the account %s is disabled", u.Email)
	}
	is, err := s.prepare(u, jot.PurposeReset, mailReset, u.Email, nil)
	if err != nil {
		return "", err
	}
	if err := store.IssueMailToken(ctx, is.tok); err != nil {
		return "", err
	}
	return is.mail.Data["link"], nil
}

// ResetPassword sets a new password with a reset token: every session of
// the user ends, every other reset token too, and the email counts as
// verified (the link was opened from it). A weak password is EVALIDATION
// and leaves the token usable.
func (s *Service) ResetPassword(ctx context.Context, token, pw string) error {
	if err := password.Validate(pw); err != nil {
		var je *jot.Error
		if errors.As(err, &je) && len(je.Fields) > 0 {
			return jot.ValidationError(map[string]string{"password": je.Fields["password"]})
		}
		return jot.ValidationError(map[string]string{"password": err.Error()})
	}
	if token == "" || len(token) > maxMailToken {
		return ErrBadMailToken
	}
	hctx, cancel := s.hashing(ctx)
	hash, err := s.hasher.Hash(hctx, pw)
	cancel()
	if err != nil {
		return busy(err)
	}
	yes := true
	u, err := s.consume(ctx, token, jot.PurposeReset, func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error) {
		if u.Disabled {
			return jot.UserUpdate{}, ErrBadMailToken
		}
		return jot.UserUpdate{PasswordHash: &hash, EmailVerified: &yes, EndSessions: true}, nil
	})
	if err != nil {
		return err
	}
	s.opts.Logger.InfoContext(ctx, "password reset", "user_id", u.ID)
	s.afterEnd(ctx)
	return nil
}
