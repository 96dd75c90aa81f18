// Package jot holds the domain of the jot auth server: users, sessions,
// signing keys and the two example resources, the error codes every layer
// shares, and the store interfaces that the storage packages implement.
//
// Nothing in this package knows about HTTP, SQL or cryptography; the
// packages around it (password, token, guard, accounts, sqlite, api) do.
package jot

import (
	"strings"

	"github.com/google/uuid"
)

// NewID returns a new opaque identifier: a UUIDv7, so ids sort by creation
// time, which gives list endpoints a stable order for cursor pagination.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// ValidID reports whether s has the shape of an id this package issues.
func ValidID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && len(s) == 36 && u.Version() == 7
}

// NormalizeEmail trims an email and lowers its case; emails are compared
// case-insensitively and stored normalized.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
