package jottest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/sqlite"
)

// SQLite opens and migrates a new SQLite database in a temporary folder;
// it is closed when tb ends.
func SQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "jot.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(tb.Context()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return db
}

// StoreUser stores a user straight through st, created at now, with the
// given email ("": a random one) and a password hash no password matches.
func StoreUser(tb testing.TB, st jot.Store, email string, now time.Time) *jot.User {
	tb.Helper()
	if email == "" {
		email = jot.NewID() + "@example.com"
	}
	u := &jot.User{
		ID: jot.NewID(), Email: email, Role: jot.RoleUser,
		PasswordHash: "$2a$10$abcdefghijklmnopqrstuu0123456789012345678901234567890",
		CreatedAt:    now, UpdatedAt: now,
	}
	if err := st.CreateUser(tb.Context(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// StoreSession stores straight through st a session of userID, opened at
// now and live for a day, whose access tokens expire at accessExp; its
// refresh token hash is its id.
func StoreSession(tb testing.TB, st jot.Store, userID string, now, accessExp time.Time) *jot.Session {
	tb.Helper()
	s := &jot.Session{
		ID: jot.NewID(), UserID: userID, CreatedAt: now, LastUsedAt: now,
		ExpiresAt: now.Add(24 * time.Hour), AccessExp: accessExp,
		UserAgent: "test", IP: "127.0.0.1",
	}
	if err := st.CreateSession(tb.Context(), s, []byte(s.ID), nil); err != nil {
		tb.Fatal(err)
	}
	return s
}
