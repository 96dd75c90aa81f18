package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/sqlite"
)

// A write lock held by another process (here another handle on the same
// file, mid-transaction) holds a call back for the store's timeout only,
// not the 10 s lock wait, and the call fails as unavailable rather than
// as an internal error.
func TestTimeoutBoundsLockWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jot.db")
	other, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.OpenWith(t.Context(), path, sqlite.Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Another process's write transaction, holding the lock.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")

	start := time.Now()
	err = db.CreateUser(t.Context(), &jot.User{ID: "u1", Email: "a@example.com", Role: jot.RoleUser, CreatedAt: time.Now(), UpdatedAt: time.Now()})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("CreateUser waited %v for the lock, past the 300ms timeout", took)
	}
	if jot.ErrorCode(err) != jot.EUNAVAILABLE && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CreateUser under a held lock: %v, want unavailable or a deadline", err)
	}
}
