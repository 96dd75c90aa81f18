// Package policy holds jot's authorization rules: who may see and change
// what. The rules are pure functions of the caller (a user id and a role)
// and the owner of the thing asked for, so they live in one place, are
// tested as a table, and every service asks them rather than deciding on
// its own.
//
// Authentication is not decided here: a Subject is someone the guard has
// already let in.
package policy

import "github.com/jotauth/jot"

// Subject is an authenticated caller as the rules see it.
type Subject struct {
	UserID string
	Role   jot.Role
}

// IsAdmin reports whether s has the admin role.
func IsAdmin(s Subject) bool {
	return s.UserID != "" && s.Role == jot.RoleAdmin
}

// owns reports whether s is the owner; an empty id on either side never
// matches, so a half-filled Subject or resource cannot pass as an owner.
func owns(s Subject, ownerID string) bool {
	return s.UserID != "" && ownerID != "" && s.UserID == ownerID
}

// CanSeeTask reports whether s may read the task owned by ownerID. Tasks
// are private: callers who may not see one must be answered as if it did
// not exist.
func CanSeeTask(s Subject, ownerID string) bool {
	return owns(s, ownerID) || IsAdmin(s)
}

// CanChangeTask reports whether s may update or delete the task owned by
// ownerID.
func CanChangeTask(s Subject, ownerID string) bool {
	return owns(s, ownerID) || IsAdmin(s)
}

// CanListAllTasks reports whether s may list every user's tasks rather
// than only their own.
func CanListAllTasks(s Subject) bool {
	return IsAdmin(s)
}

// CanReadRecipes reports whether anyone, signed in or not, may read
// recipes. It takes no caller because recipes are public.
func CanReadRecipes() bool {
	return true
}

// CanCreateRecipe reports whether s may create a recipe: any signed-in
// user may.
func CanCreateRecipe(s Subject) bool {
	return s.UserID != ""
}

// CanChangeRecipe reports whether s may replace, update or delete the
// recipe owned by ownerID.
func CanChangeRecipe(s Subject, ownerID string) bool {
	return owns(s, ownerID) || IsAdmin(s)
}

// CanManageUsers reports whether s may list, read, change and delete other
// users' accounts.
func CanManageUsers(s Subject) bool {
	return IsAdmin(s)
}

// CanReadAudit reports whether s may read the audit trail: who did what to
// which account, from where.
func CanReadAudit(s Subject) bool {
	return IsAdmin(s)
}

// Refuse is the error of a rule that said no: jot.EFORBIDDEN, which the
// API answers 403 insufficient_scope, saying why.
func Refuse(why string) error {
	return &jot.Error{Code: jot.EFORBIDDEN, Message: why}
}
