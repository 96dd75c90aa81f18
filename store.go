package jot

import (
	"context"
	"time"
)

// Errors from stores are *Error values: ENOTFOUND for a missing row and
// ECONFLICT for a duplicate email or a last-admin violation. Anything else
// is an internal error.

// UserStore keeps users.
type UserStore interface {
	// CreateUser inserts u (ID, CreatedAt and UpdatedAt set by the caller).
	// An email already registered, in any case, is ECONFLICT.
	//
	// audit, here and in the other write calls that take it, is stored in
	// the same transaction (see Audit): nothing of it when the write fails.
	CreateUser(ctx context.Context, u *User, audit ...*Audit) error
	// CreateUsers inserts all of users in one transaction, or none: the
	// first duplicate is ECONFLICT naming the email in its message.
	CreateUsers(ctx context.Context, users []*User) error
	UserByID(ctx context.Context, id string) (*User, error)
	// UserByEmail looks up a normalized email.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// UpdateUser applies upd to the user, sets UpdatedAt to now and returns
	// the user as stored, in one transaction. Disabling or demoting the last
	// active admin is ECONFLICT, and so is an upd.IfPasswordHash that is not
	// the stored hash; either way nothing changes. With upd.EndSessions, every live session of
	// the user but upd.EndSessionsExcept ends (and is revoked) in the same
	// transaction.
	UpdateUser(ctx context.Context, id string, upd UserUpdate, now time.Time, audit ...*Audit) (*User, error)
	// DeleteUser removes the user with their sessions (revoked), tasks and
	// recipes in one transaction. Deleting the last active admin is ECONFLICT.
	DeleteUser(ctx context.Context, id string, now time.Time, audit ...*Audit) error
	// ListUsers lists users ordered by id.
	ListUsers(ctx context.Context, p Page) ([]*User, error)
}

// SessionStore keeps sessions and their refresh tokens (as hashes only).
type SessionStore interface {
	// CreateSession inserts s with its first refresh token's hash. With a
	// pin, the user is checked in the same transaction, serialized with
	// UpdateUser and DeleteUser: unless they still have pin.Role and
	// pin.PasswordHash and are not disabled it is ECONFLICT and nothing is
	// stored, so a session is never created after the change that should
	// have ended it. A user that does not exist is ENOTFOUND.
	CreateSession(ctx context.Context, s *Session, refreshHash []byte, pin *UserPin, audit ...*Audit) error
	// CreateSessionWithin is CreateSession that keeps the user at most
	// maxLive live sessions (0: no bound): in the same transaction, and
	// serialized with the user's other session starts, the least recently
	// used of the others (LastUsedAt, then CreatedAt, then id) end, with
	// their revocations recorded, until maxLive are live. It returns how
	// many it ended.
	CreateSessionWithin(ctx context.Context, s *Session, refreshHash []byte, pin *UserPin, maxLive int, audit ...*Audit) (int, error)
	SessionByID(ctx context.Context, id string) (*Session, error)
	// ListSessions lists the user's live sessions at now, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// ListSessionsPage lists one page of the user's live sessions at now,
	// newest first by id (ids are UUIDv7: creation order): those with an id
	// below p.After (empty: from the newest), at most p.Limit (0 or less:
	// all).
	ListSessionsPage(ctx context.Context, userID string, now time.Time, p Page) ([]*Session, error)
	// RotateRefresh consumes a refresh token in one transaction, safe
	// against concurrent calls with the same token:
	//   - unknown token, or its session ended or expired: RotateInvalid;
	//   - unused token: mark it used at Now, store SuccessorHash as the
	//     session's live token, move ExpiresAt, LastUsedAt, AccessExp,
	//     UserAgent and IP: RotateOK;
	//   - used token, used less than Grace ago, whose SuccessorHash is the
	//     session's live unused token: update LastUsedAt and AccessExp only:
	//     RotateGrace;
	//   - any other used token: end the session (a revocation): RotateReused.
	// The user must exist and not be disabled, else RotateInvalid.
	RotateRefresh(ctx context.Context, req RotateRequest) (*RotateResult, error)
	// ExtendAccess moves the session's AccessExp to exp if that is later.
	ExtendAccess(ctx context.Context, sessionID string, exp time.Time) error
	// EndSession ends a live session and records its revocation; ending an
	// ended or unknown session is ENOTFOUND.
	EndSession(ctx context.Context, id string, now time.Time, audit ...*Audit) error
	// EndUserSessions ends every live session of the user except `except`
	// (may be empty) and records their revocations.
	EndUserSessions(ctx context.Context, userID, except string, now time.Time, audit ...*Audit) error
	// Revocations lists, in Seq order, at most limit (no bound when limit
	// <= 0) of the revocations with Seq > after whose Exp is after
	// `notBefore`, the cursor to pass next time and whether more follow.
	// With more, the cursor is the Seq of the last one listed; without, it
	// is the greatest Seq recorded so far (even when the list is empty), so
	// nothing recorded later is ever behind it.
	Revocations(ctx context.Context, after int64, notBefore time.Time, limit int) (revs []Revocation, cursor int64, more bool, err error)
	// Prune deletes what no request can need any more: revocations whose
	// Exp is before `before` (all but the newest, which keeps the cursor),
	// and sessions ended or expired before `before`, with their refresh
	// tokens. A presented token of a pruned session is simply unknown.
	Prune(ctx context.Context, before time.Time) error
}

// TaskStore keeps tasks.
type TaskStore interface {
	CreateTask(ctx context.Context, t *Task) error
	// CreateTaskWithin inserts t only while its owner has fewer than max
	// tasks, checked in one transaction with the insert and serialized with
	// the owner's other creates, so concurrent ones never overshoot; at max
	// it is EQUOTA and nothing is stored.
	CreateTaskWithin(ctx context.Context, t *Task, max int) error
	TaskByID(ctx context.Context, id string) (*Task, error)
	// UpdateTask writes Title, Done and UpdatedAt of t.
	UpdateTask(ctx context.Context, t *Task) error
	DeleteTask(ctx context.Context, id string) error
	// ListTasks lists tasks ordered by id; ownerID "" lists everyone's.
	ListTasks(ctx context.Context, ownerID string, p Page) ([]*Task, error)
}

// RecipeStore keeps recipes.
type RecipeStore interface {
	CreateRecipe(ctx context.Context, r *Recipe) error
	// CreateRecipeWithin inserts r only while its owner has fewer than max
	// recipes; see CreateTaskWithin.
	CreateRecipeWithin(ctx context.Context, r *Recipe, max int) error
	RecipeByID(ctx context.Context, id string) (*Recipe, error)
	// UpdateRecipe writes Title, Ingredients, Instructions and UpdatedAt.
	UpdateRecipe(ctx context.Context, r *Recipe) error
	DeleteRecipe(ctx context.Context, id string) error
	// ListRecipes lists all recipes ordered by id.
	ListRecipes(ctx context.Context, p Page) ([]*Recipe, error)
}

// Store is everything the server keeps.
type Store interface {
	UserStore
	SessionStore
	TaskStore
	RecipeStore
	KeyStore
	MailStore
	AuditStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Migrate applies the embedded schema migrations.
	Migrate(ctx context.Context) error
	Close() error
}

// HashCostStore is a store that answers the highest bcrypt cost among its
// stored password hashes, cheaply (from an index), so that a login can pad
// its failures to what the dearest stored hash costs, whoever stored it
// (`jot users import` in another process included).
type HashCostStore interface {
	// MaxBcryptCost returns the highest cost of a stored bcrypt hash, or 0
	// when none is stored.
	MaxBcryptCost(ctx context.Context) (int, error)
}

// RevocationScanner is a store that can list revocations without building
// a value for each: what a server reads at start, a million of them after
// a mass logout, in pages.
type RevocationScanner interface {
	// ScanRevocations lists what Revocations(ctx, after, notBefore, limit)
	// would, in the same order, calling fn with each one's session id and
	// Exp instead of returning them; sessionID is valid only during the
	// call. It returns the same cursor and more as Revocations.
	ScanRevocations(ctx context.Context, after int64, notBefore time.Time, limit int,
		fn func(sessionID []byte, exp time.Time)) (cursor int64, more bool, err error)
}
