package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/migrations"
	"github.com/jotauth/jot/storetest"
)

// testURL returns the URL of the database the tests may use, or skips.
func testURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("JOT_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("JOT_TEST_POSTGRES_URL is not set: skipping PostgreSQL tests")
	}
	return u
}

// withParam returns dbURL with the query parameter key set to value.
func withParam(t *testing.T, dbURL, key, value string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parse JOT_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// randomName returns prefix followed by random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// newSchema creates an empty schema of its own for the test, dropped with
// all it holds when the test ends, and returns the test URL with
// search_path set to it: the way an operator would put jot in a schema.
func newSchema(t *testing.T) string {
	t.Helper()
	return newSchemaNamed(t, randomName("jot_test_"))
}

// newSchemaNamed is newSchema with the schema's name, which must be unique
// and lower case.
func newSchemaNamed(t *testing.T, name string) string {
	t.Helper()
	base := testURL(t)
	admin := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin(`CREATE SCHEMA ` + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	// Registered before any DB of the test, so it runs after they close.
	t.Cleanup(func() {
		if err := admin(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return withParam(t, base, "search_path", name)
}

// open opens a DB on dbURL, closed when the test ends.
func open(t *testing.T, dbURL string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openMigrated opens and migrates a DB on a fresh schema.
func openMigrated(t *testing.T) *DB {
	t.Helper()
	db := open(t, newSchema(t))
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func TestStore(t *testing.T) {
	testURL(t) // one skip rather than one per subtest
	storetest.Run(t, func(t *testing.T) jot.Store { return openMigrated(t) })
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	for _, u := range []string{"", "sqlite://./jot.db", "mysql://root@db/jot", "host=db user=jot"} {
		if db, err := Open(ctx, u); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
	// Nothing listens on port 1: the error comes at once, and must not
	// carry the password into a log.
	_, err := Open(ctx, "postgres://jot:s3cret-pw@127.0.0.1:1/jot?sslmode=disable&connect_timeout=5")
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Open error shows the password: %v", err)
	}
	_, err = Open(ctx, "postgres://jot:s3cret-pw@127.0.0.1:1/jot?pool_max_conns=x")
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Open with a bad pool_max_conns: %v; want an error without the password", err)
	}
}

func TestPoolSize(t *testing.T) {
	base := testURL(t)
	if got := open(t, base).pool.Config().MaxConns; got != defaultMaxConns {
		t.Errorf("MaxConns = %d, want %d by default", got, defaultMaxConns)
	}
	if got := open(t, withParam(t, base, "pool_max_conns", "3")).pool.Config().MaxConns; got != 3 {
		t.Errorf("MaxConns = %d, want 3 as the URL says", got)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	ctx := t.Context()
	u := newSchema(t)
	// Two instances starting at once, and a third for good measure.
	dbs := []*DB{open(t, u), open(t, u), open(t, u)}
	errs := make([]error, len(dbs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			errs[i] = db.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}

	applied := func() map[int]time.Time {
		t.Helper()
		rows, err := dbs[0].pool.Query(ctx, `SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			t.Fatalf("schema_migrations: %v", err)
		}
		m := map[int]time.Time{}
		var v int
		var at time.Time
		if _, err := pgx.ForEachRow(rows, []any{&v, &at}, func() error { m[v] = at; return nil }); err != nil {
			t.Fatalf("schema_migrations: %v", err)
		}
		return m
	}
	first := applied()
	ms, err := migrations.Load(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(ms) {
		t.Errorf("%d migrations recorded, want %d", len(first), len(ms))
	}
	if err := dbs[1].Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	for v, at := range applied() {
		if !at.Equal(first[v]) {
			t.Errorf("migration %d applied again", v)
		}
	}
	now := time.Now().UTC()
	if err := dbs[2].CreateUser(ctx, &jot.User{ID: jot.NewID(), Email: "ada@example.com", Role: jot.RoleUser,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Errorf("CreateUser after the concurrent migrations: %v", err)
	}
}

func TestMigrationsParse(t *testing.T) { storetest.MigrationsParse(t, migrationFiles) }

// mustUser stores a new user with the role.
func mustUser(t *testing.T, db *DB, role jot.Role) *jot.User {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &jot.User{ID: jot.NewID(), Email: randomName("u") + "@example.com", Role: role, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// mustSession stores a new live session of u.
func mustSession(t *testing.T, db *DB, u *jot.User) *jot.Session {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	s := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: now, LastUsedAt: now,
		ExpiresAt: now.Add(time.Hour), AccessExp: now.Add(15 * time.Minute)}
	if err := db.CreateSession(t.Context(), s, []byte(randomName("h")), nil); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return s
}

// TestRevocationCursor checks the ordering that makes the cursor safe: a
// transaction that records revocations holds up every other one until it
// commits, so a seq drawn later never becomes visible earlier, and a reader
// never skips one.
func TestRevocationCursor(t *testing.T) {
	ctx := t.Context()
	db := openMigrated(t)
	u := mustUser(t, db, jot.RoleUser)
	s1, s2 := mustSession(t, db, u), mustSession(t, db, u)
	now := time.Now().UTC()

	tx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if n, err := db.endSessions(ctx, tx, now, `id = $2`, s1.ID); err != nil || n != 1 {
		t.Fatalf("endSessions = %d, %v; want 1", n, err)
	}

	second := make(chan error, 1)
	go func() { second <- db.EndSession(ctx, s2.ID, now) }()
	select {
	case err := <-second:
		t.Fatalf("EndSession finished (%v) while another transaction recording a revocation was open", err)
	case <-time.After(300 * time.Millisecond): // a real lock: only time shows that it holds
	}
	revs, cursor, _, err := db.Revocations(ctx, 0, time.Time{}, 0)
	if err != nil || len(revs) != 0 || cursor != 0 {
		t.Fatalf("Revocations before the commit = %v, %d, %v; want none, 0", revs, cursor, err)
	}

	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	revs, next, _, err := db.Revocations(ctx, cursor, time.Time{}, 0)
	if err != nil || len(revs) != 2 {
		t.Fatalf("Revocations after the commit = %v, %v; want 2", revs, err)
	}
	if revs[0].SessionID != s1.ID || revs[1].SessionID != s2.ID || revs[0].Seq >= revs[1].Seq || next != revs[1].Seq {
		t.Errorf("Revocations = %+v, cursor %d; want %s then %s in Seq order, the last Seq as the cursor", revs, next, s1.ID, s2.ID)
	}
}

// TestLastAdminConcurrent takes two admins out at once, again and again:
// exactly one of the two calls must win, without a deadlock, and one active
// admin must be left.
func TestLastAdminConcurrent(t *testing.T) {
	ctx := t.Context()
	db := openMigrated(t)
	survivor := mustUser(t, db, jot.RoleAdmin)
	demote, disable := jot.RoleUser, true
	for round := range 6 {
		other := mustUser(t, db, jot.RoleAdmin)
		ops := []func() error{
			func() error {
				_, err := db.UpdateUser(ctx, survivor.ID, jot.UserUpdate{Role: &demote, EndSessions: true}, time.Now())
				return err
			},
			func() error {
				if round%2 == 0 {
					return db.DeleteUser(ctx, other.ID, time.Now())
				}
				_, err := db.UpdateUser(ctx, other.ID, jot.UserUpdate{Disabled: &disable}, time.Now())
				return err
			},
		}
		errs := make([]error, len(ops))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, op := range ops {
			wg.Go(func() {
				<-start
				errs[i] = op()
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch jot.ErrorCode(err) {
			case "":
				won++
			case jot.ECONFLICT:
			default:
				t.Fatalf("round %d, call %d: %v", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d calls won, want 1", round, won)
		}
		users, err := db.ListUsers(ctx, jot.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var admins []*jot.User
		for _, u := range users {
			if u.Role == jot.RoleAdmin && !u.Disabled {
				admins = append(admins, u)
			}
		}
		if len(admins) != 1 {
			t.Fatalf("round %d: %d active admins, want 1", round, len(admins))
		}
		survivor = admins[0]
	}
}

// waitCall waits for a call of the listener's fn.
func waitCall(t *testing.T, calls <-chan struct{}, within time.Duration, what string) {
	t.Helper()
	select {
	case <-calls:
	case <-time.After(within):
		t.Fatalf("no call of fn within %v %s", within, what)
	}
}

// noCall fails the test when fn is called within `within`. It waits on the
// database's notifications, which only time can show will not come.
func noCall(t *testing.T, calls <-chan struct{}, within time.Duration, what string) {
	t.Helper()
	select {
	case <-calls:
		t.Errorf("fn called %s", what)
	case <-time.After(within):
	}
}

// drain forgets the calls so far.
func drain(calls <-chan struct{}) {
	for {
		select {
		case <-calls:
		default:
			return
		}
	}
}

func TestListenRevocations(t *testing.T) {
	ctx := t.Context()
	u := newSchema(t)
	// Two instances: a ends sessions, b listens. b's connections carry a
	// name of their own, so the test can find its listener.
	app := randomName("jot_listen_")
	a, b := open(t, u), open(t, withParam(t, u, "application_name", app))
	if err := a.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	user := mustUser(t, a, jot.RoleUser)
	s1 := mustSession(t, a, user)
	mustSession(t, a, user)
	s3 := mustSession(t, a, user)

	calls := make(chan struct{}, 100)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		b.ListenRevocations(lctx, func() { calls <- struct{}{} })
	}()
	waitCall(t, calls, 5*time.Second, "when listening starts")

	drain(calls)
	if err := a.EndSession(ctx, s1.ID, time.Now()); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	waitCall(t, calls, time.Second, "after a session ended on another instance")

	// A write that records no revocation notifies nobody.
	drain(calls)
	mustSession(t, a, user)
	noCall(t, calls, 200*time.Millisecond, "after a write that ended no session")

	// The listener's connection dies: it reconnects, catches up by calling
	// fn, and hears the next revocation.
	var killed int
	if err := a.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND query LIKE 'LISTEN%'`, app).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listeners, %v; want 1", killed, err)
	}
	waitCall(t, calls, 5*time.Second, "after reconnecting")
	drain(calls)
	if err := a.EndUserSessions(ctx, user.ID, s3.ID, time.Now()); err != nil {
		t.Fatalf("EndUserSessions: %v", err)
	}
	waitCall(t, calls, time.Second, "after sessions ended, once reconnected")

	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("ListenRevocations did not return after its context ended")
	}
}

func TestListenRevocationsClose(t *testing.T) {
	db := open(t, testURL(t))
	calls := make(chan struct{}, 10)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		db.ListenRevocations(t.Context(), func() { calls <- struct{}{} })
	}()
	waitCall(t, calls, 5*time.Second, "when listening starts")
	db.Close()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("ListenRevocations did not return after Close")
	}
}

// TestListenOneConnection: ListenRevocations and ListenKeys share one
// listening connection (the pool plus one per instance), each fn hears
// only its own channel, and both come back after that connection dies.
func TestListenOneConnection(t *testing.T) {
	ctx := t.Context()
	u := newSchema(t)
	app := randomName("jot_listen_one_")
	a, b := open(t, u), open(t, withParam(t, u, "application_name", app))
	if err := a.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	user := mustUser(t, a, jot.RoleUser)
	s1 := mustSession(t, a, user)
	s2 := mustSession(t, a, user)

	revs, keys := make(chan struct{}, 100), make(chan struct{}, 100)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.ListenRevocations(lctx, func() { revs <- struct{}{} }) }()
	go func() { defer wg.Done(); b.ListenKeys(lctx, func() { keys <- struct{}{} }) }()
	waitCall(t, revs, 5*time.Second, "when revocations listening starts")
	waitCall(t, keys, 5*time.Second, "when keys listening starts")

	listeners := func() int {
		var n int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND query LIKE 'LISTEN%'`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := listeners(); n != 1 {
		t.Fatalf("%d listening connections, want 1", n)
	}

	drain(revs)
	drain(keys)
	if err := a.EndSession(ctx, s1.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitCall(t, revs, time.Second, "after a session ended")
	if err := a.CreateSigningKey(ctx, &jot.SigningKey{KID: "k-one", Alg: "ES256", Private: []byte("x"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitCall(t, keys, time.Second, "after a key was stored")
	noCall(t, revs, 200*time.Millisecond, "for revocations after a key change")
	drain(revs)
	drain(keys)
	if err := a.EndSession(ctx, s2.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitCall(t, revs, time.Second, "after another session ended")
	noCall(t, keys, 200*time.Millisecond, "for keys after a session ended")

	// The one connection dies: both catch up once it is back.
	if _, err := a.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND query LIKE 'LISTEN%'`, app); err != nil {
		t.Fatal(err)
	}
	drain(revs)
	drain(keys)
	waitCall(t, revs, 5*time.Second, "revocations after reconnecting")
	waitCall(t, keys, 5*time.Second, "keys after reconnecting")
	if n := listeners(); n != 1 {
		t.Fatalf("%d listening connections after reconnecting, want 1", n)
	}
	if st := b.Stats(); !st.ListenerUp || st.ListenerReconnects != 1 {
		t.Errorf("listener metrics: up %v, reconnects %d; want up, 1", st.ListenerUp, st.ListenerReconnects)
	}
	cancel()
	wg.Wait()
}
