package accounts

import (
	"context"

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
	nobody := orNobody(target)
	is, err := s.prepare(nobody, jot.PurposeReset, mailReset, "", nil)
	if err != nil {
		return err
	}
	// The event is made either way, so both answers cost the same; only a
	// registered account's is stored (the trail is for admins, who may
	// know who has an account).
	audit := &jot.Audit{Events: []*jot.AuditEvent{s.selfEvent(ctx, jot.AuditPasswordResetRequest, nobody.ID, "", nil)}}
	if target == nil {
		is.mail.TokenHash, is.mail.Data = nil, map[string]string{}
		is.mail.ExpiresAt = is.mail.CreatedAt
		return s.store.QueueMail(ctx, is.mail)
	}
	is.tok.Email, is.mail.To = target.Email, target.Email
	if err := s.store.IssueMailTokenAudited(ctx, is.tok, audit, is.mail); err != nil {
		return err
	}
	s.LogAudit(ctx, audit)
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
	audit := &jot.Audit{Events: []*jot.AuditEvent{s.Event(ctx, jot.AuditPasswordResetRequest, u.ID, "", map[string]any{"by": "admin"})}}
	if err := s.store.IssueMailTokenAudited(ctx, is.tok, audit, is.mail); err != nil {
		return err
	}
	s.LogAudit(ctx, audit)
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
	// The operator at the server's shell is the actor; there is no
	// request, so no address, agent or request id. The command prints the
	// link rather than a log line, like `jot keys rotate`.
	e := s.Event(ctx, jot.AuditPasswordResetRequest, u.ID, "", map[string]any{"by": "cli"})
	e.ActorID = jot.AuditActorCLI
	if err := store.IssueMailTokenAudited(ctx, is.tok, &jot.Audit{Events: []*jot.AuditEvent{e}}); err != nil {
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
		return jot.ValidationError(map[string]string{"password": policyMessage(err)})
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
	// Who the token belongs to is known only inside the transaction: the
	// events are completed there, before the store writes them.
	reset := s.Event(ctx, jot.AuditPasswordReset, "", "", nil)
	audit := &jot.Audit{
		Events: []*jot.AuditEvent{reset},
		Ended:  s.Event(ctx, jot.AuditSessionEnded, "", "", why(jot.WhyPasswordReset)),
	}
	verified := s.Event(ctx, jot.AuditEmailVerified, "", "", map[string]any{"by": "password_reset"})
	_, err = s.consume(ctx, token, jot.PurposeReset, func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error) {
		if u.Disabled {
			return jot.UserUpdate{}, ErrBadMailToken
		}
		audit.Events = []*jot.AuditEvent{reset}
		for _, e := range []*jot.AuditEvent{reset, audit.Ended, verified} {
			e.UserID = u.ID
			if e.ActorID == "" {
				e.ActorID = u.ID
			}
		}
		if !u.EmailVerified {
			// The link was opened from the mailbox: that proves the address.
			verified.Detail["email"] = u.Email
			audit.Events = append(audit.Events, verified)
		}
		return jot.UserUpdate{PasswordHash: &hash, EmailVerified: &yes, EndSessions: true}, nil
	}, audit)
	if err != nil {
		return err
	}
	s.LogAudit(ctx, audit)
	s.afterEnd(ctx)
	return nil
}
