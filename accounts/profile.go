package accounts

import (
	"context"
	"strings"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/password"
)

// User returns a user by id, from a short-lived cache when it was read
// lately (see DefaultUserCacheTTL): for answers, never for decisions that
// need the stored password hash or role.
func (s *Service) User(ctx context.Context, id string) (*jot.User, error) {
	if !jot.ValidID(id) {
		return nil, jot.Errorf(jot.ENOTFOUND, "user not found")
	}
	if s.users.off() {
		return s.userByID(ctx, id)
	}
	u, gen := s.users.get(id)
	if u != nil {
		return u, nil
	}
	u, err := s.userByID(ctx, id)
	if err == nil {
		s.users.put(u, gen)
	}
	return u, err
}

func (s *Service) userByID(ctx context.Context, id string) (*jot.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, jot.Errorf(jot.ENOTFOUND, "user not found")
	}
	return u, err
}

// Rename changes the caller's display name.
func (s *Service) Rename(ctx context.Context, c Caller, name string) (*jot.User, error) {
	name = strings.TrimSpace(name)
	if msg := ValidateName(name); msg != "" {
		return nil, jot.ValidationError(map[string]string{"name": msg})
	}
	audit := &jot.Audit{Events: []*jot.AuditEvent{
		s.Event(ctx, jot.AuditUserUpdated, c.UserID, c.SessionID, map[string]any{"fields": []string{"name"}}),
	}}
	u, err := s.store.UpdateUser(ctx, c.UserID, jot.UserUpdate{Name: &name}, s.opts.Now(), audit)
	if err != nil {
		return nil, err
	}
	s.LogAudit(ctx, audit)
	return u, nil
}

// ChangePassword checks the caller's current password, stores the new one
// and ends every other session of the caller.
func (s *Service) ChangePassword(ctx context.Context, c Caller, current, next string) error {
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return err
	}
	hctx, cancel := s.hashing(ctx)
	defer cancel()
	// The current password is checked first: whoever does not know it
	// learns nothing about the policy's verdict on the new one.
	ok, err := s.hasher.Verify(hctx, u.PasswordHash, current)
	if err != nil {
		return busy(err)
	}
	if !ok {
		return jot.Errorf(jot.EINVALIDCREDENTIALS, "current password is wrong")
	}
	if err := password.Validate(next); err != nil {
		return jot.ValidationError(map[string]string{"new_password": policyMessage(err)})
	}
	hash, err := s.hasher.Hash(hctx, next)
	if err != nil {
		return busy(err)
	}
	// Written only over the hash just checked: of two changes racing, the
	// second, checked against the old password, is refused. A login that
	// upgraded the same password's hash meanwhile is no reason to refuse:
	// then the current password is checked once more against what is
	// stored now.
	checked := u.PasswordHash
	for attempt := 0; ; attempt++ {
		audit := &jot.Audit{
			Events: []*jot.AuditEvent{s.Event(ctx, jot.AuditPasswordChanged, c.UserID, c.SessionID, nil)},
			Ended:  s.Event(ctx, jot.AuditSessionEnded, c.UserID, "", why(jot.WhyPasswordChange)),
		}
		_, err := s.store.UpdateUser(ctx, c.UserID, jot.UserUpdate{
			PasswordHash: &hash, IfPasswordHash: &checked,
			EndSessions: true, EndSessionsExcept: c.SessionID,
		}, s.opts.Now(), audit)
		if err == nil {
			s.LogAudit(ctx, audit)
			break
		} else if jot.ErrorCode(err) != jot.ECONFLICT || attempt > 0 {
			if jot.ErrorCode(err) == jot.ECONFLICT {
				return jot.Errorf(jot.EINVALIDCREDENTIALS, "current password is wrong")
			}
			return err
		}
		cur, err := s.store.UserByID(ctx, c.UserID)
		if err != nil {
			return err
		}
		if ok, err := s.hasher.Verify(hctx, cur.PasswordHash, current); err != nil {
			return busy(err)
		} else if !ok {
			return jot.Errorf(jot.EINVALIDCREDENTIALS, "current password is wrong")
		}
		checked = cur.PasswordHash
	}
	s.afterEnd(ctx)
	return nil
}
