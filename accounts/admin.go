package accounts

import (
	"context"
	"strings"

	"github.com/jotauth/jot"
)

// AdminUpdate names what an admin may change on a user; nil fields stay as
// they are.
type AdminUpdate struct {
	Name     *string
	Role     *jot.Role
	Disabled *bool
}

// errUserNotFound is the one answer to an unknown or malformed user id.
func errUserNotFound() error { return jot.Errorf(jot.ENOTFOUND, "user not found") }

// ListUsers lists users ordered by id, one page at a time.
func (s *Service) ListUsers(ctx context.Context, p jot.Page) ([]*jot.User, error) {
	return s.store.ListUsers(ctx, p)
}

// AdminUpdateUser applies an admin's change to a user. Disabling the user
// or changing their role ends all their sessions in the same transaction,
// and the revocation set learns of it before this returns, so their access
// tokens — which carry the old role — are refused by the very next request.
// Disabling or demoting the last active admin is ECONFLICT.
func (s *Service) AdminUpdateUser(ctx context.Context, id string, upd AdminUpdate) (*jot.User, error) {
	if !jot.ValidID(id) {
		return nil, errUserNotFound()
	}
	fields := map[string]string{}
	if upd.Name != nil {
		name := strings.TrimSpace(*upd.Name)
		upd.Name = &name
		if msg := ValidateName(name); msg != "" {
			fields["name"] = msg
		}
	}
	if upd.Role != nil && !upd.Role.Valid() {
		fields["role"] = `must be "user" or "admin"`
	}
	if len(fields) > 0 {
		return nil, jot.ValidationError(fields)
	}
	cur, err := s.store.UserByID(ctx, id)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, errUserNotFound()
	} else if err != nil {
		return nil, err
	}
	// Sending the role a user already has must not log them out. It is
	// dropped rather than written: should another admin change the role
	// between the read above and the write below, the stored role is then
	// theirs, whose change ended the sessions, so no live token ever
	// carries a role the user no longer has.
	if upd.Role != nil && *upd.Role == cur.Role {
		upd.Role = nil
	}
	if upd.Name == nil && upd.Role == nil && upd.Disabled == nil {
		return cur, nil
	}
	// Disabling always ends sessions; for a user already disabled there are
	// none left to end.
	end := (upd.Disabled != nil && *upd.Disabled) || upd.Role != nil
	audit := &jot.Audit{
		Events: []*jot.AuditEvent{s.Event(ctx, jot.AuditUserUpdated, id, "", updateDetail(cur, upd))},
		Ended:  s.Event(ctx, jot.AuditSessionEnded, id, "", why(jot.WhyAdminChange)),
	}
	u, err := s.store.UpdateUser(ctx, id, jot.UserUpdate{
		Name: upd.Name, Role: upd.Role, Disabled: upd.Disabled, EndSessions: end,
	}, s.opts.Now(), audit)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, errUserNotFound()
	} else if err != nil {
		return nil, err
	}
	s.LogAudit(ctx, audit)
	if end {
		s.afterEnd(ctx)
	}
	return u, nil
}

// updateDetail is the detail of a user_updated event: the fields changed,
// and the old and new role and disabled flag (the name only by field: it
// is the user's own words, and the record is about access).
func updateDetail(cur *jot.User, upd AdminUpdate) map[string]any {
	fields := []string{}
	d := map[string]any{}
	if upd.Name != nil {
		fields = append(fields, "name")
	}
	if upd.Role != nil {
		fields = append(fields, "role")
		d["role"] = map[string]any{"old": string(cur.Role), "new": string(*upd.Role)}
	}
	if upd.Disabled != nil {
		fields = append(fields, "disabled")
		d["disabled"] = map[string]any{"old": cur.Disabled, "new": *upd.Disabled}
	}
	d["fields"] = fields
	return d
}

// AdminDeleteUser deletes a user with their sessions, tasks and recipes in
// one transaction; their access tokens are refused from the next request
// on. Deleting the last active admin is ECONFLICT.
func (s *Service) AdminDeleteUser(ctx context.Context, id string) error {
	if !jot.ValidID(id) {
		return errUserNotFound()
	}
	var detail map[string]any
	// The email names the account once its id points nowhere.
	if u, err := s.store.UserByID(ctx, id); err == nil {
		detail = map[string]any{"email": u.Email, "role": string(u.Role)}
	}
	audit := &jot.Audit{
		Events: []*jot.AuditEvent{s.Event(ctx, jot.AuditUserDeleted, id, "", detail)},
		Ended:  s.Event(ctx, jot.AuditSessionEnded, id, "", why(jot.WhyUserDeleted)),
	}
	err := s.store.DeleteUser(ctx, id, s.opts.Now(), audit)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return errUserNotFound()
	} else if err != nil {
		return err
	}
	s.LogAudit(ctx, audit)
	s.afterEnd(ctx)
	return nil
}
