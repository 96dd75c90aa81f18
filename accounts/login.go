package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/password"
)

// ceilingTTL is how long the highest stored cost is trusted before it is
// asked again: a hash imported at a dearer cost by another process is
// padded to within this long. The question is one index lookup.
const ceilingTTL = time.Second

// hashCeiling returns the bcrypt cost a failed login is padded to: the
// highest cost stored, which the hasher raises to its configured cost.
// When the store cannot answer, the last answer stands (or 0: the
// configured cost), as the login itself will need the store anyway.
func (s *Service) hashCeiling(ctx context.Context) int {
	hs, ok := s.raw.(jot.HashCostStore)
	if !ok {
		return 0
	}
	s.ceilMu.Lock()
	defer s.ceilMu.Unlock()
	if now := s.opts.Now(); now.Sub(s.ceilAt) >= ceilingTTL {
		c, err := hs.MaxBcryptCost(ctx)
		if err != nil {
			s.opts.Logger.WarnContext(ctx, "highest stored hash cost unknown", "err", err)
			return s.ceil
		}
		s.ceil, s.ceilAt = c, now
	}
	return s.ceil
}

// ErrBadCredentials is the one answer to a wrong email, a wrong password and
// a disabled account alike.
var ErrBadCredentials = jot.Errorf(jot.EINVALIDCREDENTIALS, "invalid email or password")

// Authenticate checks an email and password and returns the user. Unknown
// email, wrong password and disabled account all return ErrBadCredentials
// after the same work: one comparison at the highest bcrypt cost stored, or
// its equivalent (see password.Hasher.VerifyPadded).
func (s *Service) Authenticate(ctx context.Context, email, pw string) (*jot.User, error) {
	email = jot.NormalizeEmail(email)
	hctx, cancel := s.hashing(ctx)
	defer cancel()
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		if jot.ErrorCode(err) != jot.ENOTFOUND {
			return nil, err
		}
		if err := s.hasher.VerifyDummyAt(hctx, pw, s.hashCeiling(ctx)); err != nil {
			return nil, busy(err)
		}
		s.opts.Events(EventLoginFailed)
		// The email tried is not recorded: people type passwords into
		// the email field, and an event never holds a password.
		s.Record(ctx, s.Event(ctx, jot.AuditLoginFailed, "", "", why(jot.WhyUnknownEmail)))
		return nil, ErrBadCredentials
	}
	// A failure is padded to the cost of the dearest stored hash, which is
	// what the unknown email above costs: neither a cheap imported hash nor
	// a changed JOT_BCRYPT_COST tells which emails have accounts.
	ok, err := s.hasher.VerifyPadded(hctx, u.PasswordHash, pw, s.hashCeiling(ctx), u.Disabled)
	if err != nil && !errors.Is(err, password.ErrBusy) && !errors.Is(err, context.DeadlineExceeded) {
		// An unreadable stored hash is a server fault, but the caller
		// learns no more than from a wrong password.
		s.opts.Logger.ErrorContext(ctx, "stored password hash unusable", "user_id", u.ID, "err", err)
		s.opts.Events(EventLoginFailed)
		s.Record(ctx, s.Event(ctx, jot.AuditLoginFailed, u.ID, "", why(jot.WhyUnusableHash)))
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, busy(err)
	}
	if !ok || u.Disabled {
		s.opts.Events(EventLoginFailed)
		reason := jot.WhyWrongPassword
		if ok {
			reason = jot.WhyDisabled
		}
		s.Record(ctx, s.Event(ctx, jot.AuditLoginFailed, u.ID, "", why(reason)))
		return nil, ErrBadCredentials
	}
	if s.hasher.NeedsRehash(u.PasswordHash) && !s.rehash(ctx, u, pw) {
		// The stored hash changed while this login checked it: a password
		// change, or another login upgrading the same password. Whatever
		// is stored now decides.
		if u, err = s.recheck(ctx, u.ID, pw); err != nil {
			return nil, err
		}
	}
	s.opts.Events(EventLoginOK)
	return u, nil
}

// recheck verifies pw against the user as stored now.
func (s *Service) recheck(ctx context.Context, id, pw string) (*jot.User, error) {
	cur, err := s.store.UserByID(ctx, id)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	hctx, cancel := s.hashing(ctx)
	defer cancel()
	ok, err := s.hasher.Verify(hctx, cur.PasswordHash, pw)
	if err != nil && (errors.Is(err, password.ErrBusy) || errors.Is(err, context.DeadlineExceeded)) {
		return nil, busy(err)
	}
	if err != nil || !ok || cur.Disabled {
		s.opts.Events(EventLoginFailed)
		reason := jot.WhyWrongPassword
		if err == nil && ok {
			reason = jot.WhyDisabled
		}
		s.Record(ctx, s.Event(ctx, jot.AuditLoginFailed, cur.ID, "", why(reason)))
		return nil, ErrBadCredentials
	}
	return cur, nil
}

// rehash upgrades a hash made with weaker parameters; a failure only means
// the upgrade waits for the next login.
//
// It reports false only when the stored hash is no longer the one verified.
func (s *Service) rehash(ctx context.Context, u *jot.User, pw string) bool {
	// A wait of its own: the check before it may have used up the first.
	hctx, cancel := s.hashing(ctx)
	defer cancel()
	hash, err := s.hasher.Hash(hctx, pw)
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
		return true
	}
	// Only over the hash just verified: a password change that committed
	// since must not be undone by writing the old password back.
	_, err = s.store.UpdateUser(ctx, u.ID, jot.UserUpdate{PasswordHash: &hash, IfPasswordHash: &u.PasswordHash}, s.opts.Now())
	if jot.ErrorCode(err) == jot.ECONFLICT {
		s.opts.Logger.InfoContext(ctx, "password rehash skipped: the stored hash changed meanwhile", "user_id", u.ID)
		return false
	} else if err != nil {
		s.opts.Logger.WarnContext(ctx, "password rehash not saved", "user_id", u.ID, "err", err)
		return true
	}
	u.PasswordHash = hash
	return true
}

// Login checks the credentials and starts a session.
func (s *Service) Login(ctx context.Context, email, pw string, c Client) (*TokenResponse, error) {
	u, err := s.Authenticate(ctx, email, pw)
	if err != nil {
		return nil, err
	}
	return s.StartSession(ctx, u, c)
}
