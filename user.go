package jot

import "time"

// Role is a user's role.
type Role string

// The roles.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleUser || r == RoleAdmin }

// User is an account. Email is stored normalized (see NormalizeEmail).
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	Disabled     bool      `json:"disabled"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`

	// EmailVerified is true once the user has shown the email is theirs
	// (a verification or reset link).
	EmailVerified bool `json:"email_verified"`
}

// UserUpdate names the fields of a user to change; nil fields stay as they are.
type UserUpdate struct {
	Name         *string
	Role         *Role
	Disabled     *bool
	PasswordHash *string

	// Email is a new, normalized email (an email change).
	Email *string
	// EmailVerified marks the email verified or not.
	EmailVerified *bool

	// IfPasswordHash, when set, makes the update conditional: it applies
	// only while the stored hash equals *IfPasswordHash; otherwise it is
	// ECONFLICT and nothing changes. A password rehash sets it to the hash
	// it verified, so it never writes back a password changed meanwhile.
	IfPasswordHash *string
	// EndSessionsExcept, when EndSessions is set, keeps this one session
	// alive (a password change keeps the caller's own session).
	EndSessions       bool
	EndSessionsExcept string
}

// UserPin is what a new session's tokens were issued from. CreateSession
// stores the session only while the user still has this role and password
// hash and is not disabled; otherwise it is ECONFLICT and nothing is
// stored. nil: no condition.
type UserPin struct {
	Role         Role
	PasswordHash string
}

// Check returns nil while u still has the pin's role and password hash and
// is not disabled, and ECONFLICT otherwise. Stores call it inside the
// transaction that creates the session.
func (p *UserPin) Check(u *User) error {
	if !u.Disabled && u.Role == p.Role && u.PasswordHash == p.PasswordHash {
		return nil
	}
	return Errorf(ECONFLICT, "user changed since the session's tokens were issued")
}

// ActiveAdmin reports whether u is an admin who is not disabled: the kind
// of user the last-admin rule always keeps one of.
func (u *User) ActiveAdmin() bool {
	return u.Role == RoleAdmin && !u.Disabled
}

// Apply makes upd's changes to u in memory; a store calls it inside the
// transaction that then writes u. With IfPasswordHash set and not u's
// hash, it is ECONFLICT and u is left as it was.
func (upd UserUpdate) Apply(u *User) error {
	if upd.IfPasswordHash != nil && u.PasswordHash != *upd.IfPasswordHash {
		return Errorf(ECONFLICT, "password changed meanwhile")
	}
	if upd.Name != nil {
		u.Name = *upd.Name
	}
	if upd.Role != nil {
		u.Role = *upd.Role
	}
	if upd.Disabled != nil {
		u.Disabled = *upd.Disabled
	}
	if upd.PasswordHash != nil {
		u.PasswordHash = *upd.PasswordHash
	}
	if upd.Email != nil {
		u.Email = *upd.Email
	}
	if upd.EmailVerified != nil {
		u.EmailVerified = *upd.EmailVerified
	}
	return nil
}
