package accounts

import (
	"context"

	"github.com/jotauth/jot"
)

// ChangeEmail checks the caller's password and mails the new address a
// link that makes the change (VerifyEmail), and the old one a notice. An
// address registered already gets a notice instead of a link, so the
// answer does not tell whether it has an account. A wrong password is
// EINVALIDCREDENTIALS.
func (s *Service) ChangeEmail(ctx context.Context, c Caller, newEmail, current string) error {
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return err
	}
	hctx, cancel := s.hashing(ctx)
	ok, err := s.hasher.Verify(hctx, u.PasswordHash, current)
	cancel()
	if err != nil {
		return busy(err)
	}
	if !ok {
		return jot.Errorf(jot.EINVALIDCREDENTIALS, "current password is wrong")
	}
	newEmail = jot.NormalizeEmail(newEmail)
	if msg := ValidateEmail(newEmail); msg != "" {
		return jot.ValidationError(map[string]string{"email": msg})
	}
	if newEmail == u.Email {
		return jot.ValidationError(map[string]string{"email": "must differ from the current email"})
	}
	change := map[string]string{"new_email": newEmail}
	notice := s.newMail(mailEmailChangeNotice, u.Email, s.mailData(u, change))
	_, err = s.store.UserByEmail(ctx, newEmail)
	switch jot.ErrorCode(err) {
	case "":
		taken := s.newMail(mailEmailTaken, newEmail, s.mailData(u, change))
		err = s.store.QueueMail(ctx, notice, taken)
	case jot.ENOTFOUND:
		var is *issued
		if is, err = s.prepare(u, jot.PurposeEmailChange, mailEmailChange, newEmail, change); err != nil {
			return err
		}
		is.tok.SessionID = c.SessionID
		err = s.store.IssueMailToken(ctx, is.tok, is.mail, notice)
	}
	if err != nil {
		return err
	}
	s.opts.Logger.InfoContext(ctx, "email change requested", "user_id", u.ID)
	s.opts.Mail.Wake()
	return nil
}
