package api_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresSchema returns the test database URL with a schema of its own,
// dropped when the test ends, or skips without JOT_TEST_POSTGRES_URL.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("JOT_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("JOT_TEST_POSTGRES_URL is not set: skipping PostgreSQL tests")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "jot_api_" + hex.EncodeToString(b)
	exec := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("connect to JOT_TEST_POSTGRES_URL: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// twoInstances starts two servers over one new PostgreSQL schema, or
// skips without JOT_TEST_POSTGRES_URL.
func twoInstances(t *testing.T) (a, b *env) {
	t.Helper()
	dsn := postgresSchema(t)
	return newEnvAt(t, dsn, nil), newEnvAt(t, dsn, nil)
}

// Two instances behind a load balancer share one PostgreSQL database: a
// token issued by one works on the other, a refresh rotates across them,
// and a logout at one is refused by the other at once.
func TestInstancesShareSessionsOverPostgres(t *testing.T) {
	a, b := twoInstances(t)

	if ja, jb := a.do("GET", "/.well-known/jwks.json", "", nil), b.do("GET", "/.well-known/jwks.json", "", nil); string(ja.body) != string(jb.body) {
		t.Fatalf("instances publish different keys:\n%s\n%s", ja.body, jb.body)
	}
	tk := a.signup("multi@example.com", "pass-phrase-1")
	if r := b.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != 200 {
		t.Fatalf("token from A on B: %d %s", r.StatusCode, r.body)
	}
	next := b.tokensOf(b.refresh(tk.Refresh), 200)
	wantError(t, a.refresh(tk.Refresh+"x"), 400, "invalid_grant")

	// Logout at B; A learns of it through the database's notification (and
	// its polling), so the token is refused within moments.
	if r := b.do("POST", "/v1/auth/logout", next.Access, nil); r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	eventually(t, 3*time.Second, func() bool {
		return a.do("GET", "/v1/users/me", next.Access, nil).StatusCode == 401
	})
	wantInvalidToken(t, a.do("GET", "/v1/users/me", next.Access, nil), "revoked")
	wantError(t, a.refresh(next.Refresh), 400, "invalid_grant")
}

// The HTTP contract holds over PostgreSQL as over SQLite: the concurrent
// paths (signup race, refresh race) are the ones a store can get wrong.
func TestConcurrencyOverPostgres(t *testing.T) {
	e := newEnvAt(t, postgresSchema(t), nil)
	first := e.signup("pgrace@example.com", "pass-phrase-1")
	if n, _ := burst(10, func(int) *response { return e.refresh(first.Refresh) }); n[200] != 10 {
		t.Errorf("concurrent refreshes within the grace: statuses %v, want ten 200", n)
	}
	n, _ := burst(10, func(int) *response {
		return e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "PG-dup@example.com", "password": "pass-phrase-1"})
	})
	if n[201] != 1 || n[409] != 9 {
		t.Fatalf("statuses %v, want one 201 and nine 409", n)
	}
}
