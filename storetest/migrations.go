package storetest

import (
	"io/fs"
	"testing"

	"github.com/jotauth/jot/internal/migrations"
)

// MigrationsParse checks a SQL store's migration files (migrations/*.sql
// in fsys): they parse, the first is version 1 and each comes after the
// one before.
func MigrationsParse(t *testing.T, fsys fs.FS) {
	t.Helper()
	ms, err := migrations.Load(fsys, "migrations/*.sql")
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("migrations = %d, want the first to be version 1", len(ms))
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migration %s does not come after %s", ms[i].Name, ms[i-1].Name)
		}
	}
}
