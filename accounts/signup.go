package accounts

import (
	"context"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/password"
)

// NewUser validates a new account's fields and hashes its password; it
// does not store the user. Signup and the CLI share it.
func NewUser(ctx context.Context, hasher *password.Hasher, email, pw, name string, role jot.Role, now time.Time) (*jot.User, error) {
	email, name, err := validateNewUser(email, pw, name, role)
	if err != nil {
		return nil, err
	}
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return nil, busy(err)
	}
	return &jot.User{ID: jot.NewID(), Email: email, Name: name, Role: role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}, nil
}

// Signup registers a user and starts a session.
func (s *Service) Signup(ctx context.Context, email, pw, name string, c Client) (*TokenResponse, error) {
	u, err := s.register(ctx, email, pw, name)
	if err != nil {
		return nil, err
	}
	s.opts.Events(EventSignup)
	if s.opts.Mail.Verification == VerificationRequired {
		// No tokens until the email is verified: only the user.
		return &TokenResponse{User: u}, nil
	}
	return s.StartSession(ctx, u, c)
}

// register validates, hashes and stores a new user account.
func (s *Service) register(ctx context.Context, email, pw, name string) (*jot.User, error) {
	email, _, err := validateNewUser(email, pw, name, jot.RoleUser)
	if err != nil {
		return nil, err
	}
	defer s.signups.lock(email)()
	// A cheap look-up first spares a hash for an email that is taken; the
	// unique index still decides races with other instances.
	if _, err := s.store.UserByEmail(ctx, email); err == nil {
		return nil, jot.Errorf(jot.ECONFLICT, "email already registered")
	} else if jot.ErrorCode(err) != jot.ENOTFOUND {
		return nil, err
	}
	hctx, cancel := s.hashing(ctx)
	u, err := NewUser(hctx, s.hasher, email, pw, name, jot.RoleUser, s.opts.Now())
	cancel()
	if err != nil {
		return nil, err
	}
	audit := &jot.Audit{Events: []*jot.AuditEvent{s.selfEvent(ctx, jot.AuditSignup, u.ID, "", nil)}}
	if err := s.createUser(ctx, u, audit); err != nil {
		if jot.ErrorCode(err) == jot.ECONFLICT {
			return nil, jot.Errorf(jot.ECONFLICT, "email already registered")
		}
		return nil, err
	}
	s.LogAudit(ctx, audit)
	return u, nil
}
