package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/jotauth/jot/internal/migrations"
	"github.com/jotauth/jot/storetest"
)

func TestMigrationsParse(t *testing.T) { storetest.MigrationsParse(t, migrationFiles) }

func TestMigrateTwice(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "jot.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()

	applied := func() map[int]int64 {
		t.Helper()
		rows, err := db.read.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			t.Fatalf("schema_migrations: %v", err)
		}
		defer rows.Close()
		m := map[int]int64{}
		for rows.Next() {
			var v int
			var at int64
			if err := rows.Scan(&v, &at); err != nil {
				t.Fatal(err)
			}
			m[v] = at
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return m
	}

	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	first := applied()
	ms, _ := migrations.Load(migrationFiles, "migrations/*.sql")
	if len(first) != len(ms) {
		t.Fatalf("%d migrations recorded, want %d", len(first), len(ms))
	}
	if _, err := db.write.ExecContext(ctx,
		`INSERT INTO users (id, email, role, created_at, updated_at) VALUES ('u', 'a@example.com', 'user', 0, 0)`); err != nil {
		t.Fatalf("insert: %v", err)
	}

	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	second := applied()
	for v, at := range first {
		if second[v] != at {
			t.Errorf("migration %d applied again", v)
		}
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n != 1 {
		t.Errorf("users after second Migrate = %d, %v; want 1", n, err)
	}
}

func TestPragmas(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "jot.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	for _, pool := range []struct {
		name string
		q    querier
	}{{"write", db.write}, {"read", db.read}} {
		var mode string
		var fk, busy int
		if err := pool.q.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("%s: journal_mode = %q, %v; want wal", pool.name, mode, err)
		}
		if err := pool.q.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("%s: foreign_keys = %d, %v; want 1", pool.name, fk, err)
		}
		if err := pool.q.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil || busy != int(busyTimeout.Milliseconds()) {
			t.Errorf("%s: busy_timeout = %d, %v; want %d", pool.name, busy, err, busyTimeout.Milliseconds())
		}
	}
	if _, err := db.read.ExecContext(ctx, `CREATE TABLE t (x)`); err == nil {
		t.Error("the read pool accepted a write")
	}
}
