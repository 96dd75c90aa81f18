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
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
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

// NormalizeEmail trims an email, folds full- and half-width forms to their
// ordinary width (as the PRECIS profiles of RFC 8265 do), brings it to
// Unicode NFC and lowers its case; emails are compared case-insensitively
// and stored normalized, so "ＡＤＡ@example.com", "ada@example.com" and a
// decomposed "réne@" versus a precomposed one each name one account. Every
// path that reads an email (signup, login, import, the CLI) calls it, which
// is what keeps the stores' own case-insensitive uniqueness (ASCII-only
// NOCASE in SQLite, lower() in PostgreSQL) a mere backstop: the stored
// forms are already folded. Lowering can leave a string that NFC would
// write differently (U+0130 becomes i and a combining dot), hence the
// second NFC.
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	s = width.Fold.String(s)
	s = norm.NFC.String(s)
	return norm.NFC.String(strings.ToLower(s))
}
