package sqlite_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/sqlite"
	"github.com/jotauth/jot/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) jot.Store { return jottest.SQLite(t) })
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) jot.Store {
		db, err := sqlite.Open(t.Context(), sqlite.Memory)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return db
	})
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "jot.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	now := time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)
	u := &jot.User{ID: jot.NewID(), Email: "ada@example.com", Role: jot.RoleAdmin, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	sess := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour), AccessExp: now.Add(time.Minute)}
	if err := db.CreateSession(ctx, sess, []byte("hash"), nil); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if err := db.EndSession(ctx, sess.ID, now); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	secret, err := db.Secret(ctx, "s", func() ([]byte, error) { return []byte("stored"), nil })
	if err != nil {
		t.Fatalf("Secret: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after reopen: %v", err)
	}
	got, err := db.UserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatalf("UserByEmail after reopen: %v", err)
	}
	// Nanoseconds survive too: this store keeps them exactly.
	if got.ID != u.ID || !got.CreatedAt.Equal(now) {
		t.Errorf("user after reopen = %+v, want %+v", got, u)
	}
	revs, cursor, _, err := db.Revocations(ctx, 0, time.Time{}, 0)
	if err != nil || len(revs) != 1 || revs[0].SessionID != sess.ID || cursor != revs[0].Seq {
		t.Errorf("revocations after reopen = %+v, %d, %v", revs, cursor, err)
	}
	again, err := db.Secret(ctx, "s", func() ([]byte, error) { return []byte("other"), nil })
	if err != nil || string(again) != string(secret) {
		t.Errorf("secret after reopen = %q, %v; want %q", again, err, secret)
	}
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jot.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600: it holds private keys", filepath.Base(p), mode)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{"", filepath.Join(dir, "x.db?mode=ro"), filepath.Join(dir, "missing", "x.db")} {
		if db, err := sqlite.Open(t.Context(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, path string
		ok        bool
	}{
		{"sqlite://./jot-data/jot.db", "./jot-data/jot.db", true},
		{"sqlite://jot.db", "jot.db", true},
		{"sqlite:///var/lib/jot/jot.db", "/var/lib/jot/jot.db", true},
		{"SQLite://data/jot.db", "data/jot.db", true},
		{"sqlite://:memory:", sqlite.Memory, true},
		{"sqlite://", "", false},
		{"sqlite:jot.db", "", false},
		{"postgres://localhost/jot", "", false},
		{"./jot.db", "", false},
		{"sqlite://jot.db?mode=ro", "", false},
		{"sqlite://jot.db#x", "", false},
	}
	for _, tc := range tests {
		path, err := sqlite.ParseURL(tc.url)
		if tc.ok && (err != nil || path != tc.path) {
			t.Errorf("ParseURL(%q) = %q, %v; want %q", tc.url, path, err, tc.path)
		}
		if !tc.ok && err == nil {
			t.Errorf("ParseURL(%q) = %q, want an error", tc.url, path)
		}
	}
}

func TestOpenURLCreatesFolder(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	t.Chdir(dir)
	db, err := sqlite.OpenURL(ctx, "sqlite://./jot-data/nested/jot.db")
	if err != nil {
		t.Fatalf("OpenURL(relative): %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	db.Close()
	for _, p := range []string{"jot-data", "jot-data/nested"} {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want a folder with mode 0700", p, fi.Mode())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "jot-data", "nested", "jot.db")); err != nil {
		t.Errorf("database file: %v", err)
	}

	abs := filepath.Join(dir, "abs", "jot.db")
	db, err = sqlite.OpenURL(ctx, "sqlite://"+abs)
	if err != nil {
		t.Fatalf("OpenURL(absolute): %v", err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Errorf("database file: %v", err)
	}

	// An existing folder keeps its mode.
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	db2, err := sqlite.OpenURL(ctx, "sqlite://"+filepath.Join(open, "jot.db"))
	if err != nil {
		t.Fatalf("OpenURL(existing folder): %v", err)
	}
	db2.Close()
	if fi, err := os.Stat(open); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("existing folder mode changed: %v, %v", fi.Mode(), err)
	}
}

// TestTwoHandles rotates one token through two handles on one file, as the
// server and a CLI command in another process would: busy_timeout and
// BEGIN IMMEDIATE must make them take turns without SQLITE_BUSY.
func TestTwoHandles(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "jot.db")
	var dbs [2]*sqlite.DB
	for i := range dbs {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer db.Close()
		dbs[i] = db
	}
	if err := dbs[0].Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := dbs[1].Migrate(ctx); err != nil {
		t.Fatalf("Migrate again from the other handle: %v", err)
	}
	now := time.Now().UTC()
	u := &jot.User{ID: jot.NewID(), Email: "ada@example.com", Role: jot.RoleUser, CreatedAt: now, UpdatedAt: now}
	if err := dbs[0].CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	sess := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := dbs[1].CreateSession(ctx, sess, []byte("h0"), nil); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}

	const n = 20
	outcomes := make([]jot.RotateOutcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := dbs[i%2].RotateRefresh(ctx, jot.RotateRequest{
				Hash: []byte("h0"), SuccessorHash: []byte("h1"), Now: now, Grace: time.Minute,
				ExpiresAt: now.Add(time.Hour), AccessExp: now.Add(time.Minute),
			})
			if err == nil {
				outcomes[i] = res.Outcome
			}
			errs[i] = err
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("RotateRefresh %d: %v", i, errs[i])
		} else if outcomes[i] == jot.RotateOK {
			ok++
		} else if outcomes[i] != jot.RotateGrace {
			t.Errorf("RotateRefresh %d: outcome %d", i, outcomes[i])
		}
	}
	if ok != 1 {
		t.Errorf("%d RotateOK, want 1", ok)
	}
}
